"""CompanyCalendar: holidays, day types, month-end weeks, business days, local instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.core.calendar import CompanyCalendar
from bot.core.model import CalendarSpec, DayType

from .helpers import CAL, NY, ny, utc


@pytest.mark.parametrize(
    ("d", "name"),
    [
        (date(2026, 7, 3), "Independence Day (observed)"),
        (date(2026, 7, 4), "Independence Day"),
        (date(2026, 11, 26), "Thanksgiving Day"),
        (date(2026, 11, 27), "Day after Thanksgiving"),
        (date(2026, 12, 25), "Christmas Day"),
        (date(2027, 12, 24), "Christmas Day (observed)"),
        (date(2027, 12, 31), "New Year's Day (observed)"),
        (date(2027, 11, 26), "Day after Thanksgiving"),
        (date(2027, 1, 18), "Martin Luther King Jr. Day"),
    ],
)
def test_holidays_in_english_with_observed_and_extra_days(d: date, name: str) -> None:
    assert CAL.holiday(d) == name
    assert CAL.day_type(d) is DayType.HOLIDAY
    assert not CAL.is_business_day(d)


def test_ordinary_days() -> None:
    assert CAL.holiday(date(2026, 7, 2)) is None
    assert CAL.day_type(date(2026, 7, 2)) is DayType.BUSINESS
    assert CAL.day_type(date(2026, 11, 28)) is DayType.WEEKEND  # Saturday after Thanksgiving
    assert CAL.day_type(date(2026, 11, 29)) is DayType.WEEKEND
    assert CAL.is_business_day(date(2026, 11, 30))
    assert CAL.holiday(date(2028, 11, 24)) is None  # the extra day is only listed for 2026 and 2027


def test_holiday_beats_weekend() -> None:
    assert date(2026, 7, 4).weekday() == 5
    assert CAL.day_type(date(2026, 7, 4)) is DayType.HOLIDAY


def test_extra_day_on_a_library_holiday_joins_names() -> None:
    spec = CalendarSpec("America/New_York", "US", None, ((date(2026, 12, 25), "Office closed"),))
    cal = CompanyCalendar.from_spec(spec)
    assert cal.holiday(date(2026, 12, 25)) == "Christmas Day; Office closed"


@pytest.mark.parametrize(
    ("d", "inside"),
    [
        (date(2026, 11, 23), False),
        (date(2026, 11, 24), True),
        (date(2026, 11, 30), True),
        (date(2026, 12, 1), False),
        (date(2027, 2, 21), False),
        (date(2027, 2, 22), True),
        (date(2027, 2, 28), True),
        (date(2028, 2, 22), False),  # leap year: 23-29 Feb
        (date(2028, 2, 23), True),
        (date(2028, 2, 29), True),
        (date(2026, 12, 24), False),
        (date(2026, 12, 25), True),
    ],
)
def test_month_end_week(d: date, inside: bool) -> None:
    assert CAL.is_month_end_week(d) is inside


def _independent_nth(year: int, month: int, n: int) -> date:
    """Count business days by hand: weekday and no holiday name."""
    count = 0
    for day in range(1, 32):
        try:
            d = date(year, month, day)
        except ValueError:
            break
        if d.weekday() < 5 and CAL.holiday(d) is None:
            count += 1
            if count == n:
                return d
    raise AssertionError


@pytest.mark.parametrize(
    ("year", "month", "n", "expected"),
    [
        (2026, 12, 1, date(2026, 12, 1)),  # Tuesday the 1st counts
        (2026, 12, 3, date(2026, 12, 3)),
        (2026, 11, 1, date(2026, 11, 2)),  # the 1st is a Sunday
        (2026, 11, 3, date(2026, 11, 4)),
        (2027, 1, 1, date(2027, 1, 4)),  # New Year's Day on a Friday
        (2027, 1, 3, date(2027, 1, 6)),
        (2026, 7, 3, date(2026, 7, 6)),  # July 3 observed holiday
    ],
)
def test_nth_business_day(year: int, month: int, n: int, expected: date) -> None:
    assert CAL.nth_business_day(year, month, n) == expected
    assert _independent_nth(year, month, n) == expected


def test_nth_business_day_out_of_range() -> None:
    with pytest.raises(ValueError):
        CAL.nth_business_day(2026, 12, 30)
    with pytest.raises(ValueError):
        CAL.nth_business_day(2026, 12, 0)


def test_next_and_previous_business_day() -> None:
    assert CAL.next_business_day(date(2026, 11, 25)) == date(2026, 11, 30)  # over Thanksgiving + extra day
    assert CAL.next_business_day(date(2027, 1, 15)) == date(2027, 1, 19)  # MLK Monday
    assert CAL.next_business_day(date(2026, 12, 1)) == date(2026, 12, 2)  # strictly after
    assert CAL.previous_business_day(date(2026, 11, 30)) == date(2026, 11, 25)
    assert CAL.previous_business_day(date(2026, 7, 6)) == date(2026, 7, 2)
    assert CAL.previous_business_day(date(2026, 12, 2)) == date(2026, 12, 1)  # strictly before


def test_month_end_week_business_days() -> None:
    assert CAL.month_end_week_business_days(2026, 11) == [
        date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 30),
    ]
    assert CAL.month_end_week_business_days(2027, 12) == [
        date(2027, 12, 27), date(2027, 12, 28), date(2027, 12, 29), date(2027, 12, 30),
    ]  # 25 Dec Saturday, 24 observed (outside the week anyway), 31 New Year's observed
    assert CAL.month_end_week_business_days(2028, 2) == [
        date(2028, 2, 23), date(2028, 2, 24), date(2028, 2, 25), date(2028, 2, 28), date(2028, 2, 29),
    ]


def test_deadline_on_or_before() -> None:
    assert CAL.deadline_on_or_before(date(2026, 12, 25)) == date(2026, 12, 24)
    assert CAL.deadline_on_or_before(date(2027, 12, 25)) == date(2027, 12, 23)  # 24th observed Christmas
    assert CAL.deadline_on_or_before(date(2026, 11, 27)) == date(2026, 11, 25)
    assert CAL.deadline_on_or_before(date(2026, 12, 4)) == date(2026, 12, 4)


def test_local_date_and_to_local() -> None:
    at = utc(2026, 12, 1, 3, 30)  # 22:30 the evening before in New York
    assert CAL.local_date(at) == date(2026, 11, 30)
    assert CAL.to_local(at) == ny(2026, 11, 30, 22, 30)
    assert CAL.to_local(at).tzinfo is NY
    with pytest.raises(ValueError):
        CAL.local_date(datetime(2026, 12, 1, 3, 30))


def test_instant_builds_local_wall_clock_across_dst() -> None:
    assert CAL.instant(date(2027, 3, 13), 9 * 60) == utc(2027, 3, 13, 14)  # EST
    assert CAL.instant(date(2027, 3, 14), 9 * 60) == utc(2027, 3, 14, 13)  # EDT, same wall clock
    assert CAL.instant(date(2027, 11, 6), 9 * 60) == utc(2027, 11, 6, 13)
    assert CAL.instant(date(2027, 11, 7), 9 * 60) == utc(2027, 11, 7, 14)
    assert CAL.instant(date(2027, 3, 14), 0).tzinfo is UTC


def test_instant_policy_for_missing_and_repeated_times() -> None:
    # 02:30 does not exist on 2027-03-14: fold=0 reads it with EST, i.e. 03:30 EDT
    assert CAL.instant(date(2027, 3, 14), 150) == utc(2027, 3, 14, 7, 30)
    assert CAL.to_local(CAL.instant(date(2027, 3, 14), 150)).time() == time(3, 30)
    # 01:30 happens twice on 2027-11-07: the first (EDT) occurrence
    assert CAL.instant(date(2027, 11, 7), 90) == utc(2027, 11, 7, 5, 30)


def test_instant_1440_is_next_midnight_and_days_have_dst_lengths() -> None:
    assert CAL.instant(date(2027, 3, 13), 1440) == CAL.instant(date(2027, 3, 14), 0)
    day = CAL.instant(date(2027, 3, 14), 1440) - CAL.instant(date(2027, 3, 14), 0)
    assert day.total_seconds() == 23 * 3600
    day = CAL.instant(date(2027, 11, 7), 1440) - CAL.instant(date(2027, 11, 7), 0)
    assert day.total_seconds() == 25 * 3600
    with pytest.raises(ValueError):
        CAL.instant(date(2027, 3, 14), 1441)


def test_at_time_keeps_seconds() -> None:
    assert CAL.at_time(date(2026, 12, 1), time(9, 0, 30)) == utc(2026, 12, 1, 14, 0).replace(second=30)


def test_holiday_table_is_built_once_per_year() -> None:
    cal = CompanyCalendar.from_spec(CAL.spec)
    cal.holiday(date(2026, 1, 1))
    table = cal._holidays[2026]
    cal.day_type(date(2026, 5, 5))
    cal.is_business_day(date(2026, 6, 6))
    assert cal._holidays[2026] is table
    assert set(cal._holidays) == {2026}
