"""oncall_at and schedule at explicit instants (America/New_York)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.core.answer import OnCallAnswer
from bot.core.coverage import UnknownPipeline, oncall_at, schedule
from bot.core.model import DayType, Override
from bot.core.rotation import week_index

from .helpers import CAL, DIRECTORY, NY, US, de, ny, utc, who


def answer(pipeline: str, at: datetime, overrides: tuple[Override, ...] = ()) -> OnCallAnswer:
    return oncall_at(DIRECTORY, CAL, pipeline, at, overrides)


def window_at(pipeline: str, at: datetime) -> str | None:
    return answer(pipeline, at).window


# (pipeline, local date, start, end, window, window 1 µs before start, window at end)
EDGES = [
    ("profit", date(2026, 12, 1), "08:00", "18:00", "weekday", None, None),
    ("profit", date(2026, 12, 5), "09:00", "15:00", "weekend-holiday-support", None, None),
    ("profit", date(2026, 11, 26), "09:00", "15:00", "weekend-holiday-support", None, None),
    ("growth", date(2026, 12, 1), "09:00", "17:00", "business-hours", None, None),
    ("engagement", date(2026, 12, 1), "08:00", "18:00", "weekday", None, None),
    ("engagement", date(2026, 12, 5), "00:00", "24:00", "weekend-holiday", None, "weekend-holiday"),
    ("engagement", date(2026, 12, 6), "00:00", "24:00", "weekend-holiday", "weekend-holiday", None),
    ("engagement", date(2026, 11, 26), "00:00", "24:00", "weekend-holiday", None, "weekend-holiday"),
    ("aggregate-profit-growth", date(2026, 11, 24), "08:00", "18:00", "month-end-focus", None, None),
    ("aggregate-profit-growth", date(2026, 12, 1), "09:00", "17:00", "weekday", None, None),
    ("aggregate-profit-growth", date(2026, 12, 5), "09:00", "17:00", "weekend-holiday", None, None),
    ("aggregate-engagement", date(2026, 11, 24), "08:00", "18:00", "month-end-focus", None, None),
    ("aggregate-engagement", date(2026, 12, 1), "09:00", "17:00", "weekday", None, None),
    ("aggregate-engagement", date(2026, 12, 5), "09:00", "17:00", "weekend-holiday", None, None),
    ("aggregate-engagement", date(2026, 11, 28), "09:00", "17:00", "weekend-holiday", None, None),
]


def _minute(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


@pytest.mark.parametrize(("pipeline", "d", "start", "end", "window", "before", "after"), EDGES)
def test_window_edges(
    pipeline: str, d: date, start: str, end: str, window: str, before: str | None, after: str | None
) -> None:
    t0, t1 = CAL.instant(d, _minute(start)), CAL.instant(d, _minute(end))
    assert t0 == datetime.combine(d, datetime.min.time(), tzinfo=NY).astimezone(UTC) + timedelta(
        minutes=_minute(start)
    )  # no DST change on these dates
    a = answer(pipeline, t0)
    assert a.covered and a.window == window
    assert a.window_label
    assert a.after_hours is None
    assert window_at(pipeline, t0 - US) == before
    assert window_at(pipeline, t1 - US) == window
    assert window_at(pipeline, t1) == after


def _k(at: datetime) -> int:
    return week_index(DIRECTORY.rotations["finance"], at, NY)


# (pipeline, instant, window, primary, secondary) with holders from the rules' formulas
HOLDERS = [
    ("profit", ny(2026, 12, 1, 10), "weekday", "fin2", de(4, 1)),
    ("profit", ny(2026, 12, 5, 10), "weekend-holiday-support", de(4, 1), de(4, 2)),
    ("growth", ny(2026, 12, 1, 10), "business-hours", "acc1", de(4, 1)),
    ("engagement", ny(2026, 12, 1, 10), "weekday", de(4, 2), "fe2"),
    ("engagement", ny(2026, 12, 5, 10), "weekend-holiday", "fe2", de(4, 2)),
    ("aggregate-profit-growth", ny(2026, 12, 1, 10), "weekday", "ba1", de(4, 3)),
    ("aggregate-profit-growth", ny(2026, 11, 24, 8), "month-end-focus", "ba2", de(3, 3)),
    ("aggregate-engagement", ny(2026, 12, 1, 10), "weekday", "ba1", de(4, 4)),
    ("aggregate-engagement", ny(2026, 11, 24, 17, 30), "month-end-focus", "ba2", de(3, 4)),
    ("aggregate-engagement", ny(2026, 12, 5, 16), "weekend-holiday", "ba1", de(4, 4)),
]


@pytest.mark.parametrize(("pipeline", "at", "window", "primary", "secondary"), HOLDERS)
def test_holders(pipeline: str, at: datetime, window: str, primary: str, secondary: str) -> None:
    a = answer(pipeline, at)
    assert (a.window, who(a.primary), who(a.secondary)) == (window, primary, secondary)
    assert a.primary is not None and a.primary.via_override is None


def test_handoff_monday_nov_30() -> None:
    before, after = ny(2026, 11, 30, 8, 59, 59), ny(2026, 11, 30, 9)
    a = answer("profit", before)
    assert (who(a.primary), who(a.secondary)) == ("fin1", "de4")  # week 3
    assert a.until == utc(2026, 11, 30, 14)
    assert a.next is not None and (a.next.window, who(a.next.primary), who(a.next.secondary)) == (
        "weekday", "fin2", "de1")
    b = answer("profit", after)
    assert (who(b.primary), who(b.secondary)) == ("fin2", "de1")  # week 4: 4 mod 3, de((0+4) mod 4 + 1)
    assert b.until == ny(2026, 11, 30, 18)
    assert b.next is not None and b.next.window is None and b.next.primary is None


def test_week_minus_one() -> None:
    a = answer("profit", ny(2026, 10, 30, 10))  # Friday before the anchor: week -1
    assert _k(ny(2026, 10, 30, 10)) == -1
    assert (who(a.primary), who(a.secondary)) == ("fin3", de(-1, 1))
    assert de(-1, 1) == "de4"


def test_answers_are_utc_and_complete() -> None:
    a = answer("engagement", ny(2026, 12, 1, 10))
    assert a.pipeline == "engagement"
    assert a.at == ny(2026, 12, 1, 10) and a.at.tzinfo is UTC
    assert a.day_type is DayType.BUSINESS and a.holiday is None
    assert a.window_label == "weekday 08:00-18:00"
    assert a.until is not None and a.until.tzinfo is UTC
    assert a.next is not None and a.next.at == a.until


def test_month_end_edges() -> None:
    assert window_at("aggregate-engagement", ny(2026, 11, 23, 8)) is None
    assert window_at("aggregate-engagement", ny(2026, 11, 23, 9)) == "weekday"
    assert window_at("aggregate-engagement", ny(2026, 11, 24, 8)) == "month-end-focus"
    assert window_at("aggregate-profit-growth", ny(2027, 2, 19, 8)) is None  # Friday before the week
    assert window_at("aggregate-profit-growth", ny(2027, 2, 22, 8)) == "month-end-focus"
    assert window_at("aggregate-profit-growth", ny(2028, 2, 22, 8)) is None  # leap year: not yet
    assert window_at("aggregate-profit-growth", ny(2028, 2, 22, 9)) == "weekday"
    assert window_at("aggregate-profit-growth", ny(2028, 2, 23, 8)) == "month-end-focus"
    assert window_at("aggregate-profit-growth", ny(2028, 2, 29, 17, 59)) == "month-end-focus"
    assert window_at("aggregate-profit-growth", ny(2028, 3, 1, 8)) is None


@pytest.mark.parametrize(
    ("at", "holiday"),
    [
        (ny(2026, 7, 3, 10), "Independence Day (observed)"),
        (ny(2027, 12, 24, 10), "Christmas Day (observed)"),
        (ny(2026, 11, 26, 10), "Thanksgiving Day"),
        (ny(2026, 11, 27, 10), "Day after Thanksgiving"),
        (ny(2026, 12, 25, 10), "Christmas Day"),
    ],
)
def test_holidays_get_weekend_coverage(at: datetime, holiday: str) -> None:
    k = _k(at)
    profit = answer("profit", at)
    assert profit.day_type is DayType.HOLIDAY and profit.holiday == holiday
    assert profit.window == "weekend-holiday-support"
    assert (who(profit.primary), who(profit.secondary)) == (de(k, 1), de(k, 2))
    growth = answer("growth", at)
    assert not growth.covered and growth.after_hours is not None
    assert growth.after_hours.action == "queue_next_business_day"
    eng = answer("engagement", at)
    assert eng.window == "weekend-holiday"
    assert who(eng.primary) == ["fe1", "fe2", "fe3"][k % 3]


def test_thanksgiving_engagement_runs_through_to_monday() -> None:
    a = answer("engagement", ny(2026, 11, 26, 3))
    assert a.window == "weekend-holiday" and (who(a.primary), who(a.secondary)) == ("fe1", "de1")
    assert a.until == ny(2026, 11, 30, 0)  # Thu, Fri (extra day), Sat, Sun: one answer
    assert a.next is not None and a.next.window is None


def test_growth_queue_friday_evening_to_monday() -> None:
    a = answer("growth", ny(2026, 12, 4, 17))
    assert not a.covered and a.after_hours is not None
    ah = a.after_hours
    assert ah.action == "queue_next_business_day"
    assert ah.page_now is None
    assert ah.queued_until == ny(2026, 12, 7, 9) and ah.queued_until.tzinfo is UTC
    assert who(ah.queued_for) == de(5, 1)  # R1 when the queue is worked (week 5)
    assert who(ah.critical) == de(4, 1)  # paged now: this week's R1
    assert a.until == ny(2026, 12, 7, 9)
    assert a.next is not None and (a.next.window, who(a.next.primary), who(a.next.secondary)) == (
        "business-hours", "acc2", de(5, 1))


@pytest.mark.parametrize(
    ("at", "queued_until"),
    [
        (ny(2027, 1, 15, 17), ny(2027, 1, 19, 9)),  # Monday is MLK day
        (ny(2027, 2, 12, 18), ny(2027, 2, 16, 9)),  # Monday is Washington's Birthday
        (ny(2026, 12, 8, 7), ny(2026, 12, 8, 9)),  # business day, before 09:00: today
        (ny(2026, 12, 8, 17), ny(2026, 12, 9, 9)),
        (ny(2026, 11, 27, 10), ny(2026, 11, 30, 9)),  # holiday
        (ny(2026, 11, 25, 20), ny(2026, 11, 30, 9)),  # over Thanksgiving and the extra day
    ],
)
def test_growth_queue_dates(at: datetime, queued_until: datetime) -> None:
    a = answer("growth", at)
    assert a.after_hours is not None and a.after_hours.queued_until == queued_until
    assert a.until == queued_until


def test_profit_critical_after_hours_pages_r1() -> None:
    a = answer("profit", ny(2026, 11, 28, 20))  # Saturday evening, week 3
    assert not a.covered and a.after_hours is not None
    assert who(a.after_hours.critical) == de(3, 1) == "de4"
    assert a.after_hours.critical is not None and str(a.after_hours.critical.slot) == "data-eng:R1"
    assert who(a.after_hours.page_now) == de(3, 2)  # next window's (Sunday 09:00) secondary
    assert a.until == ny(2026, 11, 29, 9)
    b = answer("profit", ny(2026, 12, 1, 19))  # weekday evening
    assert b.after_hours is not None and who(b.after_hours.critical) == de(4, 1)
    assert who(b.after_hours.page_now) == de(4, 1)  # secondary of Wednesday's weekday window


def test_other_pipelines_page_the_next_windows_secondary() -> None:
    a = answer("engagement", ny(2026, 11, 30, 7))  # Monday before 08:00, still week 3
    assert a.after_hours is not None and a.after_hours.action == "page_next_secondary"
    assert who(a.after_hours.page_now) == "fe1"
    assert a.after_hours.critical is None
    assert a.next is not None and (a.next.window, who(a.next.primary)) == ("weekday", de(3, 2))
    b = answer("aggregate-profit-growth", ny(2026, 12, 1, 7))
    assert b.after_hours is not None and who(b.after_hours.page_now) == de(4, 3)


def test_until_and_next_chain() -> None:
    a = answer("engagement", ny(2026, 12, 4, 17))
    assert a.until == ny(2026, 12, 4, 18) and a.next is not None and a.next.window is None
    b = answer("engagement", a.until)
    assert not b.covered and b.until == ny(2026, 12, 5)
    assert b.next is not None and (b.next.window, who(b.next.primary), who(b.next.secondary)) == (
        "weekend-holiday", "fe2", de(4, 2))
    c = answer("engagement", b.until)
    assert c.until == ny(2026, 12, 7)  # Sat + Sun as one answer


def test_spring_forward_2027() -> None:
    sat = answer("engagement", ny(2027, 3, 13, 0))
    assert sat.at == utc(2027, 3, 13, 5) and sat.window == "weekend-holiday"
    assert sat.until == utc(2027, 3, 15, 4)  # Monday 00:00 EDT
    mon = answer("engagement", utc(2027, 3, 15, 12))  # 08:00 EDT
    assert mon.window == "weekday" and mon.until == utc(2027, 3, 15, 13)  # handoff 09:00 EDT
    k = _k(utc(2027, 3, 15, 13))
    assert who(mon.primary) == de(k - 1, 2)
    assert mon.next is not None and who(mon.next.primary) == de(k, 2)
    assert window_at("engagement", utc(2027, 3, 15, 12) - US) is None
    assert window_at("profit", utc(2027, 3, 14, 13)) == "weekend-holiday-support"  # 09:00 EDT
    assert window_at("profit", utc(2027, 3, 14, 13) - US) is None
    assert window_at("profit", utc(2027, 3, 13, 14)) == "weekend-holiday-support"  # 09:00 EST
    assert window_at("profit", utc(2027, 3, 13, 14) - US) is None
    segs = schedule(DIRECTORY, CAL, "engagement", ny(2027, 3, 12, 12), utc(2027, 3, 15, 12))
    assert [(s.start, s.end, s.window) for s in segs] == [
        (utc(2027, 3, 12, 17), utc(2027, 3, 12, 23), "weekday"),
        (utc(2027, 3, 12, 23), utc(2027, 3, 13, 5), None),
        (utc(2027, 3, 13, 5), utc(2027, 3, 15, 4), "weekend-holiday"),  # 47 hours
        (utc(2027, 3, 15, 4), utc(2027, 3, 15, 12), None),
    ]


def test_fall_back_2027() -> None:
    segs = schedule(DIRECTORY, CAL, "engagement", ny(2027, 11, 6), ny(2027, 11, 8, 10))
    assert [(s.start, s.end, s.window) for s in segs] == [
        (utc(2027, 11, 6, 4), utc(2027, 11, 8, 5), "weekend-holiday"),  # 49 hours
        (utc(2027, 11, 8, 5), utc(2027, 11, 8, 13), None),
        (utc(2027, 11, 8, 13), utc(2027, 11, 8, 14), "weekday"),  # 08:00 EST
        (utc(2027, 11, 8, 14), utc(2027, 11, 8, 15), "weekday"),  # handoff 09:00 EST
    ]
    assert segs[2].primary is not None and segs[3].primary is not None
    assert segs[2].primary.person != segs[3].primary.person
    assert window_at("profit", utc(2027, 11, 7, 14)) == "weekend-holiday-support"  # 09:00 EST
    assert window_at("profit", utc(2027, 11, 7, 14) - US) is None
    assert window_at("profit", utc(2027, 11, 6, 13)) == "weekend-holiday-support"  # 09:00 EDT


def test_schedule_tiles_a_week() -> None:
    start, end = ny(2026, 11, 30), ny(2026, 12, 7)
    segs = schedule(DIRECTORY, CAL, "profit", start, end)
    assert segs[0].start == start and segs[-1].end == end
    assert all(a.end == b.start for a, b in itertools.pairwise(segs))
    assert [(s.start.astimezone(NY).strftime("%a %H:%M"), s.window) for s in segs[:5]] == [
        ("Mon 00:00", None),
        ("Mon 08:00", "weekday"),
        ("Mon 09:00", "weekday"),
        ("Mon 18:00", None),
        ("Tue 08:00", "weekday"),
    ]
    assert schedule(DIRECTORY, CAL, "profit", end, start) == []


def test_overrides_change_the_answer_and_until() -> None:
    t0 = utc(2026, 11, 1)
    o1 = Override(1, ny(2026, 12, 1, 12), ny(2026, 12, 1, 13), "fin3", t0, rotation="finance")
    o2 = Override(2, ny(2026, 12, 1, 12, 30), ny(2026, 12, 1, 14), "risk1", t0 + US, rotation="finance")
    a = answer("profit", ny(2026, 12, 1, 10), (o1, o2))
    assert who(a.primary) == "fin2" and a.until == ny(2026, 12, 1, 12)
    assert a.next is not None and a.next.primary is not None
    assert (a.next.primary.person, a.next.primary.via_override) == ("fin3", 1)
    b = answer("profit", ny(2026, 12, 1, 12, 45), (o1, o2))
    assert b.primary is not None and (b.primary.person, b.primary.via_override) == ("risk1", 2)
    assert b.until == ny(2026, 12, 1, 14)
    # person-level: de1 (R1, profit's secondary) is away; pipeline-level: someone covers growth
    away = Override(3, ny(2026, 12, 1), ny(2026, 12, 2), "de3", t0, replaces="de1")
    c = answer("profit", ny(2026, 12, 1, 10), (away,))
    assert c.secondary is not None and (c.secondary.person, c.secondary.via_override) == ("de3", 3)
    cover = Override(4, ny(2026, 12, 1), ny(2026, 12, 2), "risk1", t0, pipeline="growth")
    g = answer("growth", ny(2026, 12, 1, 10), (cover,))
    assert (who(g.primary), who(g.secondary)) == ("risk1", "risk1")
    assert who(answer("profit", ny(2026, 12, 1, 10), (cover,)).primary) == "fin2"
    segs = schedule(DIRECTORY, CAL, "profit", ny(2026, 12, 1, 8), ny(2026, 12, 1, 18), (o1, o2))
    assert [(s.start, who(s.primary)) for s in segs] == [
        (ny(2026, 12, 1, 8), "fin2"),
        (ny(2026, 12, 1, 12), "fin3"),
        (ny(2026, 12, 1, 12, 30), "risk1"),
        (ny(2026, 12, 1, 14), "fin2"),
    ]


def test_unknown_pipeline_and_naive_instant() -> None:
    with pytest.raises(UnknownPipeline) as err:
        answer("nope", ny(2026, 12, 1))
    assert isinstance(err.value, KeyError)
    assert "nope" in str(err.value)
    with pytest.raises(ValueError):
        answer("profit", datetime(2026, 12, 1, 10))


def test_nothing_changes_within_the_horizon() -> None:
    import dataclasses

    p = DIRECTORY.pipelines["growth"]
    d2 = dataclasses.replace(DIRECTORY, pipelines={"quiet": dataclasses.replace(p, id="quiet", windows=())})
    a = oncall_at(d2, CAL, "quiet", ny(2026, 12, 1, 10))
    assert not a.covered and a.until is None and a.next is None
    assert a.after_hours is not None and a.after_hours.queued_until == ny(2026, 12, 2, 9)
    assert schedule(d2, CAL, "quiet", ny(2026, 12, 1), ny(2027, 1, 1))[0].end == ny(2027, 1, 1)
