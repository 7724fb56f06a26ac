"""The slots of a cover request: what a person holds in a span, cut into on-call stretches.

``cover_slots`` starts from the seats the person holds after the overrides (``bot.core.changes.
holdings``), asks the engine (``bot.core.coverage.schedule``) where each seat is on call for a
pipeline through that person, and joins the duties that overlap or touch into one stretch: DE R1
on a business Monday is one slot 08:00-18:00 (Profit backup and Growth backup), the weekend
support on Saturday and Sunday two more. A Take of a slot is an override of its seat for its
stretch, so every duty of the stretch goes to the taker at once. Pipeline-wide overrides the
person holds are not offered (they are not a seat anyone else can take). Instants are UTC; the
stretches follow local wall-clock windows, so they are right across DST changes and holidays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.core.calendar import CompanyCalendar
from bot.core.changes.holdings import holdings
from bot.core.changes.lookups import pipelines_using
from bot.core.cover.model import CoverSlot, Duty
from bot.core.coverage import schedule
from bot.core.model import Directory, Override, SlotRef
from bot.core.shifts import ROLES


def seat_channel(directory: Directory, rotation: str) -> str | None:
    """The channel a seat's slots are offered in: its rotation's team channel."""
    rot = directory.rotations.get(rotation)
    team = directory.teams.get(rot.team) if rot is not None else None
    return team.channel if team is not None else None


def _duties(
    directory: Directory, cal: CompanyCalendar, person: str, seat: SlotRef, start: datetime, end: datetime,
    overrides: Sequence[Override],
) -> list[Duty]:
    out: list[Duty] = []
    for pid in pipelines_using(directory, (seat.rotation,)):
        for seg in schedule(directory, cal, pid, start, end, overrides):
            if not seg.covered or seg.window is None:
                continue
            for role, holder in zip(ROLES, (seg.primary, seg.secondary), strict=True):
                if (holder is None or holder.person != person or holder.slot.offset != 0
                        or (holder.slot.rotation, holder.slot.role) != (seat.rotation, seat.role)):
                    continue
                last = next((i for i in range(len(out) - 1, -1, -1)
                             if (out[i].pipeline, out[i].role, out[i].window) == (pid, role, seg.window)), None)
                if last is not None and out[last].end == seg.start:
                    out[last] = replace(out[last], end=seg.end)
                else:
                    out.append(Duty(pid, role, seg.window, seg.start, seg.end))
    out.sort(key=lambda d: (d.start, d.pipeline, ROLES.index(d.role)))
    return out


def _stretches(duties: Sequence[Duty]) -> list[list[Duty]]:
    """Duties that overlap or touch, grouped (input sorted by start)."""
    groups: list[list[Duty]] = []
    end: datetime | None = None
    for d in duties:
        if groups and end is not None and d.start <= end:
            groups[-1].append(d)
            end = max(end, d.end)
        else:
            groups.append([d])
            end = d.end
    return groups


def cover_slots(
    directory: Directory,
    cal: CompanyCalendar,
    person: str,
    start: datetime,
    end: datetime,
    overrides: Sequence[Override] = (),
) -> tuple[CoverSlot, ...]:
    """The slots ``person`` would need covered in ``[start, end)`` (module doc), numbered from 1 by
    start (then seat); empty when they are on call for nothing then."""
    found: list[CoverSlot] = []
    for h in holdings(directory, overrides, person, start, end):
        if h.seat is None:
            continue
        for group in _stretches(_duties(directory, cal, person, h.seat, h.start, h.end, overrides)):
            lo, hi = min(d.start for d in group), max(d.end for d in group)
            found.append(CoverSlot(0, h.seat.rotation, h.seat.role, lo, hi, tuple(group),
                                   seat_channel(directory, h.seat.rotation)))
    found.sort(key=lambda s: (s.start, s.rotation, s.role or ""))
    return tuple(replace(s, n=i) for i, s in enumerate(found, start=1))
