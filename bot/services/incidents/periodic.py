"""Periodic work (every minute): unacknowledged critical incidents escalate by themselves (and at
once when their level-1 page could not be delivered within a minute), queued pages whose time has
come are handed to the outbox, SLA reminders and fix-by escalations are claimed
(``bot.services.incidents.sla``), and the outbox's owed messages are sent. All safe with several
replicas.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core import incident as core
from bot.core.incident import Incident, Page, PageKind, Refusal, Refused, Status
from bot.services.incidents import outbox
from bot.services.incidents.actions import act, auto_escalate_minutes, chain_at, page_json
from bot.services.incidents.deps import Acted, Deps, NotFound, SnapshotSource, snapshot_source
from bot.services.incidents.sla import follow_up_sla
from bot.services.snapshot import Snapshot
from bot.storage import audit
from bot.storage import incidents as repo
from bot.storage import scheduled as store

UNDELIVERED_AFTER = timedelta(seconds=60)
"""How long a critical incident's level-1 page may stay undelivered before level 2 is paged."""


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
    """Hand the queued pages due at ``now`` to the outbox (each by exactly one replica); how many.

    A page whose incident was resolved first was cancelled then and is not sent. Claiming the
    page, making it the incident's person page, recording ``incident.page_released`` and queueing
    its DM happen in one transaction; then the outbox sends it (and retries what fails until it
    goes out). Only when Slack took the DM are ``incident.page_delivered``, the thread line
    ("Queued page sent") and the update of the incident message written (``outbox``).
    """
    async with deps.db.sessions() as session:
        due = await repo.due_pages(session, now)
    if not due:
        return 0
    snap = await (snapshots or snapshot_source(deps))()
    d = snap.directory
    handed = 0
    for event_id, incident_id, page in due:
        delivered_page = Page(page.level, PageKind.PERSON, page.label, page.person, page.slot, page.channels)
        async with deps.db.sessions() as session, session.begin():
            if not await repo.claim_page(session, event_id, now):
                continue
            inc = await repo.get_incident(session, incident_id)
            if inc is None:
                continue
            await repo.mark_page_delivered(session, incident_id, page.level)
            await audit.record(session, at=now, actor=None, action="incident.page_released",
                               subject=f"incident:{incident_id}",
                               before={"page": page_json(page)}, after={"page": page_json(delivered_page)})
            rows = outbox.page_rows(d, inc, delivered_page, now)
            for row in rows:  # its thread line and ``incident.page_delivered`` wait for the DM
                row["payload"]["released"] = True
            await store.add_deliveries(session, rows)
        handed += 1
    if handed:
        await outbox.deliver(deps, snap, now)
    return handed


async def escalate_undelivered(deps: Deps, now: datetime, *, snapshots: SnapshotSource | None = None) -> list[Acted]:
    """Critical incidents still open at level 1 whose level-1 page has not been sent
    ``UNDELIVERED_AFTER`` after opening escalate to level 2 at once (not after the usual wait)."""
    async with deps.db.sessions() as session:
        candidates = [i for i in await repo.open_incidents(session)
                      if i.critical and i.level == 1 and i.status == Status.OPEN
                      and i.page.kind == PageKind.PERSON and now - i.opened_at >= UNDELIVERED_AFTER]
        stuck = [i for i in candidates if await outbox.pages_unsent(session, i.id, 1)]
    if not stuck:
        return []
    snap = await (snapshots or snapshot_source(deps))()
    minutes = auto_escalate_minutes(deps)

    async def fixed() -> Snapshot:
        return snap

    done: list[Acted] = []
    for inc in stuck:

        def decide(current: Incident, s: Snapshot) -> core.Outcome:
            if current.level != 1 or current.status != Status.OPEN:
                return Refused(Refusal.STALE, current)
            chain = chain_at(s, current.pipeline, now, current.critical)
            return core.escalate(current, chain, 1, None, now, minutes, auto=True)

        try:
            done.append(await act(deps, inc.id, now, decide, fixed))
        except NotFound:
            continue
    return done


@dataclass(frozen=True)
class Tick:
    escalated: int
    pages_sent: int
    sla_reminded: int = 0
    sla_escalated: int = 0


async def run_periodic(deps: Deps, now: datetime, *, snapshots: SnapshotSource | None = None) -> Tick:
    """The incident work of one scheduler tick at ``now`` (call it every minute): escalations
    (due ones, and critical incidents whose level-1 page could not be delivered), queued pages,
    SLA reminders and fix-by escalations (``bot.services.incidents.sla``), then the owed
    messages (incidents' and changes') that are ready."""
    acted = await auto_escalate_due(deps, now, snapshots=snapshots)
    handed = await deliver_queued_pages(deps, now, snapshots=snapshots)
    reminded, overdue = await follow_up_sla(deps, now, snapshots=snapshots)
    snap = await (snapshots or snapshot_source(deps))()
    await outbox.deliver(deps, snap, now)  # first: a page that goes out now needs no escalation
    acted += await escalate_undelivered(deps, now, snapshots=snapshots)
    return Tick(sum(1 for a in acted if a.applied), handed, reminded, overdue)
