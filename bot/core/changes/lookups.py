"""Finding what a change names: targets (a rotation seat or a pipeline), their rotations and weeks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.changes.model import Target
from bot.core.model import Directory
from bot.core.rotation import PERSON_SLOT, week_index, week_start
from bot.core.search import find_pipeline


def find_target(directory: Directory, text: str) -> Target | None:
    """The rotation seat or pipeline ``text`` names: ``finance``, ``data-eng:R1``, ``R1``, ``DE R1``,
    a rotation's name, or a pipeline's id, name or alias (any case). None if nothing matches."""
    key = " ".join(text.strip().lower().split())
    if not key:
        return None
    for rot in directory.rotations.values():
        if key in (rot.id.lower(), rot.name.lower()):
            return Target(rotation=rot.id)
        for role in rot.roles:
            if key in (f"{rot.id}:{role.id}".lower(), role.name.lower()):
                return Target(rotation=rot.id, role=role.id)
    by_role = [(rot.id, role.id) for rot in directory.rotations.values() for role in rot.roles
               if role.id.lower() == key]
    if len(by_role) == 1:
        return Target(rotation=by_role[0][0], role=by_role[0][1])
    match = find_pipeline(directory, text)
    return Target(pipeline=match.pipeline.id) if match.pipeline is not None else None


def target_choices(directory: Directory) -> list[tuple[str, str]]:
    """``(value, label)`` of every target a picker offers: seats first, then pipelines."""
    out: list[tuple[str, str]] = []
    for rot in directory.rotations.values():
        if rot.roles:
            out += [(f"{rot.id}:{r.id}", f"{r.name} ({r.covers})" if r.covers else r.name) for r in rot.roles]
        else:
            out.append((rot.id, rot.name))
    out += [(p.id, f"Pipeline: {p.name}") for p in directory.pipelines.values()]
    return out


def pipeline_rotations(directory: Directory, pipeline_id: str) -> tuple[str, ...]:
    """The rotations whose seats the windows of ``pipeline_id`` use, in first-use order."""
    used: dict[str, None] = {}
    for w in directory.pipelines[pipeline_id].windows:
        for s in (w.primary, w.secondary):
            if s is not None and s.rotation != PERSON_SLOT:
                used[s.rotation] = None
    return tuple(used)


def pipelines_using(directory: Directory, rotations: Iterable[str]) -> tuple[str, ...]:
    rots = set(rotations)
    return tuple(p for p in directory.pipelines if rots.intersection(pipeline_rotations(directory, p)))


def week_of(
    directory: Directory, tz: ZoneInfo, people: Sequence[str], at: datetime
) -> tuple[datetime, datetime] | str:
    """The rotation week that contains ``at`` for the rotations ``people`` are members of: its
    ``(start, end)``, or a reason when they are in no rotation or their rotations' weeks differ."""
    rotations = [r for r in directory.rotations.values() if any(p in r.members for p in people)]
    if not rotations:
        return "Neither of them is a member of any rotation."
    weeks = set()
    for r in rotations:
        k = week_index(r, at, tz)
        weeks.add((week_start(r, k, tz), week_start(r, k + 1, tz)))
    if len(weeks) > 1:
        return "Their rotations hand off at different times, so \"that week\" is not one range: use overrides."
    return weeks.pop()
