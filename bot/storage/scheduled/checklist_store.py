"""Checklists: an opened checklist, its items (who ticked each and when) and its tick history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.sql import with_children
from bot.storage.tables.scheduled import ChecklistItemRow, ChecklistRow, ChecklistTickRow


async def add_checklist(session: AsyncSession, values: dict[str, Any], items: Sequence[str]) -> int:
    row = ChecklistRow(**values)
    session.add(row)
    await session.flush()
    for i, text in enumerate(items):
        session.add(ChecklistItemRow(checklist_id=row.id, position=i, text=text))
    await session.flush()
    return row.id


async def add_checklists(
    session: AsyncSession, values: Sequence[dict[str, Any]], items: dict[str, Sequence[str]]
) -> dict[str, int]:
    """Insert checklists (``items[key]`` are each one's items); their ids by key."""
    if not values:
        return {}
    ids: dict[str, int] = {}
    for i in range(0, len(values), 200):
        stmt = insert(ChecklistRow).values(list(values[i : i + 200])).returning(ChecklistRow.id, ChecklistRow.key)
        for new_id, key in await session.execute(stmt):
            ids[key] = new_id
    rows = [
        {"checklist_id": ids[key], "position": pos, "text": text}
        for key, texts in items.items()
        if key in ids
        for pos, text in enumerate(texts)
    ]
    for i in range(0, len(rows), 500):
        await session.execute(insert(ChecklistItemRow).values(rows[i : i + 500]))
    return ids


async def checklists_by_ids(
    session: AsyncSession, ids: Sequence[int]
) -> dict[int, tuple[ChecklistRow, list[ChecklistItemRow]]]:
    """Checklists with their items, by id (two queries)."""
    if not ids:
        return {}
    rows = (await session.execute(select(ChecklistRow).where(ChecklistRow.id.in_(list(ids))))).scalars()
    out: dict[int, tuple[ChecklistRow, list[ChecklistItemRow]]] = {r.id: (r, []) for r in rows}
    items = await session.execute(
        select(ChecklistItemRow)
        .where(ChecklistItemRow.checklist_id.in_(list(out)))
        .order_by(ChecklistItemRow.checklist_id, ChecklistItemRow.position)
    )
    for item in items.scalars():
        out[item.checklist_id][1].append(item)
    return out


async def set_checklist_messages(session: AsyncSession, refs: Sequence[tuple[int, str | None, str | None]]) -> None:
    """``(checklist id, channel id, ts)`` of many posted checklist messages."""
    if refs:
        await session.execute(update(ChecklistRow), [{"id": i, "channel_id": c, "ts": t} for i, c, t in refs])


async def lock_checklist(session: AsyncSession, checklist_id: int) -> bool:
    """Lock the checklist's row until the transaction ends (``FOR UPDATE``); False if there is none."""
    locked = await session.execute(select(ChecklistRow.id).where(ChecklistRow.id == checklist_id).with_for_update())
    return locked.scalar_one_or_none() is not None


async def checklist(session: AsyncSession, checklist_id: int) -> tuple[ChecklistRow, list[ChecklistItemRow]] | None:
    """The checklist and its items in order; None if there is no such checklist."""
    return await with_children(
        session, ChecklistRow, checklist_id, ChecklistItemRow, ChecklistItemRow.checklist_id, ChecklistItemRow.position
    )


async def checklist_by_key(session: AsyncSession, key: str) -> ChecklistRow | None:
    return (await session.execute(select(ChecklistRow).where(ChecklistRow.key == key))).scalar_one_or_none()


async def checklists(session: AsyncSession, *, open_only: bool = False, limit: int = 200) -> list[ChecklistRow]:
    stmt = select(ChecklistRow)
    if open_only:
        stmt = stmt.where(ChecklistRow.status.in_(("open", "overdue")))
    stmt = stmt.order_by(ChecklistRow.opens_at.desc(), ChecklistRow.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def items_of(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[ChecklistItemRow]]:
    out: dict[int, list[ChecklistItemRow]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = await session.execute(
        select(ChecklistItemRow)
        .where(ChecklistItemRow.checklist_id.in_(list(ids)))
        .order_by(ChecklistItemRow.checklist_id, ChecklistItemRow.position)
    )
    for r in rows.scalars():
        out[r.checklist_id].append(r)
    return out


async def checklists_needing(session: AsyncSession, now: datetime) -> tuple[list[ChecklistRow], list[ChecklistRow]]:
    """Incomplete checklists whose reminder time has come (``reminder_at <= now < due``, not yet
    reminded) and those whose due time has passed and are not yet marked overdue."""
    remind = await session.execute(
        select(ChecklistRow).where(
            ChecklistRow.status == "open",
            ChecklistRow.reminded_at.is_(None),
            ChecklistRow.reminder_at.is_not(None),
            ChecklistRow.reminder_at <= now,
            ChecklistRow.due_at > now,
        )
    )
    overdue = await session.execute(
        select(ChecklistRow).where(ChecklistRow.status == "open", ChecklistRow.due_at <= now)
    )
    return list(remind.scalars()), list(overdue.scalars())


async def set_item(session: AsyncSession, checklist_id: int, position: int, person: str | None, at: datetime) -> bool:
    """Tick (``person``) or untick (None) one item; records the history. False if nothing changed."""
    item = await session.get(ChecklistItemRow, (checklist_id, position))
    if item is None:
        return False
    if person is None and item.ticked_by is None:
        return False
    if person is not None and item.ticked_by is not None:
        return False
    action = "untick" if person is None else "tick"
    who = person if person is not None else item.ticked_by or ""
    item.ticked_by = person
    item.ticked_at = at if person is not None else None
    session.add(ChecklistTickRow(checklist_id=checklist_id, position=position, action=action, person=who, at=at))
    await session.flush()
    return True


async def refresh_status(session: AsyncSession, checklist_id: int, at: datetime) -> str:
    """Recompute a checklist's status from its items: ``complete`` when all are ticked, else
    ``overdue`` if it was escalated, else ``open``. Bumps ``version``; returns the status."""
    found = await checklist(session, checklist_id)
    if found is None:
        return "open"
    row, items = found
    done = all(i.ticked_by is not None for i in items)
    if done:
        if row.status != "complete":
            row.completed_at = at
        row.status = "complete"
    else:
        row.completed_at = None
        row.status = "overdue" if row.overdue else "open"
    row.version += 1
    await session.flush()
    return row.status


async def mark_reminded(session: AsyncSession, checklist_id: int, at: datetime) -> None:
    await session.execute(
        update(ChecklistRow)
        .where(ChecklistRow.id == checklist_id, ChecklistRow.reminded_at.is_(None))
        .values(reminded_at=at)
    )


async def mark_overdue(
    session: AsyncSession, checklist_id: int, at: datetime, people: Sequence[str], channels: Sequence[str]
) -> bool:
    """An open checklist becomes ``overdue``, escalated to ``people`` and ``channels``; False if it
    was no longer open (completed meanwhile, or another replica got there first)."""
    stmt = (
        update(ChecklistRow)
        .where(ChecklistRow.id == checklist_id, ChecklistRow.status == "open")
        .values(
            status="overdue",
            overdue=True,
            escalated_at=at,
            escalated_to=list(people),
            escalation_channels=list(channels),
            version=ChecklistRow.version + 1,
        )
        .returning(ChecklistRow.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def set_checklist_message(session: AsyncSession, key: str, channel_id: str | None, ts: str | None) -> None:
    await session.execute(update(ChecklistRow).where(ChecklistRow.key == key).values(channel_id=channel_id, ts=ts))


async def tick_history(session: AsyncSession, checklist_id: int) -> list[ChecklistTickRow]:
    rows = await session.execute(
        select(ChecklistTickRow).where(ChecklistTickRow.checklist_id == checklist_id).order_by(ChecklistTickRow.id)
    )
    return list(rows.scalars())
