"""Incidents: load → core → apply in one transaction per action, then tell Slack.

Every action reads the incident, asks ``bot.core.incident`` what changes (with the escalation
chain computed at the action's instant), and writes the change with a compare-and-set in the same
transaction (``bot.storage.incidents.apply_change``): a double click, a retried delivery or a
second replica acting at the same moment changes nothing and gets a ``Refused`` back. The
messages the change owes (the incident message and its updates, a line in its thread, a DM to
whoever is paged, the owning teams' channels at the end of the chain) are written to the
delivery outbox in that same transaction (``bot.services.incidents.outbox``), and the outbox is
kicked right after the commit: a Slack failure never undoes the change nor loses a message, and
the result (``Opened.delivery`` / ``Acted.delivery``) says what Slack has confirmed so far.

Every action is audited (``bot.storage.audit``) in the transaction that applies it:
``incident.opened``, ``incident.acknowledged``, ``incident.escalated``,
``incident.auto_escalated``, ``incident.resolved`` and ``incident.page_released``, subject
``incident:ID``, by the person id of the Slack user who acted (their Slack user id when they are
not in the directory; None for the bot); ``incident.page_delivered`` is written by the outbox in
the transaction that records a page DM sent (only then was the person told). A press refused by
the incident's state (a double click) changes nothing and records nothing.

Who may press (issue 10 §2), checked from stored state in the transaction of the action: a click
from Slack names the message it came from (``origin``: channel id, message ts), which must be the
incident's own stored message; and the clicker must be allowed by
``bot.core.permissions.may_act_on_incident`` (admins, the owning teams and the seed's
``incident_responders``, the people the incident paged). Anyone else changes nothing, and the
refusal is audited as ``incident.refused``.

Periodic work (``run_periodic``, every minute): unacknowledged critical incidents escalate by
themselves (``auto_escalate_due``) and queued pages whose time has come are sent
(``deliver_queued_pages``). Both are safe with several replicas: escalations are compare-and-set
on the level, and a queued page is claimed by exactly one replica before it is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import incident as core
from bot.core import sla
from bot.core.coverage import UnknownPipeline
from bot.core.escalation import EscalationStep, escalation_chain
from bot.core.incident import Change, EventKind, Incident, Page, Refusal, Refused
from bot.core.permissions import Decision, may_act_on_incident, may_open_incident
from bot.services.incidents import outbox
from bot.services.incidents.deps import Acted, Delivery, Deps, NotFound, Opened, SnapshotSource, snapshot_source
from bot.services.snapshot import Snapshot
from bot.storage import audit
from bot.storage import incidents as repo
from bot.storage import scheduled as store
from bot.storage.bootstrap import Database

log = logging.getLogger("bot.incidents")


def auto_escalate_minutes(deps: Deps) -> int:
    """Minutes an unacknowledged critical incident waits before it escalates by itself (15 by default)."""
    return int(getattr(deps.settings, "auto_escalate_minutes", 15))


def chain_at(snap: Snapshot, pipeline: str, at: datetime, critical: bool) -> list[EscalationStep]:
    """The chain at ``at``; empty when the pipeline is gone from the seed (a reload removed it)."""
    try:
        return escalation_chain(snap.directory, snap.calendar, pipeline, at, snap.overrides, critical)
    except UnknownPipeline:
        return []


def _actor(snap: Snapshot, slack_user: str | None) -> str | None:
    """Who acted, for the audit trail: the person id of a Slack user in the directory, else the
    id given (a Slack user id, or a person id from the console); None for the bot itself."""
    if slack_user is None:
        return None
    return snap.person_by_slack_id(slack_user) or slack_user


def page_json(page: Page) -> dict[str, Any]:
    """A page as recorded in the audit trail."""
    return {"level": page.level, "kind": page.kind, "label": page.label, "person": page.person,
            "slot": str(page.slot) if page.slot else None, "channels": page.channels, "due": page.due}


def _opened_json(inc: Incident) -> dict[str, Any]:
    return {"pipeline": inc.pipeline, "summary": inc.summary, "critical": inc.critical, "reporter": inc.reporter,
            "status": inc.status, "level": inc.level, "chain_length": inc.chain_length,
            "page": page_json(inc.page), "next_auto_at": inc.next_auto_at, "fix_by": inc.fix_by}


def _audit_change(snap: Snapshot, change: Change) -> dict[str, Any]:
    """``audit.record``'s arguments for an applied change."""
    before, after, event = change.before, change.after, change.event
    old: dict[str, Any]
    new: dict[str, Any]
    if event.kind == EventKind.ESCALATED:
        action = "incident.auto_escalated" if event.auto else "incident.escalated"
        old = {"level": before.level, "chain_length": before.chain_length, "page": page_json(before.page)}
        new = {"level": after.level, "chain_length": after.chain_length, "page": page_json(after.page),
               "reached": after.reached, "next_auto_at": after.next_auto_at}
    elif event.kind == EventKind.ACKNOWLEDGED:
        action = "incident.acknowledged"
        old = {"status": before.status, "next_auto_at": before.next_auto_at}
        new = {"status": after.status, "acknowledged_by": after.acknowledged_by, "level": after.level}
    else:
        action = f"incident.{event.kind.value}"
        old = {"status": before.status}
        new = {"status": after.status, "resolved_by": after.resolved_by, "level": after.level}
    return {"at": event.at, "actor": _actor(snap, event.actor), "action": action,
            "subject": f"incident:{before.id}", "before": old, "after": new}


