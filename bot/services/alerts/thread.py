"""The messages alerts owe an incident's thread, as outbox rows (``bot.services.incidents.outbox``).

- ``incident:I:alert:A``: alert A's one line in incident I's thread (rendered when sent, from the
  stored alert: its count and latest details);
- ``incident:I:alert:A:edit:T``: an edit of that line, due at ``T`` (``bot.core.alerts.storm_edit_at``):
  every repeat within one 30-second window shares it, so a storm edits the line at most twice a
  minute and never posts a line per trigger;
- ``incident:I:alert:A:state:S``: the edit when the monitor acknowledges or resolves it, and
  ``incident:I:alert:A:monitor:S`` the thread line that says so;
- ``incident:I:thread:alerts-resolved``: the line that says all alerts resolved the incident.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.services.incidents import outbox


def line_key(incident_id: int, alert_id: int) -> str:
    return f"incident:{incident_id}:alert:{alert_id}"


def line_row(incident_id: int, alert_id: int, target: str, now: datetime) -> dict[str, Any]:
    """Alert ``alert_id``'s line in the thread of incident ``incident_id`` (posted to ``target``)."""
    return outbox.owed_row(line_key(incident_id, alert_id), "post", target,
                       f"incident #{incident_id}: alert {alert_id}",
                       {"render": "alert_line", "kind": "incident_thread", "alert": alert_id}, now,
                       parent_key=outbox.post_key(incident_id))


def edit_row(incident_id: int, alert_id: int, target: str, what: str, due: datetime, now: datetime,
             parent_id: int | None = None) -> dict[str, Any]:
    """An edit of the alert's line, sent at ``due`` or later, rendered then (``parent_id``: the
    line's delivery id when known, else it is looked up by key)."""
    key = line_key(incident_id, alert_id)
    row = outbox.owed_row(f"{key}:{what}", "update", target, f"incident #{incident_id}: alert {alert_id} ({what})",
                          {"render": "alert_edit", "kind": "incident_update", "alert": alert_id, "line": key}, now,
                          parent_key=None if parent_id is not None else key)
    if parent_id is not None:
        row["parent_id"] = parent_id
    row["next_attempt_at"] = due
    return row


def text_row(incident_id: int, what: str, target: str, text: str, now: datetime) -> dict[str, Any]:
    """A plain line in the incident's thread, once per ``what``."""
    return outbox.owed_row(f"incident:{incident_id}:thread:{what}", "post", target,
                       f"incident #{incident_id}: thread ({what})", {"text": text, "kind": "incident_thread"}, now,
                       parent_key=outbox.post_key(incident_id))
