"""Incidents: load -> ``bot.core.incident`` -> apply in one transaction per action, then tell Slack.

- ``deps``: ``Deps`` (what the service needs), snapshot sources, the results ``Opened``/``Acted``;
- ``actions``: ``open_incident``, ``acknowledge``, ``escalate``, ``resolve`` (each audited);
- ``outbox``: the messages an incident owes (post, thread, pages, updates) as delivery rows
  written with the change, sent by the outbox right after the commit and retried every minute;
- ``periodic``: ``run_periodic``: auto-escalation (at once for a critical incident whose level-1
  page could not be delivered), queued pages and the owed messages, every minute;
- ``reads``: ``get_incident``, ``open_incidents_for``, ``events_of``, ``list_incidents`` (with
  ``fix_by``: what ``oncall-bot incidents``/``sla`` and the read API list);
- ``sla``: ``follow_up_sla``: the reminder before an incident's fix-by and the escalation at it.

May import ``bot.core``, ``bot.render``, ``bot.storage`` and the snapshot services; transports and
jobs import this package (jobs call ``incidents.run_periodic`` through it). Modules here import
their siblings directly, never this ``__init__``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.lazy import exports

if TYPE_CHECKING:  # what the names are; at run time each is imported when first used (bot.lazy)
    from bot.services.incidents.actions import (
        Decide,
        Origin,
        acknowledge,
        escalate,
        gate,
        may_open,
        open_incident,
        resolve,
    )
    from bot.services.incidents.deps import Acted, Delivery, Deps, NotFound, Opened, SnapshotSource, snapshot_source
    from bot.services.incidents.outbox import deliver, delivery_state
    from bot.services.incidents.periodic import (
        Tick,
        auto_escalate_due,
        deliver_queued_pages,
        escalate_undelivered,
        run_periodic,
    )
    from bot.services.incidents.reads import OPEN_STATES, events_of, get_incident, list_incidents, open_incidents_for

_EXPORTS = {
    "Acted": "deps",
    "Decide": "actions",
    "Delivery": "deps",
    "Deps": "deps",
    "NotFound": "deps",
    "OPEN_STATES": "reads",
    "Opened": "deps",
    "Origin": "actions",
    "SnapshotSource": "deps",
    "Tick": "periodic",
    "acknowledge": "actions",
    "auto_escalate_due": "periodic",
    "deliver": "outbox",
    "deliver_queued_pages": "periodic",
    "delivery_state": "outbox",
    "escalate": "actions",
    "escalate_undelivered": "periodic",
    "events_of": "reads",
    "gate": "actions",
    "get_incident": "reads",
    "list_incidents": "reads",
    "may_open": "actions",
    "open_incident": "actions",
    "open_incidents_for": "reads",
    "resolve": "actions",
    "run_periodic": "periodic",
    "snapshot_source": "deps",
}
__getattr__, __dir__ = exports(__name__, _EXPORTS)

__all__ = [
    "OPEN_STATES",
    "Acted",
    "Decide",
    "Delivery",
    "Deps",
    "NotFound",
    "Opened",
    "Origin",
    "SnapshotSource",
    "Tick",
    "acknowledge",
    "auto_escalate_due",
    "deliver",
    "deliver_queued_pages",
    "delivery_state",
    "escalate",
    "escalate_undelivered",
    "events_of",
    "gate",
    "get_incident",
    "list_incidents",
    "may_open",
    "open_incident",
    "open_incidents_for",
    "resolve",
    "run_periodic",
    "snapshot_source",
]
