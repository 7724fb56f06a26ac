"""The audit trail (issue 5 §3): who did what, when, to what, with the state before and after.

Append-only in the application: this module has ``record``/``record_many`` and queries, and
nothing else writes to ``audit_log`` (no update or delete path). ``actor`` is a person id (the
Slack user id when the user is not in the directory; None for the bot itself, e.g. a scheduled
delivery or an automatic escalation); ``before``/``after`` are JSON values (``jsonable`` turns
datetimes, enums and tuples into JSON). Every entry is written in the transaction of the state
change it describes: a rolled-back action leaves no entry, a committed one always has one.

Action names are dotted, ``area.what``; the subject names the thing acted on:

- schedule changes (``bot.services.changes``), subject ``change:ID`` (a refused change: its
  description): ``change.override``, ``change.swap``, ``change.away``, ``change.refused``,
  ``change.cancelled``, ``cancel.refused``, ``change.notified``, ``cancel.notified``;
- calendar feeds, subject ``calendar:PERSON``: ``calendar.token``, ``calendar.reset``;
- before-a-shift DMs, subject the notice key: ``shift_notice.sent``;
- incidents (``bot.services.incidents``), subject ``incident:ID``: ``incident.opened``,
  ``incident.acknowledged``, ``incident.escalated`` (before/after: level, chain length and the
  page: whom it paged or queued, or which channels), ``incident.auto_escalated`` (actor None),
  ``incident.resolved``, ``incident.page_released`` (a queued page's time came: it became a page
  and its DM is owed, actor None), ``incident.page_delivered`` (a page DM Slack took, recorded
  with the delivery itself, at the instant it was sent: the page, the delivery key, channel and
  ts; ``queued``: a released queued page; actor None);
- checklists (``bot.services.scheduled``), subject ``checklist:KEY``: ``checklist.opened``
  (actor None), ``checklist.ticked`` / ``checklist.unticked`` (one per item, before/after its
  state), ``checklist.refused`` (a tick by someone who may not), ``checklist.completed``,
  ``checklist.reopened`` (an item unticked on a complete checklist), ``checklist.reminded`` and
  ``checklist.escalated`` (overdue; both actor None);
- onboarding invites, subject ``meeting:KEY``: ``meeting.accepted``, ``meeting.declined``,
  ``meeting.refused`` (an answer from someone not invited);
- scheduled deliveries (``bot.services.deliveries``, actor None), subject ``delivery:KEY``:
  ``delivery.sent`` (channel, ts, key; ``found``: already posted by an earlier attempt),
  ``delivery.failed`` (one per failed attempt: the error, when it is retried),
  ``delivery.expired``; and ``delivery.skipped``, subject ``occurrence:KEY``: an occurrence past
  its grace, decided without sending anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.tables.audit import AuditRow


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str | None
    action: str
    subject: str
    before: Any
    after: Any


def jsonable(value: Any) -> Any:
    """``value`` with datetimes as ISO-8601 UTC text, enums as their value, tuples as lists."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(row.id, row.at, row.actor, row.action, row.subject, row.before, row.after)


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("audit entries need an aware instant")
    return at


async def record(
    session: AsyncSession,
    *,
    at: datetime,
    actor: str | None,
    action: str,
    subject: str,
    before: Any = None,
    after: Any = None,
) -> int:
    """Append one entry in the caller's transaction; its id. ``at`` must be aware."""
    row = AuditRow(at=_aware(at), actor=actor, action=action, subject=subject, before=jsonable(before),
                   after=jsonable(after))
    session.add(row)
    await session.flush()
    return row.id


def entry(
    *, at: datetime, actor: str | None, action: str, subject: str, before: Any = None, after: Any = None
) -> dict[str, Any]:
    """One entry for ``record_many`` (the same arguments as ``record``)."""
    return {"at": _aware(at), "actor": actor, "action": action, "subject": subject,
            "before": jsonable(before), "after": jsonable(after)}


async def record_many(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append many entries (made by ``entry``), in order, in the caller's transaction: one
    multi-row INSERT per 500, nothing at all for none (for code that writes in batches)."""
    for i in range(0, len(rows), 500):
        await session.execute(insert(AuditRow).values([dict(r) for r in rows[i : i + 500]]))


async def entries(
    session: AsyncSession,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
    actions: Sequence[str] = (),
    subject: str | None = None,
    limit: int | None = None,
) -> list[AuditEntry]:
    """Entries oldest first, optionally from ``since``, before ``until``, by ``actor``, with an
    action among ``actions`` (or a prefix ending in ``.``, e.g. ``"change."``), about ``subject``."""
    stmt = select(AuditRow).order_by(AuditRow.at, AuditRow.id)
    if since is not None:
        stmt = stmt.where(AuditRow.at >= since)
    if until is not None:
        stmt = stmt.where(AuditRow.at < until)
    if actor is not None:
        stmt = stmt.where(AuditRow.actor == actor)
    if subject is not None:
        stmt = stmt.where(AuditRow.subject == subject)
    if actions:
        exact = [a for a in actions if not a.endswith(".")]
        prefixes = [a for a in actions if a.endswith(".")]
        stmt = stmt.where(or_(*([AuditRow.action.in_(exact)] if exact else []),
                              *(AuditRow.action.startswith(p, autoescape=True) for p in prefixes)))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_entry(r) for r in await session.scalars(stmt)]
