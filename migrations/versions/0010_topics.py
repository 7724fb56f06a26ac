"""Channel topics (issue 14 §3): a pipeline's seed ``topic`` is stored, and ``topic`` (a
conversations.setTopic) is a delivery op.

Revision ID: 0010_topics
Revises: 0009_cover
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_topics"
down_revision: str | Sequence[str] | None = "0009_cover"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_OPS = "op IN ('post', 'update_checklist', 'file', 'usergroup', 'update')"
NEW_OPS = "op IN ('post', 'update_checklist', 'file', 'usergroup', 'update', 'topic')"


# A nullable column by plain ALTER TABLE; the CHECK on op in batch mode (SQLite copies the table,
# as in 0006).
def upgrade() -> None:
    op.add_column("pipelines", sa.Column("topic", sa.JSON(), nullable=True))
    with op.batch_alter_table("scheduled_deliveries") as batch:
        batch.drop_constraint(batch.f("ck_scheduled_deliveries_op"), type_="check")
        batch.create_check_constraint(batch.f("ck_scheduled_deliveries_op"), sa.text(NEW_OPS))


def downgrade() -> None:
    op.execute("DELETE FROM scheduled_deliveries WHERE op = 'topic'")
    with op.batch_alter_table("scheduled_deliveries") as batch:
        batch.drop_constraint(batch.f("ck_scheduled_deliveries_op"), type_="check")
        batch.create_check_constraint(batch.f("ck_scheduled_deliveries_op"), sa.text(OLD_OPS))
    op.execute("ALTER TABLE pipelines DROP COLUMN topic")  # SQLite >= 3.35 and PostgreSQL
