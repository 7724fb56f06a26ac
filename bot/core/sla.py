"""SLA clocks: when an incident on a pipeline must be fixed by, and when to remind before that.

Pure: no clock reads. Every instant is aware (UTC in, UTC out); local times are built from
local dates in the company zone with ``CompanyCalendar`` (never by adding 24 h in UTC).

A pipeline's fix rule (``FixRule``, from the seed's ``sla:``) is one of:

- ``fix_within: Nd`` (or ``Nw``): N local calendar days (7 per week) after the instant the
  incident was opened, at the same local wall-clock time. Across a DST change this is 24 h x N
  plus or minus an hour of elapsed time. A wall-clock time that does not exist on the target
  day (spring forward) moves forward by the gap; an ambiguous one (fall back) is its first
  occurrence (``CompanyCalendar.at_time``).
- ``fix_within: Nh``: N hours of elapsed time (no wall clock involved).
- ``fix_by: end_of_month``: the last business day (weekends and holidays are not business days)
  of the month in which the incident was opened, at ``at`` (17:00 by default) local time; an
  incident opened at or after that instant is due at the end of the next month instead.

The reminder is due one business day before the deadline: the same local wall-clock time on the
last business day before the deadline's local date. There is none when that instant is not
after the opening (a deadline less than a business day away is already shown on the incident).
"""

from __future__ import annotations

import calendar as _stdcal
from datetime import UTC, date, datetime, timedelta

from bot.core.calendar import CompanyCalendar, require_aware
from bot.core.model import FixKind, FixRule


def last_business_day(cal: CompanyCalendar, year: int, month: int) -> date:
    """The last business day of the month (holidays and weekends do not count)."""
    return cal.deadline_on_or_before(date(year, month, _stdcal.monthrange(year, month)[1]))


def fix_by(rule: FixRule | None, opened_at: datetime, cal: CompanyCalendar) -> datetime | None:
    """The UTC instant an incident opened at aware ``opened_at`` must be fixed by under ``rule``
    (None: the pipeline has no fix deadline). Always strictly after ``opened_at``. See the module
    docstring for each rule's meaning and its DST policy."""
    require_aware(opened_at, "opened_at")
    if rule is None:
        return None
    if rule.kind == FixKind.WITHIN_HOURS:
        return opened_at.astimezone(UTC) + timedelta(hours=rule.amount)  # elapsed: add in UTC
    local = cal.to_local(opened_at)
    if rule.kind == FixKind.WITHIN_DAYS:
        return cal.at_time(local.date() + timedelta(days=rule.amount), local.time())
    year, month = local.year, local.month
    for _ in range(2):
        deadline = cal.at_time(last_business_day(cal, year, month), rule.at)
        if deadline > opened_at:
            return deadline
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise AssertionError("unreachable: the next month's last business day is after any instant of this month")


def reminder_at(deadline: datetime | None, opened_at: datetime, cal: CompanyCalendar) -> datetime | None:
    """When to remind the assignee: the deadline's local wall-clock time on the business day
    before its local date; None without a deadline or when that is not after ``opened_at``."""
    if deadline is None:
        return None
    local = cal.to_local(deadline)
    remind = cal.at_time(cal.previous_business_day(local.date()), local.time())
    return remind if remind > require_aware(opened_at, "opened_at") else None
