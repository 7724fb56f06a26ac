"""Schedule changes, applied: load -> ``bot.core.changes`` -> write, in one transaction each.

- ``apply``: ``apply_change`` and ``cancel_change`` (permission check, validation, overrides,
  the change row and its audit entry in one transaction; the DMs written to the outbox in it,
  ``queue_dms=True``, or sent afterwards, ``notify_change``);
- ``owed``: the change DMs as outbox rows (``queue_in``, in the change's transaction);
- ``reads``: ``list_changes``, ``calendar_links``, ``feed``, ``fairness_report``;
- ``answers``: ``answer_change`` / ``answer_change_line``: a typed change command answered;
- ``notices``: ``before_shift_dms``, the scheduler's hook for the DMs before a shift;
  ``send_change_dms``, the kick that sends a change's queued DMs at once.

May import ``bot.core``, ``bot.commands`` (parsing), ``bot.render``, ``bot.storage`` and the
snapshot/cache services; transports and jobs import this package (jobs call
``changes.before_shift_dms`` through it). Modules here import their siblings directly, never this
``__init__``.
"""

from __future__ import annotations

from bot.commands.changes import Applied, Cancelled, Refused  # what apply_change and cancel_change return
from bot.services.changes.answers import Answered, answer_change, answer_change_line
from bot.services.changes.apply import Notify, apply_change, cancel_change, change_pipelines, notify_change
from bot.services.changes.notices import (
    DEFAULT_NOTICE_HOURS,
    before_shift_dms,
    send_change_dms,
    send_shift_notices,
    slack_notifier,
)
from bot.services.changes.reads import calendar_links, fairness_report, feed, list_changes, public_base_url

__all__ = [
    "DEFAULT_NOTICE_HOURS",
    "Answered",
    "Applied",
    "Cancelled",
    "Notify",
    "Refused",
    "answer_change",
    "answer_change_line",
    "apply_change",
    "before_shift_dms",
    "calendar_links",
    "cancel_change",
    "change_pipelines",
    "fairness_report",
    "feed",
    "list_changes",
    "notify_change",
    "public_base_url",
    "send_change_dms",
    "send_shift_notices",
    "slack_notifier",
]
