"""Alerts from machines (issue 12 §1-§3): intake, routing keys, data-arrival heartbeats.

- ``intake``: ``Intake.accept``: store each event durably (queued) and answer; ``Intake.receive``
  also waits for what it did; ``apply_queued``: the minute tick's sweep of the inbox;
- ``apply``: apply queued events in arrival order: add each to its alert, open or join an
  incident through ``bot.services.incidents.actions.open_in`` (the one opening path), storms as
  one edited thread line; acknowledge/resolve from the monitor; ``batch``: the applier's loop;
- ``keys``: routing keys (``add``, ``listed``, ``revoke``; ``KeyCache`` checks a presented key);
- ``freshness``: ``arrived``, ``check`` (each tick), ``report``;
- ``thread``: the outbox rows alerts owe an incident's thread;
- ``reads``: ``incidents``, ``inbox_counts`` (what ``oncall-bot incidents`` lists and says).

May import ``bot.core``, ``bot.render``, ``bot.storage`` and ``bot.services.incidents``;
transports and jobs import this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.lazy import exports

if TYPE_CHECKING:  # what the names are; at run time each is imported when first used (bot.lazy)
    from bot.services.alerts.freshness import Freshness, arrived, check, report
    from bot.services.alerts.intake import AlertEvent, Intake, Received, apply_queued
    from bot.services.alerts.keys import Integration, KeyCache, NewKey, add, listed, revoke
    from bot.services.alerts.reads import inbox_counts, incidents

_EXPORTS = {
    "AlertEvent": "intake",
    "Freshness": "freshness",
    "Intake": "intake",
    "Integration": "keys",
    "KeyCache": "keys",
    "NewKey": "keys",
    "Received": "intake",
    "add": "keys",
    "apply_queued": "intake",
    "arrived": "freshness",
    "check": "freshness",
    "inbox_counts": "reads",
    "incidents": "reads",
    "listed": "keys",
    "report": "freshness",
    "revoke": "keys",
}
__getattr__, __dir__ = exports(__name__, _EXPORTS)

__all__ = [
    "AlertEvent",
    "Freshness",
    "Intake",
    "Integration",
    "KeyCache",
    "NewKey",
    "Received",
    "add",
    "apply_queued",
    "arrived",
    "check",
    "inbox_counts",
    "incidents",
    "listed",
    "report",
    "revoke",
]
