"""Occurrences of the recurring work (operating rules §6): when each opens, when it is due, who
does it, where it goes, and the deterministic key that makes it deliverable exactly once.

Pure: every function takes the directory, the company calendar and explicit aware instants; the
results are UTC-aware. Local times are built from local dates by ``CompanyCalendar.instant``, so
09:00 stays 09:00 local across DST changes.

Rules (``RecurringWork.opens`` / ``.due``, see ``bot.seed.schema.RuleIn``):

- ``weekly``: every ``weekday`` at ``time``; the *nominal date* is that weekday, the period is
  that date (``2026-11-30``);
- ``nth_business_day``: the ``n``-th business day of each month (the 1st counts if it is one); the
  period is the month (``2026-12``);
- ``day_of_month``: day ``day`` of each month (the month's last day when it is shorter); the
  period is the month;
- ``month_end_business_days``: each business day of the month-end week; the period is the date;
- due only: ``same_day`` (the opening's local date) and ``weekday_of_week`` (``weekday`` of the
  on-call week of the opening's nominal date: the days from one handoff to the next, as the
  rotations' anchors say, see ``rotation.oncall_week_first``; Monday to Sunday for Monday
  handoffs). A monthly due rule (``nth_business_day``,
  ``day_of_month``) is read in the opening's month, rolled to the next month if it would not be
  after the opening.

``adjust`` moves a date that is not a business day: ``next_business_day`` to the next one,
``previous_business_day`` to the last one before it (a deadline "by day D, 17:00").

The key of an occurrence is ``definition/target/period`` (target: the pipeline, else the channel
without ``#``, else ``dm``). It depends on the nominal period only, never on the adjusted date, so
an occurrence keeps its key when a holiday added later moves it.
"""

from __future__ import annotations

import calendar as _stdcal
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.calendar import CompanyCalendar, require_aware
from bot.core.model import Directory, Override, RecurringWork, SlotRef
from bot.core.rotation import PERSON_SLOT, oncall_week_days, oncall_week_first, resolve_slot, week_index, week_start

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ANNOUNCEMENT = "announcement"
MEETING = "meeting"
CHECKLIST = "checklist"

DEFAULT_GRACE = timedelta(hours=6)
"""How late an announcement or a meeting invite may still be delivered (checklists: until due)."""

_ONE_DAY = timedelta(days=1)
_MARGIN = timedelta(days=12)  # adjusted dates move at most this far from their nominal date
_TINY = timedelta(microseconds=1)


class RuleError(ValueError):
    """A rule the engine cannot read (a shape the seed schema does not allow)."""


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One occurrence of a recurring-work definition.

    ``at`` is when it opens (is posted), ``due`` its deadline (checklists) or None.
    ``assignees`` are person ids, resolved at ``at`` (rotations, then overrides). ``channel`` is
    where it is posted (None for the meeting invite, a group DM to the assignees).
    ``meeting_start``/``meeting_end``: the meeting's slot (meetings only). ``reminder_at``: the
    definition's reminder time (the seed's ``reminder``, e.g. 09:00) on the business day before the
    due date, when that is strictly between ``at`` and ``due`` (None without a reminder).
    """

    key: str
    definition: str
    kind: str
    title: str
    period: str
    at: datetime
    due: datetime | None
    pipeline: str | None
    assignees: tuple[str, ...]
    channel: str | None
    meeting_start: datetime | None = None
    meeting_end: datetime | None = None
    reminder_at: datetime | None = None

    @property
    def id(self) -> str:
        return self.key

    @property
    def escalate_at(self) -> datetime | None:
        """When an incomplete checklist is escalated: its due time."""
        return self.due if self.kind == CHECKLIST else None

    def expires_at(self, grace: timedelta = DEFAULT_GRACE) -> datetime:
        """The last instant at which the occurrence may still be delivered: its due time for a
        checklist with one, else ``at + grace``."""
        if self.kind == CHECKLIST and self.due is not None:
            return self.due
        return self.at + grace

    def reminder_key(self) -> str:
        return f"{self.key}#reminder"

    def escalation_key(self) -> str:
        return f"{self.key}#escalation"


@dataclass(frozen=True, slots=True)
class _Opening:
    nominal: date
    day: date
    period: str


# -- small helpers ------------------------------------------------------------------------------


def minute_of(text: object) -> int:
    """Minutes after midnight of an ``HH:MM`` rule time."""
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":":
        raise RuleError(f"bad time of day {text!r} (HH:MM)")
    hours, minutes = int(text[:2]), int(text[3:])
    if not (0 <= hours <= 23 and 0 <= minutes <= 59):
        raise RuleError(f"bad time of day {text!r}")
    return hours * 60 + minutes


def _weekday(rule: dict[str, object]) -> int:
    name = rule.get("weekday")
    if name not in WEEKDAYS:
        raise RuleError(f"rule '{rule.get('rule')}' needs a weekday, got {name!r}")
    return WEEKDAYS.index(str(name))


def _int(rule: dict[str, object], name: str) -> int:
    value = rule.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise RuleError(f"rule '{rule.get('rule')}' needs an integer '{name}', got {value!r}")
    return value


def adjust(cal: CompanyCalendar, d: date, how: object) -> date:
    """``d`` moved by an ``adjust`` value when it is not a business day."""
    if how in (None, "none") or cal.is_business_day(d):
        return d
    if how == "next_business_day":
        return cal.next_business_day(d)
    if how == "previous_business_day":
        return cal.previous_business_day(d)
    raise RuleError(f"unknown adjust {how!r}")


def _months(first: date, last: date) -> Iterable[tuple[int, int]]:
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        yield y, m
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def _month_day(y: int, m: int, day: int) -> date:
    return date(y, m, min(day, _stdcal.monthrange(y, m)[1]))


def week_monday(d: date) -> date:
    """The Monday of ``d``'s Monday-to-Sunday week."""
    return d - timedelta(days=d.weekday())


