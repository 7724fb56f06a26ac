"""The handoff announcement as data, for the on-call week from one handoff to the next: this
week's seats and who hands to whom, the week's holidays and what they change, the month-end week
notice, the onboarding meeting, the people whose shift starts (each gets a DM) and the Slack user
groups to reset.

Pure: a function of the directory, the calendar, the overrides, the handoff instant and the week's
occurrences. Rendering is ``bot.render.scheduled``.
"""

from __future__ import annotations

import calendar as _stdcal
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.calendar import CompanyCalendar, require_aware
from bot.core.incident import Incident
from bot.core.model import DayType, Directory, Override, Pipeline, SlotRef, Window
from bot.core.recurrence import CHECKLIST, MEETING, WEEKDAYS, Occurrence, weekday_in_week
from bot.core.rotation import (
    oncall_week_days,
    oncall_week_first,
    resolve_slot,
    slots_of,
    week_index,
    week_start,
)

_TINY = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Duty:
    """A pipeline window a seat takes part in: ``as_`` is ``primary`` or ``secondary``."""

    pipeline: str
    window: str
    label: str
    as_: str


@dataclass(frozen=True, slots=True)
class Seat:
    """A rotation seat this week: who holds it now and who held it just before the handoff."""

    slot: SlotRef
    label: str  # "DE R1", "Finance on-call"
    covers: str  # the role's description, or the pipelines it serves
    holder: str
    previous: str
    handoff: datetime  # when this rotation's week started
    via_override: int | None = None
    duties: tuple[Duty, ...] = ()

    @property
    def changed(self) -> bool:
        return self.holder != self.previous


@dataclass(frozen=True, slots=True)
class HolidayNote:
    """A holiday this week and what it changes (``effect``: "weekend coverage" when every pipeline
    covers it as a weekend; otherwise the pipelines whose coverage differs)."""

    day: date
    name: str
    effect: str
    moved: tuple[str, ...] = ()  # "Growth weekly account status updates due Wed Nov 25 17:00"


@dataclass(frozen=True, slots=True)
class MonthEndNote:
    """The month-end week (``first``..``last``, the whole of it) that this week overlaps."""

    first: date
    last: date
    pipelines: tuple[str, ...]  # pipelines with a month-end window
    labels: tuple[str, ...]  # their month-end window labels
    daily: tuple[str, ...]  # titles of the definitions that run each month-end business day


@dataclass(frozen=True, slots=True)
class MeetingNote:
    definition: str
    title: str
    start: datetime
    end: datetime
    assignees: tuple[str, ...]
    moved_because: str | None  # "Monday is Memorial Day" when not on the week's Monday


