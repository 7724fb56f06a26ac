"""Who is on call for a pipeline: at an instant (``oncall_at``) and over a range (``schedule``).

Pure: the instant is explicit and aware; results are UTC-aware. The rules (operating rules §3):
a pipeline's windows are tried in order and the first one whose day types contain the local
date's day type, whose month-end condition holds and whose local time range contains the instant
decides the primary and secondary. No window matching means "not covered".

A window of local date ``d`` covers the instants ``[cal.instant(d, start), cal.instant(d, end))``
and only instants whose local date is ``d``. So on DST days a window follows the calendar's
policy: a 00:00-24:00 window lasts 23 or 25 hours, a wall-clock time in the spring-forward gap
moves forward, an ambiguous one is its first occurrence.

The answer is a function of ``(window, primary person, secondary person)`` (``covered`` is
"window is not None"), and it can only change at: local midnights, window starts/ends of each
local date, rotation handoffs (week starts of the rotations the windows use), and override
starts/ends. ``oncall_at`` and ``schedule`` both evaluate at those instants, so they agree.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.answer import AfterHoursPath, Holder, NextChange, OnCallAnswer, Segment
from bot.core.calendar import CompanyCalendar, require_aware
from bot.core.model import AfterHoursAction, Directory, Override, Pipeline, SlotRef, Window
from bot.core.rotation import PERSON_SLOT, apply_overrides, rotation_holder, week_index, week_start

HORIZON = timedelta(days=60)
"""How far ``oncall_at`` looks ahead for the end of the current answer."""

_ONE_DAY = timedelta(days=1)
# chunks of the forward search: most answers change within hours, so look a little ahead first
_CHUNKS = (timedelta(days=2), timedelta(days=9), HORIZON)


class UnknownPipeline(KeyError):
    """The pipeline id is not in the directory."""

    def __init__(self, pipeline_id: str) -> None:
        super().__init__(pipeline_id)
        self.pipeline_id = pipeline_id

    def __str__(self) -> str:
        return f"unknown pipeline '{self.pipeline_id}'"


@dataclass(frozen=True, slots=True)
class _State:
    index: int | None  # position of the deciding window in pipeline.windows, None = not covered
    window: Window | None
    primary: Holder | None
    secondary: Holder | None

    @property
    def key(self) -> tuple[int | None, str | None, str | None]:
        return (
            self.index,
            None if self.primary is None else self.primary.person,
            None if self.secondary is None else self.secondary.person,
        )


class _Engine:
    """One pipeline's evaluation context (directory, calendar, overrides); internal."""

    __slots__ = ("cal", "directory", "overrides", "pipeline", "rotations", "tz")

    def __init__(
        self, directory: Directory, cal: CompanyCalendar, pipeline_id: str, overrides: Sequence[Override]
    ) -> None:
        pipeline = directory.pipelines.get(pipeline_id)
        if pipeline is None:
            raise UnknownPipeline(pipeline_id)
        self.directory = directory
        self.cal = cal
        self.tz: ZoneInfo = cal.tz
        self.pipeline: Pipeline = pipeline
        self.overrides = tuple(overrides)
        used = dict.fromkeys(  # the rotations the windows use, once each, in order
            s.rotation
            for w in pipeline.windows
            for s in (w.primary, w.secondary)
            if s is not None and s.rotation != PERSON_SLOT
        )
        self.rotations = tuple(directory.rotations[r] for r in used)

    # -- evaluation ---------------------------------------------------------------------------

    def resolve(self, slot: SlotRef, at: datetime) -> Holder:
        person = rotation_holder(self.directory, slot, at, self.tz)
        if not self.overrides:
            return Holder(person, slot)
        return apply_overrides(slot, person, at, self.overrides, self.pipeline.id)

    def window_on(self, w: Window, d: date) -> bool:
        if self.cal.day_type(d) not in w.days:
            return False
        return w.month_end is None or self.cal.is_month_end_week(d) == w.month_end

    def state(self, at: datetime) -> _State:
        cal = self.cal
        d = cal.local_date(at)
        for i, w in enumerate(self.pipeline.windows):
            if not self.window_on(w, d):
                continue
            if cal.instant(d, w.start_minute) <= at < cal.instant(d, w.end_minute):
                primary = self.resolve(w.primary, at)
                secondary = None if w.secondary is None else self.resolve(w.secondary, at)
                return _State(i, w, primary, secondary)
        return _State(None, None, None, None)

    # -- change points ------------------------------------------------------------------------

    def points(self, lo: datetime, hi: datetime) -> list[datetime]:
        """Sorted candidate change instants ``p`` with ``lo < p <= hi``."""
        cal = self.cal
        found: set[datetime] = set()
        d = cal.local_date(lo)
        last = cal.local_date(hi)  # every instant of a later date is after hi
        while d <= last:
            found.add(cal.day_start(d))
            for w in self.pipeline.windows:
                if self.window_on(w, d):
                    found.add(cal.instant(d, w.start_minute))
                    found.add(cal.instant(d, w.end_minute))
            d += _ONE_DAY
        for rotation in self.rotations:
            k = week_index(rotation, lo, self.tz) + 1
            while (start := week_start(rotation, k, self.tz)) <= hi:
                found.add(start)
                k += 1
        for o in self.overrides:
            found.add(o.start.astimezone(UTC))
            found.add(o.end.astimezone(UTC))
        return sorted(p for p in found if lo < p <= hi)

    def changes(self, at: datetime) -> Iterator[tuple[datetime, _State]]:
        """``(instant, state)`` at each candidate change point ``p``, ``at < p <= at + HORIZON``, in
        order (``_CHUNKS`` grow strictly and end at ``HORIZON``)."""
        lo = at
        for span in _CHUNKS:
            hi = at + span
            for p in self.points(lo, hi):
                yield p, self.state(p)
            lo = hi

    # -- after hours --------------------------------------------------------------------------

    def queued_until(self, at: datetime, resume: datetime | None) -> datetime | None:
        cal = self.cal
        ah = self.pipeline.after_hours
        if ah.queue_at is None:
            return resume
        today = cal.local_date(at)
        if cal.is_business_day(today) and at < cal.at_time(today, ah.queue_at):
            return cal.at_time(today, ah.queue_at)
        return cal.at_time(cal.next_business_day(today), ah.queue_at)

    def after_hours(self, at: datetime, nxt: NextChange | None) -> AfterHoursPath:
        ah = self.pipeline.after_hours
        page_now: Holder | None = None
        queued_for: Holder | None = None
        queued_until: datetime | None = None
        if ah.action == AfterHoursAction.PAGE_NEXT_SECONDARY:
            if nxt is not None:
                page_now = nxt.secondary if nxt.secondary is not None else nxt.primary
        elif ah.action == AfterHoursAction.QUEUE_NEXT_BUSINESS_DAY:
            queued_until = self.queued_until(at, None if nxt is None else nxt.at)
            if ah.target is not None and queued_until is not None:
                queued_for = self.resolve(ah.target, queued_until)
        elif ah.action == AfterHoursAction.PAGE and ah.target is not None:
            page_now = self.resolve(ah.target, at)
        critical = None if ah.critical_target is None else self.resolve(ah.critical_target, at)
        return AfterHoursPath(str(ah.action), ah.note, page_now, queued_for, queued_until, critical)


