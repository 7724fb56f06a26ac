"""Data-arrival heartbeats (issue 12 §3): arrivals, the freshness check of each tick, the report.

A pipeline with a seed ``freshness.arrival_within`` rule must see data within that span of its
previous arrival (``bot.core.alerts.freshness_deadline``). ``check`` (every scheduler tick)
opens an incident on a pipeline whose deadline has passed, through the one opening path
(``open_in``), claimed by the key ``freshness:PIPELINE:DEADLINE`` (the incident's
``source_key``): with several replicas ticking at once exactly one opens it, and a pipeline stays
late with one incident until data arrives. ``arrived`` records an arrival and resolves the
pipeline's open missing-data incidents, saying so in their thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.core import alerts as rules
from bot.core import incident as core
from bot.core.alerts import Source
from bot.core.incident import Refused
from bot.render import alerts as alert_text
from bot.services.alerts import thread
from bot.services.incidents import outbox
from bot.services.incidents.actions import act, auto_escalate_minutes, chain_at, open_in
from bot.services.incidents.deps import Deps, NotFound, SnapshotSource, snapshot_source
from bot.services.snapshot import Snapshot
from bot.storage import alerts as repo
from bot.storage import scheduled as store

log = logging.getLogger("bot.alerts")


@dataclass(frozen=True, slots=True)
class Freshness:
    """One pipeline's freshness as of ``at``."""

    pipeline: str
    name: str
    within: timedelta
    last_arrival: datetime | None
    deadline: datetime
    late: bool


async def arrived(deps: Deps, pipeline: str, at: datetime, now: datetime,
                  snapshots: SnapshotSource | None = None) -> list[int]:
    """Record data of ``pipeline`` arrived at ``at`` (``now`` when it is said); resolve its open
    missing-data incidents (their ids)."""
    async with deps.db.sessions() as session, session.begin():
        await repo.record_arrival(session, pipeline, at)
        open_ids = await repo.open_heartbeat_incidents(session, pipeline)
    source = snapshots or snapshot_source(deps)
    resolved: list[int] = []
    for incident_id in open_ids:
        try:
            acted = await act(deps, incident_id, now, lambda i, _s: core.resolve(i, None, now), source, wait=False)
        except NotFound:
            continue
        if not acted.applied:
            continue
        resolved.append(incident_id)
        snap = await source()
        async with deps.db.sessions() as session, session.begin():
            post = await outbox.post_delivery(session, incident_id)
            if post is not None:
                await store.add_deliveries(session, [thread.text_row(
                    incident_id, "data-arrived", post.target, alert_text.arrived_line(at, snap.calendar.tz), now)])
    if resolved:
        await outbox.kick(deps, await source(), now)
    return resolved


async def report(deps: Deps, snap: Snapshot, now: datetime) -> list[Freshness]:
    """Each pipeline with a freshness rule: its last arrival and deadline at ``now``."""
    async with deps.db.sessions() as session:
        beats = await repo.heartbeats(session)
    out = []
    for p in snap.directory.pipelines.values():
        if p.arrival_within is None:
            continue
        since, last = beats.get(p.id, (now, None))
        deadline = rules.freshness_deadline(last, since, p.arrival_within)
        out.append(Freshness(p.id, p.name, p.arrival_within, last, deadline, now >= deadline))
    return out


async def check(deps: Deps, now: datetime, snapshots: SnapshotSource | None = None) -> list[int]:
    """The freshness check of one tick at ``now``: start the clock of pipelines never seen, and
    open one incident per pipeline whose deadline has passed (the ids this replica opened)."""
    source = snapshots or snapshot_source(deps)
    snap = await source()
    ruled = [p for p in snap.directory.pipelines.values() if p.arrival_within is not None]
    if not ruled:
        return []
    async with deps.db.sessions() as session:
        beats = await repo.heartbeats(session)
    unseen = [p.id for p in ruled if p.id not in beats]
    if unseen:
        async with deps.db.sessions() as session, session.begin():
            for pid in unseen:
                await repo.seen(session, pid, now)
        async with deps.db.sessions() as session:
            beats = await repo.heartbeats(session)
    opened: list[int] = []
    for p in ruled:
        assert p.arrival_within is not None
        since, last = beats[p.id]
        if not rules.is_late(last, since, p.arrival_within, now):
            continue
        deadline = rules.freshness_deadline(last, since, p.arrival_within)
        summary = alert_text.missing_data_summary(p.name, p.arrival_within, last, snap.calendar.tz)
        chain = chain_at(snap, p.id, now, False)
        started = core.open_incident(p.id, summary, False, None, chain, now, auto_escalate_minutes(deps))
        if isinstance(started, Refused):
            continue
        draft, event = started
        draft = replace(draft, source=Source.HEARTBEAT.value, severity=rules.Severity.ERROR.value)
        async with deps.db.sessions() as session, session.begin():
            inc = await open_in(session, snap, draft, event, now,
                                source_key=f"freshness:{p.id}:{deadline.isoformat()}")
        if inc is not None:
            log.info("incident %s: %s", inc.id, summary)
            opened.append(inc.id)
    if opened:
        await outbox.kick(deps, snap, now)
    return opened
