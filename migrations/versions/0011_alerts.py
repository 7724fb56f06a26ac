"""Alerts in (issue 12 §1-§3): routing keys, alerts and every event received, data-arrival
heartbeats; incidents say what opened them (``source``) and an alert's ``severity``; a pipeline
may carry a freshness rule (``arrival_within``).

Revision ID: 0011_alerts
Revises: 0010_topics (re-chained on main; written against 0007_change_request_key)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.storage.types

revision: str = "0011_alerts"
down_revision: str | Sequence[str] | None = "0010_topics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = bot.storage.types.UTCDateTime


def upgrade() -> None:
    op.add_column("incidents", sa.Column("source", sa.String(length=16), server_default="slack", nullable=False))
    op.add_column("incidents", sa.Column("severity", sa.String(length=16), nullable=True))
    op.add_column("pipelines", sa.Column("arrival_within", sa.String(length=16), nullable=True))
    op.create_table(
        "alert_integrations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pipeline", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("revoked_at", UTC(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_integrations")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_alert_integrations_key_hash")),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=True),
        sa.Column("pipeline", sa.String(length=64), nullable=False),
        sa.Column("dedup_key", sa.String(length=255), nullable=False),
        sa.Column("open_key", sa.String(length=300), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_at", UTC(), nullable=False),
        sa.Column("last_at", UTC(), nullable=False),
        sa.Column("acknowledged_at", UTC(), nullable=True),
        sa.Column("resolved_at", UTC(), nullable=True),
        sa.CheckConstraint("severity IN ('critical', 'error', 'warning', 'info')", name=op.f("ck_alerts_severity")),
        sa.CheckConstraint("state IN ('open', 'acknowledged', 'resolved')", name=op.f("ck_alerts_state")),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name=op.f("fk_alerts_incident_id_incidents"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["integration_id"], ["alert_integrations.id"],
                                name=op.f("fk_alerts_integration_id_alert_integrations"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("open_key", name=op.f("uq_alerts_open_key")),
    )
    op.create_index(op.f("ix_alerts_incident_id"), "alerts", ["incident_id"], unique=False)
    op.create_index(op.f("ix_alerts_pipeline_state"), "alerts", ["pipeline", "state"], unique=False)
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("integration_id", sa.Integer(), nullable=True),
        sa.Column("pipeline", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("dedup_key", sa.String(length=255), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("links", sa.JSON(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("at", UTC(), nullable=False),
        sa.CheckConstraint("action IN ('trigger', 'acknowledge', 'resolve')", name=op.f("ck_alert_events_action")),
        sa.CheckConstraint("outcome IN ('opened', 'joined', 'added', 'acknowledged', 'resolved', 'dropped')",
                           name=op.f("ck_alert_events_outcome")),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_alert_events_alert_id_alerts"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_events")),
    )
    op.create_index(op.f("ix_alert_events_alert_id"), "alert_events", ["alert_id"], unique=False)
    op.create_table(
        "heartbeats",
        sa.Column("pipeline", sa.String(length=64), nullable=False),
        sa.Column("first_seen_at", UTC(), nullable=False),
        sa.Column("last_arrival_at", UTC(), nullable=True),
        sa.Column("arrivals", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("pipeline", name=op.f("pk_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("heartbeats")
    op.drop_index(op.f("ix_alert_events_alert_id"), table_name="alert_events")
    op.drop_table("alert_events")
    op.drop_index(op.f("ix_alerts_pipeline_state"), table_name="alerts")
    op.drop_index(op.f("ix_alerts_incident_id"), table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("alert_integrations")
    op.execute("ALTER TABLE pipelines DROP COLUMN arrival_within")  # SQLite >= 3.35 and PostgreSQL
    op.execute("ALTER TABLE incidents DROP COLUMN severity")
    op.execute("ALTER TABLE incidents DROP COLUMN source")
