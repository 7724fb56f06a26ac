"""The audit trail (issue 5 §3): who did what, when, to what, with the state before and after.

Append-only in the application: this module has ``record`` and queries, and nothing else writes
to ``audit_log`` (no update or delete path). ``actor`` is a person id (None for the bot itself,
e.g. a scheduled delivery); ``before``/``after`` are JSON values (use ``jsonable`` for datetimes).

Action names are dotted: ``change.override``, ``change.swap``, ``change.away``, ``change.refused``,
``change.cancelled``, ``cancel.refused``, ``calendar.token``, ``calendar.reset``,
``shift_notice.sent``; other parts of the bot record theirs the same way (``incident.escalated``,
``checklist.tick``, ``delivery.sent``, ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import ID, Base
from bot.storage.types import UTCDateTime


class AuditRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "at"), Index(None, "actor", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str | None] = mapped_column(ID)
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(Text)
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)


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
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("audit entries need an aware instant")
    row = AuditRow(at=at, actor=actor, action=action, subject=subject, before=jsonable(before),
                   after=jsonable(after))
    session.add(row)
    await session.flush()
    return row.id


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
