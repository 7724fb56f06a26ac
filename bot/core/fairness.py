"""Fairness (issue 5 §5): how the on-call load is shared, per person and per team. Pure.

Over ``[start, end)``, from the pipelines' schedules with overrides applied (so an override counts
for whoever covered):

- ``shifts``: the number of shifts (``bot.core.shifts``: runs of the same pipeline, role and
  window on consecutive days) that overlap the range;
- ``hours``: the time the person is on call for at least one pipeline, in either role (being on
  call for two pipelines at once counts once);
- ``out_of_hours``: the part of ``hours`` on weekend and holiday local dates;
- ``primary_hours``: the time they are primary for at least one pipeline.

A team's numbers are the sums over its members (people as the directory places them now).
Everyone in the directory appears, with zeros when they were never on call; people who are not in
the directory but covered by an override appear under their id with team "".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.calendar import CompanyCalendar
from bot.core.model import DayType, Directory, Override
from bot.core.shifts import Span, on_call_intervals, shifts, spans

_ZERO = timedelta(0)
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Load:
    shifts: int = 0
    hours: timedelta = _ZERO
    out_of_hours: timedelta = _ZERO
    primary_hours: timedelta = _ZERO

    def __add__(self, other: Load) -> Load:
        return Load(self.shifts + other.shifts, self.hours + other.hours, self.out_of_hours + other.out_of_hours,
                    self.primary_hours + other.primary_hours)


@dataclass(frozen=True, slots=True)
class FairnessReport:
    start: datetime
    end: datetime
    people: dict[str, Load]  # by person id, in directory order (then others)
    teams: dict[str, Load]  # by team id, in directory order


def _total(intervals: Sequence[tuple[datetime, datetime]]) -> timedelta:
    return sum((hi - lo for lo, hi in intervals), _ZERO)


def out_of_hours(cal: CompanyCalendar, intervals: Sequence[tuple[datetime, datetime]]) -> timedelta:
    """The part of ``intervals`` that falls on weekend or holiday local dates."""
    total = _ZERO
    for lo, hi in intervals:
        d = cal.local_date(lo)
        t = lo
        while t < hi:
            nxt = min(hi, cal.day_start(d + _ONE_DAY))
            if cal.day_type(d) != DayType.BUSINESS:
                total += nxt - t
            t, d = nxt, d + _ONE_DAY
    return total


def person_load(cal: CompanyCalendar, person_spans: Sequence[Span]) -> Load:
    """The load of one person's spans (all of the same person)."""
    union = on_call_intervals(person_spans)
    primary = on_call_intervals([s for s in person_spans if s.role == "primary"])
    return Load(len(shifts(person_spans)), _total(union), out_of_hours(cal, union), _total(primary))


def fairness(
    directory: Directory,
    cal: CompanyCalendar,
    start: datetime,
    end: datetime,
    overrides: Sequence[Override] = (),
) -> FairnessReport:
    """Shifts and hours on call per person and per team over ``[start, end)`` (module doc)."""
    by_person: dict[str, list[Span]] = {p: [] for p in directory.people}
    for s in spans(directory, cal, start, end, overrides):
        by_person.setdefault(s.person, []).append(s)
    people = {p: person_load(cal, ss) for p, ss in by_person.items()}
    teams = {t: Load() for t in directory.teams}
    for pid, load in people.items():
        person = directory.people.get(pid)
        if person is not None and person.team in teams:
            teams[person.team] = teams[person.team] + load
    return FairnessReport(start, end, people, teams)
