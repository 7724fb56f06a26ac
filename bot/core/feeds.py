"""iCalendar feeds (issue 5 §4): a person's on-call time, and a pipeline's, for 90 days. Pure.

A feed covers the local days ``[date(at), date(at) + days)`` in the company zone (from local
midnight, so that events keep their start, and their UID, across the day's refreshes), computed
with ``bot.core.coverage.schedule`` and the overrides, so it says what every other answer says.

- Person feed: one event per span (``bot.core.shifts.Span``): a stretch in one role of one
  pipeline ("On call: Profit primary").
- Pipeline feed: one event per covered schedule segment ("Profit: Fiona Finch, backup Dana Diaz").

Times carry ``TZID`` of the company zone, with a ``VTIMEZONE`` covering the feed's years. ``UID``
is stable for an unchanged stretch; ``DTSTAMP`` is ``at``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import icalendar

from bot.core.calendar import CompanyCalendar
from bot.core.coverage import schedule
from bot.core.model import Directory, Override
from bot.core.shifts import spans

FEED_DAYS = 90
PRODID = "-//oncall-bot//on-call feed//EN"


def feed_range(cal: CompanyCalendar, at: datetime, days: int = FEED_DAYS) -> tuple[datetime, datetime]:
    """``[start, end)`` of a feed asked for at ``at``: local midnight of its date, ``days`` days on."""
    d = cal.local_date(at)
    return cal.day_start(d), cal.day_start(d + timedelta(days=days))


def _window_label(directory: Directory, pipeline: str, window: str | None) -> str:
    for w in directory.pipelines[pipeline].windows:
        if w.name == window:
            return w.label or w.name
    return window or ""


def _stamp(at: datetime) -> str:
    return at.strftime("%Y%m%dT%H%M%SZ")


def _calendar(cal: CompanyCalendar, name: str, start: datetime, end: datetime) -> icalendar.Calendar:
    c = icalendar.Calendar()
    c.add("prodid", PRODID)
    c.add("version", "2.0")
    c.add("calscale", "GREGORIAN")
    c.add("method", "PUBLISH")
    c.add("x-wr-calname", name)
    c.add("x-wr-timezone", cal.tz.key)
    c.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    return c


def _event(cal: CompanyCalendar, uid: str, at: datetime, start: datetime, end: datetime, summary: str,
           description: str) -> icalendar.Event:
    e = icalendar.Event()
    e.add("uid", uid)
    e.add("dtstamp", at)
    e.add("dtstart", cal.to_local(start))
    e.add("dtend", cal.to_local(end))
    e.add("summary", summary)
    e.add("description", description)
    e.add("transp", "OPAQUE")
    return e


def _finish(c: icalendar.Calendar, cal: CompanyCalendar, start: datetime, end: datetime) -> bytes:
    """The calendar as bytes, with the company zone's VTIMEZONE (also when it has no event)."""
    tz = icalendar.Timezone.from_tzinfo(cal.tz, tzid=cal.tz.key, first_date=date(start.year, 1, 1),
                                        last_date=date(end.year + 1, 1, 1))
    c.subcomponents.insert(0, tz)
    data: bytes = c.to_ical()
    return data


def person_feed(
    directory: Directory,
    cal: CompanyCalendar,
    person: str,
    at: datetime,
    overrides: Sequence[Override] = (),
    days: int = FEED_DAYS,
) -> bytes:
    """The iCalendar feed of ``person``'s on-call time for ``days`` days from ``at``'s date."""
    start, end = feed_range(cal, at, days)
    c = _calendar(cal, f"On call: {directory.name_of(person)}", start, end)
    for s in spans(directory, cal, start, end, overrides, person=person):
        p = directory.pipelines[s.pipeline]
        role = "primary" if s.role == "primary" else "backup"
        label = _window_label(directory, s.pipeline, s.window)
        lines = [f"{p.name}: you are {role} ({label})."]
        if s.via_override:
            lines.append("Includes an override (a swap, a cover or time off).")
        lines.append(f"Runbook: /runbook {p.id}")
        c.add_component(_event(
            cal, f"{person}/{s.pipeline}/{s.role}/{_stamp(s.start)}@oncall-bot", at, s.start, s.end,
            f"On call: {p.name} {role}", "\n".join(lines),
        ))
    return _finish(c, cal, start, end)


def pipeline_feed(
    directory: Directory,
    cal: CompanyCalendar,
    pipeline: str,
    at: datetime,
    overrides: Sequence[Override] = (),
    days: int = FEED_DAYS,
) -> bytes:
    """The iCalendar feed of who is on call for ``pipeline`` for ``days`` days from ``at``'s date."""
    start, end = feed_range(cal, at, days)
    p = directory.pipelines[pipeline]
    c = _calendar(cal, f"On call: {p.name}", start, end)
    for seg in schedule(directory, cal, pipeline, start, end, overrides):
        if not seg.covered or seg.primary is None:
            continue
        backup = f", backup {directory.name_of(seg.secondary.person)}" if seg.secondary else ""
        label = _window_label(directory, pipeline, seg.window)
        c.add_component(_event(
            cal, f"{pipeline}/{_stamp(seg.start)}@oncall-bot", at, seg.start, seg.end,
            f"{p.name}: {directory.name_of(seg.primary.person)}{backup}",
            f"{label}.\nRunbook: /runbook {p.id}",
        ))
    return _finish(c, cal, start, end)
