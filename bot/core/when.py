"""Reading the times people type ("tomorrow 10:00", "saturday noon", "next monday 8am", "dec 25",
ISO dates and times) as instants in the company zone. Pure: ``now`` is given."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_WEEKDAYS = {
    name: i
    for i, names in enumerate(
        [("monday", "mon"), ("tuesday", "tue", "tues"), ("wednesday", "wed"), ("thursday", "thu", "thur", "thurs"),
         ("friday", "fri"), ("saturday", "sat"), ("sunday", "sun")]
    )
    for name in names
}
_MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
         ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"),
         ("november", "nov"), ("december", "dec")]
    )
    for name in names
}
_TIME = re.compile(r"^(?:at\s+)?(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$")


class WhenError(ValueError):
    """Text that is not a time we understand; the message says what we accept."""


HELP = 'an ISO date or time (2026-12-25, 2026-12-25T10:00), "now", "today 14:00", "tomorrow 10:00", ' \
       '"yesterday noon", "saturday", "next monday 8am", "dec 25", "dec 25 9am"'
_NAMED_CLOCKS = {"noon": time(12), "midday": time(12), "midnight": time(0)}

WEEKDAY_RULE = (
    'A weekday name ("monday", "this monday") is the next such day from today on, today included; '
    '"next monday" is the first Monday after today (so on a Monday: "monday" is today, '
    '"next monday" in 7 days).'
)
"""The rule for weekday names, as README and ``help`` state it."""


def _clock(text: str) -> time | None:
    text = text.strip().removeprefix("at ").strip()
    if text in _NAMED_CLOCKS:
        return _NAMED_CLOCKS[text]
    m = _TIME.match(text)
    if not m:
        return None
    hour, minute, ampm = int(m.group(1)), int(m.group(2) or 0), m.group(3)
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def parse_when(text: str, now: datetime, tz: ZoneInfo) -> datetime:
    """The instant ``text`` names, as an aware datetime in ``tz``.

    A day without a time means that day's 12:00 local (the middle of the working day, so "saturday"
    shows weekend coverage rather than the night before). Weekday names follow ``WEEKDAY_RULE``;
    "today", "tomorrow", "yesterday" and a time alone are relative to ``now`` in ``tz``; "noon" is
    12:00 and "midnight" 00:00, the start of the day named; a month-day without a year is the next
    such date on or after today. ISO text with an offset is taken as given; without one it is local
    to ``tz``. Raises ``WhenError``.
    """
    at, has_time = _parse(text, now, tz)
    return at if has_time else datetime.combine(at.date(), time(12), tzinfo=tz)


def parse_bound(text: str, now: datetime, tz: ZoneInfo, *, end: bool) -> datetime:
    """One end of a range (``--from``, ``--to``, ``--since``): as ``parse_when`` reads it, except
    that a day without a time means the whole day: its start for a start (``end`` False), the
    next day's start for an end, so that ``--to 2026-12-31`` includes December 31."""
    at, has_time = _parse(text, now, tz)
    if has_time:
        return at
    return datetime.combine(at.date() + timedelta(days=1 if end else 0), time(0), tzinfo=tz)


def names_a_time(text: str, now: datetime, tz: ZoneInfo) -> bool:
    """Whether ``text`` names a time of day (not only a day); ``WhenError`` when it is not a time."""
    return _parse(text, now, tz)[1]


def _parse(text: str, now: datetime, tz: ZoneInfo) -> tuple[datetime, bool]:
    """The instant ``text`` names (a day alone: its 00:00) and whether it named a time of day."""
    raw = " ".join(text.strip().lower().split())
    if not raw:
        raise WhenError(f"empty time: try {HELP}")
    local_now = now.astimezone(tz)
    today = local_now.date()
    if raw == "now":
        return local_now, True
    try:
        iso = datetime.fromisoformat(text.strip().upper().replace(" ", "T", 1) if "T" not in text else text.strip())
    except ValueError:
        iso = None
    if iso is not None:
        if iso.tzinfo is None:
            if len(text.strip()) == 10:
                return datetime.combine(iso.date(), time(0), tzinfo=tz), False
            iso = iso.replace(tzinfo=tz)
        return iso.astimezone(tz), True

    words = raw.split(" ")
    day: date | None = None
    rest: list[str] = words
    if words[0] in ("today", "tonight"):
        day, rest = today, words[1:]
    elif words[0] == "tomorrow":
        day, rest = today + timedelta(days=1), words[1:]
    elif words[0] == "yesterday":
        day, rest = today - timedelta(days=1), words[1:]
    elif words[0] in ("next", "this") and len(words) > 1 and words[1] in _WEEKDAYS:
        day, rest = _weekday(today, _WEEKDAYS[words[1]], after_today=words[0] == "next"), words[2:]
    elif words[0] in _WEEKDAYS:
        day, rest = _weekday(today, _WEEKDAYS[words[0]], after_today=False), words[1:]
    elif words[0] in _MONTHS and len(words) > 1 and words[1].rstrip(",").isdigit():
        day, rest = _month_day(today, _MONTHS[words[0]], int(words[1].rstrip(","))), words[2:]
        if rest and rest[0].isdigit() and len(rest[0]) == 4:
            day, rest = _safe_date(int(rest[0]), day.month, day.day), rest[1:]
    elif len(words) > 1 and words[0].isdigit() and words[1] in _MONTHS:
        day, rest = _month_day(today, _MONTHS[words[1]], int(words[0])), words[2:]
    clock_text = " ".join(rest)
    if day is None:
        at = _clock(clock_text)
        if at is None:
            raise WhenError(f"'{text}' is not a time I understand: try {HELP}")
        return datetime.combine(today, at, tzinfo=tz), True
    if not clock_text:
        return datetime.combine(day, time(0), tzinfo=tz), False
    at = _clock(clock_text)
    if at is None:
        raise WhenError(f"'{clock_text}' is not a time of day: try 10:00, 8am, 5:30pm, noon or midnight")
    return datetime.combine(day, at, tzinfo=tz), True


def _weekday(today: date, weekday: int, *, after_today: bool) -> date:
    """The next ``weekday`` from ``today`` on (``after_today``: strictly after today)."""
    ahead = (weekday - today.weekday()) % 7
    return today + timedelta(days=7 if after_today and ahead == 0 else ahead)


def _safe_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise WhenError(f"there is no {year}-{month:02d}-{day:02d}") from None


def _month_day(today: date, month: int, day: int) -> date:
    candidate = _safe_date(today.year, month, day) if not (month == 2 and day == 29) else None
    if candidate is None:  # Feb 29: the next leap year's
        year = today.year
        while True:
            try:
                candidate = date(year, 2, 29)
            except ValueError:
                year += 1
                continue
            if candidate >= today:
                return candidate
            year += 1
    if candidate < today:
        candidate = _safe_date(today.year + 1, month, day)
    return candidate
