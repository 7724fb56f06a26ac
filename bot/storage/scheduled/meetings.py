"""Onboarding invites: the meeting message and who accepted or declined."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.sql import with_children
from bot.storage.tables.scheduled import MeetingAnswerRow, MeetingRow


async def add_meeting(session: AsyncSession, values: dict[str, Any]) -> int:
    row = MeetingRow(**values)
    session.add(row)
    await session.flush()
    return row.id


async def meeting(session: AsyncSession, meeting_id: int) -> tuple[MeetingRow, list[MeetingAnswerRow]] | None:
    """The meeting and its answers in the order given; None if there is no such meeting."""
    return await with_children(
        session, MeetingRow, meeting_id, MeetingAnswerRow, MeetingAnswerRow.meeting_id, MeetingAnswerRow.at
    )


async def meeting_by_key(session: AsyncSession, key: str) -> MeetingRow | None:
    return (await session.execute(select(MeetingRow).where(MeetingRow.key == key))).scalar_one_or_none()


async def set_meeting_message(session: AsyncSession, key: str, channel_id: str | None, ts: str | None) -> None:
    await session.execute(update(MeetingRow).where(MeetingRow.key == key).values(channel_id=channel_id, ts=ts))


async def answer_meeting(session: AsyncSession, meeting_id: int, person: str, answer: str, at: datetime) -> None:
    """Record (or replace) ``person``'s answer."""
    await session.execute(
        delete(MeetingAnswerRow).where(MeetingAnswerRow.meeting_id == meeting_id, MeetingAnswerRow.person == person)
    )
    session.add(MeetingAnswerRow(meeting_id=meeting_id, person=person, answer=answer, at=at))
    await session.flush()
