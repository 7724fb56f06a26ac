"""A schedule change remembers the Slack request that made it, so a replay applies once (issue 10 §5).

Revision ID: 0007_change_request_key
Revises: 0006_owed_messages
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_change_request_key"
down_revision: str | Sequence[str] | None = "0006_owed_messages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE (see 0005): a nullable column and a unique index, on both dialects.
def upgrade() -> None:
    op.add_column("schedule_changes", sa.Column("source_key", sa.String(length=255), nullable=True))
    op.create_index(op.f("ix_schedule_changes_source_key"), "schedule_changes", ["source_key"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_schedule_changes_source_key"), table_name="schedule_changes")
    op.execute("ALTER TABLE schedule_changes DROP COLUMN source_key")  # SQLite >= 3.35 and PostgreSQL
