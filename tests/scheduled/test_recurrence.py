"""Occurrences of the §6 definitions over a year (2026-11-01 .. 2027-11-01): each kind at its
local times, holiday-aware, across DST, with deterministic keys."""

from __future__ import annotations

import calendar as stdcal
from collections import Counter
from datetime import date, timedelta

import holidays
import pytest

from bot.core.model import Override
from bot.core.recurrence import (
    Occurrence,
    definition_occurrences,
    lookback,
    occurrence_of_key,
    occurrences,
    reminder_instant,
)

from .helpers import CAL, DIRECTORY, NY, d, local, ny

START = ny(2026, 11, 1)
END = ny(2027, 11, 1)


@pytest.fixture(scope="module")
def year() -> list[Occurrence]:
    return occurrences(DIRECTORY, CAL, START, END)


def of(year: list[Occurrence], definition: str) -> list[Occurrence]:
    return [o for o in year if o.definition == definition]


def independent_business_days(y: int, m: int) -> list[date]:
    """Business days of a month counted without CompanyCalendar: the holidays package's US table
    (observed) plus the seed's extra days, Monday to Friday."""
    table = holidays.country_holidays("US", years=[y], observed=True)
    extra = {date(2026, 11, 27), date(2027, 11, 26)}
    days = (date(y, m, n) for n in range(1, stdcal.monthrange(y, m)[1] + 1))
    return [x for x in days if x.weekday() < 5 and x not in table and x not in extra]


def test_every_key_is_unique_and_deterministic(year: list[Occurrence]) -> None:
    keys = [o.key for o in year]
    assert len(keys) == len(set(keys))
    again = occurrences(DIRECTORY, CAL, START, END)
    assert [o.key for o in again] == keys
    assert all(o.key.count("/") == 2 for o in year)
    assert "handoff-announcement/data-oncall/2026-11-30" in keys
    assert "profit-month-close/profit/2026-12" in keys


def test_announcement_every_monday_0900_local_across_dst(year: list[Occurrence]) -> None:
    ann = of(year, "handoff-announcement")
    assert len(ann) == 52
    for o in ann:
        assert local(o.at).weekday() == 0
        assert (local(o.at).hour, local(o.at).minute) == (9, 0)
        assert o.channel == "#data-oncall"
        assert o.due is None
    by_day = {local(o.at).date(): o.at for o in ann}
    # DST: 09:00 EST is 14:00 UTC, 09:00 EDT 13:00 UTC; the local time never moves
    assert by_day[d("2026-11-02")].hour == 14
    assert by_day[d("2027-03-08")].hour == 14
    assert by_day[d("2027-03-15")].hour == 13
    assert by_day[d("2027-11-01") - timedelta(days=7)].hour == 13  # 2027-10-25, still EDT
    # holidays do not move the Monday handoff (Memorial Day 2027-05-31 still at 09:00)
    assert d("2027-05-31") in by_day


def test_onboarding_meeting_first_business_day_1000(year: list[Occurrence]) -> None:
    meetings = of(year, "engagement-onboarding")
    assert len(meetings) == 52
    for o in meetings:
        start, end = local(o.meeting_start), local(o.meeting_end)
        assert (start.hour, start.minute, end.hour, end.minute) == (10, 0, 10, 30)
        assert CAL.is_business_day(start.date())
        assert o.channel is None and len(o.assignees) == 3
        monday = local(o.at).date()
        first = next(monday + timedelta(days=i) for i in range(7) if CAL.is_business_day(monday + timedelta(days=i)))
        assert start.date() == first
    moved = {local(o.at).date(): local(o.meeting_start).date() for o in meetings if local(o.meeting_start).weekday()}
    assert moved == {
        d("2027-01-18"): d("2027-01-19"),  # MLK Day
        d("2027-02-15"): d("2027-02-16"),  # Presidents Day
        d("2027-05-31"): d("2027-06-01"),  # Memorial Day: Tuesday 10:00
        d("2027-07-05"): d("2027-07-06"),  # Independence Day (observed)
        d("2027-09-06"): d("2027-09-07"),  # Labor Day
        d("2027-10-11"): d("2027-10-12"),  # Columbus Day
    }
    memorial = next(o for o in meetings if local(o.at).date() == d("2027-05-31"))
    assert local(memorial.meeting_start).isoformat() == "2027-06-01T10:00:00-04:00"


def test_onboarding_attendees_are_outgoing_and_incoming_r2_and_frontend(year: list[Occurrence]) -> None:
    for o in of(year, "engagement-onboarding"):
        k = (local(o.at).date() - d("2026-11-02")).days // 7
        outgoing = f"de{(1 + k - 1) % 4 + 1}"  # R2 last week
        incoming = f"de{(1 + k) % 4 + 1}"  # R2 this week
        frontend = ("fe1", "fe2", "fe3")[k % 3]
        assert o.assignees == (outgoing, incoming, frontend)
        assert outgoing != incoming


