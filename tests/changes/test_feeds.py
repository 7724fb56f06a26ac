"""The iCalendar feeds read back with a real parser (icalendar + recurring-ical-events) and compared
with the engine over 90 days, across both DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import recurring_ical_events

from bot.core.changes import ChangeKind, ChangeRequest, Plan, Target, plan_change
from bot.core.coverage import schedule
from bot.core.feeds import feed_range, person_feed, pipeline_feed
from bot.core.model import Override

from .helpers import ADMINS, NOW, applied, local, seed

# NOW (Fri Oct 30 2026) + 90 days covers the end of DST (Sun Nov 1); the second instant covers the
# start of DST (Sun Mar 14 2027).
INSTANTS = [NOW, local(2027, 2, 1, 15, 30)]


def _read(feed: bytes, start: datetime, end: datetime) -> list[tuple[datetime, datetime, str]]:
    cal = icalendar.Calendar.from_ical(feed)
    tzids = {tz["TZID"] for tz in cal.walk("VTIMEZONE")}
    assert tzids == {"America/New_York"}
    events = recurring_ical_events.of(cal).between(start, end)
    out = []
    for e in events:
        dtstart, dtend = e["DTSTART"].dt, e["DTEND"].dt
        assert e["DTSTART"].params["TZID"] == "America/New_York"
        assert str(dtstart.tzinfo) == "America/New_York"
        assert e.get("UID") and e.get("DTSTAMP")
        out.append((dtstart.astimezone(UTC), dtend.astimezone(UTC), str(e["SUMMARY"])))
    out.sort()
    return out


def _expected_person(person: str, start: datetime, end: datetime, overrides: list[Override]
                     ) -> list[tuple[datetime, datetime, str]]:
    """From the engine's segments directly: the person's stretches per pipeline and role, joined."""
    d, cal = seed()
    out = []
    for pid, p in d.pipelines.items():
        for role, label in (("primary", "primary"), ("secondary", "backup")):
            cur: list[datetime] | None = None
            for seg in schedule(d, cal, pid, start, end, overrides):
                holder = getattr(seg, role)
                mine = seg.covered and holder is not None and holder.person == person
                if mine and cur is not None and cur[1] == seg.start:
                    cur[1] = seg.end
                    continue
                if cur is not None:
                    out.append((cur[0], cur[1], f"On call: {p.name} {label}"))
                    cur = None
                if mine:
                    cur = [seg.start, seg.end]
            if cur is not None:
                out.append((cur[0], cur[1], f"On call: {p.name} {label}"))
    out.sort()
    return out


def _with_an_override() -> list[Override]:
    d, cal = seed()
    req = ChangeRequest(ChangeKind.OVERRIDE, "fe1", local(2026, 11, 14), local(2026, 11, 16), "fe3",
                        target=Target("frontend"))
    plan = plan_change(d, cal, ADMINS, req, [], [], NOW)
    assert isinstance(plan, Plan)
    return applied([], plan, NOW)


@pytest.mark.parametrize("at", INSTANTS)
@pytest.mark.parametrize("person", ["fe3", "de2", "ba1", "fin1", "risk1"])
def test_person_feed_matches_the_engine(at: datetime, person: str) -> None:
    d, cal = seed()
    overrides = _with_an_override()
    start, end = feed_range(cal, at)
    assert end - start in (timedelta(days=90), timedelta(days=90, hours=1), timedelta(days=90, hours=-1))
    got = _read(person_feed(d, cal, person, at, overrides), start, end)
    assert got == _expected_person(person, start, end, overrides)
    if person == "risk1":
        assert got == []


@pytest.mark.parametrize("at", INSTANTS)
@pytest.mark.parametrize("pipeline", ["profit", "engagement", "aggregate-engagement"])
def test_pipeline_feed_matches_the_engine(at: datetime, pipeline: str) -> None:
    d, cal = seed()
    overrides = _with_an_override()
    start, end = feed_range(cal, at)
    got = [(s, e) for s, e, _ in _read(pipeline_feed(d, cal, pipeline, at, overrides), start, end)]
    want = [(s.start, s.end) for s in schedule(d, cal, pipeline, start, end, overrides) if s.covered]
    assert got == want


def test_the_weekend_the_clocks_go_back_is_49_hours() -> None:
    # week -1: fe3 holds Frontend; Engagement weekend coverage Sat Oct 31 00:00 EDT - Mon Nov 2 00:00 EST
    d, cal = seed()
    start, end = feed_range(cal, NOW)
    got = _read(person_feed(d, cal, "fe3", NOW), start, end)
    weekend = [(s, e) for s, e, summary in got if summary == "On call: Engagement primary" and s < local(2026, 11, 2)]
    assert weekend == [(local(2026, 10, 31), local(2026, 11, 2))]
    assert weekend[0][1] - weekend[0][0] == timedelta(hours=49)


def test_the_override_shows_in_the_feed() -> None:
    d, cal = seed()
    overrides = _with_an_override()
    start, end = feed_range(cal, NOW)
    fe3 = _read(person_feed(d, cal, "fe3", NOW, overrides), start, end)
    fe2 = _read(person_feed(d, cal, "fe2", NOW, overrides), start, end)
    sat = (local(2026, 11, 14), local(2026, 11, 16), "On call: Engagement primary")
    assert sat in fe3 and sat not in fe2
    text = person_feed(d, cal, "fe3", NOW, overrides).decode()
    assert "Includes an override" in text.replace("\r\n ", "")


def test_feed_is_stable_within_a_day() -> None:
    d, cal = seed()
    a = person_feed(d, cal, "de2", NOW)
    b = person_feed(d, cal, "de2", NOW + timedelta(hours=3))
    strip = lambda feed: [x for x in feed.decode().splitlines() if not x.startswith("DTSTAMP")]  # noqa: E731
    assert strip(a) == strip(b)
