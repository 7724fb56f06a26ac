"""Schedule changes, applied: load → ``bot.core.changes`` → write, in one transaction each.

- ``apply_change``: permission check, validation, the overrides, the change row and its audit
  entry in one transaction (a refusal is audited too); then a DM to each person affected naming
  the change and who made it (``Notify``), recorded in the audit trail as well.
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
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands.changes import (
    HELP_LINES,
    Applied,
    AwayCommand,
    CalendarCommand,
    CalendarLinks,
    CancelCommand,
    Cancelled,
    ChangeCommand,
    ChangeItem,
    ChangesCommand,
    ChangesList,
    FairnessCommand,
    FairnessResult,
    OverrideCommand,
    Refused,
    SwapCommand,
    fairness_range,
    parse_change,
    resolve_request,
)
from bot.commands.parse import UsageError
from bot.commands.results import NotFound, Problem
from bot.core.calendar import CompanyCalendar
from bot.core.changes import (
    CancelPlan,
    ChangeKind,
    ChangeRecord,
    ChangeRequest,
    Refusal,
    RefusalKind,
    ShiftChange,
    may_cancel,
    pipelines_using,
    plan_cancel,
    plan_change,
)
from bot.core.fairness import FairnessReport, fairness
from bot.core.feeds import feed_range, person_feed, pipeline_feed
from bot.core.model import Directory, Override
from bot.core.search import find_pipeline
from bot.core.shifts import notices_due
from bot.render.blocks import Message, render_not_found, render_problem
from bot.render.changes import (
    describe_record,
    describe_request,
    refusal_text,
    render_applied,
    render_calendar,
    render_cancelled,
    render_change_dm,
    render_changes_list,
    render_fairness,
    render_notice,
    render_refused,
)
from bot.render.plain import mrkdwn_to_text
from bot.services.queries import split_command_line
from bot.services.snapshot import Snapshot
from bot.storage import audit
from bot.storage import calendar_tokens as tokens
from bot.storage import changes as store
from bot.storage.bootstrap import Database
from bot.storage.meta import lock
from bot.storage.overrides import add_override, delete_override, overrides_between
from bot.storage.seedstore import load_directory

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.slack.deps import SlackDeps

log = logging.getLogger("bot.services.changes")

Notify = Callable[[Directory, str, Message], Awaitable[None]]
"""Send ``message`` as a DM to person id ``person`` (raises when it could not be sent)."""

DEFAULT_NOTICE_HOURS = 24


# --- helpers ------------------------------------------------------------------------------------


def _admins(directory: Directory, extra: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*directory.admins, *extra]))


async def _bump(session: AsyncSession) -> None:
    """Make every cached snapshot reload (bot.services.cache), when that module is there."""
    try:
        from bot.services.cache import bump_data_version
    except ImportError:  # pragma: no cover - the cache ships with the Slack transport
        return
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


async def _read(session: AsyncSession) -> tuple[Directory, CompanyCalendar]:
    directory = await load_directory(session)
    return directory, CompanyCalendar.from_spec(directory.calendar)


async def notify_change(
    db: Database, directory: Directory, result: Applied | Cancelled, now: datetime, notify: Notify | None
) -> None:
    """DM each person a change (or its cancellation) affects, but not whoever made it; then record
    who was told (``change.notified`` / ``cancel.notified``)."""
    if notify is None:
        return
    tz = CompanyCalendar.from_spec(directory.calendar).tz
    if isinstance(result, Applied):
        record, impact, people = result.record, result.plan.impact, result.plan.affected
        skip, cancelled, action = record.created_by, False, "change.notified"
    else:
        record, impact, people = result.record, result.impact, result.affected
        skip, cancelled, action = record.cancelled_by, True, "cancel.notified"
    sent: list[str] = []
    failed: list[str] = []
    for person in people:
        if person == skip or person not in directory.people:
            continue
        try:
            message = render_change_dm(directory, tz, record, impact, person, cancelled=cancelled)
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


# --- changes ------------------------------------------------------------------------------------


async def apply_change(
    db: Database,
    request: ChangeRequest,
    now: datetime,
    *,
    extra_admins: Sequence[str] = (),
    notify: Notify | None = None,
) -> Applied | Refused:
    """Check and apply ``request`` at ``now`` in one transaction; then DM the people affected
    (``notify``; None: the caller will, with ``notify_change``)."""
    async with db.sessions() as session, session.begin():
        await lock(session, store.CHANGES_LOCK_KEY)
        directory, cal = await _read(session)
        lo = min(request.start, now)
        overrides = await overrides_between(session, lo, max(request.end, lo + timedelta(seconds=1)))
        aways = await store.aways_between(session, lo, max(request.end, lo + timedelta(seconds=1)))
        result = plan_change(directory, cal, _admins(directory, extra_admins), request, overrides, aways, now)
        if isinstance(result, Refusal):
            await audit.record(
                session,
                at=now,
                actor=request.actor,
                action="change.refused",
                subject=_subject(directory, cal, request),
                after={"request": _change_json(request), **_refusal_json(directory, cal, result)},
            )
            return Refused(result, request)
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
            },
        )
        await _bump(session)
    applied = Applied(record, result)
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
) -> Cancelled | Refused:
    """Cancel change ``change_id`` from ``now`` on; DM the people affected."""
    async with db.sessions() as session, session.begin():
        await lock(session, store.CHANGES_LOCK_KEY)
        directory, cal = await _read(session)
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
        result = plan_cancel(directory, cal, _admins(directory, extra_admins), actor, record, overrides, aways, now)
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
        kept = await _apply_cancel(session, result)
        await store.mark_cancelled(session, change_id, at=now, by=actor, override_ids=kept)
        cancelled = replace(record, cancelled_at=now, cancelled_by=actor, override_ids=tuple(kept))
        await audit.record(
            session,
            at=now,
            actor=actor,
            action="change.cancelled",
            subject=f"change:{change_id}",
            before={"change": _record_json(record), "on_call": _on_call(result.impact, "before")},
            after={
                "change": _record_json(cancelled),
                "on_call": _on_call(result.impact, "after"),
                "permission": result.permission,
            },
        )
        await _bump(session)
    done = Cancelled(cancelled, result.affected, result.impact)
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


async def list_changes(
    db: Database, now: datetime, viewer: str | None, pipeline: str | None = None, *, extra_admins: Sequence[str] = ()
) -> ChangesList | NotFound:
    """Upcoming and ongoing changes (optionally those touching ``pipeline``), each with whether
    ``viewer`` may cancel it."""
    async with db.sessions() as session:
        directory = await load_directory(session)
        records = await store.changes_ending_after(session, now)
        end = max((r.end for r in records), default=now + timedelta(seconds=1))
        overrides = await overrides_between(session, min([now, *(r.start for r in records)]), end)
    pid = None
    if pipeline is not None:
        match = find_pipeline(directory, pipeline)
        if match.pipeline is None:
            return NotFound("pipeline", pipeline, match.suggestions, tuple(directory.pipelines))
        pid = match.pipeline.id
    admins = _admins(directory, extra_admins)
    items = []
    for r in records:
        touched = change_pipelines(directory, r, overrides)
        if pid is not None and pid not in touched:
            continue
        items.append(ChangeItem(r, bool(may_cancel(directory, admins, viewer, r, overrides)), touched))
    return ChangesList(pid, tuple(items))


# --- calendar feeds -----------------------------------------------------------------------------


def public_base_url(settings: Settings) -> str:
    """Where Slack users reach the bot's HTTP server: ``ONCALL_PUBLIC_URL`` when the settings have
    it, else http://localhost:PORT."""
    url = getattr(settings, "public_url", None)
    return str(url).rstrip("/") if url else f"http://localhost:{settings.http_port}"


