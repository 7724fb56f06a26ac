"""Scheduled work in the database: the repository functions of the tick and of the Slack actions.

- ``occurrences``: claiming an occurrence (``INSERT ... ON CONFLICT (key) DO NOTHING RETURNING
  id``: exactly one of many concurrent replicas gets the id back, on SQLite and PostgreSQL alike)
  and which keys are known;
- ``outbox``: the deliveries an occurrence needs: queueing, leasing, recording a send or a
  failure, expiring what is past its time, listing;
- ``checklist_store``: opened checklists, their items and tick history;
- ``meetings``: onboarding invites and who accepted or declined.

The tables are in ``bot.storage.tables.scheduled``; this package re-exports them with every
function, so callers use ``from bot.storage import scheduled as store``. The modules here import
``bot.storage.tables`` and ``bot.storage.sql`` only (never this ``__init__`` nor each other).
"""

from __future__ import annotations

from bot.storage.scheduled.checklist_store import (
    add_checklist,
    add_checklists,
    checklist,
    checklist_by_key,
    checklists,
    checklists_by_ids,
    checklists_needing,
    items_of,
    lock_checklist,
    mark_overdue,
    mark_reminded,
    refresh_status,
    set_checklist_message,
    set_checklist_messages,
    set_item,
    tick_history,
)
from bot.storage.scheduled.meetings import add_meeting, answer_meeting, meeting, meeting_by_key, set_meeting_message
from bot.storage.scheduled.occurrences import claim, claim_many, keys_since, known_keys, occurrences_between
from bot.storage.scheduled.outbox import (
    OWED_FOR,
    READY,
    Expired,
    add_deliveries,
    deliveries_with_prefix,
    delivery,
    delivery_id,
    expire_due,
    expire_due_rows,
    key_scope,
    lease,
    list_deliveries,
    owed_row,
    ready_condition,
    ready_ids,
    ready_rows,
    record_failed,
    record_refused,
    record_sent,
    record_sent_many,
    renew_leases,
    retarget,
)
from bot.storage.tables.scheduled import (
    ANSWERS,
    CHECKLIST_STATUSES,
    DELIVERY_OPS,
    DELIVERY_STATUSES,
    KEY,
    OCCURRENCE_KINDS,
    OCCURRENCE_STATUSES,
    TICK_ACTIONS,
    ChecklistItemRow,
    ChecklistRow,
    ChecklistTickRow,
    DeliveryRow,
    MeetingAnswerRow,
    MeetingRow,
    OccurrenceRow,
)

__all__ = [
    "ANSWERS",
    "CHECKLIST_STATUSES",
    "DELIVERY_OPS",
    "DELIVERY_STATUSES",
    "KEY",
    "OCCURRENCE_KINDS",
    "OCCURRENCE_STATUSES",
    "OWED_FOR",
    "READY",
    "TICK_ACTIONS",
    "ChecklistItemRow",
    "ChecklistRow",
    "ChecklistTickRow",
    "DeliveryRow",
    "Expired",
    "MeetingAnswerRow",
    "MeetingRow",
    "OccurrenceRow",
    "add_checklist",
    "add_checklists",
    "add_deliveries",
    "add_meeting",
    "answer_meeting",
    "checklist",
    "checklist_by_key",
    "checklists",
    "checklists_by_ids",
    "checklists_needing",
    "claim",
    "claim_many",
    "deliveries_with_prefix",
    "delivery",
    "delivery_id",
    "expire_due",
    "expire_due_rows",
    "items_of",
    "key_scope",
    "keys_since",
    "known_keys",
    "lease",
    "list_deliveries",
    "lock_checklist",
    "mark_overdue",
    "mark_reminded",
    "meeting",
    "meeting_by_key",
    "occurrences_between",
    "owed_row",
    "ready_condition",
    "ready_ids",
    "ready_rows",
    "record_failed",
    "record_refused",
    "record_sent",
    "record_sent_many",
    "refresh_status",
    "renew_leases",
    "retarget",
    "set_checklist_message",
    "set_checklist_messages",
    "set_item",
    "set_meeting_message",
    "tick_history",
]
