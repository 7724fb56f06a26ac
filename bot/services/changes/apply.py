"""Schedule changes, applied: load → ``bot.core.changes`` → write, in one transaction each.

- ``apply_change``: permission check, validation, the overrides, the change row and its audit
  entry in one transaction (a refusal is audited too); a DM to each person affected naming
  the change and who made it: written to the delivery outbox in that same transaction
  (``queue_dms``, what Slack uses), or sent afterwards through ``Notify`` (tests, scripts),
  recorded in the audit trail as well.
- ``cancel_change``: the same for a cancellation (what is already history stays).
- ``list_changes``, ``calendar_links``, ``feed``, ``fairness_report``: reads (and the token).
- ``before_shift_dms(deps, now)``: the scheduler's hook; DMs each person 24 h (configurable)
  before their shifts start, each notice delivered once across replicas and restarts.

Changes are serialized by ``CHANGES_LOCK_KEY`` (PostgreSQL advisory lock; SQLite's ``BEGIN
IMMEDIATE``), so two changes are never checked against the same stale schedule. Every write bumps
the data version, so every cached snapshot (answers, Home tab, announcements) sees it at once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands.changes import (
    Applied,
    Cancelled,
    Refused,
)
from bot.core.calendar import CompanyCalendar
from bot.core.changes import (
    CancelPlan,
    ChangeKind,
    ChangeRecord,
    ChangeRequest,
    Plan,
    Refusal,
    RefusalKind,
    ShiftChange,
    pipelines_using,
    plan_cancel,
    plan_change,
)
from bot.core.model import Directory, Override
from bot.render.blocks import Message
from bot.render.changes import (
    describe_record,
    describe_request,
    refusal_text,
)
from bot.render.plain import mrkdwn_to_text
from bot.services.cache import bump_data_version
from bot.services.changes.owed import change_dms, queue_in
from bot.storage import audit
from bot.storage import changes as store
from bot.storage.bootstrap import Database
from bot.storage.meta import lock
from bot.storage.overrides import add_override, delete_override, overrides_between
from bot.storage.seedstore import load_directory

log = logging.getLogger("bot.services.changes")

Notify = Callable[[Directory, str, Message], Awaitable[None]]
"""Send ``message`` as a DM to person id ``person`` (raises when it could not be sent)."""


def admins_with(directory: Directory, extra: Sequence[str]) -> tuple[str, ...]:
    """The seed's admins and ``extra`` (e.g. from the settings), each once, in that order."""
    return tuple(dict.fromkeys([*directory.admins, *extra]))


async def bump_version(session: AsyncSession) -> None:
    """Make every cached snapshot reload (``bot.services.cache``)."""
    await bump_data_version(session)


def _change_json(r: ChangeRequest | ChangeRecord) -> dict[str, Any]:
    return {"kind": r.kind, "start": r.start, "end": r.end, "person": r.person, "other": r.other,
            "target": str(r.target) if r.target else None, "reason": r.reason}


def _record_json(r: ChangeRecord) -> dict[str, Any]:
    return {"id": r.id, **_change_json(r), "created_by": r.created_by, "created_at": r.created_at,
            "overrides": list(r.override_ids), "cancelled_at": r.cancelled_at, "cancelled_by": r.cancelled_by}


def _on_call(impact: Sequence[ShiftChange], side: str) -> list[dict[str, Any]]:
    return [
        {
            "pipeline": c.pipeline,
            "role": c.role,
            "start": c.start,
            "end": c.end,
            "person": c.before if side == "before" else c.after,
        }
        for c in impact
    ]


def _refusal_json(d: Directory, cal: CompanyCalendar, r: Refusal) -> dict[str, Any]:
    return {
        "refusal": r.kind,
        "text": mrkdwn_to_text(refusal_text(d, cal.tz, r), d),
        "person": r.person,
        "pipeline": r.pipeline,
        "role": r.role,
        "start": r.start,
        "end": r.end,
    }


def _subject(d: Directory, cal: CompanyCalendar, r: ChangeRequest) -> str:
    return mrkdwn_to_text(describe_request(d, cal.tz, r), d)


async def read_directory(session: AsyncSession) -> tuple[Directory, CompanyCalendar]:
    """The stored directory and its company calendar."""
    directory = await load_directory(session)
    return directory, CompanyCalendar.from_spec(directory.calendar)