async def calendar_links(
    db: Database, person: str, now: datetime, base_url: str, *, reset: bool = False
) -> CalendarLinks:
    """The person's feed URL and the pipeline feeds' (``reset``: revoke the old token first)."""
    async with db.sessions() as session, session.begin():
        directory = await load_directory(session)
        if reset:
            token, created = await tokens.reset_token(session, person, now), True
        else:
            token, created = await tokens.token_for(session, person, now)
        if created:
            await audit.record(
                session,
                at=now,
                actor=person,
                action="calendar.reset" if reset else "calendar.token",
                subject=f"calendar:{person}",
            )
    base = f"{base_url.rstrip('/')}/calendar/{token}"
    return CalendarLinks(person, f"{base}.ics", tuple((p, f"{base}/{p}.ics") for p in directory.pipelines), reset=reset)


async def feed(db: Database, token: str, pipeline: str | None, now: datetime) -> bytes | None:
    """The iCalendar feed a token opens: its person's, or ``pipeline``'s; None for an unknown or
    revoked token or an unknown pipeline."""
    async with db.sessions() as session:
        person = await tokens.person_for_token(session, token)
        if person is None:
            return None
        directory, cal = await _read(session)
        start, end = feed_range(cal, now)
        overrides = await overrides_between(session, start, end)
    if pipeline is not None:
        if pipeline not in directory.pipelines:
            return None
        return pipeline_feed(directory, cal, pipeline, now, overrides)
    return person_feed(directory, cal, person, now, overrides)


