"""Schedule changes as made (override, swap, away) and the "before a shift" notices claimed.

- ``schedule_changes``: one row per change: what was asked, by whom and when, the ids of the
  overrides it inserted, and when and by whom it was cancelled. An ``away`` row is also the
  record of the absence (``aways_between``). The overrides themselves live in ``overrides``.
- ``shift_notices``: a notice's deterministic ``key`` is claimed by inserting it with
  ``ON CONFLICT DO NOTHING RETURNING``: exactly one replica wins and sends the DM.

The tables are in ``bot.storage.tables.changes``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.changes import Away, ChangeKind, ChangeRecord, Target
from bot.storage.sql import dialect_insert
from bot.storage.tables.changes import ChangeRow, ShiftNoticeRow

# pg_advisory_xact_lock key held while a change is checked and applied: changes queue
CHANGES_LOCK_KEY = 0x6F6E63616C6C + 5


def _record(row: ChangeRow) -> ChangeRecord:
    target = None
    if row.target_rotation is not None or row.target_pipeline is not None:
        target = Target(row.target_rotation, row.target_role, row.target_pipeline)
    return ChangeRecord(
        id=row.id, kind=ChangeKind(row.kind), created_by=row.created_by, created_at=row.created_at,
        start=row.start, end=row.end, person=row.person, other=row.other, target=target, reason=row.reason,
        override_ids=tuple(int(i) for i in row.override_ids), cancelled_at=row.cancelled_at,
        cancelled_by=row.cancelled_by,
    )


async def add_change(
    session: AsyncSession,
    *,
    kind: ChangeKind,
    created_by: str | None,
    created_at: datetime,
    start: datetime,
    end: datetime,
    person: str,
    other: str | None,
    target: Target | None,
    reason: str,
    override_ids: list[int],
    source_key: str | None = None,
) -> ChangeRecord:
    """Record a change (in the caller's transaction) and return it with its id. ``source_key``
    names the request that made it (unique: callers look it up first, under the changes lock)."""
    row = ChangeRow(
        source_key=source_key,
        kind=kind.value, created_by=created_by, created_at=created_at, start=start, end=end, person=person,
        other=other, target_rotation=target.rotation if target else None, target_role=target.role if target else None,
        target_pipeline=target.pipeline if target else None, reason=reason, override_ids=override_ids,
    )
    session.add(row)
    await session.flush()
    return _record(row)


async def change_by_source(session: AsyncSession, source_key: str) -> ChangeRecord | None:
    """The change made by request ``source_key``, if one was."""
    row = (await session.scalars(select(ChangeRow).where(ChangeRow.source_key == source_key))).first()
    return _record(row) if row is not None else None


async def get_change(session: AsyncSession, change_id: int) -> ChangeRecord | None:
    row = await session.get(ChangeRow, change_id)
    return _record(row) if row is not None else None


async def changes_ending_after(
    session: AsyncSession, at: datetime, *, include_cancelled: bool = False, limit: int = 500
) -> list[ChangeRecord]:
    """Changes that end after ``at`` (upcoming and ongoing), by start."""
    stmt = select(ChangeRow).where(ChangeRow.end > at).order_by(ChangeRow.start, ChangeRow.id).limit(limit)
    if not include_cancelled:
        stmt = stmt.where(ChangeRow.cancelled_at.is_(None))
    return [_record(r) for r in await session.scalars(stmt)]


async def mark_cancelled(
    session: AsyncSession, change_id: int, *, at: datetime, by: str | None, override_ids: list[int]
) -> bool:
    """Mark a change cancelled, keeping the ids of the overrides that remain as its history.
    False when it was already cancelled (a concurrent cancel won)."""
    result = await session.execute(
        update(ChangeRow)
        .where(ChangeRow.id == change_id, ChangeRow.cancelled_at.is_(None))
        .values(cancelled_at=at, cancelled_by=by, override_ids=override_ids)
        .returning(ChangeRow.id)
    )
    return result.scalar_one_or_none() is not None


async def aways_between(session: AsyncSession, start: datetime, end: datetime) -> list[Away]:
    """Absences (away changes not cancelled) overlapping ``[start, end)``, by start."""
    rows = await session.scalars(
        select(ChangeRow)
        .where(ChangeRow.kind == ChangeKind.AWAY.value, ChangeRow.cancelled_at.is_(None),
               ChangeRow.start < end, ChangeRow.end > start)
        .order_by(ChangeRow.start, ChangeRow.id)
    )
    return [Away(r.person, r.start, r.end, r.id) for r in rows]


async def claim_notice(session: AsyncSession, *, key: str, person: str, starts_at: datetime, now: datetime) -> bool:
    """Claim the notice ``key``: True for exactly one caller, ever (until ``release_notice``)."""
    stmt = (
        dialect_insert(session)(ShiftNoticeRow)
        .values(key=key, person=person, starts_at=starts_at, claimed_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(ShiftNoticeRow.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def mark_notice_sent(session: AsyncSession, key: str, at: datetime) -> None:
    await session.execute(update(ShiftNoticeRow).where(ShiftNoticeRow.key == key).values(sent_at=at))


async def release_notice(session: AsyncSession, key: str) -> None:
    """Give a claim back (its DM failed) so that a later tick tries again."""
    await session.execute(delete(ShiftNoticeRow).where(ShiftNoticeRow.key == key, ShiftNoticeRow.sent_at.is_(None)))


async def notice_keys(session: AsyncSession, since: datetime) -> set[str]:
    """Keys of notices for shifts starting from ``since``."""
    return set(await session.scalars(select(ShiftNoticeRow.key).where(ShiftNoticeRow.starts_at >= since)))