async def notify_change(
    db: Database, directory: Directory, result: Applied | Cancelled, now: datetime, notify: Notify | None
) -> None:
    """DM each person a change (or its cancellation) affects, but not whoever made it, through
    ``notify``; then record who was told (``change.notified`` / ``cancel.notified``). The Slack
    transport has them written to the outbox with the change instead (``queue_dms=True``)."""
    if notify is None:
        return
    record = result.record
    action, owed = change_dms(directory, result)
    sent: list[str] = []
    failed: list[str] = []
    for person, message in owed:
        try:
            await notify(directory, person, message)
            sent.append(person)
        except Exception:
            log.exception("could not DM %s about change #%s", person, record.id)
            failed.append(person)
    if sent or failed:
        async with db.sessions() as session, session.begin():
            await audit.record(
                session,
                at=now,
                actor=None,
                action=action,
                subject=f"change:{record.id}",
                after={"sent": sent, "failed": failed},
            )


def _replayed(record: ChangeRecord) -> Applied:
    """A change made earlier by the same request, answered again without applying anything."""
    request = ChangeRequest(record.kind, record.created_by, record.start, record.end, record.person,
                            other=record.other, target=record.target, reason=record.reason)
    plan = Plan(request, (), (), "", ("This request was already applied: nothing changed again.",))
    return Applied(record, plan, replayed=True)


async def write_plan(
    session: AsyncSession, directory: Directory, cal: CompanyCalendar, result: Plan, now: datetime, *,
    source_key: str | None = None, extra_audit: dict[str, Any] | None = None,
) -> ChangeRecord:
    """In the caller's transaction (which holds ``CHANGES_LOCK_KEY``): insert the plan's overrides
    and its change row, audit it (``change.KIND``; ``extra_audit`` joins its ``after``), and make
    every cached snapshot reload. The change recorded."""
    request = result.request
    ids = []
    for n in result.overrides:
        o = await add_override(
            session,
            start=n.start,
            end=n.end,
            person=n.person,
            created_at=now,
            rotation=n.rotation,
            role=n.role,
            replaces=n.replaces,
            pipeline=n.pipeline,
            reason=n.reason,
            created_by=request.actor,
        )
        ids.append(o.id)
    record = await store.add_change(
        session,
        kind=request.kind,
        created_by=request.actor,
        created_at=now,
        start=request.start,
        end=request.end,
        person=request.person,
        other=request.other,
        target=request.target,
        reason=request.reason,
        override_ids=ids,
        source_key=source_key,
    )
    await audit.record(
        session,
        at=now,
        actor=request.actor,
        action=f"change.{request.kind}",
        subject=f"change:{record.id}",
        before={"on_call": _on_call(result.impact, "before")},
        after={
            "change": _record_json(record),
            "text": mrkdwn_to_text(describe_record(directory, cal.tz, record), directory),
            "on_call": _on_call(result.impact, "after"),
            "permission": result.permission,
            **(extra_audit or {}),
        },
    )
    await bump_version(session)
    return record


async def audit_refusal(session: AsyncSession, directory: Directory, cal: CompanyCalendar, request: ChangeRequest,
                        refusal: Refusal, now: datetime, *, action: str = "change.refused",
                        subject: str | None = None, extra: dict[str, Any] | None = None) -> None:
    """Record a refused change (``action``) in the caller's transaction."""
    await audit.record(
        session,
        at=now,
        actor=request.actor,
        action=action,
        subject=subject or _subject(directory, cal, request),
        after={"request": _change_json(request), **_refusal_json(directory, cal, refusal), **(extra or {})},
    )


async def write_cancel(session: AsyncSession, plan: CancelPlan, actor: str | None, now: datetime, *,
                       extra_audit: dict[str, Any] | None = None) -> Cancelled:
    """In the caller's transaction (holding ``CHANGES_LOCK_KEY``): take a change back from ``now``
    on as ``plan`` says, audit it (``change.cancelled``) and make every snapshot reload."""
    record = plan.record
    kept = await _apply_cancel(session, plan)
    await store.mark_cancelled(session, record.id, at=now, by=actor, override_ids=kept)
    cancelled = replace(record, cancelled_at=now, cancelled_by=actor, override_ids=tuple(kept))
    await audit.record(
        session,
        at=now,
        actor=actor,
        action="change.cancelled",
        subject=f"change:{record.id}",
        before={"change": _record_json(record), "on_call": _on_call(plan.impact, "before")},
        after={
            "change": _record_json(cancelled),
            "on_call": _on_call(plan.impact, "after"),
            "permission": plan.permission,
            **(extra_audit or {}),
        },
    )
    await bump_version(session)
    return Cancelled(cancelled, plan.affected, plan.impact)


