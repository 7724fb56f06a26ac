"""Who holds which seat when (after the overrides), who is free to cover, and what a change does to whom."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

from bot.core.answer import Segment
from bot.core.calendar import CompanyCalendar
from bot.core.changes.model import Away, Refusal, RefusalKind, ShiftChange
from bot.core.coverage import schedule
from bot.core.model import Directory, Override, SlotRef
from bot.core.rotation import resolve_slot, slots_of, week_index, week_start
from bot.core.shifts import ROLES


@dataclass(frozen=True, slots=True)
class Holding:
    """``person`` holds ``seat`` over ``[start, end)``, or (``seat`` None) a whole ``pipeline`` by a
    pipeline override."""

    person: str
    start: datetime
    end: datetime
    seat: SlotRef | None = None
    pipeline: str | None = None


def _change_points(
    directory: Directory, tz: ZoneInfo, overrides: Sequence[Override], aways: Sequence[Away],
    start: datetime, end: datetime,
) -> list[datetime]:
    points = {start, end}
    for rot in directory.rotations.values():
        k = week_index(rot, start, tz) + 1
        while (ws := week_start(rot, k, tz)) < end:
            points.add(ws)
            k += 1
    bounds = [(o.start, o.end) for o in overrides] + [(a.start, a.end) for a in aways]
    points.update(p for pair in bounds for p in pair if start < p < end)
    return sorted(points)


def holdings(
    directory: Directory, overrides: Sequence[Override], person: str, start: datetime, end: datetime,
    aways: Sequence[Away] = (),
) -> list[Holding]:
    """Every seat ``person`` holds in ``[start, end)`` after ``overrides`` (one entry per seat and
    stretch, split where someone's absence starts or ends), then the pipeline overrides naming
    them; by start."""
    tz = ZoneInfo(directory.calendar.timezone)
    seats = [s for rot in directory.rotations.values() for s in slots_of(rot)]
    points = _change_points(directory, tz, overrides, aways, start, end)
    out: list[Holding] = []
    open_: dict[SlotRef, Holding] = {}
    for lo, hi in pairwise(points):
        for seat in seats:
            held = resolve_slot(directory, seat, lo, overrides).person == person
            prev = open_.pop(seat, None)
            if held and prev is not None and not _splits(aways, lo):
                open_[seat] = replace(prev, end=hi)
                continue
            if prev is not None:
                out.append(prev)
            if held:
                open_[seat] = Holding(person, lo, hi, seat=seat)
    out.extend(open_.values())
    for o in overrides:
        if o.pipeline is not None and o.rotation is None and o.replaces is None and o.person == person:
            lo, hi = max(o.start, start), min(o.end, end)
            if lo < hi:
                out.append(Holding(person, lo, hi, pipeline=o.pipeline))
    out.sort(key=lambda h: (h.start, str(h.seat), h.pipeline or ""))
    return out


def _splits(aways: Sequence[Away], at: datetime) -> bool:
    return any(a.start == at or a.end == at for a in aways)


def away_during(aways: Sequence[Away], person: str, start: datetime, end: datetime) -> Away | None:
    """The first of ``aways`` in which ``person`` is away at some instant of ``[start, end)``, or None."""
    for a in aways:
        if a.person == person and a.start < end and start < a.end:
            return a
    return None



def on_call_while_away(changes: Sequence[ShiftChange], aways: Sequence[Away], reason: str) -> Refusal | None:
    """The refusal (kind ``AWAY``, saying ``reason``) of the first of ``changes`` that puts someone
    on call during one of their ``aways``; None when none does."""
    for ch in changes:
        if ch.after is None:
            continue
        away = away_during(aways, ch.after, ch.start, ch.end)
        if away is not None:
            return Refusal(RefusalKind.AWAY, reason, person=ch.after, pipeline=ch.pipeline, role=ch.role,
                           start=ch.start, end=ch.end, away=away)
    return None

def next_available(
    directory: Directory, holding: Holding, overrides: Sequence[Override], aways: Sequence[Away]
) -> tuple[str | None, tuple[str, ...]]:
    """The next member of the holding's rotation (after the away person, or after the rotation's
    holder when they are not a member) who is not away during the holding; and who was skipped."""
    if holding.seat is None:
        return None, ()
    rot = directory.rotations[holding.seat.rotation]
    members = rot.members
    if holding.person in members:
        base = members.index(holding.person)
    else:
        base = members.index(resolve_slot(directory, holding.seat, holding.start).person)
    skipped: list[str] = []
    for i in range(1, len(members) + 1):
        candidate = members[(base + i) % len(members)]
        if candidate == holding.person:
            continue
        if away_during(aways, candidate, holding.start, holding.end) is None:
            return candidate, tuple(skipped)
        skipped.append(candidate)
    return None, tuple(skipped)


def on_call(seg: Segment, role: str) -> str | None:
    """Who holds ``role`` ("primary" or "secondary") in a segment; None when it is not covered."""
    holder = seg.primary if role == "primary" else seg.secondary
    return holder.person if seg.covered and holder is not None else None


def impact(
    directory: Directory,
    cal: CompanyCalendar,
    pipelines: Iterable[str],
    before: Sequence[Override],
    after: Sequence[Override],
    start: datetime,
    end: datetime,
) -> list[ShiftChange]:
    """Where the on-call answers of ``pipelines`` differ between ``before`` and ``after`` over
    ``[start, end)``: per pipeline and role, the stretches with who held it before and after
    (None: not covered), adjacent stretches joined; by start."""
    out: list[ShiftChange] = []
    for pid in pipelines:
        a = schedule(directory, cal, pid, start, end, before)
        b = schedule(directory, cal, pid, start, end, after)
        i = j = 0
        t = start
        pieces: list[ShiftChange] = []
        while t < end and i < len(a) and j < len(b):
            sa, sb = a[i], b[j]
            hi = min(sa.end, sb.end)
            for role in ROLES:
                was, now = on_call(sa, role), on_call(sb, role)
                if was != now:
                    window = sb.window or sa.window
                    last = pieces[-1] if pieces else None
                    if (last is not None and last.role == role and last.end == t and last.before == was
                            and last.after == now and last.window == window):
                        pieces[-1] = replace(last, end=hi)
                    else:
                        pieces.append(ShiftChange(pid, role, window, t, hi, was, now))
            t = hi
            if sa.end == hi:
                i += 1
            if sb.end == hi:
                j += 1
        out.extend(pieces)
    out.sort(key=lambda c: (c.start, c.pipeline, ROLES.index(c.role)))
    return out


def double_duty(
    directory: Directory, cal: CompanyCalendar, after: Sequence[Override], changes: Sequence[ShiftChange]
) -> list[str]:
    """Notes for the pipelines where one person would be both primary and backup in a changed stretch."""
    notes: list[str] = []
    for pid in dict.fromkeys(c.pipeline for c in changes):
        mine = [c for c in changes if c.pipeline == pid]
        segs = schedule(directory, cal, pid, mine[0].start, max(c.end for c in mine), after)
        for s in segs:
            if not (s.covered and s.primary is not None and s.secondary is not None
                    and s.primary.person == s.secondary.person):
                continue
            if any(c.start < s.end and s.start < c.end for c in mine):
                name = directory.name_of(s.primary.person)
                notes.append(f"{name} would be both primary and backup for {directory.pipelines[pid].name} at times.")
                break
    return notes
