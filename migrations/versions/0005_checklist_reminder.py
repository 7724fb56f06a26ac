"""The reminder time of a checklist definition comes from the seed (rules §6: 09:00).

Revision ID: 0005_checklist_reminder
Revises: 0004_changes_audit
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_checklist_reminder"
down_revision: str | Sequence[str] | None = "0004_changes_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE, not batch mode: on SQLite batch mode copies and drops the table, and with
# foreign keys on that drop would cascade to the definitions' rules and items.
def upgrade() -> None:
    op.add_column("recurring_work", sa.Column("reminder", sa.String(length=5), nullable=True))
    # Before this revision every checklist was reminded at 09:00: keep what loaded seeds meant
    # until the next `oncall-bot seed load` states it.
    op.execute("UPDATE recurring_work SET reminder = '09:00' WHERE kind = 'checklist'")


def downgrade() -> None:
    op.execute("ALTER TABLE recurring_work DROP COLUMN reminder")  # SQLite >= 3.35 and PostgreSQL
