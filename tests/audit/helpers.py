"""Shared pieces of the audit-trail tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.services.deliveries import SlackPort, WebSlackPort
from bot.services.queries import load_snapshot
from bot.services.scheduled import Ticker
from bot.services.snapshot import Snapshot
from bot.slack.deps import SlackDeps
from bot.storage import audit
from bot.storage.bootstrap import Database
from tests.scheduled.helpers import VirtualTime, ny

REPORTER = "U0ANA0001"  # a Slack user who is not in the directory
FIN2, DE1 = "U0FIN0002", "U0DE00001"


def at(hour: int, minute: int = 0) -> datetime:
    """Tuesday 2026-12-01 in New York."""
    return ny(2026, 12, 1, hour, minute)


def ticker_for(db: Database, deps: SlackDeps, *definitions: str, port: SlackPort | None = None) -> Ticker:
    """A ticker on virtual time talking to the fake Slack of ``deps``, whose seed keeps only the
    scheduled work ``definitions`` and no channel topic (the rest would only add more entries of
    the same kinds; tests/scheduled/test_topics.py follows the topics)."""

    async def snapshots() -> Snapshot:
        snap = await load_snapshot(db)
        d = snap.directory
        pipelines = {k: replace(p, topic=None) for k, p in d.pipelines.items()}
        return replace(snap, directory=replace(d, recurring={k: d.recurring[k] for k in definitions},
                                               pipelines=pipelines))

    vt = VirtualTime()
    return Ticker(db, port or WebSlackPort(deps.client), snapshots=snapshots, monotonic=vt, sleep=vt.sleep)


async def trail(db: Database, *actions: str, subject: str | None = None) -> list[audit.AuditEntry]:
    """The audit entries, oldest first (only ``actions``, prefixes ending in ``.`` allowed)."""
    async with db.sessions() as session:
        return await audit.entries(session, actions=actions, subject=subject)