def test_outgoing_holder_follows_overrides_of_last_week() -> None:
    # de1 was away the whole week before Nov 30 and de3 covered R2: the outgoing one is de3
    cover = Override(
        1, ny(2026, 11, 23, 9), ny(2026, 11, 30, 9), "de3", ny(2026, 11, 1), rotation="data-eng", role="R2"
    )
    [o] = definition_occurrences(
        DIRECTORY, CAL, DIRECTORY.recurring["engagement-onboarding"], ny(2026, 11, 30), ny(2026, 12, 1), [cover]
    )
    assert o.assignees == ("de3", "de2", "fe2")


def test_profit_month_close_against_an_independent_count(year: list[Occurrence]) -> None:
    closes = of(year, "profit-month-close")
    assert len(closes) == 12
    expected = {  # (1st business day, 3rd business day), counted by hand
        "2026-11": ("2026-11-02", "2026-11-04"),
        "2026-12": ("2026-12-01", "2026-12-03"),
        "2027-01": ("2027-01-04", "2027-01-06"),  # New Year's Day on Friday the 1st
        "2027-02": ("2027-02-01", "2027-02-03"),
        "2027-03": ("2027-03-01", "2027-03-03"),
        "2027-04": ("2027-04-01", "2027-04-05"),
        "2027-05": ("2027-05-03", "2027-05-05"),
        "2027-06": ("2027-06-01", "2027-06-03"),
        "2027-07": ("2027-07-01", "2027-07-06"),  # Independence Day observed Monday the 5th
        "2027-08": ("2027-08-02", "2027-08-04"),
        "2027-09": ("2027-09-01", "2027-09-03"),
        "2027-10": ("2027-10-01", "2027-10-05"),
    }
    for o in closes:
        opens, due = local(o.at), local(o.due)
        assert (opens.hour, due.hour) == (9, 17)
        assert (opens.date().isoformat(), due.date().isoformat()) == expected[o.period]
        counted = independent_business_days(opens.year, opens.month)
        assert (opens.date(), due.date()) == (counted[0], counted[2])
        assert o.assignees[1] == f"de{(local(o.at).date() - d('2026-11-02')).days // 7 % 4 + 1}"  # DE R1
        assert o.reminder_at is not None and local(o.reminder_at).date() == counted[1]


def test_weekly_checklists_due_friday_or_earlier(year: list[Occurrence]) -> None:
    for definition in ("growth-weekly-status", "aggregate-engagement-weekly-review"):
        weekly = of(year, definition)
        assert len(weekly) == 52
        dues = {local(o.at).date(): local(o.due) for o in weekly}
        for monday, due in dues.items():
            friday = monday + timedelta(days=4)
            assert due.hour == 17
            assert due.date() == CAL.deadline_on_or_before(friday)
        assert dues[d("2026-11-23")].date() == d("2026-11-25")  # Thanksgiving Thu + company Fri off
        assert dues[d("2026-12-21")].date() == d("2026-12-24")  # Christmas on a Friday
        assert dues[d("2026-12-28")].date() == d("2026-12-31")  # New Year's Day on a Friday
        assert dues[d("2027-06-14")].date() == d("2027-06-17")  # Juneteenth observed Friday
        assert dues[d("2026-11-30")].date() == d("2026-12-04")


def test_prevalidation_18th_to_25th_moved_off_weekends_and_holidays(year: list[Occurrence]) -> None:
    expected = {  # (opens: 18th or next business day, due: 25th or the business day before)
        "2026-11": ("2026-11-18", "2026-11-25"),
        "2026-12": ("2026-12-18", "2026-12-24"),  # Christmas on a Friday
        "2027-01": ("2027-01-19", "2027-01-25"),  # MLK Day on the 18th
        "2027-02": ("2027-02-18", "2027-02-25"),
        "2027-03": ("2027-03-18", "2027-03-25"),
        "2027-04": ("2027-04-19", "2027-04-23"),  # 18th and 25th on Sundays
        "2027-05": ("2027-05-18", "2027-05-25"),
        "2027-06": ("2027-06-21", "2027-06-25"),  # Juneteenth observed on Friday the 18th
        "2027-07": ("2027-07-19", "2027-07-23"),
        "2027-08": ("2027-08-18", "2027-08-25"),
        "2027-09": ("2027-09-20", "2027-09-24"),  # 18th and 25th on Saturdays
        "2027-10": ("2027-10-18", "2027-10-25"),
    }
    for definition in ("aggregate-profit-growth-prevalidation", "aggregate-engagement-prevalidation"):
        pre = of(year, definition)
        assert len(pre) == 12
        for o in pre:
            opens, due = local(o.at), local(o.due)
            assert (opens.hour, opens.minute, due.hour, due.minute) == (9, 0, 17, 0)
            assert (opens.date().isoformat(), due.date().isoformat()) == expected[o.period], o.key


