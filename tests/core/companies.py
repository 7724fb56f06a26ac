"""Small companies built in code, each stating exactly the setup a test needs.

The core promises that any company runs from its own seed; the bundled ``data/seed.yaml`` only
exercises the setups that one company chose. These builders make other setups cheap to write:
a three-member team used with +1 and -1, one-member and empty rotations, windows without a
secondary, ``@person`` slots, every after-hours action, pipeline-level escalation.

The default company lives in Berlin (German holidays, named in US English by the calendar) with
every rotation handing over on Monday 09:00 local, week 0 starting Monday 2027-01-04.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.calendar import CompanyCalendar
from bot.core.model import (
    AfterHours,
    AfterHoursAction,
    CalendarSpec,
    DayType,
    Directory,
    Override,
    Person,
    Pipeline,
    Role,
    Rotation,
    Runbook,
    SlotRef,
    Team,
    Window,
)

ZONE = "Europe/Berlin"
BERLIN = ZoneInfo(ZONE)
ANCHOR = datetime(2027, 1, 4, 9, 0)  # Monday: week 0 of every rotation unless told otherwise
CREATED = datetime(2026, 12, 1, tzinfo=UTC)
CALENDARS: weakref.WeakSet[CompanyCalendar] = weakref.WeakSet()
"""Every calendar built here that is still alive; tests/core/conftest.py empties their caches."""

BUSINESS = frozenset({DayType.BUSINESS})
WEEKEND = frozenset({DayType.WEEKEND})
HOLIDAY = frozenset({DayType.HOLIDAY})
OFF_DAYS = frozenset({DayType.WEEKEND, DayType.HOLIDAY})
EVERY_DAY = frozenset(DayType)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0) -> datetime:
    """An aware Berlin wall-clock datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN, fold=fold)


def slot(text: str) -> SlotRef:
    """``"trio"``, ``"trio+1"``, ``"trio-1"``, ``"pair:P"``, ``"pair:S+1"``, ``"@person:x"``."""
    offset = 0
    for sign in "+-":
        base, found, number = text.rpartition(sign)
        if found and number.isdigit() and base:
            text, offset = base, int(number) * (1 if sign == "+" else -1)
            break
    rotation, _, role = text.partition(":")
    return SlotRef(rotation, role or None, offset)


def _minute(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def window(
    name: str,
    primary: str,
    secondary: str | None = None,
    *,
    days: frozenset[DayType] = BUSINESS,
    hours: str = "09:00-17:00",
    month_end: bool | None = None,
    label: str = "",
) -> Window:
    start, end = hours.split("-")
    return Window(
        name, days, _minute(start), _minute(end), slot(primary),
        None if secondary is None else slot(secondary), month_end, label,
    )


def after_hours(
    action: str = "page_next_secondary",
    target: str | None = None,
    *,
    queue_at: time | None = None,
    critical: str | None = None,
    note: str = "",
) -> AfterHours:
    return AfterHours(
        AfterHoursAction(action), None if target is None else slot(target), queue_at,
        None if critical is None else slot(critical), note,
    )


def override(
    oid: int, person: str, start: datetime, end: datetime, *, created: int = 0, **where: str
) -> Override:
    """An override made ``created`` seconds after a fixed instant (newer = larger)."""
    return Override(oid, start, end, person, CREATED + timedelta(seconds=created), **where)  # type: ignore[arg-type]


class Company:
    """A directory under construction; ``directory()`` freezes it, ``calendar()`` gives a fresh
    calendar (fresh caches, so a test sees only what it computes itself)."""

    def __init__(
        self,
        *,
        zone: str = ZONE,
        country: str = "DE",
        subdivision: str | None = None,
        extra_holidays: Iterable[tuple[date, str]] = (),
        month_end_days: int = 7,
    ) -> None:
        self.spec = CalendarSpec(zone, country, subdivision, tuple(extra_holidays), month_end_days)
        self.teams: dict[str, Team] = {}
        self.people: dict[str, Person] = {}
        self.rotations: dict[str, Rotation] = {}
        self.pipelines: dict[str, Pipeline] = {}

    def team(self, tid: str, channel: str | None = None) -> Company:
        self.teams[tid] = Team(tid, tid.title(), tid, channel, None)
        return self

    def person(self, pid: str, team: str = "ops") -> Company:
        if team not in self.teams:
            self.team(team)
        self.people[pid] = Person(pid, pid.upper(), team, f"U{pid.upper()}", f"{pid}@example.com")
        return self

    def rotation(
        self,
        rid: str,
        members: Iterable[str],
        *,
        roles: Iterable[str] = (),
        anchor: datetime = ANCHOR,
        period_days: int = 7,
        team: str = "ops",
    ) -> Company:
        members = tuple(members)
        for m in members:
            if m not in self.people:
                self.person(m, team)
        self.rotations[rid] = Rotation(
            rid, rid.title(), team, members, anchor, tuple(Role(r, r, r) for r in roles), period_days
        )
        return self

    def pipeline(
        self,
        pid: str,
        *windows: Window,
        after: AfterHours | None = None,
        escalation: Iterable[str] = (),
        owners: Iterable[str] = ("ops",),
    ) -> Company:
        self.pipelines[pid] = Pipeline(
            pid, pid.title(), (), None, tuple(owners), (), tuple(windows),
            after or after_hours(), tuple(slot(s) for s in escalation), Runbook(),
        )
        return self

    def directory(self) -> Directory:
        return Directory(self.spec, dict(self.teams), dict(self.people), dict(self.rotations), dict(self.pipelines))

    def calendar(self) -> CompanyCalendar:
        cal = CompanyCalendar.from_spec(self.spec)
        CALENDARS.add(cal)
        return cal

    def build(self) -> tuple[Directory, CompanyCalendar]:
        return self.directory(), self.calendar()


def acme() -> Company:
    """The default small company: ``trio`` (a1, a2, a3), ``solo`` (s1) and ``pair`` (p1, p2, p3
    with roles P and S), no pipelines yet."""
    return (
        Company()
        .team("ops", "#ops")
        .rotation("trio", ["a1", "a2", "a3"])
        .rotation("solo", ["s1"])
        .rotation("pair", ["p1", "p2", "p3"], roles=["P", "S"])
    )
