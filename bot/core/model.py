"""The company's on-call data as frozen values: what the seed file says, after validation.

Nothing here reads a clock, a file or a database. Times of day are local wall-clock times in
the company zone; instants are aware datetimes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum


class DayType(StrEnum):
    BUSINESS = "business"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str
    team: str
    slack_user_id: str
    email: str


@dataclass(frozen=True, slots=True)
class Team:
    id: str
    name: str
    short_name: str
    channel: str | None
    lead: str | None


@dataclass(frozen=True, slots=True)
class Role:
    id: str
    name: str
    covers: str


@dataclass(frozen=True, slots=True)
class Rotation:
    """A weekly rotation: week k starts ``anchor`` + k weeks (local wall clock).

    A rotation without roles has one slot, held by ``members[k mod n]`` in week k. A rotation with
    roles has one slot per role: role j (0-based) is held by ``members[(j + k) mod n]`` in week k,
    so at each handoff every member moves one role up (the backup becomes the primary).
    """

    id: str
    name: str
    team: str
    members: tuple[str, ...]
    anchor: datetime  # local naive wall-clock start of week 0, weekday and time = the handoff
    roles: tuple[Role, ...] = ()
    period_days: int = 7
    usergroup: str | None = None


@dataclass(frozen=True, slots=True)
class SlotRef:
    """A seat in a rotation: the rotation, the role (None for a team rotation) and an offset.

    ``offset`` 1 means "the member after the current holder" (the rotation's next member).
    """

    rotation: str
    role: str | None = None
    offset: int = 0

    def __str__(self) -> str:
        text = self.rotation if self.role is None else f"{self.rotation}:{self.role}"
        return f"{text}+{self.offset}" if self.offset else text


@dataclass(frozen=True, slots=True)
class Window:
    """A coverage window: on local dates of ``days`` (and, when ``month_end`` is set, only dates
    inside / outside the month-end week), from ``start`` to ``end`` minutes after local midnight,
    ``[start, end)``; ``end`` may be 1440 (24:00)."""

    name: str
    days: frozenset[DayType]
    start_minute: int
    end_minute: int
    primary: SlotRef
    secondary: SlotRef | None
    month_end: bool | None = None
    label: str = ""


class AfterHoursAction(StrEnum):
    PAGE_NEXT_SECONDARY = "page_next_secondary"
    QUEUE_NEXT_BUSINESS_DAY = "queue_next_business_day"
    PAGE = "page"


@dataclass(frozen=True, slots=True)
class AfterHours:
    action: AfterHoursAction
    target: SlotRef | None = None
    queue_at: time | None = None
    critical_target: SlotRef | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class CommonIssue:
    text: str
    first_check: str = ""
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Runbook:
    data_types: tuple[str, ...] = ()
    common_issues: tuple[CommonIssue, ...] = ()
    slas: tuple[str, ...] = ()
    oncall_notes: tuple[str, ...] = ()
    critical_note: str = ""


_WITHIN = re.compile(r"^\s*(\d{1,4})\s*([hdw])\s*$")
DEFAULT_AT = time(17, 0)


class FixKind(StrEnum):
    WITHIN_HOURS = "within_hours"
    WITHIN_DAYS = "within_days"
    END_OF_MONTH = "end_of_month"


@dataclass(frozen=True, slots=True)
class FixRule:
    """A pipeline's fix deadline for its incidents (computed by ``bot.core.sla``): ``amount`` hours
    or days after opening, or the end of the month at local ``at``. ``text`` says it in words."""

    kind: FixKind
    amount: int = 0
    at: time = DEFAULT_AT

    @property
    def text(self) -> str:
        if self.kind == FixKind.WITHIN_HOURS:
            return f"fix within {self.amount} h"
        if self.kind == FixKind.WITHIN_DAYS:
            return f"fix within {self.amount} days" if self.amount != 1 else "fix within 1 day"
        return f"fix by the last business day of the month, {self.at:%H:%M}"


def parse_within(text: str) -> FixRule:
    """``7d`` / ``48h`` / ``1w`` as a rule; ``ValueError`` naming what is accepted."""
    m = _WITHIN.match(text)
    if not m or int(m.group(1)) < 1:
        raise ValueError(f"'{text}' is not a duration: a positive number and a unit, e.g. 7d, 48h or 1w")
    n, unit = int(m.group(1)), m.group(2)
    if unit == "h":
        return FixRule(FixKind.WITHIN_HOURS, n)
    return FixRule(FixKind.WITHIN_DAYS, n * 7 if unit == "w" else n)


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """The bot keeps ``channel``'s topic naming who is on call (seed: a pipeline's ``topic``).

    The text before the last ``separator`` is the team's and stays; the bot writes what follows
    it, at most ``max_changes_per_day`` times a local day, and only when the people change."""

    channel: str
    max_changes_per_day: int = 4
    separator: str = " | "


@dataclass(frozen=True, slots=True)
class Pipeline:
    id: str
    name: str
    aliases: tuple[str, ...]
    channel: str | None
    primary_owners: tuple[str, ...]
    secondary_owners: tuple[str, ...]
    windows: tuple[Window, ...]
    after_hours: AfterHours
    escalation: tuple[SlotRef, ...]
    runbook: Runbook
    keywords: tuple[str, ...] = ()
    usergroup: str | None = None
    fix: FixRule | None = None  # the SLA clock of its incidents (seed ``sla:``); None: no fix deadline
    topic: TopicSpec | None = None
    arrival_within: timedelta | None = None  # freshness: data must arrive within this (seed ``freshness``)


@dataclass(frozen=True, slots=True)
class CalendarSpec:
    timezone: str
    holiday_country: str
    holiday_subdivision: str | None = None
    extra_holidays: tuple[tuple[date, str], ...] = ()
    month_end_days: int = 7


@dataclass(frozen=True, slots=True)
class RecurringWork:
    """A §6 recurring-work definition. ``opens`` and ``due`` are occurrence rules (plain data,
    interpreted by ``bot.core.recurrence``); ``assignees`` are slot references or person ids."""

    id: str
    kind: str  # announcement | meeting | checklist
    title: str
    opens: dict[str, object]
    due: dict[str, object] | None = None
    pipeline: str | None = None
    channel: str | None = None
    assignees: tuple[SlotRef, ...] = ()
    items: tuple[str, ...] = ()
    meeting: dict[str, object] | None = None
    description: str = ""
    reminder_minute: int | None = None  # checklists: reminder time (local) the business day before due


@dataclass(frozen=True, slots=True)
class Override:
    """Someone covers for a time range ``[start, end)`` (UTC-aware instants).

    It applies to a slot when the slot's rotation (and role, when given) match, or when the slot's
    holder is ``replaces`` (a person-level override: away, swap), or to every slot of ``pipeline``.
    Where two overlap the newest (highest ``created_at``, then ``id``) wins.
    """

    id: int
    start: datetime
    end: datetime
    person: str
    created_at: datetime
    rotation: str | None = None
    role: str | None = None
    replaces: str | None = None
    pipeline: str | None = None
    reason: str = ""
    created_by: str | None = None


@dataclass(frozen=True, slots=True)
class Directory:
    """Everything the seed holds, indexed by id; the input of every engine function."""

    calendar: CalendarSpec
    teams: dict[str, Team]
    people: dict[str, Person]
    rotations: dict[str, Rotation]
    pipelines: dict[str, Pipeline]
    recurring: dict[str, RecurringWork] = field(default_factory=dict)
    admins: tuple[str, ...] = ()
    announcement_channel: str | None = None
    # teams whose members may act on every incident, besides its owning teams (seed: incident_responders)
    incident_responders: tuple[str, ...] = ()
    # notification-rule defaults per severity ("critical", "normal"): ((minutes of each method), repeat)
    paging: tuple[tuple[str, tuple[int, ...], int], ...] = ()

    def name_of(self, person: str | None) -> str:
        """The person's name; the id itself when the seed does not know it; "nobody" for None."""
        if person is None:
            return "nobody"
        p = self.people.get(person)
        return p.name if p else person

    def slack_id_of(self, person: str) -> str:
        """The person's Slack user id; the id itself when the seed does not know it."""
        p = self.people.get(person)
        return p.slack_user_id if p else person
