"""Handoff notes (``handoff_notes``): add one, read those written in a time range."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.handoff import HandoffNote
from bot.storage.tables.api import HandoffNoteRow


async def add_note(session: AsyncSession, week_start: datetime, author: str, text: str, now: datetime) -> HandoffNote:
    row = HandoffNoteRow(week_start=week_start, author=author, text=text, created_at=now)
    session.add(row)
    await session.flush()
    return HandoffNote(row.id, author, text, now)


async def notes_between(session: AsyncSession, start: datetime, end: datetime) -> list[HandoffNote]:
    """Notes written in ``[start, end)``, oldest first."""
    rows = await session.scalars(
        select(HandoffNoteRow)
        .where(HandoffNoteRow.created_at >= start, HandoffNoteRow.created_at < end)
        .order_by(HandoffNoteRow.created_at, HandoffNoteRow.id)
    )
    return [HandoffNote(r.id, r.author, r.text, r.created_at) for r in rows]
