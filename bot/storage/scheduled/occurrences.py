"""Occurrences: claiming one (``INSERT ... ON CONFLICT (key) DO NOTHING RETURNING id``) and which are known."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.sql import dialect_insert
from bot.storage.tables.scheduled import OccurrenceRow


async def claim(session: AsyncSession, values: dict[str, Any]) -> int | None:
    """Insert an occurrence row unless its key exists; the new id, or None if another replica (or
    an earlier tick) has it. Exactly one of concurrent claimers gets an id."""
    ins = dialect_insert(session)
    stmt = (
        ins(OccurrenceRow).values(**values).on_conflict_do_nothing(index_elements=["key"]).returning(OccurrenceRow.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def claim_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """``claim`` for many occurrence rows (multi-row inserts, in key order so that concurrent
    claimers lock in one order): the keys this call inserted, with their ids."""
    ins = dialect_insert(session)
    won: dict[str, int] = {}
    ordered = sorted(rows, key=lambda r: str(r["key"]))
    for i in range(0, len(ordered), 500):
        chunk = ordered[i : i + 500]
        stmt = (
            ins(OccurrenceRow)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(OccurrenceRow.id, OccurrenceRow.key)
        )
        for new_id, key in await session.execute(stmt, chunk):
            won[key] = new_id
    return won


async def known_keys(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` already have an occurrence row."""
    found: set[str] = set()
    for i in range(0, len(keys), 500):
        chunk = list(keys[i : i + 500])
        rows = await session.execute(select(OccurrenceRow.key).where(OccurrenceRow.key.in_(chunk)))
        found.update(rows.scalars())
    return found


async def keys_since(session: AsyncSession, since: datetime) -> set[str]:
    """Keys of the occurrences opening at or after ``since``."""
    rows = await session.execute(select(OccurrenceRow.key).where(OccurrenceRow.opens_at >= since))
    return set(rows.scalars())


async def occurrences_between(session: AsyncSession, start: datetime, end: datetime) -> list[OccurrenceRow]:
    rows = await session.execute(
        select(OccurrenceRow)
        .where(OccurrenceRow.opens_at >= start, OccurrenceRow.opens_at < end)
        .order_by(OccurrenceRow.opens_at, OccurrenceRow.key)
    )
    return list(rows.scalars())
