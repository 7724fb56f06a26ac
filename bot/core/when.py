"""Reading the times people type ("tomorrow 10:00", "saturday", "next monday 8am", "dec 25",
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
       '"saturday", "next monday 8am", "dec 25", "dec 25 9am"'


def _clock(text: str) -> time | None:
    m = _TIME.match(text.strip())
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
    shows weekend coverage rather than the night before). A weekday name means its next occurrence
    after today ("next monday" the same); "today"/"tomorrow" and a time alone are relative to
    ``now`` in ``tz``; a month-day without a year is the next such date on or after today. ISO text
    with an offset is taken as given; without one it is local to ``tz``. Raises ``WhenError``.
    """
    raw = " ".join(text.strip().lower().split())
    if not raw:
        raise WhenError(f"empty time: try {HELP}")
    local_now = now.astimezone(tz)
    today = local_now.date()
    if raw == "now":
        return local_now
    try:
        iso = datetime.fromisoformat(text.strip().upper().replace(" ", "T", 1) if "T" not in text else text.strip())
    except ValueError:
        iso = None
    if iso is not None:
        if iso.tzinfo is None:
            if len(text.strip()) == 10:
                iso = datetime.combine(iso.date(), time(12), tzinfo=tz)
            else:
                iso = iso.replace(tzinfo=tz)
        return iso.astimezone(tz)

    words = raw.split(" ")
    day: date | None = None
    rest: list[str] = words
    if words[0] in ("today", "tonight"):
        day, rest = today, words[1:]
    elif words[0] == "tomorrow":
        day, rest = today + timedelta(days=1), words[1:]
    elif words[0] in ("next", "this") and len(words) > 1 and words[1] in _WEEKDAYS:
        day, rest = _next_weekday(today, _WEEKDAYS[words[1]]), words[2:]
    elif words[0] in _WEEKDAYS:
        day, rest = _next_weekday(today, _WEEKDAYS[words[0]]), words[1:]
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
        return datetime.combine(today, at, tzinfo=tz)
    if not clock_text:
        return datetime.combine(day, time(12), tzinfo=tz)
    at = _clock(clock_text)
    if at is None:
        raise WhenError(f"'{clock_text}' is not a time of day: try 10:00, 8am or 5:30pm")
    return datetime.combine(day, at, tzinfo=tz)


def _next_weekday(today: date, weekday: int) -> date:
    ahead = (weekday - today.weekday()) % 7
    return today + timedelta(days=ahead or 7)


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
