"""The ``calendar_tokens`` table: one secret calendar-feed token per person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.tables.base import ID, Base
from bot.storage.types import UTCDateTime


class CalendarTokenRow(Base):
    __tablename__ = "calendar_tokens"

    person: Mapped[str] = mapped_column(ID, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
