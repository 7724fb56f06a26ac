"""Who may take a cover slot or a pipeline's pager, and what a Take becomes. Pure.

A Take (of a cover slot, or of the pager now) becomes an override of one rotation seat for a span,
applied through the schedule changes' own path (``bot.core.changes.plan_override_as``), so the
refusals of every change (on call while away, nothing would change) follow. On top of those:

- eligible are the members of the seat's rotation and of its rotation's team (``eligible``);
  anyone else is refused (``forbidden``), and so is anyone not in the directory;
- a slot is taken once: a slot that is no longer open, or that has started, is refused (``taken``);
- a taker who is away during the span would leave its windows with nobody on call (``nobody``);
- a Take that would make the taker primary and backup of one pipeline at the same instant is
  refused (``double_duty``). Holding several seats at once is fine (R1 is primary for two
  pipelines at once in the handbook).

The requester's team lead and admins may un-take a taken slot at any time; the taker may until it
starts (``may_untake``). 24 h (``LEAD_NOTICE``) before an open slot starts its requester's team
lead is told (``lead_notice_due``); at its start it expires (``expired``) and stays with the
requester.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.calendar import CompanyCalendar
from bot.core.changes.holdings import away_during
from bot.core.changes.lookups import pipelines_using
from bot.core.changes.model import Away, ChangeKind, ChangeRequest, NewOverride, Refusal, RefusalKind, Target, invalid
from bot.core.cover.model import CoverRequest, CoverSlot, SlotStatus, TakeDecision
from bot.core.coverage import schedule
from bot.core.model import Directory, Override, SlotRef
from bot.core.permissions import Decision, is_admin, known_actor
from bot.core.rotation import PERSON_SLOT

LEAD_NOTICE = timedelta(hours=24)
PAGER_HORIZON = timedelta(days=8)


def lead_of(directory: Directory, person: str) -> str | None:
    """The lead of ``person``'s team, if the seed names one."""
    p = directory.people.get(person)
    team = directory.teams.get(p.team) if p is not None else None
    return team.lead if team is not None else None


def eligible(directory: Directory, seat: SlotRef, person: str | None) -> Decision:
    """May ``person`` hold ``seat``: a member of its rotation or of the rotation's team."""
    known = known_actor(directory, person)
    if not known:
        return Decision(False, "You are not in the on-call directory, so you cannot take on-call slots.")
    rot = directory.rotations.get(seat.rotation)
    if rot is None:
        return Decision(False, f"There is no rotation '{seat.rotation}'.")
    if person in rot.members:
        return Decision(True, f"member of {rot.name}")
    p = directory.people[str(person)]
    if p.team == rot.team:
        team = directory.teams.get(rot.team)
        return Decision(True, f"member of {team.name if team else rot.team}")
    team = directory.teams.get(rot.team)
    return Decision(False, f"Only members of {rot.name} ({team.name if team else rot.team}) can take it.")


def _double_duty(
    directory: Directory, cal: CompanyCalendar, seat: SlotRef, taker: str, start: datetime, end: datetime,
    overrides: Sequence[Override], now: datetime,
) -> Refusal | None:
    top = max((o.id for o in overrides), default=0)
    new = NewOverride(start, end, taker, rotation=seat.rotation, role=seat.role).as_override(top + 1, now, taker)
    after = [*overrides, new]
    for pid in pipelines_using(directory, (seat.rotation,)):
        for seg in schedule(directory, cal, pid, start, end, after):
            if (seg.covered and seg.primary is not None and seg.secondary is not None
                    and seg.primary.person == taker == seg.secondary.person):
                name = directory.pipelines[pid].name
                return Refusal(RefusalKind.DOUBLE_DUTY,
                               f"{directory.name_of(taker)} would be both primary and backup for {name} at "
                               "the same time: someone else has to take it.",
                               pipeline=pid, start=seg.start, end=seg.end)
    return None


def _away(directory: Directory, taker: str, aways: Sequence[Away], start: datetime, end: datetime,
          what: str) -> Refusal | None:
    away = away_during(aways, taker, start, end)
    if away is None:
        return None
    return Refusal(RefusalKind.NOBODY, f"{directory.name_of(taker)} is away then: taking it would leave {what} "
                                       "with nobody on call.", start=start, end=end, away=away)


def _what(directory: Directory, slot: CoverSlot) -> str:
    names = list(dict.fromkeys(directory.pipelines[d.pipeline].name for d in slot.duties
                               if d.pipeline in directory.pipelines))
    return " and ".join(names) or "its windows"


def decide_take(
    directory: Directory,
    cal: CompanyCalendar,
    request: CoverRequest,
    slot: CoverSlot,
    taker: str | None,
    overrides: Sequence[Override],
    aways: Sequence[Away],
    now: datetime,
) -> TakeDecision | Refusal:
    """Whether ``taker`` may take ``slot`` of ``request`` at ``now`` (module doc); accepted, the
    override change to apply."""
    known = eligible(directory, slot.seat, taker) if taker is not None else known_actor(directory, taker)
    if taker is None or taker not in directory.people:
        return Refusal(RefusalKind.FORBIDDEN, known.reason)
    if slot.status == SlotStatus.TAKEN:
        return Refusal(RefusalKind.TAKEN, f"{directory.name_of(slot.taker)} took it first.", person=slot.taker)
    if slot.status == SlotStatus.EXPIRED or now >= slot.start:
        return Refusal(RefusalKind.TAKEN, "It has started: it stays with "
                                          f"{directory.name_of(request.requester)}.")
    if taker == request.requester:
        return invalid("That is your own slot: someone else has to take it.")
    if not known:
        return Refusal(RefusalKind.FORBIDDEN, known.reason)
    refusal = (_away(directory, taker, aways, slot.start, slot.end, _what(directory, slot))
               or _double_duty(directory, cal, slot.seat, taker, slot.start, slot.end, overrides, now))
    if refusal is not None:
        return refusal
    reason = f"covers for {directory.name_of(request.requester)} (cover request #{request.id})"
    change = ChangeRequest(ChangeKind.OVERRIDE, taker, slot.start, slot.end, taker,
                           target=Target(rotation=slot.rotation, role=slot.role), reason=reason)
    return TakeDecision(change, f"{known.reason}; asked by {directory.name_of(request.requester)}")


