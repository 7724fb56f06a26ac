"""SQL helpers the repository modules share: the dialect's INSERT and a row read with its children."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.storage.tables.base import Base

P = TypeVar("P", bound=Base)
C = TypeVar("C", bound=Base)


def dialect_insert(session: AsyncSession) -> Any:
    """The ``insert`` of the session's dialect (PostgreSQL or SQLite), which has ``ON CONFLICT``."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return pg_insert
    if dialect == "sqlite":
        return sqlite_insert
    raise ValueError(f"unsupported database {dialect}")  # pragma: no cover - the bot supports these two


async def with_children(
    session: AsyncSession,
    parent: type[P],
    parent_id: int,
    child: type[C],
    child_key: InstrumentedAttribute[int],
    order_by: InstrumentedAttribute[Any],
) -> tuple[P, list[C]] | None:
    """Row ``parent_id`` of ``parent`` and its children (``child_key == parent_id``) by ``order_by``.

    None when there is no such row. Both are read afresh (``populate_existing``): a caller that
    changed them in this session through bulk statements sees the database's state.
    """
    row = await session.get(parent, parent_id, populate_existing=True)
    if row is None:
        return None
    children = await session.execute(
        select(child).where(child_key == parent_id).order_by(order_by).execution_options(populate_existing=True)
    )
    return row, list(children.scalars())
