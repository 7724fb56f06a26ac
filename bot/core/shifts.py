"""A person's time on call, from schedule segments: spans and shifts.

Pure. Two notions, shared by the calendar feeds, fairness and the "before a shift" DMs:

- a ``Span`` is a contiguous stretch during which one person holds one role (primary or
  secondary) of one pipeline in one window. ``schedule`` starts a new segment whenever *anyone*
  changes, so consecutive segments with the same person, role and window are joined;
- a ``Shift`` is a run of spans of the same person, pipeline, role and window, each starting less
  than ``SHIFT_GAP`` (24 h) after the previous one ended: "weekday 08:00-18:00, Monday to Friday"
  is one shift; the weekend support that follows it is another (another window); a holiday in the
  middle of the week splits the weekday run in two.

Overrides are already applied in the segments, so an override counts for whoever covered.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.core.calendar import CompanyCalendar
from bot.core.coverage import schedule
from bot.core.model import Directory, Override

SHIFT_GAP = timedelta(hours=24)
ROLES = ("primary", "secondary")


@dataclass(frozen=True, slots=True)
class Span:
    """``person`` holds ``role`` of ``pipeline`` in ``window`` over ``[start, end)`` (UTC)."""

    person: str
    pipeline: str
    role: str  # "primary" | "secondary"
    window: str
    start: datetime
    end: datetime
    via_override: bool = False


@dataclass(frozen=True, slots=True)
class Shift:
    """A run of spans with the same person, pipeline, role and window (see the module doc)."""

    person: str
    pipeline: str
    role: str
    window: str
    spans: tuple[Span, ...]

    @property
    def start(self) -> datetime:
        return self.spans[0].start

    @property
    def end(self) -> datetime:
        return self.spans[-1].end

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.person, self.pipeline, self.role, self.window)


def spans(
    directory: Directory,
    cal: CompanyCalendar,
    start: datetime,
    end: datetime,
    overrides: Sequence[Override] = (),
    *,
    pipelines: Iterable[str] | None = None,
    person: str | None = None,
) -> list[Span]:
    """Every span in ``[start, end)`` (clipped to it) over ``pipelines`` (default: all), optionally
    only ``person``'s; sorted by start, then pipeline and role."""
    out: list[Span] = []
    for pid in directory.pipelines if pipelines is None else pipelines:
        open_: dict[str, Span] = {}
        for seg in schedule(directory, cal, pid, start, end, overrides):
            for role, holder in zip(ROLES, (seg.primary, seg.secondary), strict=True):
                prev = open_.pop(role, None)
                if not seg.covered or holder is None or seg.window is None:
                    if prev is not None:
                        out.append(prev)
                    continue
                via = holder.via_override is not None
                if (prev is not None and prev.person == holder.person and prev.window == seg.window
                        and prev.end == seg.start):
                    open_[role] = Span(prev.person, pid, role, seg.window, prev.start, seg.end,
                                       prev.via_override or via)
                    continue
                if prev is not None:
                    out.append(prev)
                open_[role] = Span(holder.person, pid, role, seg.window, seg.start, seg.end, via)
        out.extend(open_.values())
    if person is not None:
        out = [s for s in out if s.person == person]
    out.sort(key=lambda s: (s.start, s.pipeline, ROLES.index(s.role)))
    return out


def shifts(all_spans: Iterable[Span], gap: timedelta = SHIFT_GAP) -> list[Shift]:
    """Group spans into shifts (runs with less than ``gap`` between them), sorted by start."""
    runs: dict[tuple[str, str, str, str], list[list[Span]]] = {}
    for s in sorted(all_spans, key=lambda s: s.start):
        key = (s.person, s.pipeline, s.role, s.window)
        groups = runs.setdefault(key, [])
        if groups and s.start - groups[-1][-1].end < gap:
            groups[-1].append(s)
        else:
            groups.append([s])
    out = [Shift(*key, tuple(g)) for key, groups in runs.items() for g in groups]
    out.sort(key=lambda sh: (sh.start, sh.pipeline, ROLES.index(sh.role), sh.person))
    return out


def on_call_intervals(person_spans: Iterable[Span]) -> list[tuple[datetime, datetime]]:
    """The union of the spans' intervals: when the person is on call for anything, merged."""
    merged: list[tuple[datetime, datetime]] = []
    for s in sorted(person_spans, key=lambda s: s.start):
        if merged and s.start <= merged[-1][1]:
            if s.end > merged[-1][1]:
                merged[-1] = (merged[-1][0], s.end)
        else:
            merged.append((s.start, s.end))
    return merged


NOTICE_LOOKBACK = timedelta(days=2)
NOTICE_LOOKAHEAD = timedelta(days=8)


@dataclass(frozen=True, slots=True)
class Notice:
    """The "before a shift" DM due to ``person`` for the shifts that start at ``start``."""

    person: str
    start: datetime
    shifts: tuple[Shift, ...]

    @property
    def key(self) -> str:
        return f"shift:{self.person}@{self.start.astimezone(UTC):%Y-%m-%dT%H:%MZ}"


def notices_due(
    directory: Directory,
    cal: CompanyCalendar,
    now: datetime,
    lead: timedelta,
    overrides: Sequence[Override] = (),
) -> list[Notice]:
    """The notices for every shift that starts in ``(now, now + lead]``, one per person and start.

    A shift's start is where its run begins (spans are read from 2 days back, more than the 24 h
    that joins a run), and its end as far as 8 days on, so a weekly run is told whole. Weekend
    and holiday support shifts are shifts like any other.
    """
    all_spans = spans(directory, cal, now - NOTICE_LOOKBACK, now + lead + NOTICE_LOOKAHEAD, overrides)
    due: dict[tuple[str, datetime], list[Shift]] = {}
    for sh in shifts(all_spans):
        if now < sh.start <= now + lead:
            due.setdefault((sh.person, sh.start), []).append(sh)
    ordered = sorted(due.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    return [Notice(person, start, tuple(group)) for (person, start), group in ordered]
