"""SLA clocks (issue 12 §4): fix-by instants at the edges (month ends on weekends and holidays,
DST changes, non-existent and ambiguous wall-clock times) and the reminder one business day before."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.core.calendar import CompanyCalendar
from bot.core.model import CalendarSpec, FixKind, FixRule, parse_within
from bot.core.sla import fix_by, last_business_day, reminder_at
from tests.core.helpers import CAL, DIRECTORY, ny, utc

SEVEN_DAYS = FixRule(FixKind.WITHIN_DAYS, 7)
EOM = FixRule(FixKind.END_OF_MONTH)


def test_the_seed_states_the_handbook_slas() -> None:
    assert DIRECTORY.pipelines["engagement"].fix == SEVEN_DAYS
    assert DIRECTORY.pipelines["aggregate-profit-growth"].fix == EOM
    assert DIRECTORY.pipelines["aggregate-engagement"].fix == EOM
    assert DIRECTORY.pipelines["profit"].fix is None
    assert DIRECTORY.pipelines["growth"].fix is None


@pytest.mark.parametrize(("text", "rule"), [
    ("7d", SEVEN_DAYS), ("1w", SEVEN_DAYS), ("48h", FixRule(FixKind.WITHIN_HOURS, 48)),
    (" 2 d", FixRule(FixKind.WITHIN_DAYS, 2)),
])
def test_parse_within(text: str, rule: FixRule) -> None:
    assert parse_within(text) == rule


@pytest.mark.parametrize("text", ["", "7", "0d", "7m", "-1d", "seven days"])
def test_parse_within_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_within(text)


def test_no_rule_no_deadline() -> None:
    assert fix_by(None, ny(2026, 11, 30, 10), CAL) is None
    assert reminder_at(None, ny(2026, 11, 30, 10), CAL) is None


def test_naive_opened_at_is_refused() -> None:
    with pytest.raises(ValueError):
        fix_by(SEVEN_DAYS, datetime(2026, 11, 30, 10), CAL)


# -- fix_within: local calendar days, same wall-clock time ------------------------------------------

def test_seven_days_same_wall_clock() -> None:
    assert fix_by(SEVEN_DAYS, ny(2026, 11, 30, 10, 15), CAL) == ny(2026, 12, 7, 10, 15).astimezone(UTC)


def test_seven_days_across_spring_forward_is_one_hour_shorter() -> None:
    opened = ny(2026, 3, 7, 10)  # Saturday, EST; DST starts Sunday 2026-03-08
    deadline = fix_by(SEVEN_DAYS, opened, CAL)
    assert deadline == utc(2026, 3, 14, 14)  # 10:00 EDT
    assert deadline - opened == timedelta(days=7, hours=-1)


def test_seven_days_across_fall_back_is_one_hour_longer() -> None:
    opened = ny(2026, 10, 31, 12)  # EDT; DST ends Sunday 2026-11-01
    deadline = fix_by(SEVEN_DAYS, opened, CAL)
    assert deadline == utc(2026, 11, 7, 17)  # 12:00 EST
    assert deadline - opened == timedelta(days=7, hours=1)


def test_non_existent_wall_clock_moves_forward_by_the_gap() -> None:
    # 02:30 on 2026-03-08 does not exist in New York: 03:30 EDT (07:30 UTC)
    assert fix_by(SEVEN_DAYS, ny(2026, 3, 1, 2, 30), CAL) == utc(2026, 3, 8, 7, 30)


def test_ambiguous_wall_clock_is_its_first_occurrence() -> None:
    # 01:30 on 2026-11-01 happens twice: the first (EDT, 05:30 UTC)
    assert fix_by(SEVEN_DAYS, ny(2026, 10, 25, 1, 30), CAL) == utc(2026, 11, 1, 5, 30)


def test_hours_are_elapsed_time_across_dst() -> None:
    opened = ny(2026, 3, 7, 10)
    assert fix_by(FixRule(FixKind.WITHIN_HOURS, 48), opened, CAL) == opened.astimezone(UTC) + timedelta(hours=48)


# -- fix_by: end_of_month --------------------------------------------------------------------------

@pytest.mark.parametrize(("year", "month", "day"), [
    (2026, 11, 30),  # Monday
    (2026, 10, 30),  # 31st is a Saturday
    (2026, 5, 29),  # 31st is a Sunday
    (2027, 5, 28),  # 31st is Memorial Day (a Monday holiday)
    (2021, 12, 30),  # 31st is New Year's Day (observed): holidays count
    (2026, 12, 31),  # Thursday; 1 Jan 2027 is the holiday
])
def test_last_business_day(year: int, month: int, day: int) -> None:
    assert last_business_day(CAL, year, month) == datetime(year, month, day).date()


def test_end_of_month_is_the_last_business_day_at_17() -> None:
    assert fix_by(EOM, ny(2026, 11, 2, 9), CAL) == ny(2026, 11, 30, 17).astimezone(UTC)
    assert fix_by(EOM, ny(2026, 10, 1, 9), CAL) == ny(2026, 10, 30, 17).astimezone(UTC)  # not Sat 31st
    assert fix_by(EOM, ny(2027, 5, 3, 9), CAL) == ny(2027, 5, 28, 17).astimezone(UTC)  # not Memorial Day


def test_end_of_month_on_a_company_holiday() -> None:
    # a company day off on Mon 30 Nov 2026; Fri 27 (day after Thanksgiving) and Thu 26 are holidays too
    spec = CalendarSpec("America/New_York", "US", None, (*CAL.spec.extra_holidays,
                                                         (datetime(2026, 11, 30).date(), "Company day")))
    cal = CompanyCalendar.from_spec(spec)
    assert fix_by(EOM, ny(2026, 11, 10, 9), cal) == ny(2026, 11, 25, 17).astimezone(UTC)


def test_end_of_month_at_or_after_the_deadline_is_next_month() -> None:
    assert fix_by(EOM, ny(2026, 11, 30, 16, 59), CAL) == ny(2026, 11, 30, 17).astimezone(UTC)
    assert fix_by(EOM, ny(2026, 11, 30, 17), CAL) == ny(2026, 12, 31, 17).astimezone(UTC)
    # opened on the weekend after October's last business day (Fri 30th): November's
    assert fix_by(EOM, ny(2026, 10, 31, 11), CAL) == ny(2026, 11, 30, 17).astimezone(UTC)
    # December's passed: January of the next year (Fri 29 Jan 2027; 31st is a Sunday)
    assert fix_by(EOM, ny(2026, 12, 31, 18), CAL) == ny(2027, 1, 29, 17).astimezone(UTC)


def test_end_of_month_across_dst_keeps_local_17() -> None:
    # the deadline is 17:00 local whichever offset applies then
    assert fix_by(EOM, ny(2026, 3, 2, 9), CAL) == utc(2026, 3, 31, 21)  # 17:00 EDT
    assert fix_by(EOM, ny(2026, 11, 2, 9), CAL) == utc(2026, 11, 30, 22)  # 17:00 EST


def test_end_of_month_at_another_time() -> None:
    rule = FixRule(FixKind.END_OF_MONTH, at=time(16, 0))
    assert fix_by(rule, ny(2026, 11, 2, 9), CAL) == ny(2026, 11, 30, 16).astimezone(UTC)


@pytest.mark.parametrize("opened", [utc(2026, 1, 1) + timedelta(hours=h * 37) for h in range(24 * 12)])
def test_deadline_is_always_after_opening_and_on_a_business_day(opened: datetime) -> None:
    for rule in (EOM, SEVEN_DAYS):
        deadline = fix_by(rule, opened, CAL)
        assert deadline is not None and deadline > opened
    deadline = fix_by(EOM, opened, CAL)
    assert deadline is not None and CAL.is_business_day(CAL.local_date(deadline))
    assert CAL.to_local(deadline).time() == time(17, 0)


# -- the reminder ---------------------------------------------------------------------------------

def test_reminder_is_one_business_day_before() -> None:
    deadline = ny(2026, 12, 7, 10, 15).astimezone(UTC)  # Monday
    assert reminder_at(deadline, ny(2026, 11, 30, 10, 15), CAL) == ny(2026, 12, 4, 10, 15).astimezone(UTC)  # Fri


def test_reminder_skips_holidays() -> None:
    # due Mon 30 Nov 17:00: Fri 27 (day after Thanksgiving) and Thu 26 are holidays -> Wed 25
    deadline = ny(2026, 11, 30, 17).astimezone(UTC)
    assert reminder_at(deadline, ny(2026, 11, 2, 9), CAL) == ny(2026, 11, 25, 17).astimezone(UTC)


def test_reminder_across_dst() -> None:
    deadline = ny(2026, 11, 2, 17).astimezone(UTC)  # Monday, EST
    assert reminder_at(deadline, ny(2026, 10, 1, 9), CAL) == utc(2026, 10, 30, 21)  # Fri 17:00 EDT


def test_no_reminder_when_less_than_a_business_day_is_left() -> None:
    deadline = ny(2026, 11, 30, 17).astimezone(UTC)
    assert reminder_at(deadline, ny(2026, 11, 25, 17), CAL) is None
    assert reminder_at(deadline, ny(2026, 11, 28, 9), CAL) is None


# -- the seed ---------------------------------------------------------------------------------------

def _seed_with(sla: str) -> str:
    from tests.core.helpers import SEED

    text = SEED.read_text(encoding="utf-8")
    return text.replace("    sla:\n      fix_within: 7d", "    sla:\n" + sla, 1)


@pytest.mark.parametrize(("sla", "problem"), [
    ("      fix_within: 7d\n      fix_by: end_of_month", "exactly one of fix_within"),
    ("      at: \"17:00\"", "exactly one of fix_within"),
    ("      fix_within: 7 days", "not a duration"),
    ("      fix_within: 7d\n      at: \"17:00\"", "'at' goes with fix_by"),
    ("      fix_by: end_of_week", "end_of_month"),
    ("      fix_by: end_of_month\n      at: \"25:00\"", "time of day"),
])
def test_a_bad_sla_is_refused_with_its_place(sla: str, problem: str) -> None:
    from bot.seed.validate import SeedError, parse_seed_text

    with pytest.raises(SeedError) as caught:
        parse_seed_text(_seed_with(sla), "seed")
    assert any(p.startswith("pipelines[2].sla") and problem in p for p in caught.value.problems), caught.value.problems


def test_the_sla_survives_a_dump() -> None:
    from bot.seed.validate import dump_seed, parse_seed_text
    from tests.core.helpers import SEED

    dumped = dump_seed(parse_seed_text(SEED.read_text(encoding="utf-8")))
    assert "  sla:\n    fix_within: 7d\n" in dumped and "fix_by: end_of_month\n    at: '17:00'" in dumped