def weekday_in_week(week_first: date, weekday: int) -> date:
    """The date with ``weekday`` (0 = Monday) among the seven days from ``week_first``."""
    return week_first + timedelta(days=(weekday - week_first.weekday()) % 7)


def _openings(cal: CompanyCalendar, rule: dict[str, object], first: date, last: date) -> list[_Opening]:
    """Openings whose *nominal* date lies in ``[first, last]`` (local dates)."""
    kind = rule.get("rule")
    how = rule.get("adjust", "none")
    out: list[_Opening] = []
    if kind == "weekly":
        wd = _weekday(rule)
        d = first + timedelta(days=(wd - first.weekday()) % 7)
        while d <= last:
            out.append(_Opening(d, adjust(cal, d, how), d.isoformat()))
            d += timedelta(days=7)
    elif kind == "nth_business_day":
        n = _int(rule, "n")
        for y, m in _months(first, last):
            nominal = date(y, m, 1)
            try:
                day = cal.nth_business_day(y, m, n)
            except ValueError:
                continue  # a month with fewer business days has no such occurrence
            out.append(_Opening(nominal, day, f"{y:04d}-{m:02d}"))
    elif kind == "day_of_month":
        dom = _int(rule, "day")
        for y, m in _months(first, last):
            nominal = _month_day(y, m, dom)
            out.append(_Opening(nominal, adjust(cal, nominal, how), f"{y:04d}-{m:02d}"))
    elif kind == "month_end_business_days":
        for y, m in _months(first, last):
            for d in cal.month_end_week_business_days(y, m):
                out.append(_Opening(d, d, d.isoformat()))
    else:
        raise RuleError(f"rule {kind!r} cannot open an occurrence")
    return [o for o in out if first <= o.nominal <= last or first <= o.day <= last]


def due_instant(
    cal: CompanyCalendar, rule: dict[str, object], opening: _Opening, opens_at: datetime,
    week_first: date | None = None,
) -> datetime:
    """The due instant of an occurrence that opens at ``opens_at`` (see the module docstring).

    ``week_first``: the first date of the on-call week of the opening's nominal date (for
    ``weekday_of_week``; default its Monday)."""
    kind = rule.get("rule")
    minute = minute_of(rule.get("time"))
    how = rule.get("adjust", "none")
    if kind == "same_day":
        return cal.instant(adjust(cal, opening.day, how), minute)
    if kind == "weekday_of_week":
        first = week_first if week_first is not None else week_monday(opening.nominal)
        d = weekday_in_week(first, _weekday(rule))
        return cal.instant(adjust(cal, d, how), minute)
    if kind == "weekly":
        wd = _weekday(rule)
        d = opening.day + timedelta(days=(wd - opening.day.weekday()) % 7)
        at = cal.instant(adjust(cal, d, how), minute)
        if at <= opens_at:
            at = cal.instant(adjust(cal, d + timedelta(days=7), how), minute)
        return at
    if kind in ("nth_business_day", "day_of_month", "month_end_business_days"):
        y, m = opening.nominal.year, opening.nominal.month
        for _ in range(3):
            if kind == "nth_business_day":
                d = cal.nth_business_day(y, m, _int(rule, "n"))
            elif kind == "day_of_month":
                d = adjust(cal, _month_day(y, m, _int(rule, "day")), how)
            else:
                days = cal.month_end_week_business_days(y, m)
                d = days[-1] if days else cal.deadline_on_or_before(date(y, m, _stdcal.monthrange(y, m)[1]))
            at = cal.instant(d, minute)
            if at > opens_at:
                return at
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        raise RuleError(f"due rule {kind!r} is never after the opening {opens_at.isoformat()}")
    raise RuleError(f"unknown due rule {kind!r}")


