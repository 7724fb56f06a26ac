"""Overrides: someone covers a slot, a person or a pipeline for ``[start, end)``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Row, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.model import Override
from bot.storage.tables import OverrideRow, table_of


def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, not {value.isoformat()}")
    return value.astimezone(UTC)


def _override(row: OverrideRow | Row[Any]) -> Override:
    return Override(
        id=row.id, start=row.start, end=row.end, person=row.person, created_at=row.created_at,
        rotation=row.rotation, role=row.role, replaces=row.replaces, pipeline=row.pipeline,
        reason=row.reason, created_by=row.created_by,
    )


async def add_override(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    person: str,
    created_at: datetime,
    rotation: str | None = None,
    role: str | None = None,
    replaces: str | None = None,
    pipeline: str | None = None,
    reason: str = "",
    created_by: str | None = None,
) -> Override:
    """Record an override (in the caller's transaction) and return it with its id.

    Instants must be aware (``ValueError`` otherwise) and ``end`` after ``start``. Ids are
    not checked against the seed: an override outlives the seed entries it names.
    """
    start, end = _aware("start", start), _aware("end", end)
    if end <= start:
        raise ValueError(f"override ends ({end.isoformat()}) before it starts ({start.isoformat()})")
    row = OverrideRow(
        start=start, end=end, person=person, rotation=rotation, role=role, replaces=replaces,
        pipeline=pipeline, reason=reason, created_by=created_by, created_at=_aware("created_at", created_at),
    )
    session.add(row)
    await session.flush()
    return _override(row)


async def get_override(session: AsyncSession, override_id: int) -> Override | None:
    row = await session.get(OverrideRow, override_id)
    return _override(row) if row is not None else None


async def overrides_between(session: AsyncSession, start: datetime, end: datetime) -> list[Override]:
    """Overrides overlapping ``[start, end)``, oldest first (by ``created_at``, then id)."""
    start, end = _aware("start", start), _aware("end", end)
    t = table_of(OverrideRow)  # Core, not the ORM: a read-only question configures no mapper
    rows = await session.execute(
        select(t).where(t.c.start < end, t.c.end > start).order_by(t.c.created_at, t.c.id)
    )
    return [_override(r) for r in rows]


async def delete_override(session: AsyncSession, override_id: int) -> bool:
    """Delete an override; False when there was none with that id."""
    result = await session.execute(delete(OverrideRow).where(OverrideRow.id == override_id))
    return cast(CursorResult[Any], result).rowcount > 0
