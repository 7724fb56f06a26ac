"""Cover requests and their slots (tables in ``bot.storage.tables.cover``).

Every state change of a slot is a compare-and-set (``UPDATE ... WHERE status = ...``) whose row
count says whether this caller won: ``take_slot`` (open -> taken: of two takers at once exactly
one gets 1), ``untake_slot`` (taken by X -> open), ``expire_slot`` (open -> expired) and
``mark_lead_notified`` (NULL -> now). The services also hold ``CHANGES_LOCK_KEY`` around a Take,
so its override is checked against the schedule as it is; the compare-and-set makes it safe
even without that lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.cover import CoverRequest, CoverSlot, Duty, RequestStatus, SlotStatus
from bot.storage.tables.cover import CoverRequestRow, CoverSlotRow


def _duty_json(d: Duty) -> dict[str, Any]:
    return {"pipeline": d.pipeline, "role": d.role, "window": d.window, "start": d.start.isoformat(),
            "end": d.end.isoformat()}


def _slot(row: CoverSlotRow) -> CoverSlot:
    duties = tuple(Duty(str(d["pipeline"]), str(d["role"]), str(d["window"]), datetime.fromisoformat(d["start"]),
                        datetime.fromisoformat(d["end"])) for d in row.duties)
    return CoverSlot(row.n, row.rotation, row.role, row.start, row.end, duties, row.channel, SlotStatus(row.status),
                     row.taker, row.change_id, row.taken_at, row.lead_notified_at)


def _request(row: CoverRequestRow, slots: Sequence[CoverSlotRow]) -> CoverRequest:
    return CoverRequest(row.id, row.requester, row.created_by, row.created_at, row.start, row.end, row.reason,
                        RequestStatus(row.status), tuple(_slot(s) for s in sorted(slots, key=lambda s: s.n)),
                        row.closed_at)


async def add_request(
    session: AsyncSession, *, requester: str, created_by: str | None, created_at: datetime, start: datetime,
    end: datetime, reason: str, slots: Sequence[CoverSlot], source_key: str | None = None,
) -> CoverRequest:
    row = CoverRequestRow(requester=requester, created_by=created_by, created_at=created_at, start=start, end=end,
                          reason=reason, status=RequestStatus.OPEN.value, source_key=source_key)
    session.add(row)
    await session.flush()
    rows = [CoverSlotRow(request_id=row.id, n=s.n, rotation=s.rotation, role=s.role, start=s.start, end=s.end,
                         duties=[_duty_json(d) for d in s.duties], channel=s.channel, status=SlotStatus.OPEN.value)
            for s in slots]
    session.add_all(rows)
    await session.flush()
    return _request(row, rows)


async def request_by_source(session: AsyncSession, source_key: str) -> CoverRequest | None:
    found = (await session.execute(select(CoverRequestRow.id).where(CoverRequestRow.source_key == source_key)))
    rid = found.scalar_one_or_none()
    return await get_request(session, rid) if rid is not None else None


async def get_request(session: AsyncSession, request_id: int) -> CoverRequest | None:
    row = await session.get(CoverRequestRow, request_id, populate_existing=True)
    if row is None:
        return None
    slots = (await session.execute(select(CoverSlotRow).where(CoverSlotRow.request_id == request_id)
                                   .execution_options(populate_existing=True))).scalars().all()
    return _request(row, slots)


async def list_requests(session: AsyncSession, *, open_only: bool = False, limit: int = 200) -> list[CoverRequest]:
    """The newest requests first (``open_only``: those still open)."""
    stmt = select(CoverRequestRow).order_by(CoverRequestRow.id.desc()).limit(limit)
    if open_only:
        stmt = stmt.where(CoverRequestRow.status == RequestStatus.OPEN.value)
    rows = (await session.execute(stmt.execution_options(populate_existing=True))).scalars().all()
    if not rows:
        return []
    slots = (await session.execute(select(CoverSlotRow).where(CoverSlotRow.request_id.in_([r.id for r in rows]))
                                   .execution_options(populate_existing=True))).scalars().all()
    by_request: dict[int, list[CoverSlotRow]] = {}
    for s in slots:
        by_request.setdefault(s.request_id, []).append(s)
    return [_request(r, by_request.get(r.id, [])) for r in rows]


async def requests_with_open_slots_before(session: AsyncSession, before: datetime) -> list[int]:
    """The ids of requests with an open slot that starts before ``before``."""
    stmt = (select(CoverSlotRow.request_id).where(CoverSlotRow.status == SlotStatus.OPEN.value,
                                                   CoverSlotRow.start < before).distinct())
    return sorted(int(i) for i in (await session.execute(stmt)).scalars().all())


def _won(result: Any) -> bool:
    assert isinstance(result, CursorResult)
    return int(result.rowcount) == 1


def _slot_where(request_id: int, n: int) -> Any:
    return (CoverSlotRow.request_id == request_id) & (CoverSlotRow.n == n)


async def take_slot(session: AsyncSession, request_id: int, n: int, taker: str, at: datetime) -> bool:
    """Open -> taken by ``taker``; False when someone else got there first."""
    stmt = (update(CoverSlotRow).where(_slot_where(request_id, n), CoverSlotRow.status == SlotStatus.OPEN.value)
            .values(status=SlotStatus.TAKEN.value, taker=taker, taken_at=at))
    return _won(await session.execute(stmt.execution_options(synchronize_session=False)))


async def set_slot_change(session: AsyncSession, request_id: int, n: int, change_id: int) -> None:
    stmt = update(CoverSlotRow).where(_slot_where(request_id, n)).values(change_id=change_id)
    await session.execute(stmt.execution_options(synchronize_session=False))


async def untake_slot(session: AsyncSession, request_id: int, n: int, taker: str) -> bool:
    """Taken by ``taker`` -> open."""
    stmt = (update(CoverSlotRow).where(_slot_where(request_id, n), CoverSlotRow.status == SlotStatus.TAKEN.value,
                                       CoverSlotRow.taker == taker)
            .values(status=SlotStatus.OPEN.value, taker=None, taken_at=None, change_id=None))
    return _won(await session.execute(stmt.execution_options(synchronize_session=False)))


async def expire_slot(session: AsyncSession, request_id: int, n: int) -> bool:
    """Open -> expired (it started with nobody taking it)."""
    stmt = (update(CoverSlotRow).where(_slot_where(request_id, n), CoverSlotRow.status == SlotStatus.OPEN.value)
            .values(status=SlotStatus.EXPIRED.value))
    return _won(await session.execute(stmt.execution_options(synchronize_session=False)))


async def mark_lead_notified(session: AsyncSession, request_id: int, n: int, at: datetime) -> bool:
    """Record that the lead was told about this open slot; False when another replica did first."""
    stmt = (update(CoverSlotRow).where(_slot_where(request_id, n), CoverSlotRow.lead_notified_at.is_(None),
                                       CoverSlotRow.status == SlotStatus.OPEN.value)
            .values(lead_notified_at=at))
    return _won(await session.execute(stmt.execution_options(synchronize_session=False)))


async def set_request_status(session: AsyncSession, request_id: int, status: RequestStatus,
                             at: datetime | None) -> bool:
    """Set the request's status (``closed_at``: when it closed); False when it already had it."""
    stmt = (update(CoverRequestRow).where(CoverRequestRow.id == request_id, CoverRequestRow.status != status.value)
            .values(status=status.value, closed_at=at))
    return _won(await session.execute(stmt.execution_options(synchronize_session=False)))
