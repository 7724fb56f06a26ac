"""Secret calendar-feed tokens, one per person (issue 5 §4).

The token is the whole credential of ``GET /calendar/TOKEN.ics``: 32 URL-safe characters from
``secrets``. ``token_for`` hands out the person's token (creating it the first time);
``reset_token`` replaces it, which revokes every URL that carried the old one. Loading a seed
without a person revokes their token (``revoke_tokens_except``, from ``apply_seed``), and
``oncall-bot calendar-tokens revoke PERSON`` revokes one (``revoke_tokens``).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.tables.calendar_tokens import CalendarTokenRow

TOKEN_BYTES = 24


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


async def token_for(session: AsyncSession, person: str, now: datetime) -> tuple[str, bool]:
    """The person's token and whether it was created now (in the caller's transaction)."""
    row = await session.get(CalendarTokenRow, person)
    if row is not None:
        return row.token, False
    token = new_token()
    session.add(CalendarTokenRow(person=person, token=token, created_at=now))
    await session.flush()
    return token, True


async def reset_token(session: AsyncSession, person: str, now: datetime) -> str:
    """Revoke the person's token and give them a new one."""
    await session.execute(delete(CalendarTokenRow).where(CalendarTokenRow.person == person))
    token = new_token()
    session.add(CalendarTokenRow(person=person, token=token, created_at=now))
    await session.flush()
    return token


async def person_for_token(session: AsyncSession, token: str) -> str | None:
    """Whose token ``token`` is, or None (unknown or revoked)."""
    if not token or len(token) > 64:
        return None
    return await session.scalar(select(CalendarTokenRow.person).where(CalendarTokenRow.token == token))


async def revoke_tokens(session: AsyncSession, people: Sequence[str]) -> list[str]:
    """Delete the tokens of ``people`` (their feeds then answer 404); the people who had one."""
    if not people:
        return []
    rows = await session.execute(
        delete(CalendarTokenRow).where(CalendarTokenRow.person.in_(list(people))).returning(CalendarTokenRow.person)
    )
    return sorted(rows.scalars())


async def revoke_tokens_except(session: AsyncSession, keep: Sequence[str]) -> list[str]:
    """Delete every token whose person is not in ``keep`` (e.g. the seed's people); who lost one."""
    rows = await session.execute(
        delete(CalendarTokenRow).where(CalendarTokenRow.person.not_in(list(keep))).returning(CalendarTokenRow.person)
    )
    return sorted(rows.scalars())


async def tokens_issued(session: AsyncSession) -> list[tuple[str, datetime]]:
    """Who has a token and since when (never the tokens themselves), by person."""
    rows = await session.execute(
        select(CalendarTokenRow.person, CalendarTokenRow.created_at).order_by(CalendarTokenRow.person)
    )
    return [(r.person, r.created_at) for r in rows]
