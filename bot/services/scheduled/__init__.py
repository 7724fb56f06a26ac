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
from bot.services.scheduled.followups import escalation_targets
from bot.services.scheduled.meetings import MeetingAnswer, answer_invite
from bot.services.scheduled.preview import Pending, TickPreview, preview_tick
from bot.services.scheduled.rendering import checklist_view, meeting_view
from bot.services.scheduled.ticker import SnapshotSource, Ticker

__all__ = [
    "ChecklistAction",
    "Decision",
    "MeetingAnswer",
    "Pending",
    "ScheduleConfig",
    "SnapshotSource",
    "TickPreview",
    "TickReport",
    "Ticker",
    "answer_invite",
    "checklist_view",
    "escalation_targets",
    "may_tick",
    "meeting_view",
    "preview_tick",
    "replica_id",
    "set_checklist_items",
]
