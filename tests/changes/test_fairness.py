"""Fairness numbers on a hand-checked week: week 1, Mon Nov 9 09:00 to Mon Nov 16 09:00 (EST).

Wednesday Nov 11 is Veterans Day (a holiday). Week 1: Finance fin2, Frontend fe2, DE R1 de2.
"""

from __future__ import annotations

from datetime import timedelta

from bot.core.changes import ChangeKind, ChangeRequest, Plan, Target, plan_change
from bot.core.fairness import Load, fairness, out_of_hours

from .helpers import ADMINS, NOW, applied, local, seed

START, END = local(2026, 11, 9, 9), local(2026, 11, 16, 9)
H = timedelta(hours=1)


def test_hand_checked_week() -> None:
    d, cal = seed()
    report = fairness(d, cal, START, END)
    # fin2, Profit primary weekdays 08:00-18:00: Mon 09-18 (08-09 is still fin1's week), Tue, (Wed is a
    # holiday: weekend/holiday support belongs to DE R1), Thu, Fri, and Mon Nov 16 08-09 before the
    # handoff. Runs: Mon-Tue, Thu-Fri, Mon.
    assert report.people["fin2"] == Load(shifts=3, hours=40 * H, out_of_hours=timedelta(0), primary_hours=40 * H)
    # de2 (DE R1): Profit backup weekdays 08-18 and Growth backup 09-17 (counted once when both),
    # Profit primary for weekend/holiday support 09-15 on Wed, Sat and Sun.
    # 9 + 10 + 6 (Wed) + 10 + 10 + 6 + 6 + 1 (Mon Nov 16 08-09) = 58 h, 18 h of them out of hours.
    # Shifts: Profit backup Mon-Tue | Thu-Fri | Mon; Growth backup Mon-Tue | Thu-Fri; support Wed | Sat-Sun.
    assert report.people["de2"] == Load(shifts=7, hours=58 * H, out_of_hours=18 * H, primary_hours=18 * H)
    # fe2: Engagement backup weekdays 08-18 and primary all day on weekends and holidays:
    # 9 + 10 + 24 (Wed) + 10 + 10 + 48 (Sat, Sun) + 1 = 112 h, 72 h out of hours.
    assert report.people["fe2"] == Load(shifts=5, hours=112 * H, out_of_hours=72 * H, primary_hours=72 * H)
    assert report.people["fin1"] == Load()
    assert report.people["risk1"] == Load()
    assert report.teams["finance"] == report.people["fin2"]
    assert report.teams["frontend"] == report.people["fe2"]
    de = [report.people[p] for p in ("de1", "de2", "de3", "de4")]
    assert report.teams["data-eng"] == de[0] + de[1] + de[2] + de[3]


def test_overrides_count_for_whoever_covered() -> None:
    d, cal = seed()
    req = ChangeRequest(ChangeKind.OVERRIDE, "fin2", local(2026, 11, 12), local(2026, 11, 13), "fin3",
                        target=Target("finance"))
    plan = plan_change(d, cal, ADMINS, req, [], [], NOW)
    assert isinstance(plan, Plan)
    report = fairness(d, cal, START, END, applied([], plan, NOW))
    assert report.people["fin2"] == Load(shifts=3, hours=30 * H, primary_hours=30 * H)  # Mon-Tue | Fri | Mon
    assert report.people["fin3"] == Load(shifts=1, hours=10 * H, primary_hours=10 * H)
    assert report.teams["finance"].hours == 40 * H
    assert report.teams["finance"].shifts == 4


def test_out_of_hours_splits_at_local_midnight_across_dst() -> None:
    _, cal = seed()
    # Sat Oct 31 12:00 EDT to Mon Nov 2 12:00 EST: Saturday 12 h + Sunday (25 h: DST ends) = 37 h out of
    # hours, Monday morning is a business day.
    assert out_of_hours(cal, [(local(2026, 10, 31, 12), local(2026, 11, 2, 12))]) == 37 * H
