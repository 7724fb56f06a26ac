"""The ``meta`` table: small named facts about this database, and transaction-level locks."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.sql import dialect_insert
from bot.storage.tables import MetaRow, table_of

_TABLE = table_of(MetaRow)


async def get_meta(session: AsyncSession, key: str) -> str | None:
    # Core columns, not ``MetaRow.value``: an ORM select configures every mapper first (about a
    # fifth of a one-shot CLI answer), and reading a fact needs none of them.
    return (await session.execute(select(_TABLE.c.value).where(_TABLE.c.key == key))).scalar_one_or_none()


async def set_meta(session: AsyncSession, key: str, value: str | None) -> None:
    """Set ``key`` to ``value`` (insert or replace); None deletes it."""
    if value is None:
        await session.execute(delete(_TABLE).where(_TABLE.c.key == key))
        return
    stmt = dialect_insert(session)(_TABLE).values(key=key, value=value)
    await session.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value}))


async def lock(session: AsyncSession, key: int) -> None:
    """Hold lock ``key`` until the session's transaction ends.

    PostgreSQL: ``pg_advisory_xact_lock``. SQLite needs nothing: every transaction already holds
    the database's write lock from its ``BEGIN IMMEDIATE``.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(key)))