def meeting_slot(
    cal: CompanyCalendar, meeting: dict[str, object], opening_day: date,
    week_first: date | None = None, week_days: int = 7,
) -> tuple[datetime, datetime]:
    """``(start, end)`` of the meeting of an occurrence opening on local ``opening_day``: the first
    business day of that on-call week (``week_first`` and the ``week_days`` after it; default the
    Monday-to-Sunday week) on or after the opening day (else the next business day after the
    week), at ``start`` for ``minutes`` (wall clock)."""
    day_rule = meeting.get("day", "first_business_day_of_week")
    if day_rule != "first_business_day_of_week":
        raise RuleError(f"unknown meeting day rule {day_rule!r}")
    monday = week_first if week_first is not None else week_monday(opening_day)
    d = max(monday, opening_day)
    sunday = monday + timedelta(days=week_days - 1)
    while d <= sunday and not cal.is_business_day(d):
        d += _ONE_DAY
    if d > sunday:
        d = cal.next_business_day(sunday)
    start_minute = minute_of(meeting.get("start"))
    minutes = meeting.get("minutes", 30)
    if not isinstance(minutes, int):
        raise RuleError(f"meeting minutes must be an integer, got {minutes!r}")
    start = cal.instant(d, start_minute)
    end_minute = start_minute + minutes
    end = cal.instant(d, end_minute) if end_minute <= 1440 else start + timedelta(minutes=minutes)
    return start, end


def reminder_instant(
    cal: CompanyCalendar, opens_at: datetime, due: datetime, minute: int
) -> datetime | None:
    """Local ``minute`` (e.g. 540, 09:00) of the business day before the due date, if strictly between the opening
    and the due time; else None (e.g. a checklist that opens and is due on the same day)."""
    day = cal.previous_business_day(cal.local_date(due))
    at = cal.instant(day, minute)
    return at if opens_at < at < due else None


# -- people and places --------------------------------------------------------------------------


def resolve_person(
    directory: Directory,
    slot: SlotRef,
    at: datetime,
    overrides: Sequence[Override] = (),
    pipeline: str | None = None,
) -> str:
    """The person in ``slot`` at ``at``.

    A negative offset on a rotation slot means "the holder that many weeks ago": it is the slot's
    holder (overrides applied) at the last instant of that earlier week, so ``data-eng:R2-1`` at
    Monday's handoff is whoever held R2 just before it (the outgoing Engagement primary).
    """
    if slot.rotation != PERSON_SLOT and slot.offset < 0:
        rotation = directory.rotations[slot.rotation]
        tz = ZoneInfo(directory.calendar.timezone)
        k = week_index(rotation, at, tz)
        last_instant = week_start(rotation, k + slot.offset + 1, tz) - _TINY
        seat = SlotRef(slot.rotation, slot.role, 0)
        return resolve_slot(directory, seat, last_instant, overrides, pipeline).person
    return resolve_slot(directory, slot, at, overrides, pipeline).person


def resolve_assignees(
    directory: Directory, rw: RecurringWork, at: datetime, overrides: Sequence[Override] = ()
) -> tuple[str, ...]:
    """The definition's assignees as distinct person ids at ``at``, in the seed's order."""
    people: dict[str, None] = {}
    for slot in rw.assignees:
        people[resolve_person(directory, slot, at, overrides, rw.pipeline)] = None
    return tuple(people)


def channel_of(directory: Directory, rw: RecurringWork) -> str | None:
    """Where an occurrence is posted: the definition's channel, else its pipeline's, else the
    announcement channel; None for a meeting (a group DM to its assignees)."""
    if rw.kind == MEETING:
        return None
    if rw.channel:
        return rw.channel
    if rw.pipeline and rw.pipeline in directory.pipelines and directory.pipelines[rw.pipeline].channel:
        return directory.pipelines[rw.pipeline].channel
    return directory.announcement_channel


def occurrence_key(directory: Directory, rw: RecurringWork, period: str) -> str:
    """``definition/target/period``: deterministic, the claim key."""
    channel = channel_of(directory, rw)
    target = rw.pipeline or (channel.lstrip("#") if channel else "dm")
    return f"{rw.id}/{target}/{period}"


# -- occurrences ----------------------------------------------------------------------------------


