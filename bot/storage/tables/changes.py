"""The schedule-change tables (migration 0004_changes_audit, with ``audit_log`` and ``calendar_tokens``).

- ``schedule_changes``: one row per change: what was asked, by whom and when, the ids of the
  overrides it inserted, and when and by whom it was cancelled. An ``away`` row is also the
  record of the absence. The overrides themselves live in ``overrides``.
- ``shift_notices``: the "before a shift" notices claimed, by deterministic ``key``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.changes import ChangeKind
from bot.storage import audit as _audit  # noqa: F401  (its table belongs to the same revision)
from bot.storage import calendar_tokens as _calendar_tokens  # noqa: F401  (likewise)
from bot.storage.tables.base import ID, Base, one_of
from bot.storage.types import UTCDateTime

CHANGE_KINDS = tuple(k.value for k in ChangeKind)


class ChangeRow(Base):
    __tablename__ = "schedule_changes"
    __table_args__ = (
        CheckConstraint(one_of("kind", CHANGE_KINDS), name="kind"),
        CheckConstraint('"end" > start', name="end_after_start"),
        Index(None, "end"),
        Index(None, "kind", "person"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str | None] = mapped_column(ID)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    person: Mapped[str] = mapped_column(ID)
    other: Mapped[str | None] = mapped_column(ID)
    target_rotation: Mapped[str | None] = mapped_column(ID)
    target_role: Mapped[str | None] = mapped_column(String(32))
    target_pipeline: Mapped[str | None] = mapped_column(ID)
    reason: Mapped[str] = mapped_column(Text)
    override_ids: Mapped[list[int]] = mapped_column(JSON)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_by: Mapped[str | None] = mapped_column(ID)
    # the Slack request that made it ("command:TRIGGER_ID", "view:VIEW_ID"; migration 0006): applies once
    source_key: Mapped[str | None] = mapped_column(String(255), index=True, unique=True)


class ShiftNoticeRow(Base):
    __tablename__ = "shift_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    person: Mapped[str] = mapped_column(ID)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