# --- fairness -----------------------------------------------------------------------------------


async def fairness_report(db: Database, start: datetime, end: datetime) -> tuple[Directory, FairnessReport]:
    async with db.sessions() as session:
        directory, cal = await _read(session)
        overrides = await overrides_between(session, start, end)
    return directory, fairness(directory, cal, start, end, overrides)


# --- answering a command -----------------------------------------------------------------------


@dataclass(frozen=True)
class Answered:
    """The answer to a change command; ``done`` is the change or cancellation made, whose DMs the
    caller sends after answering (``notify_change``)."""

    message: Message
    outcome: str  # "ok" | "user_error"
    done: Applied | Cancelled | None = None


def _mistake(snap: Snapshot, result: Problem | NotFound) -> Message:
    if isinstance(result, Problem):
        return render_problem(result)
    if result.kind == "target":
        choices = ", ".join(f"`{v}`" for v in list(snap.directory.rotations)[:8])
        text = (
            f"I don't know a rotation, role or pipeline “{result.text}”. Try a rotation ({choices}), a role "
            "(`R1`, `data-eng:R2`) or a pipeline (`profit`)."
        )
        return render_problem(Problem(text))
    return render_not_found(snap.directory, result)


async def answer_change(
    db: Database,
    snap: Snapshot,
    command: ChangeCommand,
    user: str | None,
    now: datetime,
    *,
    extra_admins: Sequence[str] = (),
    base_url: str = "http://localhost",
) -> Answered:
    """Answer a change command of person ``user`` at ``now`` (applying it when it is a change).

    Every transport uses this: Slack (``bot.slack.changes``), the console and ``oncall-bot ask``.
    A form (``ChangeModal``) needs Slack: elsewhere the answer says how to type the command.
    """
    d, tz = snap.directory, snap.calendar.tz
    if isinstance(command, OverrideCommand | SwapCommand | AwayCommand):
        request = resolve_request(command, snap, now, user)
        if not isinstance(request, ChangeRequest):
            return Answered(_mistake(snap, request), "user_error")
        got = await apply_change(db, request, now, extra_admins=extra_admins)
        if isinstance(got, Refused):
            return Answered(render_refused(d, tz, got), "user_error")
        return Answered(render_applied(d, tz, got), "ok", got)
    if isinstance(command, CancelCommand):
        cancelled = await cancel_change(db, command.change_id, user, now, extra_admins=extra_admins)
        if isinstance(cancelled, Refused):
            return Answered(render_refused(d, tz, cancelled), "user_error")
        return Answered(render_cancelled(d, tz, cancelled), "ok", cancelled)
    if isinstance(command, ChangesCommand):
        listing = await list_changes(db, now, user, command.pipeline, extra_admins=extra_admins)
        if isinstance(listing, NotFound):
            return Answered(render_not_found(d, listing), "user_error")
        return Answered(render_changes_list(d, tz, listing), "ok")
    if isinstance(command, CalendarCommand):
        if user is None:
            return Answered(
                render_problem(
                    Problem("You are not one of the on-call directory's people, so you have no calendar feed.")
                ),
                "user_error",
            )
        links = await calendar_links(db, user, now, base_url, reset=command.reset)
        return Answered(render_calendar(d, links), "ok")
    if isinstance(command, FairnessCommand):
        span = fairness_range(command, now, tz)
        if isinstance(span, str):
            return Answered(render_problem(Problem(span, "/oncall")), "user_error")
        directory, report = await fairness_report(db, *span)
        return Answered(render_fairness(directory, tz, FairnessResult(report)), "ok")
    usage = next(u for u, _ in HELP_LINES if u.split()[1] == command.kind.value)
    return Answered(
        render_problem(Problem(f"The form needs Slack; here, type the whole command: `{usage}`.")), "user_error"
    )


