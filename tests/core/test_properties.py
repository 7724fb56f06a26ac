"""Property tests: schedule tiles its range and agrees with oncall_at everywhere."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.answer import Holder, OnCallAnswer, Segment
from bot.core.coverage import oncall_at, schedule
from bot.core.model import Override

from .helpers import CAL, DIRECTORY, PIPELINES, US

Key = tuple[bool, str | None, str | None, str | None]


def _p(h: Holder | None) -> str | None:
    return None if h is None else h.person


def seg_key(s: Segment) -> Key:
    return (s.covered, s.window, _p(s.primary), _p(s.secondary))


def ans_key(a: OnCallAnswer) -> Key:
    return (a.covered, a.window, _p(a.primary), _p(a.secondary))


_raw = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 10, 31), timezones=st.just(UTC))
instants = st.one_of(
    _raw,
    _raw.map(lambda d: d.replace(minute=0, second=0, microsecond=0)),  # hit boundaries exactly
    st.sampled_from([  # around DST changes and holidays
        datetime(2027, 3, 13, 12, tzinfo=UTC), datetime(2027, 11, 6, 12, tzinfo=UTC),
        datetime(2026, 11, 25, 23, tzinfo=UTC), datetime(2027, 12, 23, 22, tzinfo=UTC),
        datetime(2028, 2, 20, 5, tzinfo=UTC), datetime(2026, 10, 31, 4, tzinfo=UTC),
    ]),
)
durations = st.one_of(
    st.integers(min_value=1, max_value=60 * 24 * 60).map(lambda m: timedelta(minutes=m)),
    st.integers(min_value=1, max_value=60 * 24 * 3600 * 10**6).map(lambda u: timedelta(microseconds=u)),
)
PEOPLE = sorted(DIRECTORY.people)


@st.composite
def overrides(draw: st.DrawFn, start: datetime, span: timedelta) -> list[Override]:
    out = []
    for i in range(draw(st.integers(min_value=0, max_value=3))):
        last = int(span.total_seconds() // 60)
        s = start + timedelta(minutes=draw(st.integers(min_value=-600, max_value=last)))
        e = s + timedelta(minutes=draw(st.integers(min_value=1, max_value=10 * 24 * 60)))
        kind = draw(st.sampled_from(["rotation", "role", "replaces", "pipeline"]))
        person = draw(st.sampled_from(PEOPLE))
        created = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=draw(st.integers(0, 3)))
        kw: dict[str, str] = {}
        if kind == "rotation":
            kw["rotation"] = draw(st.sampled_from(["finance", "accounts", "frontend", "analytics"]))
        elif kind == "role":
            kw["rotation"] = "data-eng"
            kw["role"] = draw(st.sampled_from(["R1", "R2", "R3", "R4"]))
        elif kind == "replaces":
            kw["replaces"] = draw(st.sampled_from(PEOPLE))
        else:
            kw["pipeline"] = draw(st.sampled_from(PIPELINES))
        out.append(Override(i + 1, s, e, person, created, **kw))
    return out


def _check(pipeline: str, start: datetime, end: datetime, ovs: list[Override]) -> None:
    segs = schedule(DIRECTORY, CAL, pipeline, start, end, ovs)
    assert segs[0].start == start and segs[-1].end == end
    for left, right in itertools.pairwise(segs):
        assert left.end == right.start
        assert seg_key(left) != seg_key(right)
    for i, s in enumerate(segs):
        assert s.start < s.end
        assert s.start.tzinfo is UTC and s.end.tzinfo is UTC
        for t in {s.start, s.start + (s.end - s.start) / 2, s.end - US}:
            a = oncall_at(DIRECTORY, CAL, pipeline, t, ovs)
            assert ans_key(a) == seg_key(s), (t, a, s)
            if i + 1 < len(segs):
                assert a.until == s.end, (t, a.until, s)
                assert a.next is not None
                nxt = segs[i + 1]
                assert (a.next.window, _p(a.next.primary), _p(a.next.secondary)) == (
                    nxt.window, _p(nxt.primary), _p(nxt.secondary))
            else:
                assert a.until is None or a.until >= end
            assert (a.after_hours is None) == a.covered


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PIPELINES), instants, durations)
def test_schedule_tiles_and_agrees_with_oncall_at(pipeline: str, start: datetime, span: timedelta) -> None:
    _check(pipeline, start, start + span, [])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PIPELINES), instants, durations, st.data())
def test_schedule_with_overrides_agrees_with_oncall_at(
    pipeline: str, start: datetime, span: timedelta, data: st.DataObject
) -> None:
    ovs = data.draw(overrides(start, span))
    _check(pipeline, start, start + span, ovs)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(PIPELINES), instants)
def test_until_is_the_first_change(pipeline: str, at: datetime) -> None:
    a = oncall_at(DIRECTORY, CAL, pipeline, at)
    assert a.until is not None and a.until > at  # the seed's pipelines all change within days
    assert a.next is not None and a.next.at == a.until
    just_before = oncall_at(DIRECTORY, CAL, pipeline, a.until - US)
    assert ans_key(just_before) == ans_key(a)
    after = oncall_at(DIRECTORY, CAL, pipeline, a.until)
    assert (after.window, _p(after.primary), _p(after.secondary)) == (
        a.next.window, _p(a.next.primary), _p(a.next.secondary))
