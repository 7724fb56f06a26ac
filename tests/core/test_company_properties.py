"""Property tests over generated small companies: any zone, rotations of one to three members with
or without roles and of any period, windows of any day types, hours and month-end condition,
``@person`` slots, no secondary, every after-hours action. The engine's answer is checked against
a direct reading of the windows and the rotation formula, and ``schedule`` against ``oncall_at``."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.answer import Holder
from bot.core.calendar import CompanyCalendar
from bot.core.coverage import oncall_at, schedule
from bot.core.model import AfterHours, AfterHoursAction, DayType, Directory, SlotRef, Window

from .companies import Company

US = timedelta(microseconds=1)
ZONES = [("Europe/Berlin", "DE"), ("America/New_York", "US"), ("Asia/Kolkata", "IN"), ("Australia/Sydney", "AU")]
Key = tuple[str | None, str | None, str | None]


@st.composite
def companies(draw: st.DrawFn) -> tuple[Directory, CompanyCalendar]:
    zone, country = draw(st.sampled_from(ZONES))
    c = Company(zone=zone, country=country, month_end_days=draw(st.integers(1, 10))).team("ops", "#ops")
    slots: list[SlotRef] = [SlotRef("@person", "boss")]
    for r in range(draw(st.integers(1, 3))):
        n = draw(st.integers(1, 3))
        roles = [f"R{j}" for j in range(draw(st.integers(0, min(n, 2))))]
        hours = draw(st.integers(0, 24 * 400))
        anchor = datetime(2026, 6, 1) + timedelta(hours=hours, minutes=draw(st.sampled_from([0, 30])))
        c.rotation(f"rot{r}", [f"m{r}{i}" for i in range(n)], roles=roles, anchor=anchor,
                   period_days=draw(st.sampled_from([1, 7, 14])))
        for offset in (-1, 0, 1):
            slots += [SlotRef(f"rot{r}", role, offset) for role in roles] or [SlotRef(f"rot{r}", None, offset)]
    windows = []
    for i in range(draw(st.integers(1, 3))):
        days = frozenset(draw(st.sets(st.sampled_from(list(DayType)), min_size=1)))
        start = draw(st.integers(0, 47)) * 30
        end = draw(st.integers(start // 30 + 1, 48)) * 30
        windows.append(Window(f"w{i}", days, start, end, draw(st.sampled_from(slots)),
                              draw(st.none() | st.sampled_from(slots)), draw(st.sampled_from([None, True, False]))))
    action = draw(st.sampled_from(["page", "page_next_secondary", "queue_next_business_day"]))
    target = draw(st.none() | st.sampled_from(slots))
    queue_at = draw(st.none() | st.sampled_from([time(8), time(9, 30)]))
    c.pipeline("p", *windows, after=AfterHours(AfterHoursAction(action), target, queue_at))
    return c.build()


instants = st.datetimes(min_value=datetime(2026, 9, 1), max_value=datetime(2028, 3, 31), timezones=st.just(UTC))


def _instant(tz: ZoneInfo, d: date, minute: int) -> datetime:
    day = d + timedelta(days=minute // 1440)
    return datetime.combine(day, time((minute % 1440) // 60, minute % 60), tzinfo=tz).astimezone(UTC)


def _week(directory: Directory, tz: ZoneInfo, rotation: str, at: datetime) -> int:
    rot = directory.rotations[rotation]

    def start(k: int) -> datetime:
        return datetime.combine(rot.anchor.date() + timedelta(days=k * rot.period_days), rot.anchor.time(),
                                tzinfo=tz).astimezone(UTC)

    k = (at.date() - rot.anchor.date()).days // rot.period_days  # a guess; the loops settle it
    while start(k) > at:
        k -= 1
    while start(k + 1) <= at:
        k += 1
    return k


def _holder(directory: Directory, tz: ZoneInfo, s: SlotRef | None, at: datetime) -> str | None:
    if s is None:
        return None
    if s.rotation == "@person":
        return s.role
    rot = directory.rotations[s.rotation]
    j = 0 if s.role is None else [r.id for r in rot.roles].index(s.role)
    return rot.members[(j + _week(directory, tz, s.rotation, at) + s.offset) % len(rot.members)]


def expected(directory: Directory, cal: CompanyCalendar, at: datetime) -> Key:
    """The rules read directly: the first window on the local date's day type (and month-end
    condition) whose local hours contain ``at`` decides; holders by the rotation formula."""
    tz = ZoneInfo(directory.calendar.timezone)
    d = at.astimezone(tz).date()
    holiday = cal.holiday(d) is not None
    day_type = DayType.HOLIDAY if holiday else DayType.WEEKEND if d.weekday() >= 5 else DayType.BUSINESS
    last = (date(d.year + d.month // 12, d.month % 12 + 1, 1) - timedelta(days=1)).day
    month_end = d.day > last - directory.calendar.month_end_days
    for w in directory.pipelines["p"].windows:
        if day_type not in w.days or (w.month_end is not None and w.month_end != month_end):
            continue
        if _instant(tz, d, w.start_minute) <= at < _instant(tz, d, w.end_minute):
            return (w.name, _holder(directory, tz, w.primary, at), _holder(directory, tz, w.secondary, at))
    return (None, None, None)


def _p(h: Holder | None) -> str | None:
    return None if h is None else h.person


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(companies(), instants)
def test_oncall_at_matches_the_windows_read_directly(company: tuple[Directory, CompanyCalendar], at: datetime) -> None:
    directory, cal = company
    a = oncall_at(directory, cal, "p", at)
    assert (a.window, _p(a.primary), _p(a.secondary)) == expected(directory, cal, at)
    assert a.covered == (a.window is not None) == (a.after_hours is None)
    if a.until is not None:
        assert at < a.until <= at + timedelta(days=60)
        assert expected(directory, cal, a.until - US) == expected(directory, cal, at)
        assert a.next is not None
        assert (a.next.window, _p(a.next.primary), _p(a.next.secondary)) == expected(directory, cal, a.until)
        assert (a.next.window, _p(a.next.primary), _p(a.next.secondary)) != expected(directory, cal, at)
    if a.after_hours is not None and a.after_hours.action == "page_next_secondary":
        page = None if a.next is None else (a.next.secondary or a.next.primary)
        assert a.after_hours.page_now == page


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(companies(), instants, st.integers(1, 14 * 24 * 2).map(lambda n: timedelta(minutes=30 * n)))
def test_schedule_tiles_and_matches_the_windows(
    company: tuple[Directory, CompanyCalendar], start: datetime, span: timedelta
) -> None:
    directory, cal = company
    segs = schedule(directory, cal, "p", start, start + span)
    assert segs[0].start == start and segs[-1].end == start + span
    for left, right in itertools.pairwise(segs):
        assert left.end == right.start
        assert (left.window, _p(left.primary), _p(left.secondary)) != (
            right.window, _p(right.primary), _p(right.secondary))
    for s in segs:
        assert s.start < s.end and s.start.tzinfo is UTC and s.end.tzinfo is UTC
        for t in (s.start, s.start + (s.end - s.start) / 2, s.end - US):
            assert (s.window, _p(s.primary), _p(s.secondary)) == expected(directory, cal, t)
        assert s.covered == (s.window is not None)