@dataclass(frozen=True, slots=True)
class StartingShift:
    """A person whose shift starts at this handoff: the seats they take and from whom."""

    person: str
    seats: tuple[Seat, ...]

    @property
    def pipelines(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for s in self.seats:
            for d in s.duties:
                seen[d.pipeline] = None
        return tuple(seen)


@dataclass(frozen=True, slots=True)
class UsergroupUpdate:
    """Set Slack user group ``handle`` to exactly ``members`` (person ids)."""

    handle: str
    members: tuple[str, ...]
    source: str  # "pipeline engagement" / "rotation finance"


@dataclass(frozen=True, slots=True)
class HandoffNote:
    """A note the outgoing on-call person wrote for whoever takes over (``bot.core.handoff``)."""

    id: int
    author: str  # a person id
    text: str
    written_at: datetime


@dataclass(frozen=True, slots=True)
class Announcement:
    at: datetime  # the handoff instant announced
    week_first: date  # local date of the announced week's handoff (a Monday for Monday handoffs)
    week_last: date  # the day before the next handoff's date
    seats: tuple[Seat, ...]
    holidays: tuple[HolidayNote, ...]
    month_end: MonthEndNote | None
    meetings: tuple[MeetingNote, ...]
    due_this_week: tuple[Occurrence, ...]
    starting: tuple[StartingShift, ...]
    usergroups: tuple[UsergroupUpdate, ...]
    # issue 12 §5: the incidents still open at the handoff (with their fix-by) and the notes the
    # outgoing people wrote during the week that ends here (``bot.core.handoff.HandoffNote``)
    open_incidents: tuple[Incident, ...] = ()
    handoff_notes: tuple[HandoffNote, ...] = ()

    @property
    def changes(self) -> tuple[Seat, ...]:
        return tuple(s for s in self.seats if s.changed)


def _label(directory: Directory, slot: SlotRef) -> tuple[str, str]:
    rot = directory.rotations[slot.rotation]
    if slot.role is None:
        return rot.name, ""
    for r in rot.roles:
        if r.id == slot.role:
            return r.name, r.covers
    return f"{rot.name} {slot.role}", ""


def _duties(directory: Directory, slot: SlotRef) -> tuple[Duty, ...]:
    out: list[Duty] = []
    for p in directory.pipelines.values():
        for w in p.windows:
            for as_, ref in (("primary", w.primary), ("secondary", w.secondary)):
                if ref is not None and ref.rotation == slot.rotation and ref.role == slot.role and ref.offset == 0:
                    out.append(Duty(p.id, w.name, w.label or w.name, as_))
    return tuple(out)


def seats_at(directory: Directory, at: datetime, tz: ZoneInfo, overrides: Sequence[Override] = ()) -> list[Seat]:
    """Every rotation seat with its holder from the start of the rotation week containing ``at``
    and its holder just before that handoff (overrides applied at each instant)."""
    out: list[Seat] = []
    for rotation in directory.rotations.values():
        k = week_index(rotation, at, tz)
        handoff = week_start(rotation, k, tz)
        for slot in slots_of(rotation):
            now = resolve_slot(directory, slot, max(at, handoff), overrides)
            before = resolve_slot(directory, slot, handoff - _TINY, overrides)
            label, covers = _label(directory, slot)
            duties = _duties(directory, slot)
            if not covers:
                covers = ", ".join(dict.fromkeys(directory.pipelines[d.pipeline].name for d in duties))
            out.append(Seat(slot, label, covers, now.person, before.person, handoff, now.via_override, duties))
    return out


def _windows_for(p: Pipeline, day_type: DayType, month_end: bool) -> tuple[Window, ...]:
    return tuple(w for w in p.windows if day_type in w.days and (w.month_end is None or w.month_end == month_end))


def holiday_effect(directory: Directory, cal: CompanyCalendar, d: date) -> str:
    """What a holiday on local date ``d`` changes, in words."""
    month_end = cal.is_month_end_week(d)
    differ: list[str] = []
    uncovered: list[str] = []
    for p in directory.pipelines.values():
        hol = _windows_for(p, DayType.HOLIDAY, month_end)
        if not hol:
            if _windows_for(p, DayType.BUSINESS, month_end):
                uncovered.append(p.name)
            continue
        if hol != _windows_for(p, DayType.WEEKEND, month_end):
            differ.append(p.name)
    text = "weekend coverage" if not differ else "holiday coverage for " + ", ".join(differ)
    if uncovered:
        text += " (no on-call for " + ", ".join(uncovered) + ")"
    return text


def _pipelines_for_usergroup(
    directory: Directory, at: datetime, overrides: Sequence[Override]
) -> list[UsergroupUpdate]:
    out: list[UsergroupUpdate] = []
    for p in directory.pipelines.values():
        if not p.usergroup:
            continue
        members: dict[str, None] = {}
        for w in p.windows:
            for ref in (w.primary, w.secondary):
                if ref is not None:
                    members[resolve_slot(directory, ref, at, overrides, p.id).person] = None
        out.append(UsergroupUpdate(p.usergroup, tuple(members), f"pipeline {p.id}"))
    for rotation in directory.rotations.values():
        if not rotation.usergroup:
            continue
        # a team rotation's group is its holder; a role rotation's is its first role's holder
        slot = slots_of(rotation)[0]
        person = resolve_slot(directory, slot, at, overrides).person
        out.append(UsergroupUpdate(rotation.usergroup, (person,), f"rotation {rotation.id}"))
    return out


def meeting_note(cal: CompanyCalendar, occ: Occurrence) -> MeetingNote | None:
    """The meeting of a meeting occurrence, with why it is not on the day the invite goes out
    ("Monday is Memorial Day") when a holiday moved it."""
    if occ.meeting_start is None or occ.meeting_end is None:
        return None
    opened = cal.local_date(occ.at)
    mday = cal.local_date(occ.meeting_start)
    reasons = []
    d = opened
    while d < mday:
        name = cal.holiday(d)
        if name:
            reasons.append(f"{d:%A} is {name}")
        d += timedelta(days=1)
    because = ", ".join(reasons) or None
    return MeetingNote(occ.definition, occ.title, occ.meeting_start, occ.meeting_end, occ.assignees, because)


def announced_week(directory: Directory, cal: CompanyCalendar, at: datetime) -> tuple[date, date]:
    """The first and last local dates of the on-call week announced at ``at``: from the date of
    the handoff on or before ``at``'s date to the day before the next one (Wednesday to Tuesday
    for a Wednesday handoff), as ``rotation.oncall_week_first`` reads the rotations' anchors."""
    first = oncall_week_first(directory, cal.tz, cal.local_date(require_aware(at)))
    return first, first + timedelta(days=oncall_week_days(directory) - 1)


def build_announcement(
    directory: Directory,
    cal: CompanyCalendar,
    at: datetime,
    overrides: Sequence[Override] = (),
    week_occurrences: Sequence[Occurrence] = (),
    *,
    open_incidents: Sequence[Incident] = (),
    handoff_notes: Sequence[HandoffNote] = (),
) -> Announcement:
    """The announcement for the handoff at (or just before) ``at``.

    ``week_occurrences`` are the occurrences opening in the announced week (from
    ``recurrence.occurrences``): meetings give the onboarding line, checklists the deadlines that
    holidays moved. ``open_incidents`` and ``handoff_notes`` are carried as given (issue 12 §5).
    """
    require_aware(at)
    tz = cal.tz
    seats = seats_at(directory, at, tz, overrides)
    first, last = announced_week(directory, cal, at)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]

    moved: dict[date, list[str]] = {}
    due_week: list[Occurrence] = []
    for occ in week_occurrences:
        if occ.kind == CHECKLIST and occ.due is not None:
            due_day = cal.local_date(occ.due)
            if first <= due_day <= last:
                due_week.append(occ)
            rw = directory.recurring.get(occ.definition)
            rule = rw.due if rw is not None else None
            if rule and rule.get("rule") == "weekday_of_week":
                wanted = str(rule.get("weekday"))
                week_first = oncall_week_first(directory, tz, cal.local_date(occ.at))
                nominal = weekday_in_week(week_first, WEEKDAYS.index(wanted))
                if nominal != due_day and cal.holiday(nominal):
                    moved.setdefault(nominal, []).append(f"{occ.title} due {due_day:%A} instead")

    holidays: list[HolidayNote] = []
    for d in days:
        name = cal.holiday(d)
        if name is not None:
            holidays.append(HolidayNote(d, name, holiday_effect(directory, cal, d), tuple(moved.get(d, ()))))

    month_days = [d for d in days if cal.is_month_end_week(d)]
    month_end: MonthEndNote | None = None
    if month_days:
        pipes: list[str] = []
        labels: list[str] = []
        for p in directory.pipelines.values():
            for w in p.windows:
                if w.month_end:
                    pipes.append(p.id)
                    labels.append(w.label or w.name)
                    break
        daily = tuple(
            rw.title for rw in directory.recurring.values() if rw.opens.get("rule") == "month_end_business_days"
        )
        # the whole month-end week of that month, which may start before or end after this week
        d0 = month_days[0]
        last_day = date(d0.year, d0.month, _stdcal.monthrange(d0.year, d0.month)[1])
        first_day = max(date(d0.year, d0.month, 1), last_day - timedelta(days=cal.spec.month_end_days - 1))
        month_end = MonthEndNote(first_day, last_day, tuple(pipes), tuple(dict.fromkeys(labels)), daily)

    notes = [meeting_note(cal, occ) for occ in week_occurrences if occ.kind == MEETING]
    meetings = [m for m in notes if m is not None]

    starting: dict[str, list[Seat]] = {}
    for s in seats:
        if s.changed:
            starting.setdefault(s.holder, []).append(s)
    return Announcement(
        at=at,
        week_first=first,
        week_last=last,
        seats=tuple(seats),
        holidays=tuple(holidays),
        month_end=month_end,
        meetings=tuple(meetings),
        due_this_week=tuple(sorted(due_week, key=lambda o: (o.due or o.at, o.definition))),
        starting=tuple(StartingShift(p, tuple(ss)) for p, ss in starting.items()),
        usergroups=tuple(_pipelines_for_usergroup(directory, at, overrides)),
        open_incidents=tuple(open_incidents),
        handoff_notes=tuple(handoff_notes),
    )
