"""The ``meta`` table: small facts about this database, by key."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.tables.base import Base


class MetaRow(Base):
    """Small facts about this database, by key (e.g. ``seed.digest``)."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
