"""The channel-topic deliveries (op ``topic``, keys ``topic:#channel:N``) of one channel: the last
one queued, and how many were queued since an instant (the daily cap)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.sql import dialect_insert
from bot.storage.tables.scheduled import DeliveryRow


def topic_prefix(channel: str) -> str:
    """The key prefix of ``channel``'s topic deliveries."""
    return f"topic:{channel}:"


def topic_key(channel: str, after: int) -> str:
    """The key of the topic delivery that follows delivery id ``after`` (0: the first). Two
    replicas that saw the same last delivery make the same key: one insert wins."""
    return f"{topic_prefix(channel)}{after}"


async def last_topic(session: AsyncSession, channel: str) -> DeliveryRow | None:
    """The newest topic delivery queued for ``channel`` (any status), or None."""
    stmt = (
        select(DeliveryRow)
        .where(DeliveryRow.op == "topic", DeliveryRow.key.startswith(topic_prefix(channel), autoescape=True))
        .order_by(DeliveryRow.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def topics_since(session: AsyncSession, channel: str, since: datetime) -> int:
    """How many topic deliveries were queued for ``channel`` at or after ``since``."""
    stmt = select(func.count()).where(
        DeliveryRow.op == "topic",
        DeliveryRow.key.startswith(topic_prefix(channel), autoescape=True),
        DeliveryRow.created_at >= since,
    )
    return int((await session.execute(stmt)).scalar_one())


async def queue_topic(session: AsyncSession, row: dict[str, Any], parent_id: int | None) -> bool:
    """Insert one topic delivery after ``parent_id``; True when this insert won its key (False:
    another replica queued the same key first)."""
    stmt = (
        dialect_insert(session)(DeliveryRow)
        .values(**row, parent_id=parent_id)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(DeliveryRow.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None
