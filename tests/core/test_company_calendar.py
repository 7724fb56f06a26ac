"""Calendars of small companies built in code: another country and zone, subdivisions, extra
days, business days at the end of every month length, DST folds, the search limit, caches."""

from __future__ import annotations

import calendar as stdcal
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfoNotFoundError

import pytest

from bot.core import calendar as calmod
from bot.core.calendar import CompanyCalendar, require_aware
from bot.core.model import CalendarSpec, DayType

from .companies import Company

BERLIN = Company().calendar()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_holidays_of_another_country_are_named_in_english() -> None:
    assert BERLIN.holiday(date(2027, 1, 1)) == "New Year's Day"
    assert BERLIN.holiday(date(2027, 10, 3)) == "German Unity Day"
    assert BERLIN.holiday(date(2027, 1, 6)) is None  # Epiphany is not a holiday everywhere in Germany
    us = Company(zone="America/Chicago", country="US").calendar()
    assert us.holiday(date(2026, 7, 3)) == "Independence Day (observed)"  # 4 July is a Saturday
    bavaria = Company(subdivision="BY").calendar()
    assert bavaria.holiday(date(2027, 1, 6)) == "Epiphany"
    assert bavaria.day_type(date(2027, 1, 6)) is DayType.HOLIDAY


def test_holiday_names_are_english_whatever_the_machine_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):  # what gettext reads without a language
        monkeypatch.setenv(var, "de_DE.UTF-8")
    cal = Company().calendar()
    assert cal.holiday(date(2027, 1, 1)) == "New Year's Day"  # not "Neujahr"
    assert cal.holiday(date(2027, 12, 25)) == "Christmas Day"


def test_extra_days_join_only_new_names_and_only_in_their_year() -> None:
    cal = Company(extra_holidays=[
        (date(2026, 6, 1), "Last year's outing"),
        (date(2027, 6, 1), "Outing"),
        (date(2027, 1, 1), "New Year's Day"),
        (date(2027, 10, 3), "Office closed"),
        (date(2028, 6, 1), "Next year's outing"),
    ]).calendar()
    assert cal.holiday(date(2027, 6, 1)) == "Outing"
    assert cal.holiday(date(2027, 1, 1)) == "New Year's Day"
    assert cal.holiday(date(2027, 10, 3)) == "German Unity Day; Office closed"
    assert cal.holiday(date(2026, 6, 1)) == "Last year's outing"
    assert cal.holiday(date(2028, 6, 1)) == "Next year's outing"
    assert cal.holiday(date(2027, 6, 2)) is None
    assert not cal.is_business_day(date(2027, 6, 1))


def test_the_holiday_table_is_built_once_per_year() -> None:
    cal = Company().calendar()
    table = cal._year(2027)
    assert table[date(2027, 1, 1)] == "New Year's Day"
    assert all(d.year == 2027 for d in table)
    cal.day_type(date(2027, 5, 5))
    cal.is_business_day(date(2027, 6, 6))
    cal.holiday(date(2027, 7, 7))
    assert cal._year(2027) is table
    assert cal._year(2028) is not table and cal._year(2028) is cal._year(2028)


def test_day_types_and_business_days() -> None:
    assert BERLIN.day_type(date(2027, 1, 8)) is DayType.BUSINESS  # Friday
    assert BERLIN.day_type(date(2027, 1, 9)) is DayType.WEEKEND
    assert BERLIN.day_type(date(2027, 1, 10)) is DayType.WEEKEND
    assert BERLIN.day_type(date(2027, 3, 26)) is DayType.HOLIDAY
    assert BERLIN.is_business_day(date(2027, 1, 8))
    assert not BERLIN.is_business_day(date(2027, 1, 9))
    assert not BERLIN.is_business_day(date(2027, 1, 1))


def _last_business_day(cal: CompanyCalendar, year: int, month: int) -> tuple[int, date]:
    days = [date(year, month, n) for n in range(1, stdcal.monthrange(year, month)[1] + 1)]
    business = [d for d in days if d.weekday() < 5 and cal.holiday(d) is None]
    return len(business), business[-1]


# months whose last day is a business day, one of each length (28, 29, 30, 31 days)
@pytest.mark.parametrize(("year", "month"), [(2030, 2), (2028, 2), (2026, 11), (2026, 3), (2027, 6), (2027, 12)])
def test_business_days_up_to_the_last_day_of_the_month(year: int, month: int) -> None:
    count, last = _last_business_day(BERLIN, year, month)
    assert last.day == stdcal.monthrange(year, month)[1]
    assert BERLIN.nth_business_day(year, month, count) == last
    assert BERLIN.nth_business_day(year, month, count - 1) == BERLIN.previous_business_day(last)
    with pytest.raises(ValueError, match=rf"^{year}-{month:02d} has only {count} business days, not {count + 1}$"):
        BERLIN.nth_business_day(year, month, count + 1)
    assert BERLIN.month_end_week_business_days(year, month)[-1] == last
    assert BERLIN.deadline_on_or_before(last) == last


def test_nth_business_day_counts_the_first() -> None:
    assert BERLIN.nth_business_day(2027, 2, 1) == date(2027, 2, 1)  # Monday
    assert BERLIN.nth_business_day(2027, 2, 2) == date(2027, 2, 2)
    with pytest.raises(ValueError, match=r"^n must be >= 1, got 0$"):
        BERLIN.nth_business_day(2027, 2, 0)


