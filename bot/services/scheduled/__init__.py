"""Scheduled work: the tick (load -> plan -> apply), checklist follow-ups, and the Slack actions.

- ``config``: ``ScheduleConfig`` (from the environment), ``TickReport``, ``replica_id``;
- ``ticker``: ``Ticker.tick(now)``: loads the snapshot, lists the occurrences due, skips the late
  ones and claims the rest once across replicas, then follows up checklists and sends;
- ``plan``: what a claimed occurrence needs delivered (checklist and meeting rows, delivery rows);
- ``followups``: reminders of incomplete checklists and escalations of overdue ones;
- ``rendering``: checklist and invite messages rendered at send time from the rows' state;
- ``checklists`` / ``meetings``: ticking items and answering invites from Slack.

May import ``bot.core``, ``bot.render``, ``bot.storage`` and the other services (the outbox of
``bot.services.deliveries``, the snapshot); transports and jobs import this package. Modules here
import their siblings directly, never this ``__init__``.
"""

from __future__ import annotations

from bot.services.scheduled.checklists import ChecklistAction, Decision, may_tick, set_checklist_items
from bot.services.scheduled.config import ScheduleConfig, TickReport, replica_id
from bot.services.scheduled.followups import escalation_targets, follow_up_checklists, follow_up_row
from bot.services.scheduled.meetings import MeetingAnswer, answer_invite
from bot.services.scheduled.plan import (
    ESCALATION_EXPIRY,
    USERGROUP_EXPIRY,
    announcement,
    deliveries_for,
    deliveries_for_many,
    delivery_row,
)
from bot.services.scheduled.rendering import SendTimeRenderers, checklist_view, load_checklist_view, meeting_view
from bot.services.scheduled.ticker import SnapshotSource, Ticker

__all__ = [
    "ESCALATION_EXPIRY",
    "USERGROUP_EXPIRY",
    "ChecklistAction",
    "Decision",
    "MeetingAnswer",
    "ScheduleConfig",
    "SendTimeRenderers",
    "SnapshotSource",
    "TickReport",
    "Ticker",
    "announcement",
    "answer_invite",
    "checklist_view",
    "deliveries_for",
    "deliveries_for_many",
    "delivery_row",
    "escalation_targets",
    "follow_up_checklists",
    "follow_up_row",
    "load_checklist_view",
    "may_tick",
    "meeting_view",
    "replica_id",
    "set_checklist_items",
]