def _build(
    directory: Directory,
    cal: CompanyCalendar,
    rw: RecurringWork,
    opening: _Opening,
    overrides: Sequence[Override],
    with_assignees: bool,
) -> Occurrence:
    at = cal.instant(opening.day, minute_of(rw.opens.get("time")))
    due = None
    if rw.due:
        week_first = oncall_week_first(directory, cal.tz, opening.nominal) if rw.due.get("rule") == "weekday_of_week" \
            else None
        due = due_instant(cal, rw.due, opening, at, week_first)
    m_start = m_end = None
    if rw.kind == MEETING and rw.meeting is not None:
        m_start, m_end = meeting_slot(cal, rw.meeting, opening.day, oncall_week_first(directory, cal.tz, opening.day),
                                      oncall_week_days(directory))
    reminder = None
    if rw.kind == CHECKLIST and due is not None and rw.reminder_minute is not None:
        reminder = reminder_instant(cal, at, due, rw.reminder_minute)
    return Occurrence(
        key=occurrence_key(directory, rw, opening.period),
        definition=rw.id,
        kind=rw.kind,
        title=rw.title,
        period=opening.period,
        at=at,
        due=due,
        pipeline=rw.pipeline,
        assignees=resolve_assignees(directory, rw, at, overrides) if with_assignees else (),
        channel=channel_of(directory, rw),
        meeting_start=m_start,
        meeting_end=m_end,
        reminder_at=reminder,
    )


def occurrences(
    directory: Directory,
    cal: CompanyCalendar,
    start: datetime,
    end: datetime,
    overrides: Sequence[Override] = (),
    definitions: Iterable[str] | None = None,
    *,
    with_assignees: bool = True,
) -> list[Occurrence]:
    """Every occurrence opening in ``[start, end)``, sorted by opening, then definition id.

    ``definitions`` limits to those ids (default: all). ``with_assignees=False`` leaves
    ``assignees`` empty (cheaper, for "is anything due?" passes; see :func:`with_assignees`).
    """
    start = require_aware(start, "start").astimezone(UTC)
    end = require_aware(end, "end").astimezone(UTC)
    if end <= start:
        return []
    wanted = None if definitions is None else set(definitions)
    out: list[Occurrence] = []
    for rw in directory.recurring.values():
        if wanted is None or rw.id in wanted:
            out += definition_occurrences(directory, cal, rw, start, end, overrides, with_assignees=with_assignees)
    out.sort(key=lambda o: (o.at, o.definition, o.key))
    return out


def definition_occurrences(
    directory: Directory,
    cal: CompanyCalendar,
    rw: RecurringWork,
    start: datetime,
    end: datetime,
    overrides: Sequence[Override] = (),
    *,
    with_assignees: bool = True,
) -> list[Occurrence]:
    """The occurrences of one definition opening in ``[start, end)``, in opening order."""
    start = require_aware(start, "start").astimezone(UTC)
    end = require_aware(end, "end").astimezone(UTC)
    if end <= start:
        return []
    first = cal.local_date(start) - _MARGIN
    last = cal.local_date(end) + _MARGIN
    minute = minute_of(rw.opens.get("time"))
    out: list[Occurrence] = []
    for opening in _openings(cal, rw.opens, first, last):
        at = cal.instant(opening.day, minute)
        if start <= at < end:
            out.append(_build(directory, cal, rw, opening, overrides, with_assignees))
    out.sort(key=lambda o: o.at)
    return out


def with_assignees(directory: Directory, occ: Occurrence, overrides: Sequence[Override] = ()) -> Occurrence:
    """``occ`` with its assignees resolved (for occurrences listed ``with_assignees=False``)."""
    from dataclasses import replace

    rw = directory.recurring[occ.definition]
    return replace(occ, assignees=resolve_assignees(directory, rw, occ.at, overrides))


def lookback(rw: RecurringWork, grace: timedelta = DEFAULT_GRACE) -> timedelta:
    """How far before now an occurrence of ``rw`` can have opened and still be deliverable: the
    grace for announcements and meetings, the longest opening-to-due span its rules allow for
    checklists."""
    if rw.kind != CHECKLIST or rw.due is None:
        return grace
    due_rule = rw.due.get("rule")
    if due_rule == "same_day":
        return timedelta(days=1)
    if due_rule in ("weekday_of_week", "weekly"):
        return timedelta(days=14)
    return timedelta(days=62)


def occurrence_of_key(
    directory: Directory, cal: CompanyCalendar, key: str, overrides: Sequence[Override] = ()
) -> Occurrence | None:
    """The occurrence a key names (None if the definition is gone or the period is unreadable)."""
    definition, _, rest = key.partition("/")
    _target, _, period = rest.rpartition("/")
    rw = directory.recurring.get(definition)
    if rw is None or not period:
        return None
    try:
        if len(period) == 7:
            nominal = date.fromisoformat(period + "-01")
            first, last = nominal, _month_day(nominal.year, nominal.month, 31)
        else:
            first = last = date.fromisoformat(period)
    except ValueError:
        return None
    for opening in _openings(cal, rw.opens, first, last):
        if opening.period == period:
            return _build(directory, cal, rw, opening, overrides, True)
    return None
