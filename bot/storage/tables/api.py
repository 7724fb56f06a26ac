"""The read API's bearer tokens and the on-call week's handoff notes.

``api_tokens`` keeps a SHA-256 hex digest of each token, never the token itself (it is shown once
when created); a revoked token keeps its row with ``revoked_at`` set. ``handoff_notes`` holds what
an outgoing on-call person wrote for whoever takes over; ``week_start`` is the UTC instant of the
handoff that starts the week the note was written in (it is carried into the next one).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.tables.base import ID, Base
from bot.storage.types import UTCDateTime


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128))
    digest: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the token
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class HandoffNoteRow(Base):
    __tablename__ = "handoff_notes"
    __table_args__ = (Index(None, "week_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    week_start: Mapped[datetime] = mapped_column(UTCDateTime())
    author: Mapped[str] = mapped_column(ID)  # a person id
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
