"""The incident tables.

``incidents`` holds each incident's current state (a ``bot.core.incident.Incident``);
``incident_events`` its history (opened, acknowledged, escalated, resolved) with times and who
did it. A queued page (Growth outside business hours) is an escalation event whose ``delivery``
is ``pending`` until it is sent (``sent``) or the incident is resolved first (``cancelled``).
Pipelines and people are named by id without foreign keys, like every operational table.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.incident import EventKind, PageKind, Status
from bot.storage.tables.base import ID, Base, one_of
from bot.storage.types import UTCDateTime

STATUSES = tuple(s.value for s in Status)
PAGE_KINDS = tuple(k.value for k in PageKind)
EVENT_KINDS = tuple(k.value for k in EventKind)
DELIVERIES = ("pending", "sent", "cancelled")
SLACK_ID = String(64)  # a Slack user id (or a person id when acting from the console)


class IncidentRow(Base):
    """An incident's current state; ``page_*`` is what its current level reached."""

    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint(one_of("status", STATUSES), name="status"),
        CheckConstraint(one_of("page_kind", PAGE_KINDS), name="page_kind"),
        CheckConstraint("level >= 1 AND chain_length >= level", name="level_in_chain"),
        Index(None, "status"),
        Index(None, "next_auto_at"),
        Index(None, "fix_by"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pipeline: Mapped[str] = mapped_column(ID)
    summary: Mapped[str] = mapped_column(Text)
    critical: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))
    reporter: Mapped[str | None] = mapped_column(SLACK_ID)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    level: Mapped[int] = mapped_column(Integer)
    chain_length: Mapped[int] = mapped_column(Integer)
    page_kind: Mapped[str] = mapped_column(String(16))
    page_label: Mapped[str] = mapped_column(Text)
    page_person: Mapped[str | None] = mapped_column(ID)
    page_slot: Mapped[str | None] = mapped_column(String(128))
    page_channels: Mapped[list[str]] = mapped_column(JSON)
    page_due: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reached: Mapped[list[str]] = mapped_column(JSON)  # person ids paged or queued so far, in order
    last_escalated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_auto_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(SLACK_ID)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(SLACK_ID)
    channel: Mapped[str | None] = mapped_column(String(128))  # where the incident message is
    ts: Mapped[str | None] = mapped_column(String(32))
    permalink: Mapped[str | None] = mapped_column(Text)
    source_key: Mapped[str | None] = mapped_column(String(255), unique=True)  # opens once per key
    # the SLA clock (``bot.core.sla``), fixed when it opens; ``sla_*_at``: when the reminder /
    # the escalation was claimed (by one replica), None until then
    fix_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fix_remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sla_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sla_escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(16), server_default="slack")  # slack | alert | heartbeat
    severity: Mapped[str | None] = mapped_column(String(16))  # an alert's; None: critical or not


class IncidentEventRow(Base):
    """One step of an incident; for a queued page, ``delivery`` tracks its pending delivery."""

    __tablename__ = "incident_events"
    __table_args__ = (
        CheckConstraint(one_of("kind", EVENT_KINDS), name="kind"),
        CheckConstraint(one_of("page_kind", PAGE_KINDS, nullable=True), name="page_kind"),
        CheckConstraint(one_of("delivery", DELIVERIES, nullable=True), name="delivery"),
        Index(None, "delivery", "page_due"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str | None] = mapped_column(SLACK_ID)
    auto: Mapped[bool] = mapped_column(Boolean)
    level: Mapped[int] = mapped_column(Integer)
    page_kind: Mapped[str | None] = mapped_column(String(16))
    page_label: Mapped[str | None] = mapped_column(Text)
    page_person: Mapped[str | None] = mapped_column(ID, index=True)
    page_slot: Mapped[str | None] = mapped_column(String(128))
    page_channels: Mapped[list[str] | None] = mapped_column(JSON)
    page_due: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivery: Mapped[str | None] = mapped_column(String(16))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
