"""Before a shift: a DM to each person a while (24 h by default) before their shifts start, each
notice claimed once across replicas and restarts; and ``send_change_dms``, the kick that sends at
once the DMs a change wrote to the outbox with itself (``bot.services.changes.owed``).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.core.model import Directory
from bot.core.shifts import notices_due
from bot.render.blocks import Message
from bot.render.changes import (
    render_notice,
)
from bot.services.changes import owed
from bot.services.changes.apply import Notify, read_directory
from bot.services.deliveries import Deliverer, DeliveryConfig, WebSlackPort
from bot.services.scheduled.config import replica_id
from bot.storage import audit
from bot.storage import changes as store
from bot.storage.bootstrap import Database
from bot.storage.overrides import overrides_between

if TYPE_CHECKING:
    from bot.slack.deps import SlackDeps

log = logging.getLogger("bot.services.changes")

DEFAULT_NOTICE_HOURS = 24


def one_line_error(exc: BaseException) -> str:
    """What went wrong, in one short line: Slack's error code for a refused call, else the
    exception's type and first line (secrets removed)."""
    from slack_sdk.errors import SlackApiError

    from bot.ops.logging import format_exception_safely

    if isinstance(exc, SlackApiError) and exc.response is not None:
        status = getattr(exc.response, "status_code", 200)
        return f"slack error {status}: {exc.response.get('error') or 'unknown'}"
    return format_exception_safely(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__


async def send_shift_notices(db: Database, now: datetime, lead: timedelta, notify: Notify) -> list[str]:
    """DM everyone whose shifts start in ``(now, now + lead]`` and was not told yet; the keys sent.

    Each notice is claimed first (a unique key: one replica wins); a failed DM gives its claim
    back so that the next tick tries again, until the shift starts.
    """
    async with db.sessions() as session:
        directory, cal = await read_directory(session)
        overrides = await overrides_between(session, now - timedelta(days=3), now + lead + timedelta(days=9))
        due = notices_due(directory, cal, now, lead, overrides)
        known = await store.notice_keys(session, now - timedelta(days=1)) if due else set()
    sent: list[str] = []
    for notice in due:
        if notice.key in known:
            continue
        async with db.sessions() as session, session.begin():
            claimed = await store.claim_notice(
                session, key=notice.key, person=notice.person, starts_at=notice.start, now=now
            )
        if not claimed:
            continue
        try:
            await notify(directory, notice.person, render_notice(directory, cal.tz, notice.person, notice.shifts))
        except Exception as exc:  # one line, no traceback: Slack said no, or did not answer
            log.warning("shift notice %s (DM to %s) not sent: %s; tried again next tick", notice.key,
                        notice.person, one_line_error(exc))
            async with db.sessions() as session, session.begin():
                await store.release_notice(session, notice.key)
            continue
        async with db.sessions() as session, session.begin():
            await store.mark_notice_sent(session, notice.key, now)
            await audit.record(
                session,
                at=now,
                actor=None,
                action="shift_notice.sent",
                subject=notice.key,
                after={
                    "person": notice.person,
                    "start": notice.start,
                    "shifts": [
                        {"pipeline": s.pipeline, "role": s.role, "window": s.window, "start": s.start, "end": s.end}
                        for s in notice.shifts
                    ],
                },
            )
        sent.append(notice.key)
    return sent


KICK_RATE_LIMIT_WAITS = 3


async def send_change_dms(deps: SlackDeps, change_id: int, now: datetime) -> int:
    """Send at once the DMs change ``change_id`` owes (``change:ID:…``), written to the outbox in
    the change's own transaction (``apply_change(…, queue_dms=True)``); how many went out. A DM
    Slack refuses or rate-limits is retried with backoff by the minute tick until it is sent or a
    day has passed; ``oncall-bot deliveries --failed`` lists those still owed."""
    port = WebSlackPort(WebSlackPort.posting_client(deps.client))
    # a few 429 pauses at most here: what is still rate-limited then is retried by the minute tick
    config = replace(DeliveryConfig.from_env(), max_rate_limit_waits=KICK_RATE_LIMIT_WAITS)
    report = await Deliverer(deps.db, port, owner=replica_id(), config=config, only=(owed.prefix(change_id),)).run(now)
    return report.sent + report.found


def slack_notifier(deps: SlackDeps) -> Notify:
    """DMs through the bot's Web API client (``chat.postMessage`` to the user's id)."""

    async def notify(directory: Directory, person: str, message: Message) -> None:
        p = directory.people.get(person)
        if p is None or not p.slack_user_id:
            return
        await deps.client.chat_postMessage(
            channel=p.slack_user_id, text=message.text, blocks=message.blocks_json(), unfurl_links=False
        )

    return notify


async def before_shift_dms(deps: SlackDeps, now: datetime) -> list[str]:
    """The scheduler tick's hook: send the "before a shift" DMs due at ``now`` (24 h ahead, or
    ``settings.shift_notice_hours`` when the settings have it)."""
    hours = getattr(deps.settings, "shift_notice_hours", DEFAULT_NOTICE_HOURS)
    return await send_shift_notices(deps.db, now, timedelta(hours=float(hours)), slack_notifier(deps))
