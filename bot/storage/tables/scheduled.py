"""The scheduled-work tables.

- ``scheduled_occurrences``: one row per occurrence the bot has decided on (claimed to deliver, or
  skipped as too late), with the occurrence's deterministic ``key`` unique. A replica *claims* an
  occurrence by inserting its row with ``INSERT ... ON CONFLICT (key) DO NOTHING RETURNING id``:
  exactly one of many concurrent inserters gets the id back, on SQLite and PostgreSQL alike.
  Checklist reminders and escalations are occurrences too (``key#reminder``, ``key#escalation``).
- ``scheduled_deliveries``: each Slack call an occurrence needs (a post, a DM, a file, a user
  group update, a checklist message update; ``update``: a message update rendered at send time),
  and the messages owed about incidents and schedule changes (no occurrence), with its state
  (``pending`` → ``sent``; ``failed`` = the last attempt failed and it will be retried at
  ``next_attempt_at``; ``expired`` = its time passed undelivered), attempts, the lease of the
  replica working on it, the Slack channel and ``ts``. ``maybe_posted`` marks an attempt whose
  outcome is unknown (the replica died or the request timed out): the next attempt looks in the
  channel for the key first.
- ``scheduled_checklists`` + ``_items`` + ``_ticks``: an opened checklist, its items (current
  state: who ticked it and when) and the history of ticks and unticks.
- ``scheduled_meetings`` + ``_answers``: an onboarding invite and who accepted or declined.

Like every operational table, people and pipelines are named by id, without foreign keys.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.tables.base import ID, Base, one_of
from bot.storage.types import UTCDateTime

KEY = String(255)
OCCURRENCE_KINDS = ("announcement", "meeting", "checklist", "reminder", "escalation")
OCCURRENCE_STATUSES = ("claimed", "skipped")
DELIVERY_OPS = ("post", "update_checklist", "file", "usergroup", "update", "topic", "notify")  # notify: an Apprise page
DELIVERY_STATUSES = ("pending", "sent", "failed", "expired")
CHECKLIST_STATUSES = ("open", "complete", "overdue")
TICK_ACTIONS = ("tick", "untick")
ANSWERS = ("accept", "decline")


class OccurrenceRow(Base):
    __tablename__ = "scheduled_occurrences"
    __table_args__ = (
        CheckConstraint(one_of("kind", OCCURRENCE_KINDS), name="kind"),
        CheckConstraint(one_of("status", OCCURRENCE_STATUSES), name="status"),
        Index(None, "opens_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(KEY, unique=True)
    definition: Mapped[str] = mapped_column(ID)
    kind: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(32))
    pipeline: Mapped[str | None] = mapped_column(ID)
    channel: Mapped[str | None] = mapped_column(String(128))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    assignees: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(Text, default="")


class DeliveryRow(Base):
    __tablename__ = "scheduled_deliveries"
    __table_args__ = (
        CheckConstraint(one_of("op", DELIVERY_OPS), name="op"),
        CheckConstraint(one_of("status", DELIVERY_STATUSES), name="status"),
        Index(None, "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(KEY, unique=True)
    # None for the messages owed about incidents and changes (keys ``incident:…``, ``change:…``)
    occurrence_id: Mapped[int | None] = mapped_column(
        ForeignKey("scheduled_occurrences.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("scheduled_deliveries.id", ondelete="SET NULL"))
    op: Mapped[str] = mapped_column(String(24))
    target: Mapped[str] = mapped_column(String(255))  # #channel, C123, U123, "U1,U2,U3", @handle
    label: Mapped[str] = mapped_column(Text, default="")  # what it is, for `oncall-bot deliveries`
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    maybe_posted: Mapped[bool] = mapped_column(Boolean, default=False)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ChecklistRow(Base):
    __tablename__ = "scheduled_checklists"
    __table_args__ = (
        CheckConstraint(one_of("status", CHECKLIST_STATUSES), name="status"),
        Index(None, "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("scheduled_occurrences.id", ondelete="CASCADE"), unique=True)
    key: Mapped[str] = mapped_column(KEY, unique=True)
    definition: Mapped[str] = mapped_column(ID)
    title: Mapped[str] = mapped_column(Text)
    pipeline: Mapped[str | None] = mapped_column(ID)
    channel: Mapped[str | None] = mapped_column(String(128))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    assignees: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_to: Mapped[list[str]] = mapped_column(JSON, default=list)  # person ids
    escalation_channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=0)


class ChecklistItemRow(Base):
    __tablename__ = "scheduled_checklist_items"

    checklist_id: Mapped[int] = mapped_column(
        ForeignKey("scheduled_checklists.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    text: Mapped[str] = mapped_column(Text)
    ticked_by: Mapped[str | None] = mapped_column(ID)
    ticked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ChecklistTickRow(Base):
    __tablename__ = "scheduled_checklist_ticks"
    __table_args__ = (CheckConstraint(one_of("action", TICK_ACTIONS), name="action"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    checklist_id: Mapped[int] = mapped_column(ForeignKey("scheduled_checklists.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(8))
    person: Mapped[str] = mapped_column(ID)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class MeetingRow(Base):
    __tablename__ = "scheduled_meetings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("scheduled_occurrences.id", ondelete="CASCADE"), unique=True)
    key: Mapped[str] = mapped_column(KEY, unique=True)
    uid: Mapped[str] = mapped_column(String(255))
    definition: Mapped[str] = mapped_column(ID)
    title: Mapped[str] = mapped_column(Text)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attendees: Mapped[list[str]] = mapped_column(JSON)
    moved_because: Mapped[str | None] = mapped_column(Text)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))


class MeetingAnswerRow(Base):
    __tablename__ = "scheduled_meeting_answers"
    __table_args__ = (CheckConstraint(one_of("answer", ANSWERS), name="answer"),)

    meeting_id: Mapped[int] = mapped_column(ForeignKey("scheduled_meetings.id", ondelete="CASCADE"), primary_key=True)
    person: Mapped[str] = mapped_column(ID, primary_key=True)
    answer: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