async def apply_change(
    db: Database,
    request: ChangeRequest,
    now: datetime,
    *,
    extra_admins: Sequence[str] = (),
    notify: Notify | None = None,
    source_key: str | None = None,
    queue_dms: bool = False,
) -> Applied | Refused:
    """Check and apply ``request`` at ``now`` in one transaction; then DM the people affected
    (``notify``; None: the caller will, with ``notify_change``). ``queue_dms``: the DMs are
    written to the delivery outbox in the change's own transaction instead (``owed.queue_in``;
    the caller kicks the outbox, ``send_change_dms``), so they commit with the change or not at all.

    ``source_key`` (the Slack request: ``command:TRIGGER_ID``, ``view:VIEW_ID``) makes it
    idempotent: when that request already made a change, nothing is applied and that change
    comes back as ``Applied(replayed=True)`` (no DMs).
    """
    async with db.sessions() as session, session.begin():
        await lock(session, store.CHANGES_LOCK_KEY)
        if source_key is not None:
            done = await store.change_by_source(session, source_key)
            if done is not None:
                return _replayed(done)
        directory, cal = await read_directory(session)
        lo = min(request.start, now)
        overrides = await overrides_between(session, lo, max(request.end, lo + timedelta(seconds=1)))
        aways = await store.aways_between(session, lo, max(request.end, lo + timedelta(seconds=1)))
        result = plan_change(directory, cal, admins_with(directory, extra_admins), request, overrides, aways, now)
        if isinstance(result, Refusal):
            await audit_refusal(session, directory, cal, request, result, now)
            return Refused(result, request)
        record = await write_plan(session, directory, cal, result, now, source_key=source_key)
        applied = Applied(record, result)
        if queue_dms:
            await queue_in(session, directory, applied, now)
    await notify_change(db, directory, applied, now, notify)
    return applied


async def cancel_change(
    db: Database,
    change_id: int,
    actor: str | None,
    now: datetime,
    *,
    extra_admins: Sequence[str] = (),
    notify: Notify | None = None,
    queue_dms: bool = False,
) -> Cancelled | Refused:
    """Cancel change ``change_id`` from ``now`` on; DM the people affected (``notify``, or with
    ``queue_dms`` through the outbox, written in the cancellation's transaction)."""
    async with db.sessions() as session, session.begin():
        await lock(session, store.CHANGES_LOCK_KEY)
        directory, cal = await read_directory(session)
        record = await store.get_change(session, change_id)
        if record is None:
            refusal = Refusal(RefusalKind.INVALID, f"There is no change #{change_id}.")
            await audit.record(
                session,
                at=now,
                actor=actor,
                action="cancel.refused",
                subject=f"change:{change_id}",
                after={"refusal": refusal.kind, "text": refusal.reason},
            )
            return Refused(refusal, change_id=change_id)
        lo = min(record.start, now)
        hi = max(record.end, lo + timedelta(seconds=1))
        overrides = await overrides_between(session, lo, hi)
        aways = await store.aways_between(session, lo, hi)
        result = plan_cancel(directory, cal, admins_with(directory, extra_admins), actor, record, overrides, aways, now)
        if isinstance(result, Refusal):
            await audit.record(
                session,
                at=now,
                actor=actor,
                action="cancel.refused",
                subject=f"change:{change_id}",
                before={"change": _record_json(record)},
                after=_refusal_json(directory, cal, result),
            )
            return Refused(result, change_id=change_id)
        done = await write_cancel(session, result, actor, now)
        if queue_dms:
            await queue_in(session, directory, done, now)
    await notify_change(db, directory, done, now, notify)
    return done


async def _apply_cancel(session: AsyncSession, plan: CancelPlan) -> list[int]:
    for override_id in plan.remove:
        await delete_override(session, override_id)
    kept = []
    for o in plan.keep:  # the history of an ongoing change, ending now; same precedence as before
        new = await add_override(
            session,
            start=o.start,
            end=o.end,
            person=o.person,
            created_at=o.created_at,
            rotation=o.rotation,
            role=o.role,
            replaces=o.replaces,
            pipeline=o.pipeline,
            reason=o.reason,
            created_by=o.created_by,
        )
        kept.append(new.id)
    return kept


def change_pipelines(directory: Directory, record: ChangeRecord, overrides: Sequence[Override]) -> tuple[str, ...]:
    """The pipelines a change touches: those its overrides' seats serve or name; for an absence
    without overrides, those of the person's rotations."""
    mine = [o for o in overrides if o.id in record.override_ids]
    named = {o.pipeline for o in mine if o.pipeline}
    rotations = {o.rotation for o in mine if o.rotation}
    if record.kind == ChangeKind.AWAY and not mine:
        rotations = {r.id for r in directory.rotations.values() if record.person in r.members}
    used = set(pipelines_using(directory, rotations))
    return tuple(p for p in directory.pipelines if p in named or p in used)
