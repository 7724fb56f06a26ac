"""Periodic work (every minute): unacknowledged critical incidents escalate by themselves and queued
pages whose time has come are sent. Both are safe with several replicas.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core import incident as core
from bot.core.incident import Incident, Page, PageKind, Refusal, Refused
from bot.render import incident as render
from bot.render.blocks import Message
from bot.services.incidents.actions import act, auto_escalate_minutes, chain_at, page_json
from bot.services.incidents.deps import Acted, Deps, NotFound, SnapshotSource, snapshot_source
from bot.services.incidents.slack_effects import SlackNotifier, message_metadata
from bot.services.snapshot import Snapshot
from bot.storage import audit
from bot.storage import incidents as repo


async def auto_escalate_due(deps: Deps, now: datetime, *, snapshots: SnapshotSource | None = None) -> list[Acted]:
    """Escalate every unacknowledged critical incident whose auto-escalation is due at ``now``,
    one level each; what was done (refusals included: another replica may have been first)."""
    source = snapshots or snapshot_source(deps)
    async with deps.db.sessions() as session:
        due = await repo.due_auto_escalations(session, now)
    if not due:
        return []
    snap = await source()
    minutes = auto_escalate_minutes(deps)

    async def fixed() -> Snapshot:
        return snap

    done: list[Acted] = []
    for inc in due:

        def decide(current: Incident, s: Snapshot, level: int = inc.level) -> core.Outcome:
            if current.level != level:
                return Refused(Refusal.STALE, current)
            return core.auto_escalate(current, chain_at(s, current.pipeline, now, current.critical), now, minutes)

        try:
            done.append(await act(deps, inc.id, now, decide, fixed))
        except NotFound:
            continue
    return done


async def deliver_queued_pages(deps: Deps, now: datetime, *, snapshots: SnapshotSource | None = None) -> int:
    """Send the queued pages due at ``now`` (each by exactly one replica); how many were sent.

    A page whose incident was resolved first was cancelled then and is not sent. A page whose
    DM fails goes back to pending and is tried again on the next call. Once the DM is sent, the
    incident's page becomes a person page and ``incident.page_delivered`` is recorded, together.
    """
    async with deps.db.sessions() as session:
        due = await repo.due_pages(session, now)
    if not due:
        return 0
    snap = await (snapshots or snapshot_source(deps))()
    d, tz = snap.directory, snap.calendar.tz
    slack = SlackNotifier(deps.client)
    sent = 0
    for event_id, incident_id, page in due:
        async with deps.db.sessions() as session, session.begin():
            if not await repo.claim_page(session, event_id, now):
                continue
            inc = await repo.get_incident(session, incident_id)
        if inc is None:
            continue
        person = d.people.get(page.person or "")
        delivered_page = Page(page.level, PageKind.PERSON, page.label, page.person, page.slot, page.channels)
        ok = person is not None and await slack.dm(
            person.slack_user_id, render.page_message(d, tz, inc, delivered_page), message_metadata(inc, "queued-page")
        )
        if not ok:
            async with deps.db.sessions() as session, session.begin():
                await repo.release_page(session, event_id)
            continue
        async with deps.db.sessions() as session, session.begin():
            await repo.mark_page_delivered(session, incident_id, page.level)
            await audit.record(session, at=now, actor=None, action="incident.page_delivered",
                               subject=f"incident:{incident_id}",
                               before={"page": page_json(page)}, after={"page": page_json(delivered_page)})
            inc = await repo.get_incident(session, incident_id) or inc
        sent += 1
        if inc.channel and inc.ts:
            await slack.update(inc.channel, inc.ts, render.incident_message(d, tz, inc))
            await slack.post(inc.channel, Message(render.delivered_line(d, page)), thread_ts=inc.ts)
    return sent


@dataclass(frozen=True)
class Tick:
    escalated: int
    pages_sent: int


async def run_periodic(deps: Deps, now: datetime, *, snapshots: SnapshotSource | None = None) -> Tick:
    """The incident work of one scheduler tick at ``now`` (call it every minute)."""
    acted = await auto_escalate_due(deps, now, snapshots=snapshots)
    sent = await deliver_queued_pages(deps, now, snapshots=snapshots)
    return Tick(sum(1 for a in acted if a.applied), sent)
