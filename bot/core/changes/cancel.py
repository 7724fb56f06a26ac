"""Cancelling a change: who may, and the plan that takes its overrides back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.core.calendar import CompanyCalendar
from bot.core.changes.holdings import impact, on_call_while_away
from bot.core.changes.lookups import pipeline_rotations
from bot.core.changes.model import Away, CancelPlan, ChangeKind, ChangeRecord, Refusal, RefusalKind, invalid
from bot.core.model import Directory, Override
from bot.core.permissions import Decision, all_of, is_admin, known_actor, may_act_for, may_change_rotation


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
        return invalid("That change is already cancelled.")
    if record.end <= now:
        return invalid("That change is already over.")
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
    refusal = on_call_while_away(changes, still_away, "Cancelling it would put them on call while away")
    if refusal is not None:
        return refusal
    return CancelPlan(record, tuple(o.id for o in mine), keep, tuple(changes), perm.reason)
