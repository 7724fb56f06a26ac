"""The company calendar: time zone, holidays, day types, business days and local instants.

Pure: nothing here reads a clock. Every method takes a local date or an aware instant. Local times
are built from local dates in the company zone (``datetime.combine(d, t, tzinfo=zone)``) and then
converted to UTC, so a wall-clock time stays put across daylight-saving changes.

DST policy of :meth:`CompanyCalendar.instant` (and of everything built on it):

- a wall-clock time that does not exist (spring forward, e.g. 02:30 on 2027-03-14 in New York)
  is read with ``fold=0``, i.e. with the offset in force *before* the change, so it lands as
  far *after* the gap as it was into it (02:30 EST = 03:30 EDT);
- a wall-clock time that happens twice (fall back, e.g. 01:30 on 2027-11-07) is its *first*
  occurrence (``fold=0``, still daylight time).
"""

from __future__ import annotations

import calendar as _stdcal
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.model import CalendarSpec, DayType

_ONE_DAY = timedelta(days=1)
_SEARCH_LIMIT = 400  # days: no real calendar has a longer run without a business day
_INSTANT_CACHE_MAX = 100_000


def require_aware(at: datetime, what: str = "instant") -> datetime:
    """``at`` unchanged if it is an aware datetime; ``ValueError`` for a naive one."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime (got naive {at.isoformat()})")
    return at


@dataclass(frozen=True, eq=False)
class CompanyCalendar:
    """The company's calendar, built once from the seed's ``CalendarSpec``.

    Immutable as far as callers can tell; it keeps two private caches (the holiday table per
    year, computed lazily on first use of that year, and local instants by ``(date, minute)``), so
    share one instance rather than building one per question. Equality is identity.
    """

    spec: CalendarSpec
    tz: ZoneInfo
    _holidays: dict[int, dict[date, str]] = field(default_factory=dict, repr=False)
    _instants: dict[tuple[date, int], datetime] = field(default_factory=dict, repr=False)

    @classmethod
    def from_spec(cls, spec: CalendarSpec) -> CompanyCalendar:
        """A calendar for ``spec`` (``ZoneInfoNotFoundError`` for an unknown zone)."""
        return cls(spec, ZoneInfo(spec.timezone))

    # -- holidays and day types --------------------------------------------------------------

    def _year(self, year: int) -> dict[date, str]:
        table = self._holidays.get(year)
        if table is None:
            from bot.core.holidaylib import country_holidays  # the country's module alone, on first use

            lib = country_holidays(
                self.spec.holiday_country,
                subdiv=self.spec.holiday_subdivision,
                years=year,
                language="en_US",
                observed=True,
            )
            table = {d: str(name) for d, name in lib.items() if d.year == year}
            for d, name in self.spec.extra_holidays:
                if d.year != year:
                    continue
                old = table.get(d)
                table[d] = name if old is None or old == name else f"{old}; {name}"
            self._holidays[year] = table
        return table

    def holiday(self, d: date) -> str | None:
        """The holiday name(s) of local date ``d`` (``"; "``-joined when several), or None.

        The ``holidays`` package for the spec's country and subdivision, in US English, with
        observed days (2026-07-03 "Independence Day (observed)"), plus the spec's extra days.
        The table of a year is computed once, on first use, and cached.
        """
        return self._year(d.year).get(d)

    def day_type(self, d: date) -> DayType:
        """``holiday`` if ``d`` is a holiday, else ``weekend`` on Saturday/Sunday, else ``business``."""
        if d in self._year(d.year):
            return DayType.HOLIDAY
        return DayType.WEEKEND if d.weekday() >= 5 else DayType.BUSINESS

    def is_business_day(self, d: date) -> bool:
        """Monday to Friday and not a holiday."""
        return d.weekday() < 5 and d not in self._year(d.year)

    def is_month_end_week(self, d: date) -> bool:
        """``d`` is one of the last ``spec.month_end_days`` calendar days of its month
        (24-30 Nov, 22-28 Feb in a common year, 23-29 Feb in a leap year)."""
        last = _stdcal.monthrange(d.year, d.month)[1]
        return d.day > last - self.spec.month_end_days

    # -- local time ---------------------------------------------------------------------------

    def local_date(self, at: datetime) -> date:
        """The local date (company zone) of aware instant ``at``; ``ValueError`` if naive."""
        return require_aware(at).astimezone(self.tz).date()

    def to_local(self, at: datetime) -> datetime:
        """Aware instant ``at`` as an aware datetime in the company zone; ``ValueError`` if naive."""
        return require_aware(at).astimezone(self.tz)

    def instant(self, d: date, minute: int) -> datetime:
        """The UTC instant of local wall clock ``minute`` minutes after local midnight of ``d``.

        ``minute`` is 0..1440; 1440 is the next day's 00:00. A non-existent wall-clock time
        (spring forward) moves forward by the size of the gap; an ambiguous one (fall back) is its
        first occurrence (see the module docstring). Cached per ``(d, minute)``.
        """
        key = (d, minute)
        hit = self._instants.get(key)
        if hit is not None:
            return hit
        if not 0 <= minute <= 1440:
            raise ValueError(f"minute must be 0..1440, got {minute}")
        day = d + _ONE_DAY if minute == 1440 else d
        m = minute % 1440
        value = datetime.combine(day, time(m // 60, m % 60), tzinfo=self.tz).astimezone(UTC)
        if len(self._instants) >= _INSTANT_CACHE_MAX:
            self._instants.clear()
        self._instants[key] = value
        return value

    def at_time(self, d: date, t: time) -> datetime:
        """The UTC instant of local wall-clock time ``t`` on local date ``d`` (seconds kept;
        ``t.tzinfo`` ignored). Same DST policy as :meth:`instant`."""
        local = datetime.combine(d, t.replace(fold=0), tzinfo=self.tz)  # tzinfo= replaces t's
        return local.astimezone(UTC)

    def day_start(self, d: date) -> datetime:
        """The UTC instant at which local date ``d`` starts (its 00:00, or the first instant after
        a gap if 00:00 does not exist)."""
        return self.instant(d, 0)

    # -- business days ------------------------------------------------------------------------

    def next_business_day(self, d: date) -> date:
        """The first business day strictly after ``d``."""
        day = d
        for _ in range(_SEARCH_LIMIT):
            day += _ONE_DAY
            if self.is_business_day(day):
                return day
        raise ValueError(f"no business day within {_SEARCH_LIMIT} days after {d}")

    def previous_business_day(self, d: date) -> date:
        """The last business day strictly before ``d``."""
        day = d
        for _ in range(_SEARCH_LIMIT):
            day -= _ONE_DAY
            if self.is_business_day(day):
                return day
        raise ValueError(f"no business day within {_SEARCH_LIMIT} days before {d}")

    def nth_business_day(self, year: int, month: int, n: int) -> date:
        """The ``n``-th (1-based) business day of the month, counting from the 1st (the 1st counts
        if it is a business day). ``ValueError`` if ``n < 1`` or the month has fewer."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        last = _stdcal.monthrange(year, month)[1]
        count = 0
        for day_no in range(1, last + 1):
            d = date(year, month, day_no)
            if self.is_business_day(d):
                count += 1
                if count == n:
                    return d
        raise ValueError(f"{year}-{month:02d} has only {count} business days, not {n}")

    def month_end_week_business_days(self, year: int, month: int) -> list[date]:
        """The business days of the month's month-end week, in date order (may be empty)."""
        last = _stdcal.monthrange(year, month)[1]
        first = max(1, last - self.spec.month_end_days + 1)
        days = (date(year, month, n) for n in range(first, last + 1))
        return [d for d in days if self.is_business_day(d)]

    def deadline_on_or_before(self, d: date) -> date:
        """``d`` if it is a business day, else the last business day before ``d``."""
        return d if self.is_business_day(d) else self.previous_business_day(d)
