"""The messages owed about incidents and schedule changes go through the delivery outbox: a
delivery needs no occurrence, and ``update`` (a message update rendered at send time) is an op.

Revision ID: 0006_owed_messages
Revises: 0005_checklist_reminder
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_owed_messages"
down_revision: str | Sequence[str] | None = "0005_checklist_reminder"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_OPS = "op IN ('post', 'update_checklist', 'file', 'usergroup')"
NEW_OPS = "op IN ('post', 'update_checklist', 'file', 'usergroup', 'update')"


# Batch mode: SQLite cannot drop NOT NULL or a CHECK in place, so the table is copied. Nothing
# else references scheduled_deliveries (only its own parent_id), so the copy loses nothing.
def upgrade() -> None:
    with op.batch_alter_table("scheduled_deliveries") as batch:
        batch.alter_column("occurrence_id", existing_type=sa.Integer(), nullable=True)
        batch.drop_constraint(batch.f("ck_scheduled_deliveries_op"), type_="check")
        batch.create_check_constraint(batch.f("ck_scheduled_deliveries_op"), sa.text(NEW_OPS))


def downgrade() -> None:
    op.execute("DELETE FROM scheduled_deliveries WHERE occurrence_id IS NULL OR op = 'update'")
    with op.batch_alter_table("scheduled_deliveries") as batch:
        batch.drop_constraint(batch.f("ck_scheduled_deliveries_op"), type_="check")
        batch.create_check_constraint(batch.f("ck_scheduled_deliveries_op"), sa.text(OLD_OPS))
        batch.alter_column("occurrence_id", existing_type=sa.Integer(), nullable=False)
