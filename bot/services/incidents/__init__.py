"""Incidents: load -> ``bot.core.incident`` -> apply in one transaction per action, then tell Slack.

- ``deps``: ``Deps`` (what the service needs), snapshot sources, the results ``Opened``/``Acted``;
- ``actions``: ``open_incident``, ``acknowledge``, ``escalate``, ``resolve`` (each audited);
- ``slack_effects``: ``SlackNotifier``, the messages sent after the commit;
- ``periodic``: ``run_periodic``: auto-escalation and queued pages, every minute;
- ``reads``: ``get_incident``, ``open_incidents_for``, ``events_of``.

May import ``bot.core``, ``bot.render``, ``bot.storage`` and the snapshot services; transports and
jobs import this package (jobs call ``incidents.run_periodic`` through it). Modules here import
their siblings directly, never this ``__init__``.
"""

from __future__ import annotations

from bot.services.incidents.actions import Decide, Origin, acknowledge, escalate, gate, may_open, open_incident, resolve
from bot.services.incidents.deps import Acted, Deps, NotFound, Opened, SnapshotSource, snapshot_source
from bot.services.incidents.periodic import Tick, auto_escalate_due, deliver_queued_pages, run_periodic
from bot.services.incidents.reads import events_of, get_incident, open_incidents_for
from bot.services.incidents.slack_effects import METADATA_EVENT, SlackNotifier

__all__ = [
    "METADATA_EVENT",
    "Acted",
    "Decide",
    "Deps",
    "NotFound",
    "Opened",
    "Origin",
    "SlackNotifier",
    "SnapshotSource",
    "Tick",
    "acknowledge",
    "auto_escalate_due",
    "deliver_queued_pages",
    "escalate",
    "events_of",
    "gate",
    "get_incident",
    "may_open",
    "open_incident",
    "open_incidents_for",
    "resolve",
    "run_periodic",
    "snapshot_source",
]
