"""The cover-request tables (migration 0009_cover).

- ``cover_requests``: someone asks for cover over a span, with a reason; ``status`` is ``open``
  while a slot is open, then ``done`` (every slot taken) or ``expired`` (a slot started open).
- ``cover_slots``: the slots of a request (``n`` from 1): a seat over a stretch, the duties it
  carries (JSON), the channel it is offered in, and its state. A Take is a compare-and-set on
  ``status`` (``open`` -> ``taken``): of two takers at once exactly one row update succeeds;
  ``lead_notified_at`` is set the same way, once, by the tick that tells the team lead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.cover import RequestStatus, SlotStatus
from bot.storage.tables.base import ID, Base, one_of
from bot.storage.types import UTCDateTime

REQUEST_STATUSES = tuple(s.value for s in RequestStatus)
SLOT_STATUSES = tuple(s.value for s in SlotStatus)


class CoverRequestRow(Base):
    __tablename__ = "cover_requests"
    __table_args__ = (
        CheckConstraint(one_of("status", REQUEST_STATUSES), name="status"),
        CheckConstraint('"end" > start', name="end_after_start"),
        Index(None, "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    requester: Mapped[str] = mapped_column(ID)
    created_by: Mapped[str | None] = mapped_column(ID)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the Slack request that made it ("command:TRIGGER_ID", "view:VIEW_ID"): made once
    source_key: Mapped[str | None] = mapped_column(String(255), index=True, unique=True)


class CoverSlotRow(Base):
    __tablename__ = "cover_slots"
    __table_args__ = (
        CheckConstraint(one_of("status", SLOT_STATUSES), name="status"),
        CheckConstraint('"end" > start', name="end_after_start"),
        UniqueConstraint("request_id", "n"),
        Index(None, "status", "start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(Integer, ForeignKey("cover_requests.id", ondelete="CASCADE"))
    n: Mapped[int] = mapped_column(Integer)
    rotation: Mapped[str] = mapped_column(ID)
    role: Mapped[str | None] = mapped_column(String(32))
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    duties: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    channel: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    taker: Mapped[str | None] = mapped_column(ID)
    change_id: Mapped[int | None] = mapped_column(Integer)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lead_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
