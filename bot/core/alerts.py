"""Alerts from machines, as pure decisions: severities, what a trigger does, when a storm's
thread line may be edited, and data-arrival (freshness) deadlines.

Nothing here reads a clock or a database: every function takes the instant it decides at
(aware) and the state it decides from, and returns a value.

Decisions (issue 12 §2, §3):

- **Severity.** ``critical > error > warning > info``; an alert is critical for the incident
  rules (after-hours paging, auto-escalation) only when it says ``critical``.
- **Which incident.** A trigger whose key has an open alert adds to that alert (a storm: its
  counter). A new key on a pipeline that has an open incident joins that incident as a further
  alert, unless the new alert is *more severe* than the incident; then it opens an incident of
  its own (which pages by the rules of its severity).
- **Storm edits.** Repeats of one key edit the alert's one thread line at most once per
  ``STORM_WINDOW``: the edit of a repeat at ``t`` is due at the end of the window ``t`` falls in
  (``storm_edit_at``), and every repeat of that window shares it (one edit, rendered when sent,
  with the latest count and details).
- **Freshness.** A pipeline with ``arrival_within: D`` is late when ``D`` has passed since its
  last arrival; the deadline of a pipeline that never reported counts from when the rule was
  first seen (``since``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from bot.core.calendar import require_aware

STORM_WINDOW = timedelta(seconds=30)
"""An alert's thread line is edited at most once per this window."""


class Severity(StrEnum):
    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Action(StrEnum):
    TRIGGER = "trigger"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


class AlertState(StrEnum):
    OPEN = "open"  # triggered, not acknowledged
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Source(StrEnum):
    """What opened an incident."""

    SLACK = "slack"
    ALERT = "alert"
    HEARTBEAT = "heartbeat"


RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2, Severity.CRITICAL: 3}


def rank(severity: str | None) -> int:
    """The order of ``severity`` (an unknown or missing one ranks as ``error``: a person's report)."""
    try:
        return RANK[Severity(severity)] if severity is not None else RANK[Severity.ERROR]
    except ValueError:
        return RANK[Severity.ERROR]


def more_severe(a: str | None, b: str | None) -> bool:
    """Whether severity ``a`` is strictly more severe than ``b``."""
    return rank(a) > rank(b)


def highest(severities: list[str]) -> str | None:
    """The most severe of ``severities`` (None for none)."""
    return max(severities, key=rank) if severities else None


def incident_severity(critical: bool, severity: str | None) -> str:
    """An incident's severity: the stored one (alerts), else ``critical`` or ``error`` (a person's)."""
    if severity is not None:
        return severity
    return Severity.CRITICAL.value if critical else Severity.ERROR.value


@dataclass(frozen=True, slots=True)
class OpenIncident:
    """What the trigger rule needs of a pipeline's open incident."""

    id: int
    severity: str


def incident_for_new_key(severity: str, open_incidents: list[OpenIncident]) -> int | None:
    """The incident a new alert key of ``severity`` joins: the newest open incident of the
    pipeline (``open_incidents`` newest first) unless the alert is more severe than it; None
    means: open a new incident."""
    if not open_incidents:
        return None
    newest = open_incidents[0]
    return None if more_severe(severity, newest.severity) else newest.id


def storm_edit_at(at: datetime, window: timedelta = STORM_WINDOW) -> datetime:
    """When the edit owed for a repeat at aware ``at`` goes out: the end of the window (counted
    from the Unix epoch, in UTC) that ``at`` falls in. Repeats within one window share it."""
    require_aware(at)
    seconds = window.total_seconds()
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    n = int((at - epoch).total_seconds() // seconds) + 1
    return epoch + timedelta(seconds=n * seconds)


_DURATION = re.compile(r"^\s*(\d+)\s*(m|h|d|w)\s*$")
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_duration(text: str) -> timedelta:
    """``"48h"``, ``"2d"``, ``"90m"``, ``"1w"`` as a timedelta; ``ValueError`` otherwise (or zero)."""
    m = _DURATION.match(text)
    if m is None or int(m.group(1)) <= 0:
        raise ValueError(f"not a duration: {text!r} (say e.g. 48h, 2d, 90m, 1w)")
    return int(m.group(1)) * _UNITS[m.group(2)]


def format_duration(d: timedelta) -> str:
    """The inverse of ``parse_duration``: whole weeks, days from 3 days up, else hours, else
    minutes (``48h`` stays ``48h``; ``7d`` is ``1w``)."""
    for unit, least in (("w", _UNITS["w"]), ("d", 3 * _UNITS["d"]), ("h", _UNITS["h"])):
        n, rest = divmod(d, _UNITS[unit])
        if not rest and d >= least:
            return f"{n}{unit}"
    return f"{int(d.total_seconds() // 60)}m"


def freshness_deadline(last_arrival: datetime | None, since: datetime, within: timedelta) -> datetime:
    """When data is late: ``within`` after the last arrival (or after ``since``, when the rule
    took effect, for a pipeline that never reported)."""
    start = last_arrival if last_arrival is not None else since
    require_aware(start)
    return start + within


def is_late(last_arrival: datetime | None, since: datetime, within: timedelta, at: datetime) -> bool:
    """Whether, at aware ``at``, the deadline (``freshness_deadline``) has passed with no arrival."""
    require_aware(at)
    return at >= freshness_deadline(last_arrival, since, within)
