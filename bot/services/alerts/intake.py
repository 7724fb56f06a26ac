"""Alert events in: store every one, add it to its alert, and open or join an incident by the
rules (``bot.core.alerts``) through the one path every incident is opened by
(``bot.services.incidents.actions.open_in``: channel post, thread, the page of whoever is on call
at that instant, after-hours rules).

One transaction per event: the event row, the alert upsert (concurrent triggers of one key land
on one alert; on PostgreSQL the later ones wait for the first, so one incident opens), for a new
key the choice of its incident under a per-pipeline lock, and the thread messages it owes in the
outbox. The outbox is kicked after the commit without waiting: the HTTP answer does not wait for
Slack. A repeat of a key costs two statements and, at most once per 30-second window, an edit row.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bot.core import alerts as rules
from bot.core import incident as core
from bot.core.alerts import Action, AlertState, OpenIncident, Source
from bot.core.incident import Refused, Status
from bot.render import alerts as alert_text
from bot.services.alerts import thread
from bot.services.alerts.batch import Batcher, Pending
from bot.services.incidents import outbox
from bot.services.incidents.actions import act, auto_escalate_minutes, chain_at, open_in
from bot.services.incidents.deps import Deps, NotFound, SnapshotSource, snapshot_source
from bot.services.snapshot import Snapshot
from bot.storage import alerts as repo
from bot.storage import incidents as incident_repo
from bot.storage import scheduled as store

log = logging.getLogger("bot.alerts")


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One event as received (already validated by the transport)."""

    action: Action
    dedup_key: str
    severity: str = "error"
    summary: str = ""
    source: str | None = None
    details: Any = None
    links: list[Any] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Received:
    """What an event did: ``outcome`` (opened, joined, added, acknowledged, resolved, dropped)
    and the incident it concerns."""

    dedup_key: str
    outcome: str
    incident_id: int | None = None
    alert_id: int | None = None


class Kicker:
    """Kicks the outbox after a commit, coalesced: while a kick runs, later ones just mark it to
    run once more (a storm of new keys runs a few deliveries, not one per event)."""

    def __init__(self, deps: Deps, snapshots: SnapshotSource) -> None:
        self.deps = deps
        self.snapshots = snapshots
        self._task: asyncio.Task[Any] | None = None
        self._again = False

    def kick(self, now: datetime) -> None:
        if self._task is not None and not self._task.done():
            self._again = True
            return
        background = getattr(self.deps, "background", None)
        coro = self._run(now)
        self._task = (background.spawn(coro, name="alerts:kick") if background is not None
                      else asyncio.get_running_loop().create_task(coro))

    async def _run(self, now: datetime) -> None:
        while True:
            self._again = False
            try:
                await outbox.deliver(self.deps, await self.snapshots(), now)
            except Exception:  # the minute tick retries; nothing is lost
                log.exception("delivering alert messages failed; the minute tick retries")
            if not self._again:
                return

    async def wait(self) -> None:
        """Wait for the kick in flight (tests, the CLI)."""
        while self._task is not None and not self._task.done():
            await asyncio.wait({self._task})


