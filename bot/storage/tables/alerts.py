"""The alert tables (issue 12).

- ``alert_integrations``: a routing key of one pipeline; only the SHA-256 of the key is kept
  (``key_hash``); ``revoked_at`` ends it.
- ``alerts``: one row per alert (a dedup key from its trigger until it is resolved): its latest
  summary, severity, details and links, its state, how many triggers it got, the incident it is
  part of. ``open_key`` (integration and dedup key) is set while it is not resolved and unique:
  concurrent triggers of one key land on one row; a trigger after the resolve opens a new one.
- ``alert_events``: every event received (trigger, acknowledge, resolve), with what it did
  (``outcome``): nothing is dropped silently. It is also the intake's inbox: an event is stored
  ``queued`` (no ``alert_id`` yet) when it is accepted, and given its outcome and alert when it
  is applied (``bot.storage.alert_inbox``); ``failed`` when it could not be applied at all.
- ``heartbeats``: each pipeline's last data arrival (``first_seen_at``: when its freshness rule
  was first checked, the start of the clock of a pipeline that never reported).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.alerts import Action, AlertState, Severity
from bot.storage.tables.base import ID, Base, one_of
from bot.storage.types import UTCDateTime

SEVERITIES = tuple(s.value for s in Severity)
ACTIONS = tuple(a.value for a in Action)
STATES = tuple(s.value for s in AlertState)
OUTCOMES = ("opened", "joined", "added", "acknowledged", "resolved", "dropped", "queued", "failed")
QUEUED = "queued"
FAILED = "failed"


class IntegrationRow(Base):
    __tablename__ = "alert_integrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pipeline: Mapped[str] = mapped_column(ID)
    name: Mapped[str] = mapped_column(Text)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AlertRow(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint(one_of("severity", SEVERITIES), name="severity"),
        CheckConstraint(one_of("state", STATES), name="state"),
        Index(None, "pipeline", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    integration_id: Mapped[int | None] = mapped_column(ForeignKey("alert_integrations.id", ondelete="SET NULL"))
    pipeline: Mapped[str] = mapped_column(ID)
    dedup_key: Mapped[str] = mapped_column(String(255))
    open_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    details: Mapped[Any] = mapped_column(JSON, nullable=True)
    links: Mapped[list[Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AlertEventRow(Base):
    __tablename__ = "alert_events"
    __table_args__ = (
        CheckConstraint(one_of("action", ACTIONS), name="action"),
        CheckConstraint(one_of("outcome", OUTCOMES), name="outcome"),
        # the inbox: the queued events by id, a few rows however long the table grows
        Index("ix_alert_events_queued", "id", postgresql_where=text(f"outcome = '{QUEUED}'"),
              sqlite_where=text(f"outcome = '{QUEUED}'")),
        # and the failed ones (rare), counted by ``oncall-bot incidents`` on every call
        Index("ix_alert_events_failed", "id", postgresql_where=text(f"outcome = '{FAILED}'"),
              sqlite_where=text(f"outcome = '{FAILED}'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"), index=True)
    integration_id: Mapped[int | None] = mapped_column(Integer)
    pipeline: Mapped[str] = mapped_column(ID)
    action: Mapped[str] = mapped_column(String(16))
    dedup_key: Mapped[str] = mapped_column(String(255))
    severity: Mapped[str | None] = mapped_column(String(16))
    summary: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    details: Mapped[Any] = mapped_column(JSON, nullable=True)
    links: Mapped[list[Any] | None] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class HeartbeatRow(Base):
    __tablename__ = "heartbeats"

    pipeline: Mapped[str] = mapped_column(ID, primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_arrival_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    arrivals: Mapped[int] = mapped_column(Integer, default=0)
