"""The ``overrides`` table: someone covers a slot for a while.

Like every operational table it names seed entries by id as plain text without foreign keys:
it is history and must outlive a seed reload that removes a person or a pipeline.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.tables.base import ID, Base
from bot.storage.types import UTCDateTime


class OverrideRow(Base):
    """Someone covers ``[start, end)``; see ``bot.core.model.Override`` for how it applies."""

    __tablename__ = "overrides"
    __table_args__ = (
        CheckConstraint('"end" > start', name="end_after_start"),
        Index(None, "end"),
        Index(None, "start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    person: Mapped[str] = mapped_column(ID)
    rotation: Mapped[str | None] = mapped_column(ID)
    role: Mapped[str | None] = mapped_column(String(32))
    replaces: Mapped[str | None] = mapped_column(ID)
    pipeline: Mapped[str | None] = mapped_column(ID)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