def test_month_end_week_of_other_lengths() -> None:
    whole = Company(month_end_days=28).calendar()
    feb = whole.month_end_week_business_days(2027, 2)
    assert feb[0] == date(2027, 2, 1) and len(feb) == 20
    assert whole.is_month_end_week(date(2027, 2, 1))
    three = Company(month_end_days=3).calendar()
    assert three.month_end_week_business_days(2027, 1) == [date(2027, 1, 29)]  # 29 Fri, 30 Sat, 31 Sun
    assert not three.is_month_end_week(date(2027, 1, 28))
    assert three.is_month_end_week(date(2027, 1, 29))


def test_the_business_day_search_gives_up_after_400_days() -> None:
    start = date(2027, 1, 4)
    closed = [(start + timedelta(days=i), "Closed") for i in range(1, 401)]
    cal = Company(extra_holidays=closed).calendar()
    with pytest.raises(ValueError, match=r"^no business day within 400 days after 2027-01-04$"):
        cal.next_business_day(start)
    end = start + timedelta(days=401)
    with pytest.raises(ValueError, match=rf"^no business day within 400 days before {end}$"):
        cal.previous_business_day(end)
    almost = Company(extra_holidays=closed[:-1]).calendar()  # days 1-399 closed
    assert almost.next_business_day(start) == date(2028, 2, 8)  # day 400, a Tuesday
    assert almost.previous_business_day(date(2028, 2, 8)) == start


def test_local_dates_and_instants_in_berlin() -> None:
    assert BERLIN.local_date(utc(2026, 12, 31, 23, 30)) == date(2027, 1, 1)
    assert BERLIN.to_local(utc(2026, 12, 31, 23, 30)).tzinfo is BERLIN.tz
    assert BERLIN.day_start(date(2027, 1, 5)) == utc(2027, 1, 4, 23)
    assert BERLIN.instant(date(2027, 1, 5), 9 * 60 + 30) == utc(2027, 1, 5, 8, 30)
    assert BERLIN.instant(date(2027, 1, 5), 1440) == utc(2027, 1, 5, 23)
    assert BERLIN.instant(date(2027, 1, 5), 1440).tzinfo is UTC
    for bad in (-1, 1441):
        with pytest.raises(ValueError, match=rf"^minute must be 0..1440, got {bad}$"):
            BERLIN.instant(date(2027, 1, 5), bad)


def test_dst_fold_instants() -> None:
    cal = Company().calendar()
    # 2027-03-28: 02:00-03:00 does not exist; read with the offset before the gap (CET)
    assert cal.instant(date(2027, 3, 28), 150) == utc(2027, 3, 28, 1, 30)
    assert cal.at_time(date(2027, 3, 28), time(2, 30)) == utc(2027, 3, 28, 1, 30)
    # 2027-10-31: 02:00-03:00 happens twice; the first (CEST) occurrence, whatever fold says
    assert cal.instant(date(2027, 10, 31), 150) == utc(2027, 10, 31, 0, 30)
    for fold in (0, 1):
        assert cal.at_time(date(2027, 10, 31), time(2, 30, 15, fold=fold)) == utc(2027, 10, 31, 0, 30, 15)
    assert cal.at_time(date(2027, 10, 31), time(2, 30, tzinfo=UTC)) == utc(2027, 10, 31, 0, 30)
    assert cal.at_time(date(2027, 10, 31), time(2, 30)).tzinfo is UTC
    assert cal.instant(date(2027, 10, 31), 1440) - cal.instant(date(2027, 10, 31), 0) == timedelta(hours=25)


def test_instant_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calmod, "_INSTANT_CACHE_MAX", 3)
    cal = Company().calendar()
    values = []
    for m in range(0, 600, 60):
        values.append(cal.instant(date(2027, 1, 5), m))
        assert 1 <= len(cal._instants) <= 3
    assert values == [utc(2027, 1, 4, 23) + timedelta(hours=h) for h in range(10)]
    assert [cal.instant(date(2027, 1, 5), m) for m in range(0, 600, 60)] == values


def test_instants_are_computed_once_per_date_and_minute() -> None:
    cal = Company().calendar()
    first = cal.instant(date(2027, 1, 5), 540)
    assert cal.instant(date(2027, 1, 5), 540) is first
    assert cal.day_start(date(2027, 1, 5)) is cal.instant(date(2027, 1, 5), 0)


class _NoOffset(tzinfo):
    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


def test_require_aware() -> None:
    at = utc(2027, 1, 5)
    assert require_aware(at) is at
    with pytest.raises(ValueError, match=r"^instant must be an aware datetime \(got naive 2027-01-05T00:00:00\)$"):
        require_aware(datetime(2027, 1, 5))
    with pytest.raises(ValueError, match=r"^start must be an aware datetime"):
        require_aware(datetime(2027, 1, 5, tzinfo=_NoOffset()), "start")
    with pytest.raises(ValueError):
        BERLIN.local_date(datetime(2027, 1, 5, tzinfo=_NoOffset()))


def test_unknown_zone() -> None:
    with pytest.raises(ZoneInfoNotFoundError):
        CompanyCalendar.from_spec(CalendarSpec("Mars/Olympus", "DE"))
    cal = CompanyCalendar.from_spec(CalendarSpec("Asia/Tokyo", "JP"))
    assert cal.spec.timezone == "Asia/Tokyo" and str(cal.tz) == "Asia/Tokyo"
    assert cal.holiday(date(2027, 1, 1)) == "New Year's Day"
