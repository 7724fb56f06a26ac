"""A partial index on the alert events that could not be applied (``failed``), as 0013 has on the
queued ones: ``oncall-bot incidents`` counts both on every call, and ``alert_events`` keeps every
event ever received, so a count without it would read the whole table.

Revision ID: 0014_alert_events_failed
Revises: 0013_alert_inbox
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_alert_events_failed"
down_revision: str | Sequence[str] | None = "0013_alert_inbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FAILED = sa.text("outcome = 'failed'")


def upgrade() -> None:
    op.create_index("ix_alert_events_failed", "alert_events", ["id"], unique=False,
                    postgresql_where=FAILED, sqlite_where=FAILED)


def downgrade() -> None:
    op.drop_index("ix_alert_events_failed", table_name="alert_events")
