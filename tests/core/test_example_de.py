"""The second example seed (data/examples/brauhaus-de.yaml) answered at chosen instants: German
and Bavarian holidays, the Wednesday 10:30 handoff, a rotation of five, windows ending at :30.

Rotation arithmetic (anchor Wed 2026-11-04 10:30 Europe/Berlin, week k from then): Platform role
P1 is held by pl((k) mod 5 + 1), P2 by pl((k + 1) mod 5 + 1); Controlling by ct(k mod 3 + 1)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.calendar import CompanyCalendar
from bot.core.coverage import oncall_at
from bot.core.model import DayType, Directory
from bot.core.rotation import handoff_rotation, oncall_week_days, oncall_week_first, week_index, week_start
from bot.seed.validate import load_seed_file

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "examples" / "brauhaus-de.yaml"
BERLIN = ZoneInfo("Europe/Berlin")
DE: Directory = load_seed_file(EXAMPLE)
CAL = CompanyCalendar.from_spec(DE.calendar)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def p1(k: int) -> str:
    return f"pl{k % 5 + 1}"


def p2(k: int) -> str:
    return f"pl{(k + 1) % 5 + 1}"


def test_the_wednesday_1030_handoff_edge() -> None:
    rot = DE.rotations["plattform"]
    handoff = berlin(2026, 12, 2, 10, 30)  # week 4
    assert week_start(rot, 4, BERLIN) == handoff.astimezone(UTC)
    before = oncall_at(DE, CAL, "bestellungen", handoff - timedelta(microseconds=1))
    after = oncall_at(DE, CAL, "bestellungen", handoff)
    assert (before.primary and before.primary.person, before.secondary and before.secondary.person) == (p1(3), p2(3))
    assert (after.primary and after.primary.person, after.secondary and after.secondary.person) == (p1(4), p2(4))
    assert (p1(3), p1(4)) == ("pl4", "pl5")
    assert before.until == handoff.astimezone(UTC)  # the answer just before says who takes over, and when
    assert before.next is not None and before.next.primary is not None and before.next.primary.person == "pl5"
    revenue = oncall_at(DE, CAL, "umsatz", handoff)
    assert revenue.window == "weekday" and revenue.primary is not None and revenue.primary.person == "ct2"


def test_a_bavarian_holiday_on_a_handoff_wednesday() -> None:
    # Epiphany (6 Jan 2027) is a public holiday in Bavaria only, and a handoff day (week 9).
    assert CAL.day_type(date(2027, 1, 6)) is DayType.HOLIDAY and CAL.holiday(date(2027, 1, 6)) == "Epiphany"
    federal = CompanyCalendar.from_spec(replace(DE.calendar, holiday_subdivision=None))
    assert federal.day_type(date(2027, 1, 6)) is DayType.BUSINESS
    morning = oncall_at(DE, CAL, "umsatz", berlin(2027, 1, 6, 10, 29))
    noon = oncall_at(DE, CAL, "umsatz", berlin(2027, 1, 6, 12, 0))
    assert morning.window == noon.window == "weekend-holiday"
    assert morning.primary is not None and morning.primary.person == p1(8) == "pl4"
    assert noon.primary is not None and noon.primary.person == p1(9) == "pl5"
    assert noon.until == berlin(2027, 1, 6, 14, 30).astimezone(UTC)  # the window ends at half past
    assert not oncall_at(DE, CAL, "umsatz", berlin(2027, 1, 6, 14, 30)).covered
    # Orders has no holiday coverage: an escalation waits for Thursday 07:00 and the P1 of then
    orders = oncall_at(DE, CAL, "bestellungen", berlin(2027, 1, 6, 12, 0))
    assert not orders.covered and orders.after_hours is not None
    assert orders.after_hours.queued_until == berlin(2027, 1, 7, 7, 0).astimezone(UTC)
    assert orders.after_hours.queued_for is not None and orders.after_hours.queued_for.person == "pl5"


def test_windows_ending_at_half_past_on_a_business_day() -> None:
    thursday = date(2026, 12, 3)
    assert CAL.day_type(thursday) is DayType.BUSINESS
    last = oncall_at(DE, CAL, "umsatz", berlin(2026, 12, 3, 17, 29))
    assert last.covered and last.until == berlin(2026, 12, 3, 17, 30).astimezone(UTC)
    assert not oncall_at(DE, CAL, "umsatz", berlin(2026, 12, 3, 17, 30)).covered
    assert oncall_at(DE, CAL, "bestellungen", berlin(2026, 12, 3, 19, 29)).covered
    assert not oncall_at(DE, CAL, "bestellungen", berlin(2026, 12, 3, 19, 30)).covered


def test_easter_2027_and_the_summer_time_change() -> None:
    # Good Friday and Easter Monday are holidays; summer time starts on Easter Sunday (28 Mar), so
    # the 10:30 handoff is 09:30 UTC before and 08:30 UTC after.
    assert CAL.holiday(date(2027, 3, 26)) == "Good Friday" and CAL.holiday(date(2027, 3, 29)) == "Easter Monday"
    rot = DE.rotations["plattform"]
    assert week_index(rot, berlin(2027, 3, 24, 10, 30), BERLIN) == 20
    assert week_start(rot, 20, BERLIN) == datetime(2027, 3, 24, 9, 30, tzinfo=UTC)
    assert week_start(rot, 21, BERLIN) == datetime(2027, 3, 31, 8, 30, tzinfo=UTC)
    easter_monday = oncall_at(DE, CAL, "umsatz", berlin(2027, 3, 29, 11, 0))
    assert easter_monday.day_type is DayType.HOLIDAY and easter_monday.window == "weekend-holiday"
    assert easter_monday.primary is not None and easter_monday.primary.person == p1(20) == "pl1"


def test_the_oncall_week_runs_from_handoff_to_handoff() -> None:
    assert handoff_rotation(DE) == DE.rotations["plattform"] and oncall_week_days(DE) == 7
    # Wednesday to Tuesday: every date from Wed 24 Mar to Tue 30 Mar 2027 is in the week of the 24th
    for offset in range(7):
        assert oncall_week_first(DE, BERLIN, date(2027, 3, 24) + timedelta(days=offset)) == date(2027, 3, 24)
    assert oncall_week_first(DE, BERLIN, date(2027, 3, 23)) == date(2027, 3, 17)
    assert oncall_week_first(DE, BERLIN, date(2027, 3, 31)) == date(2027, 3, 31)
    # without rotations the week is Monday to Sunday
    empty = replace(DE, rotations={})
    assert handoff_rotation(empty) is None and oncall_week_first(empty, BERLIN, date(2027, 3, 24)) == date(2027, 3, 22)


def test_the_handoff_is_the_one_most_rotations_share() -> None:
    rots = dict(DE.rotations)
    rots["plattform"] = replace(rots["plattform"], anchor=datetime(2026, 11, 2, 9, 0))  # a Monday, alone
    odd = replace(DE, rotations=rots)
    assert handoff_rotation(odd) == rots["controlling"]
    assert oncall_week_first(odd, BERLIN, date(2027, 3, 29)) == date(2027, 3, 24)


def test_the_oncall_week_lasts_the_handoff_rotations_period() -> None:
    fortnightly = replace(DE, rotations={k: replace(r, period_days=14) for k, r in DE.rotations.items()})
    assert oncall_week_days(fortnightly) == 14
    assert oncall_week_days(DE) == 7
    assert oncall_week_days(replace(DE, rotations={})) == 7  # no rotations: a Monday-to-Sunday week