class Intake:
    """Receives alert events for one process (keeps which storm windows it has queued an edit for)."""

    def __init__(self, deps: Deps, snapshots: SnapshotSource | None = None) -> None:
        self.deps = deps
        self.snapshots = snapshots or snapshot_source(deps)
        self.kicker = Kicker(deps, self.snapshots)
        self._edits: dict[int, datetime] = {}  # alert id -> the last edit window queued by this process
        self._targets: dict[int, str] = {}  # incident id -> where its message went
        self._lines: dict[int, int] = {}  # alert id -> the delivery id of its thread line
        self.batcher = Batcher(self._triggers)

    async def receive(self, integration_id: int | None, pipeline: str, event: AlertEvent, now: datetime) -> Received:
        """Apply one event of routing key ``integration_id`` (None: the local CLI) on ``pipeline``."""
        if event.action == Action.TRIGGER:
            got = await self.batcher.submit(Pending(integration_id, pipeline, event, now))
        else:
            got = await self._monitor(integration_id, pipeline, event, now)
        if got.outcome in ("opened", "joined", "acknowledged", "resolved") and got.incident_id is not None:
            self.kicker.kick(now)
        return got

    def _event_row(self, integration_id: int | None, pipeline: str, event: AlertEvent, outcome: str,
                   alert_id: int | None, now: datetime) -> dict[str, Any]:
        return {"alert_id": alert_id, "integration_id": integration_id, "pipeline": pipeline,
                "action": event.action.value, "dedup_key": event.dedup_key,
                "severity": event.severity if event.action == Action.TRIGGER else None,
                "summary": event.summary or None, "details": event.details, "links": event.links or None,
                "outcome": outcome, "at": now}

    async def _triggers(self, batch: list[Pending]) -> list[Received]:
        """Apply a batch of triggers in one transaction: one upsert for all their alerts (repeats
        of a key in the batch add up), the incident of each new alert, the storm edits due, and
        one insert of all the events."""
        snap = await self.snapshots()  # before the transaction: on SQLite a second connection would wait for it
        groups: dict[str, list[int]] = {}
        for i, p in enumerate(batch):
            groups.setdefault(repo.open_key(p.integration_id, p.event.dedup_key), []).append(i)
        values = []
        for key in sorted(groups):  # one lock order for every replica
            first, last = batch[groups[key][0]], batch[groups[key][-1]]
            e = last.event
            values.append({"integration_id": first.integration_id, "pipeline": first.pipeline,
                           "dedup_key": e.dedup_key, "open_key": key, "severity": first.event.severity,
                           "summary": e.summary, "source": e.source, "details": e.details, "links": list(e.links),
                           "state": AlertState.OPEN.value, "count": len(groups[key]), "first_at": first.now,
                           "last_at": last.now})
        results: list[Received] = [Received("", "")] * len(batch)
        events: list[dict[str, Any]] = []
        lines: list[tuple[int, dict[str, Any]]] = []
        edits: list[dict[str, Any]] = []
        async with self.deps.db.sessions() as session, session.begin():
            heads = await repo.trigger_many(session, values)
            new = sorted((k for k in groups if heads[k].count == len(groups[k])), key=lambda k: (heads[k].pipeline, k))
            open_by_pipeline: dict[str, list[OpenIncident]] = {}
            for pipeline in sorted({heads[k].pipeline for k in new}):  # locks in one order too
                await repo.lock_pipeline(session, pipeline)
                open_by_pipeline[pipeline] = [OpenIncident(i, rules.incident_severity(c, sev))
                                              for i, c, sev in await repo.open_incidents_of(session, pipeline)]
            joined: dict[int, list[int]] = {}  # incident id -> its new alerts
            for key, idxs in groups.items():
                head, last = heads[key], batch[idxs[-1]]
                incident_id = head.incident_id
                outcomes = ["added"] * len(idxs)
                if key in new:
                    incident_id, outcomes[0] = await self._incident_for(
                        session, snap, head, batch[idxs[0]].now, open_by_pipeline[head.pipeline])
                    if incident_id is not None:
                        joined.setdefault(incident_id, []).append(head.id)
                        target = await self._target(session, incident_id)
                        if target is not None:
                            lines.append((head.id, thread.line_row(incident_id, head.id, target, last.now)))
                elif incident_id is not None and self._edits.get(head.id) != rules.storm_edit_at(last.now):
                    due = rules.storm_edit_at(last.now)
                    target = await self._target(session, incident_id)
                    line = await self._line(session, incident_id, head.id)
                    if target is not None and line is not None:
                        edits.append(thread.edit_row(incident_id, head.id, target, f"edit:{int(due.timestamp())}",
                                                     due, last.now, parent_id=line))
                    self._edits[head.id] = due
                for i, outcome in zip(idxs, outcomes, strict=True):
                    p = batch[i]
                    events.append(self._event_row(p.integration_id, p.pipeline, p.event, outcome, head.id, p.now))
                    results[i] = Received(p.event.dedup_key, outcome, incident_id, head.id)
            for incident_id, alert_ids in joined.items():
                await repo.set_incident(session, alert_ids, incident_id)
            await repo.add_events(session, events)
            if lines:
                ids = await store.add_deliveries(session, [row for _, row in lines])
                self._lines.update({alert_id: i for (alert_id, _), i in zip(lines, ids, strict=True)})
            if edits:
                await store.add_deliveries(session, edits)
        if len(self._edits) > 50_000:
            self._edits.clear()
            self._lines.clear()
            self._targets.clear()
        return results

    async def _target(self, session: Any, incident_id: int) -> str | None:
        """Where the incident's message went (its thread's channel), remembered."""
        if incident_id not in self._targets:
            post = await outbox.post_delivery(session, incident_id)
            if post is None:
                return None
            self._targets[incident_id] = post.target
        return self._targets[incident_id]

    async def _line(self, session: Any, incident_id: int, alert_id: int) -> int | None:
        """The delivery id of the alert's thread line, remembered."""
        if alert_id not in self._lines:
            found = await store.delivery_id(session, thread.line_key(incident_id, alert_id))
            if found is None:
                return None
            self._lines[alert_id] = found
        return self._lines[alert_id]

    async def _incident_for(self, session: Any, snap: Snapshot, alert: repo.Head, now: datetime,
                            opened: list[OpenIncident]) -> tuple[int | None, str]:
        """The incident a new alert joins, or the one it opens (None: the pipeline has nobody to
        page and no channel; the alert is stored all the same). ``opened``: the pipeline's open
        incidents, newest first, as this transaction sees them (an incident opened here is added)."""
        join = rules.incident_for_new_key(alert.severity, opened)
        if join is not None:
            return join, "joined"
        critical = alert.severity == rules.Severity.CRITICAL
        chain = chain_at(snap, alert.pipeline, now, critical)
        started = core.open_incident(alert.pipeline, alert.summary, critical, None, chain, now,
                                     auto_escalate_minutes(self.deps))
        if isinstance(started, Refused):
            log.warning("alert %s on %s: no incident opened (%s)", alert.id, alert.pipeline, started.reason.value)
            return None, "opened"
        draft, opening = started
        draft = replace(draft, source=Source.ALERT.value, severity=alert.severity)
        inc = await open_in(session, snap, draft, opening, now, source_key=f"alert:{alert.id}")
        if inc is None:
            return None, "opened"
        opened.insert(0, OpenIncident(inc.id, alert.severity))
        return inc.id, "opened"

    async def _monitor(self, integration_id: int | None, pipeline: str, event: AlertEvent, now: datetime) -> Received:
        """Acknowledge or resolve the open alert of the key (else the event is stored, dropped)."""
        state = AlertState.ACKNOWLEDGED if event.action == Action.ACKNOWLEDGE else AlertState.RESOLVED
        async with self.deps.db.sessions() as session, session.begin():
            alert = await repo.open_alert(session, integration_id, event.dedup_key)
            changed = alert is not None and alert.state != state.value
            if changed and alert is not None:
                changed = await repo.set_state(session, alert, state, now)
            outcome = "dropped" if alert is None else state.value
            await repo.add_event(session, **self._event_row(integration_id, pipeline, event, outcome,
                                                            alert.id if alert else None, now))
            if alert is None or not changed or alert.incident_id is None:
                return Received(event.dedup_key, outcome, alert.incident_id if alert else None,
                                alert.id if alert else None)
            incident_id = alert.incident_id
            post = await outbox.post_delivery(session, incident_id)
            if post is not None:
                await store.add_deliveries(session, [
                    thread.text_row(incident_id, f"alert:{alert.id}:monitor:{state.value}", post.target,
                                    alert_text.monitor_line(alert.dedup_key, state.value), now),
                    thread.edit_row(incident_id, alert.id, post.target, f"state:{state.value}", now, now),
                ])
        await self._follow_incident(incident_id, state, now)
        return Received(event.dedup_key, outcome, incident_id, alert.id)

    async def _follow_incident(self, incident_id: int, state: AlertState, now: datetime) -> None:
        """An incident opened by alerts follows them: acknowledged when none is open any more,
        resolved (saying so in its thread) when all are resolved. Read after the commit, so of
        two alerts resolved at once the later commit sees both."""
        async with self.deps.db.sessions() as session:
            inc = await incident_repo.get_incident(session, incident_id)
            alerts = await repo.alerts_of(session, incident_id)
        if inc is None or inc.source != Source.ALERT.value or inc.status == Status.RESOLVED:
            return
        states = {a.state for a in alerts}
        try:
            if state == AlertState.RESOLVED and states == {AlertState.RESOLVED.value}:
                acted = await act(self.deps, incident_id, now, lambda i, _s: core.resolve(i, None, now),
                                  self.snapshots, wait=False)
                if acted.applied:
                    async with self.deps.db.sessions() as session, session.begin():
                        post = await outbox.post_delivery(session, incident_id)
                        if post is not None:
                                        await store.add_deliveries(session, [thread.text_row(
                                incident_id, "alerts-resolved", post.target, alert_text.all_resolved_line(len(alerts)),
                                now)])
            elif AlertState.OPEN.value not in states and inc.status == Status.OPEN:
                await act(self.deps, incident_id, now, lambda i, _s: core.acknowledge(i, None, now),
                          self.snapshots, wait=False)
        except NotFound:
            return