async def _load(db: Database, incident_id: int) -> Incident:
    async with db.sessions() as session:
        inc = await repo.get_incident(session, incident_id)
    if inc is None:
        raise NotFound(incident_id)
    return inc


async def open_incident(
    deps: Deps,
    pipeline: str,
    summary: str,
    critical: bool,
    reporter: str | None,
    now: datetime,
    *,
    source_key: str | None = None,
    fallback_channel: str | None = None,
    snapshots: SnapshotSource | None = None,
    require_person: bool = False,
    source_message: tuple[str, str] | None = None,
) -> Opened | Refused:
    """Open an incident on ``pipeline`` (an id of the snapshot's directory) at ``now``.

    Queues, in the transaction that stores it, the incident message for the pipeline's channel
    (else ``fallback_channel``, e.g. where the command was typed), its first thread line and the
    level-1 page (a DM; a queued page waits for ``deliver_queued_pages``), then kicks the outbox
    and says in ``Opened.delivery`` what Slack confirmed within a few seconds. ``source_key``
    (the request's trigger id) makes it idempotent: the same key opens one incident
    (``Opened.duplicate`` for the others, with nothing sent).
    ``require_person`` (buttons, shortcuts and their form): the reporter must be a person in the
    directory (``may_open_incident``), else ``Refusal.NOT_ALLOWED``, audited, nothing opened.
    ``source_message`` (channel, ts) of the message it was opened from (the message shortcut):
    a reply under it linking to the incident is owed too, once (``incident:ID:source_link``).
    """
    snap = await (snapshots or snapshot_source(deps))()
    chain = chain_at(snap, pipeline, now, critical)
    started = core.open_incident(pipeline, summary, critical, reporter, chain, now, auto_escalate_minutes(deps))
    if isinstance(started, Refused):
        return started
    draft, event = started
    draft = _with_sla(snap, draft)
    if require_person and not may_open_incident(snap.directory, _actor(snap, reporter)):
        async with deps.db.sessions() as session, session.begin():
            await audit.record(session, at=now, actor=_actor(snap, reporter), action="incident.refused",
                               subject=f"pipeline:{pipeline}", after={"reason": Refusal.NOT_ALLOWED.value})
        return Refused(Refusal.NOT_ALLOWED, draft)
    async with deps.db.sessions() as session, session.begin():
        inc = await open_in(session, snap, draft, event, now, source_key=source_key,
                            fallback_channel=fallback_channel, source_message=source_message)
        if inc is None:
            assert source_key is not None
            existing = await repo.incident_by_source(session, source_key)
            assert existing is not None
            return Opened(existing, duplicate=True)
    state = await outbox.kick_and_wait(deps, snap, now, inc.id, level=inc.level)
    return Opened(await _load(deps.db, inc.id), delivery=state)


def _with_sla(snap: Snapshot, draft: Incident) -> Incident:
    """The draft with its SLA clock from the pipeline's fix rule (none for an unknown pipeline)."""
    pipeline = snap.directory.pipelines.get(draft.pipeline)
    deadline = sla.fix_by(pipeline.fix if pipeline else None, draft.opened_at, snap.calendar)
    return core.with_sla(draft, deadline, sla.reminder_at(deadline, draft.opened_at, snap.calendar))


async def open_in(session: AsyncSession, snap: Snapshot, draft: Incident, event: core.IncidentEvent,
                  now: datetime, *, source_key: str | None = None, fallback_channel: str | None = None,
                  source_message: tuple[str, str] | None = None) -> Incident | None:
    """Store a drafted incident (``core.open_incident``'s) in the caller's transaction, with its
    opening event, its audit entry and the messages it owes (``outbox.opened_rows``); the caller
    kicks the outbox after the commit. None when ``source_key`` opened one already. The one path
    every incident is opened by: ``/incident``, alerts and missed data arrivals."""
    inc = await repo.add_incident(session, _with_sla(snap, draft), source_key)
    if inc is None:
        return None
    await repo.add_event(session, inc.id, event)
    await audit.record(session, at=now, actor=_actor(snap, draft.reporter), action="incident.opened",
                       subject=f"incident:{inc.id}", after={**_opened_json(inc), "source": inc.source,
                                                            "severity": inc.severity})
    await store.add_deliveries(session, outbox.opened_rows(snap, inc, fallback_channel, now, source_message))
    return inc


Decide = Callable[[Incident, Snapshot], core.Outcome]
Origin = tuple[str | None, str | None]  # (channel id, message ts) a click came from


