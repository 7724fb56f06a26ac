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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from zoneinfo import ZoneInfo

from bot.core.answer import Segment
from bot.core.calendar import CompanyCalendar
from bot.core.coverage import schedule
from bot.core.model import Directory, Override, SlotRef
from bot.core.permissions import Decision, all_of, is_admin, known_actor, may_act_for, may_change_rotation
from bot.core.rotation import PERSON_SLOT, resolve_slot, slots_of, week_index, week_start
from bot.core.search import find_pipeline
from bot.core.shifts import ROLES

MAX_RANGE = timedelta(days=366)


class ChangeKind(StrEnum):
    OVERRIDE = "override"
    SWAP = "swap"
    AWAY = "away"


class RefusalKind(StrEnum):
    INVALID = "invalid"  # names nothing real, or a range that is over / empty / too long
    FORBIDDEN = "forbidden"  # the actor may not make it
    AWAY = "away"  # it would put someone on call while they are away
    NOBODY = "nobody"  # an absence that nobody can cover leaves a window with nobody
    NO_CHANGE = "no_change"  # nothing anybody sees would change


@dataclass(frozen=True, slots=True)
class Target:
    """What an override covers: a rotation seat (``rotation`` and, for role rotations, ``role``)
    or a whole pipeline (``pipeline``)."""

    rotation: str | None = None
    role: str | None = None
    pipeline: str | None = None

    def __str__(self) -> str:
        if self.pipeline is not None:
            return self.pipeline
        return f"{self.rotation}:{self.role}" if self.role else str(self.rotation)


@dataclass(frozen=True, slots=True)
class ChangeRequest:
    """A change as asked. ``person``: override - who covers; swap - the first person; away - who is
    away. ``other``: swap - the second person; away - the named cover (None: pick the next member).
    ``target``: override only. Instants are aware; ``[start, end)``."""

    kind: ChangeKind
    actor: str | None
    start: datetime
    end: datetime
    person: str
    other: str | None = None
    target: Target | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Away:
    """A recorded absence ``[start, end)`` of ``person`` (from an away change)."""

    person: str
    start: datetime
    end: datetime
    change_id: int | None = None


@dataclass(frozen=True, slots=True)
class NewOverride:
    """An override to insert (the store gives it its id and ``created_at``)."""

    start: datetime
    end: datetime
    person: str
    rotation: str | None = None
    role: str | None = None
    pipeline: str | None = None
    replaces: str | None = None
    reason: str = ""

    def as_override(self, id: int, created_at: datetime, created_by: str | None) -> Override:
        return Override(id=id, start=self.start, end=self.end, person=self.person, created_at=created_at,
                        rotation=self.rotation, role=self.role, replaces=self.replaces, pipeline=self.pipeline,
                        reason=self.reason, created_by=created_by)