def may_untake(directory: Directory, admins: Sequence[str], request: CoverRequest, slot: CoverSlot,
               actor: str | None, now: datetime) -> Decision:
    """The taker until the slot starts; the requester's team lead and admins at any time."""
    known = known_actor(directory, actor)
    if not known:
        return known
    if slot.status != SlotStatus.TAKEN:
        return Decision(False, "Nobody has taken that slot.")
    if actor == lead_of(directory, request.requester):
        return Decision(True, "lead of the requester's team")
    if is_admin(admins, actor):
        return Decision(True, "admin")
    if actor == slot.taker:
        if now < slot.start:
            return Decision(True, "you took it")
        return Decision(False, "It has started: only the team lead can give it back now.")
    return Decision(False, "Only whoever took it (before it starts) or the requester's team lead can give it back.")


def lead_notice_due(slot: CoverSlot, now: datetime, lead: timedelta = LEAD_NOTICE) -> bool:
    """An open slot starting within ``lead`` whose team lead was not told yet."""
    return (slot.status == SlotStatus.OPEN and slot.lead_notified_at is None
            and slot.start - lead <= now < slot.start)


def expired(slot: CoverSlot, now: datetime) -> bool:
    """An open slot that has started: it stays with the requester."""
    return slot.status == SlotStatus.OPEN and now >= slot.start


@dataclass(frozen=True, slots=True)
class PagerSpan:
    """``holder`` holds the primary ``seat`` of ``pipeline`` (in ``window``) from ``start``;
    ``end``: until when a Take runs; ``secondary``: the backup then."""

    pipeline: str
    seat: SlotRef
    holder: str
    secondary: str | None
    window: str | None
    start: datetime
    end: datetime


def pager_span(
    directory: Directory, cal: CompanyCalendar, pipeline: str, now: datetime, overrides: Sequence[Override],
    until: datetime | None = None,
) -> PagerSpan | Refusal:
    """Who holds ``pipeline``'s pager (its primary seat) at ``now`` and until when a Take runs:
    ``until`` when given, else the end of the current window (at most ``PAGER_HORIZON`` ahead)."""
    if pipeline not in directory.pipelines:
        return invalid(f"There is no pipeline '{pipeline}'.")
    segs = schedule(directory, cal, pipeline, now, now + PAGER_HORIZON, overrides)
    first = segs[0]
    name = directory.pipelines[pipeline].name
    if not first.covered or first.primary is None:
        return invalid(f"{name} is not covered now: there is no pager to take.")
    seat = first.primary.slot
    if seat.rotation == PERSON_SLOT or seat.offset != 0:
        return invalid(f"{name}'s primary is not a rotation seat: use `/oncall override`.")
    end = first.end
    for s in segs[1:]:
        if not s.covered or s.window != first.window or s.primary is None or s.primary.slot != seat:
            break
        end = s.end
    if until is not None:
        if until <= now:
            return invalid("That time is already over: the pager can be taken from now on.")
        end = until
    secondary = first.secondary.person if first.secondary is not None else None
    return PagerSpan(pipeline, seat, first.primary.person, secondary, first.window, now, end)


def decide_pager(
    directory: Directory,
    cal: CompanyCalendar,
    admins: Sequence[str],
    span: PagerSpan,
    actor: str | None,
    taker: str,
    overrides: Sequence[Override],
    aways: Sequence[Away],
    now: datetime,
) -> TakeDecision | Refusal:
    """``actor`` hands ``span``'s pager to ``taker``: ``/oncall take`` (actor is taker, who must be
    eligible) or ``/oncall give`` (actor holds it now, or is an admin; the taker must be eligible)."""
    known = known_actor(directory, actor)
    if not known:
        return Refusal(RefusalKind.FORBIDDEN, known.reason)
    name = directory.pipelines[span.pipeline].name
    if actor != taker and actor != span.holder and not is_admin(admins, actor):
        return Refusal(RefusalKind.FORBIDDEN, f"Only whoever holds {name}'s pager now "
                                              f"({directory.name_of(span.holder)}) can give it away.")
    ok = eligible(directory, span.seat, taker)
    if not ok:
        return Refusal(RefusalKind.FORBIDDEN, ok.reason if actor == taker
                       else f"{directory.name_of(taker)} cannot hold it: {ok.reason}")
    if taker == span.holder:
        return Refusal(RefusalKind.NO_CHANGE, f"{directory.name_of(taker)} already holds {name}'s pager.")
    refusal = (_away(directory, taker, aways, span.start, span.end, name)
               or _double_duty(directory, cal, span.seat, taker, span.start, span.end, overrides, now))
    if refusal is not None:
        return refusal
    verb = "takes" if actor == taker else f"is given (by {directory.name_of(actor)})"
    change = ChangeRequest(ChangeKind.OVERRIDE, actor, span.start, span.end, taker,
                           target=Target(rotation=span.seat.rotation, role=span.seat.role),
                           reason=f"{verb} the {name} pager from {directory.name_of(span.holder)}")
    return TakeDecision(change, ok.reason)