def test_month_end_daily_checks(year: list[Occurrence]) -> None:
    for definition in ("aggregate-profit-growth-daily", "aggregate-engagement-daily"):
        daily = of(year, definition)
        days = sorted(local(o.at).date() for o in daily)
        for o in daily:
            assert local(o.due).date() == local(o.at).date()
            assert (local(o.at).hour, local(o.due).hour) == (9, 17)
            assert o.reminder_at is None  # opens and is due the same day
        by_month = Counter((x.year, x.month) for x in days)
        assert [x for x in days if x.month == 11 and x.year == 2026] == [
            d("2026-11-24"),
            d("2026-11-25"),
            d("2026-11-30"),
        ]  # Thanksgiving week
        assert [x for x in days if x.month == 12] == [d(f"2026-12-{n}") for n in (28, 29, 30, 31)]
        assert [x for x in days if x.month == 2] == [d(f"2027-02-{n}") for n in (22, 23, 24, 25, 26)]
        assert [x for x in days if x.month == 5] == [d(f"2027-05-{n}") for n in (25, 26, 27, 28)]
        assert len(by_month) == 12
        for x in days:
            assert CAL.is_business_day(x) and CAL.is_month_end_week(x)


def test_reminders_are_0900_one_business_day_before_due(year: list[Occurrence]) -> None:
    for o in year:
        if o.kind != "checklist" or o.reminder_at is None:
            continue
        r = local(o.reminder_at)
        assert (r.hour, r.minute) == (9, 0)
        assert r.date() == CAL.previous_business_day(local(o.due).date())
        assert o.at < o.reminder_at < o.due
    thanksgiving = next(o for o in year if o.key == "growth-weekly-status/growth/2026-11-23")
    assert local(thanksgiving.reminder_at).date() == d("2026-11-24")
    assert reminder_instant(CAL, ny(2026, 11, 24, 9), ny(2026, 11, 24, 17), 9 * 60) is None


def test_february_and_leap_years() -> None:
    leap = occurrences(DIRECTORY, CAL, ny(2028, 2, 1), ny(2028, 3, 1), definitions=["aggregate-engagement-daily"])
    assert [local(o.at).date().day for o in leap] == [23, 24, 25, 28, 29]  # 23-29 Feb 2028
    feb = occurrences(
        DIRECTORY, CAL, ny(2027, 2, 1), ny(2027, 3, 1), definitions=["aggregate-profit-growth-prevalidation"]
    )
    assert [local(o.due).date() for o in feb] == [d("2027-02-25")]


def test_occurrence_of_key_round_trips(year: list[Occurrence]) -> None:
    for o in year[::7]:
        assert occurrence_of_key(DIRECTORY, CAL, o.key) == o
    assert occurrence_of_key(DIRECTORY, CAL, "nope/x/2026-11") is None


def test_grace_and_lookback() -> None:
    ann = DIRECTORY.recurring["handoff-announcement"]
    close = DIRECTORY.recurring["profit-month-close"]
    assert lookback(ann) == timedelta(hours=6)
    assert lookback(close) >= timedelta(days=31)
    [o] = occurrences(DIRECTORY, CAL, ny(2026, 11, 30), ny(2026, 11, 30, 10), definitions=["handoff-announcement"])
    assert o.expires_at() == ny(2026, 11, 30, 15)
    [c] = occurrences(DIRECTORY, CAL, ny(2026, 12, 1), ny(2026, 12, 2), definitions=["profit-month-close"])
    assert c.expires_at() == c.due == ny(2026, 12, 3, 17)


def test_range_is_half_open_and_needs_aware_instants() -> None:
    at = ny(2026, 11, 30, 9)
    assert [o.at for o in occurrences(DIRECTORY, CAL, at, at + timedelta(minutes=1))] != []
    assert occurrences(DIRECTORY, CAL, at - timedelta(minutes=1), at) == []
    with pytest.raises(ValueError):
        occurrences(DIRECTORY, CAL, at.replace(tzinfo=None), at)
    assert NY.key == "America/New_York"


def test_the_reminder_time_is_the_seeds() -> None:
    import dataclasses

    from bot.core.recurrence import occurrences

    rw = DIRECTORY.recurring["growth-weekly-status"]
    assert rw.reminder_minute == 9 * 60  # data/seed.yaml: reminder "09:00"
    early = dataclasses.replace(DIRECTORY, recurring={rw.id: dataclasses.replace(rw, reminder_minute=7 * 60 + 30)})
    none = dataclasses.replace(DIRECTORY, recurring={rw.id: dataclasses.replace(rw, reminder_minute=None)})
    week = (ny(2026, 11, 30, 0), ny(2026, 12, 1, 0))
    [occ] = occurrences(early, CAL, *week)
    assert occ.reminder_at == ny(2026, 12, 3, 7, 30)  # Thursday before Friday's due
    [occ] = occurrences(none, CAL, *week)
    assert occ.reminder_at is None