@dataclass(frozen=True, slots=True)
class ShiftChange:
    """Over ``[start, end)`` the ``role`` of ``pipeline`` (in ``window``) goes from ``before`` to
    ``after`` (None: not covered)."""

    pipeline: str
    role: str
    window: str | None
    start: datetime
    end: datetime
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a change is refused. ``reason`` is a full sentence for ``invalid``/``forbidden``/
    ``no_change``; for ``away``/``nobody`` the structured fields say who, what and when (renderers
    turn them into words with date tokens): ``person`` would be on call for ``pipeline``/``role``
    over ``[start, end)`` while ``away``; ``others_away`` are the members who could not cover."""

    kind: RefusalKind
    reason: str
    person: str | None = None
    pipeline: str | None = None
    role: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    away: Away | None = None
    others_away: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    """An accepted change: the overrides to insert and what they change (``impact``), in order."""

    request: ChangeRequest
    overrides: tuple[NewOverride, ...]
    impact: tuple[ShiftChange, ...]
    permission: str
    notes: tuple[str, ...] = ()

    @property
    def affected(self) -> tuple[str, ...]:
        """The people whose on-call time changes, and the people the change names."""
        r = self.request
        people = [r.person, *([r.other] if r.other else [])]
        for ch in self.impact:
            people += [p for p in (ch.before, ch.after) if p is not None]
        people += [o.person for o in self.overrides]
        return tuple(dict.fromkeys(people))


@dataclass(frozen=True, slots=True)
class ChangeRecord:
    """A change as stored: the request, who made it and when, its overrides and its state."""

    id: int
    kind: ChangeKind
    created_by: str | None
    created_at: datetime
    start: datetime
    end: datetime
    person: str
    other: str | None
    target: Target | None
    reason: str
    override_ids: tuple[int, ...]
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None

    @property
    def active(self) -> bool:
        return self.cancelled_at is None


@dataclass(frozen=True, slots=True)
class CancelPlan:
    """Cancelling ``record`` at ``now``: delete ``remove`` and insert ``keep`` (the part of an
    ongoing change that is already history, ending at ``now``); ``impact`` as for a change."""

    record: ChangeRecord
    remove: tuple[int, ...]
    keep: tuple[Override, ...]
    impact: tuple[ShiftChange, ...]
    permission: str

    @property
    def affected(self) -> tuple[str, ...]:
        people = [self.record.person, *([self.record.other] if self.record.other else [])]
        for ch in self.impact:
            people += [p for p in (ch.before, ch.after) if p is not None]
        return tuple(dict.fromkeys(people))


# --- lookups ------------------------------------------------------------------------------------


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


# --- who holds what ---------------------------------------------------------------------------


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


def _away_during(aways: Sequence[Away], person: str, start: datetime, end: datetime) -> Away | None:
    for a in aways:
        if a.person == person and a.start < end and start < a.end:
            return a
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
        if _away_during(aways, candidate, holding.start, holding.end) is None:
            return candidate, tuple(skipped)
        skipped.append(candidate)
    return None, tuple(skipped)


# --- what changes -----------------------------------------------------------------------------


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


def _double_duty(
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
                who = directory.people.get(s.primary.person)
                name = who.name if who else s.primary.person
                notes.append(f"{name} would be both primary and backup for {directory.pipelines[pid].name} at times.")
                break
    return notes


# --- planning -----------------------------------------------------------------------------------


def _next_ids(overrides: Sequence[Override], n: int) -> list[int]:
    top = max((o.id for o in overrides), default=0)
    return [top + 1 + i for i in range(n)]


def _with(overrides: Sequence[Override], new: Sequence[NewOverride], now: datetime, actor: str | None
          ) -> list[Override]:
    ids = _next_ids(overrides, len(new))
    return [*overrides, *(n.as_override(i, now, actor) for i, n in zip(ids, new, strict=True))]


def _invalid(reason: str) -> Refusal:
    return Refusal(RefusalKind.INVALID, reason)


def _check_basics(directory: Directory, request: ChangeRequest, now: datetime) -> Refusal | ChangeRequest:
    known = known_actor(directory, request.actor)
    if not known:
        return Refusal(RefusalKind.FORBIDDEN, known.reason)
    for who in (request.person, request.other):
        if who is not None and who not in directory.people:
            return _invalid(f"'{who}' is not one of the on-call directory's people.")
    if request.end <= request.start:
        return _invalid("The end must be after the start.")
    if request.end <= now:
        return _invalid("That time is already over: changes can only be made from now on.")
    if request.end - request.start > MAX_RANGE:
        return _invalid(f"A change can span at most {MAX_RANGE.days} days.")
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
        return _invalid("Name what to cover: a rotation, a role or a pipeline.")
    if t.pipeline is not None:
        if t.pipeline not in directory.pipelines:
            return _invalid(f"There is no pipeline '{t.pipeline}'.")
        rotations = pipeline_rotations(directory, t.pipeline)
        new = NewOverride(request.start, request.end, request.person, pipeline=t.pipeline, reason=request.reason)
        pipelines: tuple[str, ...] = (t.pipeline,)
    else:
        rot = directory.rotations.get(t.rotation or "")
        if rot is None:
            return _invalid(f"There is no rotation '{t.rotation}'.")
        if rot.roles and t.role is None:
            roles = ", ".join(f"`{r.id}`" for r in rot.roles)
            return _invalid(f"{rot.name} has roles {roles}: name one (e.g. `{rot.id}:{rot.roles[0].id}`).")
        if t.role is not None and t.role not in {r.id for r in rot.roles}:
            return _invalid(f"{rot.name} has no role '{t.role}'.")
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
        return _invalid("Name the two people who swap.")
    if a == b:
        return _invalid("Name two different people.")
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
        return _invalid("Someone who is away cannot cover for themselves.")
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
    for ch in changes:
        if ch.after is None:
            continue
        away = _away_during(every_away, ch.after, ch.start, ch.end)
        if away is not None:
            return Refusal(RefusalKind.AWAY, "They would be on call while away", person=ch.after,
                           pipeline=ch.pipeline, role=ch.role, start=ch.start, end=ch.end, away=away)
    if not changes and request.kind != ChangeKind.AWAY:
        if request.kind == ChangeKind.OVERRIDE:
            return Refusal(RefusalKind.NO_CHANGE, "Nothing would change: that person already covers it then, "
                                                  "or no pipeline window uses it in that time.")
        return Refusal(RefusalKind.NO_CHANGE, "Nothing would change: no pipeline window uses their slots then.")
    return Plan(request, new, tuple(changes), perm.reason, tuple(_double_duty(directory, cal, after, changes)))


# --- cancelling -------------------------------------------------------------------------------


def may_cancel(directory: Directory, admins: Sequence[str], actor: str | None, record: ChangeRecord,
               overrides: Sequence[Override]) -> Decision:
    """Whoever may make a change may cancel it; so may whoever made it."""
    known = known_actor(directory, actor)
    if not known:
        return known
    if actor == record.created_by:
        return Decision(True, "you made it")
    mine = [o for o in overrides if o.id in record.override_ids]
    decisions: list[Decision] = []
    if record.kind == ChangeKind.AWAY:
        decisions.append(may_act_for(directory, admins, actor, record.person))
    parties = {record.person, record.other} if record.kind == ChangeKind.SWAP else set()
    holder = actor if actor in parties else None
    for o in mine:
        rotations = (o.rotation,) if o.rotation else pipeline_rotations(directory, o.pipeline or "")
        decisions += [may_change_rotation(directory, admins, actor, r, holder=holder)
                      for r in rotations if r in directory.rotations]
    if not decisions:
        admin = is_admin(admins, actor)
        decisions.append(Decision(admin, "admin" if admin else "Only whoever made it or an admin can cancel it."))
    return all_of(decisions)


def plan_cancel(
    directory: Directory,
    cal: CompanyCalendar,
    admins: Sequence[str],
    actor: str | None,
    record: ChangeRecord,
    overrides: Sequence[Override],
    aways: Sequence[Away],
    now: datetime,
) -> CancelPlan | Refusal:
    """Cancel ``record`` at ``now``: what is already history stays (its overrides end at ``now``);
    refused when it is over or cancelled, when ``actor`` may not, or when it would put someone on
    call while away (cancelling the cover of an absence: add another cover first)."""
    if not record.active:
        return _invalid("That change is already cancelled.")
    if record.end <= now:
        return _invalid("That change is already over.")
    perm = may_cancel(directory, admins, actor, record, overrides)
    if not perm:
        return Refusal(RefusalKind.FORBIDDEN, perm.reason)
    mine = [o for o in overrides if o.id in record.override_ids]
    keep = tuple(replace(o, end=now) for o in mine if o.start < now)
    rest = [o for o in overrides if o.id not in record.override_ids]
    after = [*rest, *keep]
    rotations = {o.rotation for o in mine if o.rotation}
    pipelines = tuple(p for p in directory.pipelines
                      if p in {o.pipeline for o in mine} or rotations.intersection(pipeline_rotations(directory, p)))
    lo = max(now, record.start)
    changes = impact(directory, cal, pipelines, overrides, after, lo, record.end) if lo < record.end else []
    still_away = [a for a in aways if a.change_id != record.id]
    for ch in changes:
        if ch.after is None:
            continue
        away = _away_during(still_away, ch.after, ch.start, ch.end)
        if away is not None:
            return Refusal(RefusalKind.AWAY, "Cancelling it would put them on call while away", person=ch.after,
                           pipeline=ch.pipeline, role=ch.role, start=ch.start, end=ch.end, away=away)
    return CancelPlan(record, tuple(o.id for o in mine), keep, tuple(changes), perm.reason)
