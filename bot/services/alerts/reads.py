"""What ``oncall-bot incidents`` lists: each incident with its source, severity and alerts, and how
many alert events are not part of any yet (queued, failed)."""

from __future__ import annotations

from typing import Any

from bot.core.alerts import incident_severity
from bot.storage import alert_inbox as inbox
from bot.storage import alerts as repo
from bot.storage.bootstrap import Database


async def incidents(db: Database, *, only_open: bool = False) -> list[dict[str, Any]]:
    """Incidents newest first: ``id, pipeline, summary, severity, state, source, opened_at,
    fix_by`` (None: the SLA clocks are not built yet), ``alerts`` (how many) and ``dedup_keys``."""
    async with db.sessions() as session:
        rows = await repo.incidents(session, only_open)
        counts = await repo.alert_counts(session, [r.id for r in rows])
    out = []
    for r in rows:
        n, keys = counts.get(r.id, (0, []))
        out.append({"id": r.id, "pipeline": r.pipeline, "summary": r.summary,
                    "severity": incident_severity(r.critical, r.severity), "state": r.status,
                    "source": r.source or "slack", "opened_at": r.opened_at.isoformat(), "fix_by": None,
                    "alerts": n, "dedup_keys": keys})
    return out


async def inbox_counts(db: Database) -> inbox.Counts:
    """How many alert events wait to be applied (``queued``: received moments ago, or left by a
    process that stopped, for the minute tick) and how many could not be applied (``failed``)."""
    async with db.sessions() as session:
        return await inbox.counts(session)
