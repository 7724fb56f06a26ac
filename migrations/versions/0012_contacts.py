"""Pages that wake someone (issue 13): each person's contact methods (encrypted Apprise URLs),
the pages their notification rules follow (with the acknowledge-link token's hash), and
``notify`` as a delivery op (one Apprise notification through the outbox).

Revision ID: 0012_contacts
Revises: 0011_alerts
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.storage.types

revision: str = "0012_contacts"
down_revision: str | Sequence[str] | None = "0011_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_OPS = "op IN ('post', 'update_checklist', 'file', 'usergroup', 'update', 'topic')"
NEW_OPS = "op IN ('post', 'update_checklist', 'file', 'usergroup', 'update', 'topic', 'notify')"


def upgrade() -> None:
    op.create_table(
        "contact_methods",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("scheme", sa.String(length=32), nullable=False),
        sa.Column("url_encrypted", sa.Text(), nullable=False),
        sa.Column("after_minutes", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", bot.storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_methods")),
    )
    op.create_index(op.f("ix_contact_methods_person"), "contact_methods", ["person"], unique=False)
    op.create_table(
        "page_plans",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("person", sa.String(length=64), nullable=False),
        sa.Column("started_at", bot.storage.types.UTCDateTime(), nullable=False),
        sa.Column("critical", sa.Boolean(), nullable=False),
        sa.Column("may_wake", sa.Boolean(), nullable=False),
        sa.Column("in_dnd", sa.Boolean(), nullable=False),
        sa.Column("token_salt", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("expires_at", bot.storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_page_plans_incident_id_incidents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_plans")),
        sa.UniqueConstraint("incident_id", "level", "person", name=op.f("uq_page_plans_incident_id_level_person")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_page_plans_token_hash")),
    )
    op.create_index(op.f("ix_page_plans_incident_id"), "page_plans", ["incident_id"], unique=False)
    # Batch mode: SQLite cannot change a CHECK in place (see 0006).
    with op.batch_alter_table("scheduled_deliveries") as batch:
        batch.drop_constraint(batch.f("ck_scheduled_deliveries_op"), type_="check")
        batch.create_check_constraint(batch.f("ck_scheduled_deliveries_op"), sa.text(NEW_OPS))


def downgrade() -> None:
    op.execute("DELETE FROM scheduled_deliveries WHERE op = 'notify'")
    with op.batch_alter_table("scheduled_deliveries") as batch:
        batch.drop_constraint(batch.f("ck_scheduled_deliveries_op"), type_="check")
        batch.create_check_constraint(batch.f("ck_scheduled_deliveries_op"), sa.text(OLD_OPS))
    op.drop_index(op.f("ix_page_plans_incident_id"), table_name="page_plans")
    op.drop_table("page_plans")
    op.drop_index(op.f("ix_contact_methods_person"), table_name="contact_methods")
    op.drop_table("contact_methods")
