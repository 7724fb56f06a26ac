"""Cover requests (issue 14 §1): a request for cover over a span and its slots, each taken once.

Revision ID: 0009_cover
Revises: 0008_sla
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.storage.types

revision: str = "0009_cover"
down_revision: str | Sequence[str] | None = "0008_sla"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table("cover_requests",
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("requester", sa.String(length=64), nullable=False),
    sa.Column("created_by", sa.String(length=64), nullable=True),
    sa.Column("created_at", bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column("start", bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column("end", bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.Column("closed_at", bot.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column("source_key", sa.String(length=255), nullable=True),
    sa.CheckConstraint("status IN ('open', 'done', 'expired')", name=op.f("ck_cover_requests_status")),
    sa.CheckConstraint('"end" > start', name=op.f("ck_cover_requests_end_after_start")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_cover_requests"))
    )
    with op.batch_alter_table("cover_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cover_requests_source_key"), ["source_key"], unique=True)
        batch_op.create_index(batch_op.f("ix_cover_requests_status"), ["status"], unique=False)

    op.create_table("cover_slots",
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("request_id", sa.Integer(), nullable=False),
    sa.Column("n", sa.Integer(), nullable=False),
    sa.Column("rotation", sa.String(length=64), nullable=False),
    sa.Column("role", sa.String(length=32), nullable=True),
    sa.Column("start", bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column("end", bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column("duties", sa.JSON(), nullable=False),
    sa.Column("channel", sa.String(length=255), nullable=True),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.Column("taker", sa.String(length=64), nullable=True),
    sa.Column("change_id", sa.Integer(), nullable=True),
    sa.Column("taken_at", bot.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column("lead_notified_at", bot.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('open', 'taken', 'expired')", name=op.f("ck_cover_slots_status")),
    sa.CheckConstraint('"end" > start', name=op.f("ck_cover_slots_end_after_start")),
    sa.ForeignKeyConstraint(["request_id"], ["cover_requests.id"],
                            name=op.f("fk_cover_slots_request_id_cover_requests"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_cover_slots")),
    sa.UniqueConstraint("request_id", "n", name=op.f("uq_cover_slots_request_id_n"))
    )
    with op.batch_alter_table("cover_slots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cover_slots_status_start"), ["status", "start"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("cover_slots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cover_slots_status_start"))

    op.drop_table("cover_slots")
    with op.batch_alter_table("cover_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cover_requests_status"))
        batch_op.drop_index(batch_op.f("ix_cover_requests_source_key"))

    op.drop_table("cover_requests")