def _utc(at: datetime) -> datetime:
    return require_aware(at).astimezone(UTC)


def _next_change(p: datetime, s: _State) -> NextChange:
    return NextChange(p, None if s.window is None else s.window.name, s.primary, s.secondary)


def oncall_at(
    directory: Directory,
    cal: CompanyCalendar,
    pipeline_id: str,
    at: datetime,
    overrides: Sequence[Override] = (),
) -> OnCallAnswer:
    """Who is on call for ``pipeline_id`` at aware instant ``at`` (rules §3); all instants UTC.

    - ``day_type``/``holiday`` are those of ``at``'s local date in the company zone.
    - ``covered``/``window``/``primary``/``secondary``: the first matching window decides; holders
      are the rotation's, then ``overrides`` (see ``rotation.apply_overrides``; pipeline-level ones
      for this pipeline apply).
    - ``until``: the first instant after ``at`` at which (covered, window, primary person,
      secondary person) differs, looking at most 60 days ahead (``at + 60 * 24 h``), else None.
      A change of ``via_override`` alone is not a change. ``next`` is the answer from ``until``.
      When not covered every change is coverage resuming, so ``until``/``next`` say when and with
      whom coverage resumes.
    - ``after_hours`` (None when covered): ``page_next_secondary`` pages the secondary of the next
      covered window as it will be when coverage resumes (its primary when it has none; None if
      nothing resumes within the horizon); ``queue_next_business_day`` queues for ``target``
      resolved at ``queued_until`` = today at ``queue_at`` if today is a business day and that is
      still ahead, else the next business day at ``queue_at``; ``page`` pages ``target`` resolved at
      ``at``. ``critical`` is ``critical_target`` resolved at ``at``.

    ``UnknownPipeline`` for an unknown id; ``ValueError`` for a naive ``at``.
    """
    engine = _Engine(directory, cal, pipeline_id, overrides)
    at = _utc(at)
    d = cal.local_date(at)
    now = engine.state(at)
    until: datetime | None = None
    nxt: NextChange | None = None
    for p, s in engine.changes(at):
        if s.key != now.key:
            until, nxt = p, _next_change(p, s)
            break
    window = now.window
    return OnCallAnswer(
        pipeline=pipeline_id,
        at=at,
        day_type=cal.day_type(d),
        holiday=cal.holiday(d),
        covered=window is not None,
        window=None if window is None else window.name,
        window_label=None if window is None else (window.label or window.name),
        primary=now.primary,
        secondary=now.secondary,
        until=until,
        next=nxt,
        after_hours=None if window is not None else engine.after_hours(at, nxt),
    )


def schedule(
    directory: Directory,
    cal: CompanyCalendar,
    pipeline_id: str,
    start: datetime,
    end: datetime,
    overrides: Sequence[Override] = (),
) -> list[Segment]:
    """The answers for ``pipeline_id`` over ``[start, end)`` as contiguous UTC segments.

    The segments tile ``[start, end)`` exactly (the first starts at ``start``, the last ends at
    ``end``); adjacent segments always differ in (covered, window, primary person, secondary
    person); each segment's holders are those at its start. At every instant the segment agrees
    with ``oncall_at``. Empty when ``end <= start``. ``UnknownPipeline`` / ``ValueError`` as for
    ``oncall_at``.
    """
    engine = _Engine(directory, cal, pipeline_id, overrides)
    start, end = _utc(start), _utc(end)
    if end <= start:
        return []
    segments: list[Segment] = []
    cur = engine.state(start)
    seg_start = start
    for p in engine.points(start, end):
        if p >= end:
            break
        s = engine.state(p)
        if s.key != cur.key:
            segments.append(_segment(seg_start, p, cur))
            seg_start, cur = p, s
    segments.append(_segment(seg_start, end, cur))
    return segments


def _segment(start: datetime, end: datetime, s: _State) -> Segment:
    return Segment(start, end, s.window is not None, None if s.window is None else s.window.name,
                   s.primary, s.secondary)
