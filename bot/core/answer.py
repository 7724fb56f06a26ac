"""Results of the engine: who is on call, the segments of a schedule, the after-hours path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.model import DayType, SlotRef


@dataclass(frozen=True, slots=True)
class Holder:
    """The person in a slot at an instant; ``via_override`` is the override id that put them there."""

    person: str
    slot: SlotRef
    via_override: int | None = None


@dataclass(frozen=True, slots=True)
class NextChange:
    """The answer from ``at`` on (the next time primary, secondary or window changes)."""

    at: datetime
    window: str | None
    primary: Holder | None
    secondary: Holder | None


@dataclass(frozen=True, slots=True)
class AfterHoursPath:
    """What happens to an escalation outside coverage (rules §3).

    ``page_now`` is who is paged at once for a normal escalation (None when it is queued);
    ``queued_for``/``queued_until`` name the queue; ``critical`` is who is paged at once when
    investor reporting is affected (None when the pipeline has no such rule).
    """

    action: str
    note: str
    page_now: Holder | None
    queued_for: Holder | None
    queued_until: datetime | None
    critical: Holder | None


@dataclass(frozen=True, slots=True)
class OnCallAnswer:
    """Who is on call for a pipeline at an instant (all instants are aware, UTC).

    ``until`` is the end of this exact answer (None if it never changes within the horizon);
    ``next`` is the answer that starts then. When not covered, ``next`` is when coverage resumes
    and ``after_hours`` the path an escalation takes now.
    """

    pipeline: str
    at: datetime
    day_type: DayType
    holiday: str | None
    covered: bool
    window: str | None
    window_label: str | None
    primary: Holder | None
    secondary: Holder | None
    until: datetime | None
    next: NextChange | None
    after_hours: AfterHoursPath | None


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch ``[start, end)`` of one unchanging answer."""

    start: datetime
    end: datetime
    covered: bool
    window: str | None
    primary: Holder | None
    secondary: Holder | None
