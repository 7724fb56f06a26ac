"""Schedule changes (issue 5 §1): override, swap and away, checked and turned into overrides. Pure.

``plan_change`` takes a request, the directory, the existing overrides and the recorded absences
at an explicit ``now`` and answers either a ``Plan`` (the overrides to insert, what changes for
whom, who is affected) or a ``Refusal`` (why not). Nothing here reads a clock or a database.

How each change becomes overrides (see ``bot.core.rotation.apply_overrides`` for how they apply):

- **override** TARGET @who FROM TO: one override of the rotation seat (``rotation`` + ``role``) or
  of a whole pipeline (``pipeline``: every seat of that pipeline).
- **swap** @a @b WEEK: over that rotation week, every seat ``a`` holds goes to ``b`` and every seat
  ``b`` holds goes to ``a`` (one seat override per seat and stretch), and pipeline overrides that
  name one of them are re-issued for the other.
- **away** FROM TO [@cover]: every seat the person holds in the range (after the existing
  overrides) goes to the cover, or else to the next member of that seat's rotation who is not
  away (checked per stretch between other people's absences); pipeline overrides naming them
  are re-issued for the same cover. The absence itself is recorded too, so later changes cannot
  put the person on call while away.

Seats are those of offset 0 (``SlotRef(rotation, role)``): an escalation contact such as
"analytics+1" is the rotation arithmetic and does not follow a change.

A change is refused when the actor may not make it (``bot.core.permissions``), when it names
nothing real, when it would put someone on call while they are away, when an absence leaves a
window with nobody to cover it, or when it would change nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.core.calendar import CompanyCalendar
from bot.core.changes.holdings import (
    Holding,
    double_duty,
    holdings,
    impact,
    next_available,
    on_call,
    on_call_while_away,
)
from bot.core.changes.lookups import pipeline_rotations, pipelines_using
from bot.core.changes.model import (
    MAX_RANGE,
    Away,
    ChangeKind,
    ChangeRequest,
    NewOverride,
    Plan,
    Refusal,
    RefusalKind,
    invalid,
)
from bot.core.coverage import schedule
from bot.core.model import Directory, Override
from bot.core.permissions import Decision, all_of, known_actor, may_act_for, may_change_rotation
from bot.core.shifts import ROLES


def _next_ids(overrides: Sequence[Override], n: int) -> list[int]:
    top = max((o.id for o in overrides), default=0)
    return [top + 1 + i for i in range(n)]


def _with(overrides: Sequence[Override], new: Sequence[NewOverride], now: datetime, actor: str | None
          ) -> list[Override]:
    ids = _next_ids(overrides, len(new))
    return [*overrides, *(n.as_override(i, now, actor) for i, n in zip(ids, new, strict=True))]


def _check_basics(directory: Directory, request: ChangeRequest, now: datetime) -> Refusal | ChangeRequest:
    known = known_actor(directory, request.actor)
    if not known:
        return Refusal(RefusalKind.FORBIDDEN, known.reason)
    for who in (request.person, request.other):
        if who is not None and who not in directory.people:
            return invalid(f"'{who}' is not one of the on-call directory's people.")
    if request.end <= request.start:
        return invalid("The end must be after the start.")
    if request.end <= now:
        return invalid("That time is already over: changes can only be made from now on.")
    if request.end - request.start > MAX_RANGE:
        return invalid(f"A change can span at most {MAX_RANGE.days} days.")
    if request.start < now:
        request = replace(request, start=now)
    return request


def plan_change(
    directory: Directory,
    cal: CompanyCalendar,
    admins: Sequence[str],
    request: ChangeRequest,
    overrides: Sequence[Override],
    aways: Sequence[Away],
    now: datetime,
) -> Plan | Refusal:
    """Check ``request`` at ``now`` and turn it into overrides, or say why not (module doc).

    A start in the past is moved to ``now``. ``aways`` are the absences already recorded.
    """
    checked = _check_basics(directory, request, now)
    if isinstance(checked, Refusal):
        return checked
    request = checked
    if request.kind == ChangeKind.OVERRIDE:
        return _plan_override(directory, cal, admins, request, overrides, aways, now)
    if request.kind == ChangeKind.SWAP:
        return _plan_swap(directory, cal, admins, request, overrides, aways, now)
    return _plan_away(directory, cal, admins, request, overrides, aways, now)


def _plan_override(
    directory: Directory, cal: CompanyCalendar, admins: Sequence[str], request: ChangeRequest,
    overrides: Sequence[Override], aways: Sequence[Away], now: datetime,
) -> Plan | Refusal:
    t = request.target
    if t is None:
        return invalid("Name what to cover: a rotation, a role or a pipeline.")
    if t.pipeline is not None:
        if t.pipeline not in directory.pipelines:
            return invalid(f"There is no pipeline '{t.pipeline}'.")
        rotations = pipeline_rotations(directory, t.pipeline)
        new = NewOverride(request.start, request.end, request.person, pipeline=t.pipeline, reason=request.reason)
        pipelines: tuple[str, ...] = (t.pipeline,)
    else:
        rot = directory.rotations.get(t.rotation or "")
        if rot is None:
            return invalid(f"There is no rotation '{t.rotation}'.")
        if rot.roles and t.role is None:
            roles = ", ".join(f"`{r.id}`" for r in rot.roles)
            return invalid(f"{rot.name} has roles {roles}: name one (e.g. `{rot.id}:{rot.roles[0].id}`).")
        if t.role is not None and t.role not in {r.id for r in rot.roles}:
            return invalid(f"{rot.name} has no role '{t.role}'.")
        rotations = (rot.id,)
        new = NewOverride(request.start, request.end, request.person, rotation=rot.id, role=t.role,
                          reason=request.reason)
        pipelines = pipelines_using(directory, rotations)
    perm = all_of(may_change_rotation(directory, admins, request.actor, r) for r in rotations)
    if not perm:
        return Refusal(RefusalKind.FORBIDDEN, perm.reason)
    return _finish(directory, cal, request, overrides, aways, (new,), pipelines, perm, now)


def _plan_swap(
    directory: Directory, cal: CompanyCalendar, admins: Sequence[str], request: ChangeRequest,
    overrides: Sequence[Override], aways: Sequence[Away], now: datetime,
) -> Plan | Refusal:
    a, b = request.person, request.other
    if b is None:
        return invalid("Name the two people who swap.")
    if a == b:
        return invalid("Name two different people.")
    mine = holdings(directory, overrides, a, request.start, request.end)
    theirs = holdings(directory, overrides, b, request.start, request.end)
    if not mine and not theirs:
        return Refusal(RefusalKind.NO_CHANGE, "Neither of them holds a slot that week: nothing to swap.")
    new: list[NewOverride] = []
    decisions: list[Decision] = []
    for held, to in ((mine, b), (theirs, a)):
        for h in held:
            new.append(_cover(h, to, request.reason))
            decisions += _seat_decisions(directory, admins, request.actor, h)
    perm = all_of(decisions)
    if not perm:
        return Refusal(RefusalKind.FORBIDDEN, perm.reason)
    pipelines = _pipelines_of(directory, [*mine, *theirs])
    return _finish(directory, cal, request, overrides, aways, tuple(new), pipelines, perm, now)


def _plan_away(
    directory: Directory, cal: CompanyCalendar, admins: Sequence[str], request: ChangeRequest,
    overrides: Sequence[Override], aways: Sequence[Away], now: datetime,
) -> Plan | Refusal:
    subject, cover = request.person, request.other
    if cover == subject:
        return invalid("Someone who is away cannot cover for themselves.")
    decisions = [may_act_for(directory, admins, request.actor, subject)]
    me = Away(subject, request.start, request.end)
    all_aways = [*aways, me]
    held = holdings(directory, overrides, subject, request.start, request.end, all_aways)
    new: list[NewOverride] = []
    uncovered: dict[Holding, tuple[str, ...]] = {}
    for h in held:
        decisions += _seat_decisions(directory, admins, request.actor, h)
        if cover is not None:
            new.append(_cover(h, cover, request.reason))
            continue
        if h.seat is None:
            uncovered[h] = ()
            continue
        pick, skipped = next_available(directory, h, overrides, all_aways)
        if pick is None:
            uncovered[h] = skipped
        else:
            new.append(_cover(h, pick, request.reason))
    perm = all_of(decisions)
    if not perm:
        return Refusal(RefusalKind.FORBIDDEN, perm.reason)
    plan = _finish(directory, cal, request, overrides, aways, tuple(_merge(new)), tuple(directory.pipelines),
                   perm, now)
    if isinstance(plan, Refusal):
        return plan
    after = _with(overrides, plan.overrides, now, request.actor)
    for pid in directory.pipelines:
        for seg in schedule(directory, cal, pid, request.start, request.end, after):
            for role in ROLES:
                if on_call(seg, role) == subject:
                    others = _others_for(uncovered, seg.start, seg.end)
                    why = "Nobody is left to cover it" if others is not None else "They would still be on call"
                    return Refusal(RefusalKind.NOBODY, why, person=subject, pipeline=pid, role=role,
                                   start=seg.start, end=seg.end, away=me, others_away=others or ())
    if not plan.overrides:
        return replace(plan, notes=(*plan.notes, "They hold no on-call slot then; the absence is recorded so "
                                                 "that nobody puts them on call."))
    return plan


def _others_for(uncovered: dict[Holding, tuple[str, ...]], start: datetime, end: datetime) -> tuple[str, ...] | None:
    for h, skipped in uncovered.items():
        if h.start < end and start < h.end:
            return skipped
    return None


def _merge(new: Sequence[NewOverride]) -> list[NewOverride]:
    """Join overrides of the same seat and person that touch (stretches split by absences)."""
    out: list[NewOverride] = []
    for n in sorted(new, key=lambda n: (str(n.rotation), str(n.role), str(n.pipeline), n.start)):
        last = out[-1] if out else None
        if (last is not None and last.end == n.start and
                (last.person, last.rotation, last.role, last.pipeline) == (n.person, n.rotation, n.role, n.pipeline)):
            out[-1] = replace(last, end=n.end)
        else:
            out.append(n)
    out.sort(key=lambda n: (n.start, str(n.rotation), str(n.role), str(n.pipeline)))
    return out


def _cover(h: Holding, person: str, reason: str) -> NewOverride:
    if h.seat is not None:
        return NewOverride(h.start, h.end, person, rotation=h.seat.rotation, role=h.seat.role, reason=reason)
    return NewOverride(h.start, h.end, person, pipeline=h.pipeline, reason=reason)


def _seat_decisions(directory: Directory, admins: Sequence[str], actor: str | None, h: Holding) -> list[Decision]:
    if h.seat is not None:
        return [may_change_rotation(directory, admins, actor, h.seat.rotation, holder=h.person)]
    assert h.pipeline is not None
    return [may_change_rotation(directory, admins, actor, r, holder=h.person)
            for r in pipeline_rotations(directory, h.pipeline)]


def _pipelines_of(directory: Directory, held: Sequence[Holding]) -> tuple[str, ...]:
    rotations = {h.seat.rotation for h in held if h.seat is not None}
    named = {h.pipeline for h in held if h.pipeline is not None}
    return tuple(p for p in directory.pipelines
                 if p in named or rotations.intersection(pipeline_rotations(directory, p)))


def _finish(
    directory: Directory, cal: CompanyCalendar, request: ChangeRequest, overrides: Sequence[Override],
    aways: Sequence[Away], new: tuple[NewOverride, ...], pipelines: tuple[str, ...], perm: Decision, now: datetime,
) -> Plan | Refusal:
    after = _with(overrides, new, now, request.actor)
    changes = impact(directory, cal, pipelines, overrides, after, request.start, request.end)
    every_away = [*aways, *([Away(request.person, request.start, request.end)]
                            if request.kind == ChangeKind.AWAY else [])]
    refusal = on_call_while_away(changes, every_away, "They would be on call while away")
    if refusal is not None:
        return refusal
    if not changes and request.kind != ChangeKind.AWAY:
        if request.kind == ChangeKind.OVERRIDE:
            return Refusal(RefusalKind.NO_CHANGE, "Nothing would change: that person already covers it then, "
                                                  "or no pipeline window uses it in that time.")
        return Refusal(RefusalKind.NO_CHANGE, "Nothing would change: no pipeline window uses their slots then.")
    return Plan(request, new, tuple(changes), perm.reason, tuple(double_duty(directory, cal, after, changes)))


def plan_override_as(
    directory: Directory,
    cal: CompanyCalendar,
    request: ChangeRequest,
    permission: str,
    overrides: Sequence[Override],
    aways: Sequence[Away],
    now: datetime,
) -> Plan | Refusal:
    """Plan a seat ``override`` whose permission the caller already decided (``permission``: why,
    e.g. a Take of a cover slot the requester offered, ``bot.core.cover``): the checks of every
    change still apply (a range from now on, nobody on call while away, something changes), and
    so does one more: no window that had someone on call is left with nobody."""
    checked = _check_basics(directory, request, now)
    if isinstance(checked, Refusal):
        return checked
    t = checked.target
    if checked.kind != ChangeKind.OVERRIDE or t is None or t.rotation not in directory.rotations:
        return invalid("Only an override of a rotation seat can be planned this way.")
    new = NewOverride(checked.start, checked.end, checked.person, rotation=t.rotation, role=t.role,
                      reason=checked.reason)
    plan = _finish(directory, cal, checked, overrides, aways, (new,), pipelines_using(directory, (t.rotation,)),
                   Decision(True, permission), now)
    if isinstance(plan, Refusal):
        return plan
    empty = next((c for c in plan.impact if c.before is not None and c.after is None), None)
    if empty is not None:
        return Refusal(RefusalKind.NOBODY, "It would leave a window with nobody on call.", pipeline=empty.pipeline,
                       role=empty.role, start=empty.start, end=empty.end)
    return plan
