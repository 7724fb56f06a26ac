"""SLA clocks on incidents (issue 12 §4), handoff notes (§5) and read-API tokens (§6).

- ``pipelines.sla_*``: the seed's ``sla:`` (fix_within | fix_by, at);
- ``incidents.fix_by`` / ``fix_remind_at``: the deadline and its reminder, fixed at opening;
  ``sla_reminded_at`` / ``sla_escalated_at``: when one replica claimed the reminder / escalation;
- ``api_tokens``: hashed bearer tokens of the read API; ``handoff_notes``: ``/handoff`` notes.

Revision ID: 0008_sla
Revises: 0007_change_request_key
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.storage.types

revision: str = "0008_sla"
down_revision: str | Sequence[str] | None = "0007_change_request_key"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = bot.storage.types.UTCDateTime
_PIPELINE_COLUMNS = (("sla_fix_within", 16), ("sla_fix_by", 32), ("sla_at", 5))
_INCIDENT_COLUMNS = ("fix_by", "fix_remind_at", "sla_reminded_at", "sla_escalated_at")


# Plain ALTER TABLE ADD COLUMN (nullable) and new tables: the same on SQLite and PostgreSQL.
def upgrade() -> None:
    for name, length in _PIPELINE_COLUMNS:
        op.add_column("pipelines", sa.Column(name, sa.String(length=length), nullable=True))
    for name in _INCIDENT_COLUMNS:
        op.add_column("incidents", sa.Column(name, _UTC(), nullable=True))
    op.create_index(op.f("ix_incidents_fix_by"), "incidents", ["fix_by"], unique=False)
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", _UTC(), nullable=False),
        sa.Column("revoked_at", _UTC(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("digest", name=op.f("uq_api_tokens_digest")),
    )
    op.create_table(
        "handoff_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("week_start", _UTC(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", _UTC(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_notes")),
    )
    op.create_index(op.f("ix_handoff_notes_week_start"), "handoff_notes", ["week_start"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_handoff_notes_week_start"), table_name="handoff_notes")
    op.drop_table("handoff_notes")
    op.drop_table("api_tokens")
    op.drop_index(op.f("ix_incidents_fix_by"), table_name="incidents")
    for name in _INCIDENT_COLUMNS:  # SQLite >= 3.35 and PostgreSQL
        op.execute(f"ALTER TABLE incidents DROP COLUMN {name}")
    for name, _length in _PIPELINE_COLUMNS:
        op.execute(f"ALTER TABLE pipelines DROP COLUMN {name}")
