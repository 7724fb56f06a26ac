"""The alert intake's inbox (issue 12): an event is stored ``queued`` when it is accepted (the
202 waits for that one insert only) and given its outcome when it is applied moments later; one
it could not be applied at all is ``failed``. The events keep their ``source`` (the alert needs
it when the event is applied), and a partial index finds the queued ones.

Revision ID: 0013_alert_inbox
Revises: 0012_contacts
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_alert_inbox"
down_revision: str | Sequence[str] | None = "0012_contacts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_OUTCOMES = "outcome IN ('opened', 'joined', 'added', 'acknowledged', 'resolved', 'dropped')"
NEW_OUTCOMES = "outcome IN ('opened', 'joined', 'added', 'acknowledged', 'resolved', 'dropped', 'queued', 'failed')"
QUEUED = sa.text("outcome = 'queued'")


def upgrade() -> None:
    # Batch mode: SQLite cannot change a CHECK in place (see 0006, 0012).
    with op.batch_alter_table("alert_events") as batch:
        batch.add_column(sa.Column("source", sa.Text(), nullable=True))
        batch.drop_constraint(batch.f("ck_alert_events_outcome"), type_="check")
        batch.create_check_constraint(batch.f("ck_alert_events_outcome"), sa.text(NEW_OUTCOMES))
    # after the batch (which may copy the table): a partial index, on both dialects
    op.create_index("ix_alert_events_queued", "alert_events", ["id"], unique=False,
                    postgresql_where=QUEUED, sqlite_where=QUEUED)


def downgrade() -> None:
    op.drop_index("ix_alert_events_queued", table_name="alert_events")
    # events not applied yet cannot be kept by a schema without an inbox: they were not applied
    op.execute("UPDATE alert_events SET outcome = 'dropped' WHERE outcome IN ('queued', 'failed')")
    with op.batch_alter_table("alert_events") as batch:
        batch.drop_constraint(batch.f("ck_alert_events_outcome"), type_="check")
        batch.create_check_constraint(batch.f("ck_alert_events_outcome"), sa.text(OLD_OUTCOMES))
        batch.drop_column("source")