def may_open(snap: Snapshot, slack_user: str | None) -> Decision:
    """Whether ``slack_user`` may open an incident from a button or shortcut (``may_open_incident``)."""
    return may_open_incident(snap.directory, _actor(snap, slack_user))


def gate(snap: Snapshot, inc: Incident, actor: str | None, origin: Origin | None) -> tuple[Refusal, str] | None:
    """Why ``actor`` (a Slack user id, or a person id from the console; None: the bot) may not act
    on ``inc`` from ``origin`` (None: not a click, e.g. the console), or None when they may."""
    if origin is not None and (inc.channel is None or inc.ts is None or origin != (inc.channel, inc.ts)):
        return Refusal.WRONG_MESSAGE, "Use the buttons on the incident's own message."
    if actor is None:
        return None
    decision = may_act_on_incident(snap.directory, snap.admins, _actor(snap, actor), inc.pipeline, inc.reached)
    return None if decision else (Refusal.NOT_ALLOWED, decision.reason)


async def act(
    deps: Deps,
    incident_id: int,
    now: datetime,
    decide: Decide,
    snapshots: SnapshotSource | None,
    *,
    actor: str | None = None,
    origin: Origin | None = None,
    wait: bool = True,
) -> Acted:
    """Load the incident, check that ``actor`` may act on it from ``origin`` (``gate``), ``decide``
    what changes, apply it (compare-and-set) with its audit entry in one transaction, then tell
    Slack (``wait`` False: kick the outbox without waiting for it). ``NotFound`` when there is no
    such incident."""
    snap = await (snapshots or snapshot_source(deps))()
    async with deps.db.sessions() as session, session.begin():
        inc = await repo.get_incident(session, incident_id)
        if inc is None:
            raise NotFound(incident_id)
        refused = gate(snap, inc, actor, origin)
        if refused is not None:
            why, text = refused
            await audit.record(session, at=now, actor=_actor(snap, actor), action="incident.refused",
                               subject=f"incident:{inc.id}",
                               after={"reason": why.value, "text": text,
                                      "origin": list(origin) if origin is not None else None})
            return Acted(inc, refusal=why, reason=text)
        outcome = decide(inc, snap)
        if isinstance(outcome, Refused):
            if outcome.reason == Refusal.END_OF_CHAIN and inc.next_auto_at is not None:
                await repo.stop_auto(session, inc.id, inc.level)
            return Acted(outcome.incident, refusal=outcome.reason)
        if not await repo.apply_change(session, outcome):
            # Someone acted between our read and our write: decide again on what is there now.
            latest = await repo.get_incident(session, incident_id)
            assert latest is not None
            again = decide(latest, snap)
            refusal = again.reason if isinstance(again, Refused) else Refusal.STALE
            return Acted(latest, refusal=refusal)
        await audit.record(session, **_audit_change(snap, outcome))
        await store.add_deliveries(session, await outbox.change_rows(session, snap, outcome, now))
    page = outcome.event.page
    if not wait:
        await outbox.kick(deps, snap, now, first=(outbox.post_key(incident_id),))
        return Acted(outcome.after, change=outcome, delivery=Delivery(posted=False))
    state = await outbox.kick_and_wait(deps, snap, now, incident_id, level=page.level if page else None,
                                       update=outbox.change_what(outcome))
    return Acted(outcome.after, change=outcome, delivery=state)


async def acknowledge(
    deps: Deps,
    incident_id: int,
    actor: str | None,
    now: datetime,
    *,
    snapshots: SnapshotSource | None = None,
    origin: Origin | None = None,
) -> Acted:
    """``actor`` (a Slack user id) acknowledges the incident: once, when allowed (``gate``)."""
    return await act(deps, incident_id, now, lambda inc, _snap: core.acknowledge(inc, actor, now), snapshots,
                     actor=actor, origin=origin)


async def resolve(
    deps: Deps,
    incident_id: int,
    actor: str | None,
    now: datetime,
    *,
    snapshots: SnapshotSource | None = None,
    origin: Origin | None = None,
) -> Acted:
    """``actor`` resolves the incident: once, when allowed; its pending queued pages are cancelled."""
    return await act(deps, incident_id, now, lambda inc, _snap: core.resolve(inc, actor, now), snapshots,
                     actor=actor, origin=origin)


async def escalate(
    deps: Deps,
    incident_id: int,
    from_level: int,
    actor: str | None,
    now: datetime,
    *,
    snapshots: SnapshotSource | None = None,
    origin: Origin | None = None,
) -> Acted:
    """Escalate from ``from_level`` (the level the pressed button showed) along the chain at
    ``now``, when allowed (``gate``). A second press from the same level changes nothing
    (``Refusal.STALE``)."""
    minutes = auto_escalate_minutes(deps)

    def decide(inc: Incident, snap: Snapshot) -> core.Outcome:
        chain = chain_at(snap, inc.pipeline, now, inc.critical)
        return core.escalate(inc, chain, from_level, actor, now, minutes)

    return await act(deps, incident_id, now, decide, snapshots, actor=actor, origin=origin)