async def answer_change_line(
    db: Database, snap: Snapshot, line: str, now: datetime, user: str | None, settings: Settings
) -> Answered | None:
    """``line`` (e.g. ``/oncall away dec 24 dec 26``) answered when it is a change command, else
    None (the caller answers it as before). For the console and ``oncall-bot ask``: no DMs."""
    name, rest = split_command_line(line)
    if name != "/oncall":
        return None
    try:
        command = parse_change(" ".join(rest.split()))
    except UsageError as exc:
        return Answered(render_problem(Problem(str(exc), exc.command)), "user_error")
    if command is None:
        return None
    return await answer_change(
        db, snap, command, user, now, extra_admins=settings.admin_ids, base_url=public_base_url(settings)
    )


# --- before a shift -----------------------------------------------------------------------------


async def send_shift_notices(db: Database, now: datetime, lead: timedelta, notify: Notify) -> list[str]:
    """DM everyone whose shifts start in ``(now, now + lead]`` and was not told yet; the keys sent.

    Each notice is claimed first (a unique key: one replica wins); a failed DM gives its claim
    back so that the next tick tries again, until the shift starts.
    """
    async with db.sessions() as session:
        directory, cal = await _read(session)
        overrides = await overrides_between(session, now - timedelta(days=3), now + lead + timedelta(days=9))
        due = notices_due(directory, cal, now, lead, overrides)
        known = await store.notice_keys(session, now - timedelta(days=1)) if due else set()
    sent: list[str] = []
    for notice in due:
        if notice.key in known:
            continue
        async with db.sessions() as session, session.begin():
            claimed = await store.claim_notice(
                session, key=notice.key, person=notice.person, starts_at=notice.start, now=now
            )
        if not claimed:
            continue
        try:
            await notify(directory, notice.person, render_notice(directory, cal.tz, notice.person, notice.shifts))
        except Exception:
            log.exception("could not send the shift notice %s", notice.key)
            async with db.sessions() as session, session.begin():
                await store.release_notice(session, notice.key)
            continue
        async with db.sessions() as session, session.begin():
            await store.mark_notice_sent(session, notice.key, now)
            await audit.record(
                session,
                at=now,
                actor=None,
                action="shift_notice.sent",
                subject=notice.key,
                after={
                    "person": notice.person,
                    "start": notice.start,
                    "shifts": [
                        {"pipeline": s.pipeline, "role": s.role, "window": s.window, "start": s.start, "end": s.end}
                        for s in notice.shifts
                    ],
                },
            )
        sent.append(notice.key)
    return sent


def slack_notifier(deps: SlackDeps) -> Notify:
    """DMs through the bot's Web API client (``chat.postMessage`` to the user's id)."""

    async def notify(directory: Directory, person: str, message: Message) -> None:
        p = directory.people.get(person)
        if p is None or not p.slack_user_id:
            return
        await deps.client.chat_postMessage(
            channel=p.slack_user_id, text=message.text, blocks=message.blocks_json(), unfurl_links=False
        )

    return notify


async def before_shift_dms(deps: SlackDeps, now: datetime) -> list[str]:
    """The scheduler tick's hook: send the "before a shift" DMs due at ``now`` (24 h ahead, or
    ``settings.shift_notice_hours`` when the settings have it)."""
    hours = getattr(deps.settings, "shift_notice_hours", DEFAULT_NOTICE_HOURS)
    return await send_shift_notices(deps.db, now, timedelta(hours=float(hours)), slack_notifier(deps))
