"""Weekly rotations: which week an instant falls in, who holds a slot, and overrides.

Pure: instants are explicit, aware datetimes; results are UTC-aware. Week ``k`` of a rotation
starts at the local wall-clock time ``rotation.anchor + k * period_days`` days in the company zone
(the same local time of day on every week, across DST changes). ``k`` is negative before the
anchor; all "mod" are the non-negative remainder.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.core.answer import Holder
from bot.core.calendar import require_aware
from bot.core.model import Directory, Override, Rotation, SlotRef

PERSON_SLOT = "@person"
"""``SlotRef(PERSON_SLOT, person_id)`` names a person directly (recurring-work assignees)."""


def _local_anchor(anchor: datetime, tz: ZoneInfo) -> datetime:
    """The anchor as naive local wall clock (an aware anchor is converted to ``tz`` first)."""
    if anchor.tzinfo is not None:
        return anchor.astimezone(tz).replace(tzinfo=None)
    return anchor


@lru_cache(maxsize=8192)
def _week_start(anchor: datetime, period_days: int, k: int, tz: ZoneInfo) -> datetime:
    local = _local_anchor(anchor, tz)
    day = local.date() + timedelta(days=k * period_days)
    return datetime.combine(day, local.time(), tzinfo=tz).astimezone(UTC)


def week_start(rotation: Rotation, k: int, tz: ZoneInfo) -> datetime:
    """The UTC instant at which week ``k`` of ``rotation`` starts.

    That is local wall clock ``anchor + k * period_days`` days in ``tz`` (``anchor`` is naive local
    wall clock; an aware anchor is first converted to ``tz``). Non-existent local times move
    forward by the DST gap, ambiguous ones are their first occurrence (zoneinfo ``fold=0``).
    """
    return _week_start(rotation.anchor, rotation.period_days, k, tz)


def week_index(rotation: Rotation, at: datetime, tz: ZoneInfo) -> int:
    """The week ``k`` with ``week_start(k) <= at < week_start(k + 1)`` (floor semantics).

    ``at`` must be aware (``ValueError`` otherwise). Negative before the anchor: the instant just
    before week 0 starts is in week -1.
    """
    anchor = _local_anchor(rotation.anchor, tz)
    # A guess from the UTC date, at most one week off either way (west of UTC it can be high, east
    # of it low, when the handoff's local time is within the UTC offset of midnight); the loops settle it.
    k = (require_aware(at).astimezone(UTC).date() - anchor.date()).days // rotation.period_days
    while at < _week_start(rotation.anchor, rotation.period_days, k, tz):
        k -= 1
    while at >= _week_start(rotation.anchor, rotation.period_days, k + 1, tz):
        k += 1
    return k


def member_for(rotation: Rotation, role: str | None, offset: int, k: int) -> str:
    """The member holding a slot in week ``k``.

    Team rotation (no roles, ``role`` must be None): ``members[(k + offset) mod n]``.
    Role rotation: role ``j`` (0-based index of ``role`` in ``rotation.roles``) is held by
    ``members[(j + k + offset) mod n]``; week 0: R1 de1, R2 de2, ...; week 1: R1 de2, ..., R4 de1.
    ``offset`` +1 is "the member after the holder", -1 "the one before". ``ValueError`` for a
    role the rotation does not have, a missing role on a role rotation, or a role on a team one.
    """
    n = len(rotation.members)
    if n == 0:
        raise ValueError(f"rotation '{rotation.id}' has no members")
    if not rotation.roles:
        if role is not None:
            raise ValueError(f"rotation '{rotation.id}' has no roles (got role '{role}')")
        return rotation.members[(k + offset) % n]
    for j, r in enumerate(rotation.roles):
        if r.id == role:
            return rotation.members[(j + k + offset) % n]
    known = ", ".join(r.id for r in rotation.roles)
    raise ValueError(f"rotation '{rotation.id}' has roles {known}; got {role!r}")


def _override_applies(o: Override, slot: SlotRef, holder: str, pipeline: str | None) -> bool:
    if (
        o.rotation is not None
        and o.rotation == slot.rotation
        and slot.offset == 0
        and (o.role is None or o.role == slot.role)
    ):
        return True
    if o.replaces is not None and o.replaces == holder:
        return True
    return (
        o.pipeline is not None and o.pipeline == pipeline and o.rotation is None and o.replaces is None
    )


def _newest(o: Override) -> tuple[datetime, int]:
    return (o.created_at, o.id)


def apply_overrides(
    slot: SlotRef, holder: str, at: datetime, overrides: Sequence[Override], pipeline: str | None = None
) -> Holder:
    """``holder`` (the rotation's member for ``slot`` at ``at``) after ``overrides``.

    An override applies when ``start <= at < end`` and one of:
    - it names the slot's rotation (and its role, when the override gives one) and the slot has
      offset 0 (an override covers the current seat, not "the next member" or "the previous one");
    - it ``replaces`` the rotation holder (person-level: away, swap);
    - it names ``pipeline`` and neither a rotation nor a person (covers every slot of that pipeline).
    Among the applicable ones the newest wins: the highest ``(created_at, id)``.
    """
    live = [o for o in overrides if o.start <= at < o.end and _override_applies(o, slot, holder, pipeline)]
    best = max(live, key=_newest, default=None)  # ids are unique: no ties
    if best is None:
        return Holder(holder, slot)
    return Holder(best.person, slot, best.id)


def rotation_holder(directory: Directory, slot: SlotRef, at: datetime, tz: ZoneInfo) -> str:
    """The member the rotation puts in ``slot`` at aware ``at`` (no overrides).

    ``SlotRef("@person", person_id)`` is that person. ``KeyError`` for an unknown rotation.
    """
    if slot.rotation == PERSON_SLOT:
        if slot.role is None:
            raise ValueError("a person slot needs the person id as its role")
        return slot.role
    rotation = directory.rotations[slot.rotation]
    return member_for(rotation, slot.role, slot.offset, week_index(rotation, at, tz))


def resolve_slot(
    directory: Directory,
    slot: SlotRef,
    at: datetime,
    overrides: Sequence[Override] = (),
    pipeline: str | None = None,
) -> Holder:
    """Who holds ``slot`` at aware instant ``at``: the rotation holder, then ``overrides``.

    Weeks are counted in the directory's calendar zone. See :func:`apply_overrides` for which
    overrides apply (``pipeline`` enables pipeline-level ones); ``Holder.via_override`` is the
    winning override's id, None if the rotation decides. ``KeyError`` for an unknown rotation,
    ``ValueError`` for a naive ``at`` or a role the rotation lacks.
    """
    tz = ZoneInfo(directory.calendar.timezone)
    holder = rotation_holder(directory, slot, at, tz)
    return apply_overrides(slot, holder, at, overrides, pipeline)


def slots_of(rotation: Rotation) -> list[SlotRef]:
    """Every seat of a rotation with offset 0: one per role, or the single team seat."""
    if rotation.roles:
        return [SlotRef(rotation.id, r.id) for r in rotation.roles]
    return [SlotRef(rotation.id)]


def roles_of(
    directory: Directory, person: str, at: datetime, overrides: Sequence[Override] = ()
) -> list[SlotRef]:
    """The seats ``person`` holds at aware ``at`` (overrides applied, no pipeline-level ones),
    in directory rotation order, then role order. Empty if none."""
    out: list[SlotRef] = []
    for rotation in directory.rotations.values():
        for slot in slots_of(rotation):
            if resolve_slot(directory, slot, at, overrides).person == person:
                out.append(slot)
    return out


def handoff_changes(directory: Directory, k: int, tz: ZoneInfo) -> list[tuple[SlotRef, str, str]]:
    """``(slot, previous holder, new holder)`` for every seat whose rotation holder changes at the
    start of week ``k`` (each rotation's own week ``k``); seats that stay with the same person are
    left out. Rotation arithmetic only: overrides are not applied. ``tz`` is accepted for symmetry
    with the other functions (week numbers do not depend on it)."""
    del tz
    out: list[tuple[SlotRef, str, str]] = []
    for rotation in directory.rotations.values():
        for slot in slots_of(rotation):
            before = member_for(rotation, slot.role, 0, k - 1)
            after = member_for(rotation, slot.role, 0, k)
            if before != after:
                out.append((slot, before, after))
    return out


# -- the on-call week -----------------------------------------------------------------------------


def handoff_rotation(directory: Directory) -> Rotation | None:
    """The rotation whose handoffs bound the company's on-call week, None without rotations.

    That is the first rotation (seed order) with the most common handoff: anchor weekday, local
    time of day and period. In a company whose rotations all hand off Monday 09:00 it is the first
    rotation; where they hand off Wednesday 10:30 the on-call week runs Wednesday 10:30 to
    Wednesday 10:30.
    """
    known = _HANDOFF_ROTATIONS.get(id(directory))
    if known is not None and known[0] is directory:
        return known[1]
    found = _handoff_rotation(directory)
    while len(_HANDOFF_ROTATIONS) >= 8:
        del _HANDOFF_ROTATIONS[next(iter(_HANDOFF_ROTATIONS))]
    _HANDOFF_ROTATIONS[id(directory)] = (directory, found)
    return found


# Directories are immutable and shared: the answer is kept for the last few, by identity (the
# Directory itself is kept too, so that an id is never reused while its entry exists).
_HANDOFF_ROTATIONS: dict[int, tuple[Directory, Rotation | None]] = {}


def _handoff_rotation(directory: Directory) -> Rotation | None:
    rotations = list(directory.rotations.values())
    if not rotations:
        return None

    def handoff(r: Rotation) -> tuple[int, time, int]:
        return (r.anchor.weekday(), r.anchor.time(), r.period_days)

    counts: dict[tuple[int, time, int], int] = {}
    for r in rotations:
        counts[handoff(r)] = counts.get(handoff(r), 0) + 1
    best = max(counts.values())
    return next(r for r in rotations if counts[handoff(r)] == best)


def oncall_week_first(directory: Directory, tz: ZoneInfo, d: date) -> date:
    """The local date on which the on-call week holding local date ``d`` starts.

    A week's days are the dates from the handoff's date to the day before the next handoff's (a
    Wednesday 10:30 handoff: Wednesday to Tuesday); a date belongs to the week whose handoff is on
    or before it. The handoff is :func:`handoff_rotation`'s; without rotations, Monday.
    """
    rotation = handoff_rotation(directory)
    if rotation is None:
        return d - timedelta(days=d.weekday())
    return _week_first(rotation, tz, d)


@lru_cache(maxsize=4096)
def _week_first(rotation: Rotation, tz: ZoneInfo, d: date) -> date:
    end_of_day = datetime.combine(d + timedelta(days=1), time(0), tzinfo=tz) - timedelta(microseconds=1)
    k = week_index(rotation, end_of_day, tz)
    return week_start(rotation, k, tz).astimezone(tz).date()


def oncall_week_days(directory: Directory) -> int:
    """How many days an on-call week has (the handoff rotation's period; 7 without rotations)."""
    rotation = handoff_rotation(directory)
    return rotation.period_days if rotation is not None else 7
