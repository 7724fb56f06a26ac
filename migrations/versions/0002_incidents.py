"""Incidents and their events (acknowledgements, escalations, resolutions, queued pages).

Revision ID: 0002_incidents
Revises: 0001
Create Date: 2026-11-26

Written to match bot/storage/incidents.py exactly: `alembic check` is clean on SQLite and PostgreSQL.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.storage.types

# revision identifiers, used by Alembic.
revision: str = "0002_incidents"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'incidents',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('pipeline', sa.String(length=64), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('critical', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('reporter', sa.String(length=64), nullable=True),
        sa.Column('opened_at', bot.storage.types.UTCDateTime(), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('chain_length', sa.Integer(), nullable=False),
        sa.Column('page_kind', sa.String(length=16), nullable=False),
        sa.Column('page_label', sa.Text(), nullable=False),
        sa.Column('page_person', sa.String(length=64), nullable=True),
        sa.Column('page_slot', sa.String(length=128), nullable=True),
        sa.Column('page_channels', sa.JSON(), nullable=False),
        sa.Column('page_due', bot.storage.types.UTCDateTime(), nullable=True),
        sa.Column('reached', sa.JSON(), nullable=False),
        sa.Column('last_escalated_at', bot.storage.types.UTCDateTime(), nullable=False),
        sa.Column('next_auto_at', bot.storage.types.UTCDateTime(), nullable=True),
        sa.Column('acknowledged_at', bot.storage.types.UTCDateTime(), nullable=True),
        sa.Column('acknowledged_by', sa.String(length=64), nullable=True),
        sa.Column('resolved_at', bot.storage.types.UTCDateTime(), nullable=True),
        sa.Column('resolved_by', sa.String(length=64), nullable=True),
        sa.Column('channel', sa.String(length=128), nullable=True),
        sa.Column('ts', sa.String(length=32), nullable=True),
        sa.Column('permalink', sa.Text(), nullable=True),
        sa.Column('source_key', sa.String(length=255), nullable=True),
        sa.CheckConstraint("page_kind IN ('person', 'queued', 'channel')", name=op.f('ck_incidents_page_kind')),
        sa.CheckConstraint("status IN ('open', 'acknowledged', 'resolved')", name=op.f('ck_incidents_status')),
        sa.CheckConstraint('level >= 1 AND chain_length >= level', name=op.f('ck_incidents_level_in_chain')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
        sa.UniqueConstraint('source_key', name=op.f('uq_incidents_source_key')),
    )
    op.create_index(op.f('ix_incidents_next_auto_at'), 'incidents', ['next_auto_at'], unique=False)
    op.create_index(op.f('ix_incidents_status'), 'incidents', ['status'], unique=False)
    op.create_table(
        'incident_events',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('at', bot.storage.types.UTCDateTime(), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=True),
        sa.Column('auto', sa.Boolean(), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('page_kind', sa.String(length=16), nullable=True),
        sa.Column('page_label', sa.Text(), nullable=True),
        sa.Column('page_person', sa.String(length=64), nullable=True),
        sa.Column('page_slot', sa.String(length=128), nullable=True),
        sa.Column('page_channels', sa.JSON(), nullable=True),
        sa.Column('page_due', bot.storage.types.UTCDateTime(), nullable=True),
        sa.Column('delivery', sa.String(length=16), nullable=True),
        sa.Column('delivered_at', bot.storage.types.UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "delivery IS NULL OR delivery IN ('pending', 'sent', 'cancelled')",
            name=op.f('ck_incident_events_delivery'),
        ),
        sa.CheckConstraint(
            "kind IN ('opened', 'acknowledged', 'escalated', 'resolved')", name=op.f('ck_incident_events_kind')
        ),
        sa.CheckConstraint(
            "page_kind IS NULL OR page_kind IN ('person', 'queued', 'channel')",
            name=op.f('ck_incident_events_page_kind'),
        ),
        sa.ForeignKeyConstraint(
            ['incident_id'], ['incidents.id'], name=op.f('fk_incident_events_incident_id_incidents'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_events')),
    )
    op.create_index(
        op.f('ix_incident_events_delivery_page_due'), 'incident_events', ['delivery', 'page_due'], unique=False
    )
    op.create_index(op.f('ix_incident_events_incident_id'), 'incident_events', ['incident_id'], unique=False)
    op.create_index(op.f('ix_incident_events_page_person'), 'incident_events', ['page_person'], unique=False)


def downgrade() -> None:
    op.drop_table('incident_events')
    op.drop_table('incidents')
