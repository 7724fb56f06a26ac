"""Applying accepted alert events (the inbox, ``bot.storage.alert_inbox``): add each to its alert,
open or join an incident by the rules (``bot.core.alerts``) through the one path every incident is
opened by (``bot.services.incidents.actions.open_in``: channel post, thread, the page of whoever
is on call at the event's instant, after-hours rules), and owe the thread its messages.

One step in the appliers' turn (``alert_inbox.turn``: one applier at a time across replicas and
processes, so every event is applied once and in arrival order, and an incident follows its
alerts before any other applier applies a later event): one transaction with the oldest queued
events, their effects, and their outcomes; then, after its commit, what follows from it. A run
of consecutive triggers is applied together: one upsert for all their alerts (concurrent
triggers of one key land on one alert), for new keys the choice of their incident under a
per-pipeline lock, the storm edits due, the thread lines. An acknowledge or resolve is applied on
its own, in its place; one that changed an alert of an incident ends the step, so that the
incident follows its alerts (``_follow_incident``, after the commit, still in the turn) before
any later event is applied, as when each event was applied as it came.

A step that fails is rolled back and its events are applied one by one; an event that fails
alone (not the database being down) is marked ``failed`` and logged, so it cannot hold up the
events after it. The outbox is kicked after the commit without waiting.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.core import alerts as rules
from bot.core import incident as core
from bot.core.alerts import Action, AlertState, OpenIncident, Source
from bot.core.incident import Refused, Status
from bot.render import alerts as alert_text
from bot.services.alerts import thread
from bot.services.incidents import outbox
from bot.services.incidents.actions import act, auto_escalate_minutes, chain_at, open_in
from bot.services.incidents.deps import Deps, NotFound, SnapshotSource
from bot.services.snapshot import Snapshot
from bot.storage import alert_inbox as inbox
from bot.storage import alerts as repo
from bot.storage import incidents as incident_repo
from bot.storage import scheduled as store
from bot.storage.db import is_unavailable
from bot.storage.tables.alerts import FAILED

log = logging.getLogger("bot.alerts")

MAX_BATCH = 200
KICKS = ("opened", "joined", "acknowledged", "resolved")

Done = tuple[str, int | None, int | None]  # outcome, alert id, incident id
Follow = tuple[int, AlertState, datetime]  # incident id, the alert's new state, when


class Applier:
    """Applies queued events (keeps which storm windows it has queued an edit for, and where
    incidents' threads are)."""

    def __init__(self, deps: Deps, snapshots: SnapshotSource, kick: Any, max_batch: int = MAX_BATCH) -> None:
        self.deps = deps
        self.snapshots = snapshots
        self.kick = kick  # called with an instant after a commit that owes Slack messages
        self.max_batch = max_batch
        self._edits: dict[int, datetime] = {}  # alert id -> the last edit window queued by this process
        self._targets: dict[int, str] = {}  # incident id -> where its message went
        self._lines: dict[int, int] = {}  # alert id -> the delivery id of its thread line

    async def step(self) -> int:
        """Apply the oldest queued events (a batch), in the appliers' turn; how many (0: none was queued)."""
        async with inbox.turn(self.deps.db):
            return await self._step()

    async def _step(self) -> int:
        try:
            return await self._apply(self.max_batch)
        except Exception as exc:
            self._forget()
            if is_unavailable(exc) or self.max_batch == 1:
                raise
            log.warning("a batch of alert events failed (%s); applying them one by one", type(exc).__name__)
        applied = 0
        for _ in range(self.max_batch):
            try:
                n = await self._apply(1)
            except Exception as exc:
                self._forget()
                if is_unavailable(exc):
                    raise
                n = await self._fail_first(exc)
            if n == 0:
                break
            applied += n
        return applied

    def _forget(self) -> None:
        """What this process remembers may name rows of a transaction rolled back."""
        self._edits.clear()
        self._lines.clear()
        self._targets.clear()

    async def _fail_first(self, exc: Exception) -> int:
        """Mark the oldest queued event ``failed`` (it failed alone)."""
        async with self.deps.db.sessions() as session, session.begin():
            found = await inbox.queued(session, 1)
            if not found:
                return 0
            first = found[0]
            await inbox.set_outcomes(session, [(first.id, FAILED, None)])
        log.error("alert event %s (%s of %r on %s) could not be applied: %s: %s", first.id, first.action,
                  first.dedup_key, first.pipeline, type(exc).__name__, exc)
        return 1

    async def _apply(self, limit: int) -> int:
        started = time.perf_counter()
        snap = await self.snapshots()  # before the transaction: on SQLite a second connection would wait for it
        done: list[tuple[int, str, int | None]] = []
        follow: Follow | None = None
        kick_at: datetime | None = None
        async with self.deps.db.sessions() as session, session.begin():
            events = await inbox.queued(session, limit)
            i = 0
            while i < len(events) and follow is None:
                if events[i].action == Action.TRIGGER.value:
                    j = i
                    while j < len(events) and events[j].action == Action.TRIGGER.value:
                        j += 1
                    run, results = events[i:j], await self._triggers(session, snap, events[i:j])
                    i = j
                else:
                    got, follow = await self._monitor(session, events[i])
                    run, results = [events[i]], [got]
                    i += 1
                for e, (outcome, alert_id, incident_id) in zip(run, results, strict=True):
                    done.append((e.id, outcome, alert_id))
                    if outcome in KICKS and incident_id is not None:
                        kick_at = e.at if kick_at is None else max(kick_at, e.at)
                    if outcome in ("opened", "dropped"):
                        log.info("alert %s on %s (key %s): %s", alert_id, e.pipeline, e.integration_id, outcome)
            await inbox.set_outcomes(session, done)
        if follow is not None:
            await self._follow_incident(*follow)
        if kick_at is not None:
            self.kick(kick_at)
        if done:
            log.debug("applied %d alert events in %.1f ms", len(done), (time.perf_counter() - started) * 1000)
        return len(done)

    async def _triggers(self, session: Any, snap: Snapshot, batch: list[inbox.Queued]) -> list[Done]:
        """Apply a run of triggers: one upsert for all their alerts (repeats of a key in the run
        add up), the incident of each new alert, the storm edits due, the thread lines."""
        groups: dict[str, list[int]] = {}
        for i, p in enumerate(batch):
            groups.setdefault(repo.open_key(p.integration_id, p.dedup_key), []).append(i)
        values = []
        for key in sorted(groups):  # one lock order for every replica
            first, last = batch[groups[key][0]], batch[groups[key][-1]]
            values.append({"integration_id": first.integration_id, "pipeline": first.pipeline,
                           "dedup_key": last.dedup_key, "open_key": key, "severity": first.severity or "error",
                           "summary": last.summary or "", "source": last.source, "details": last.details,
                           "links": list(last.links or []), "state": AlertState.OPEN.value,
                           "count": len(groups[key]), "first_at": first.at, "last_at": last.at})
        results: list[Done] = [("", None, None)] * len(batch)
        lines: list[tuple[int, dict[str, Any]]] = []
        edits: list[dict[str, Any]] = []
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
                    session, snap, head, batch[idxs[0]].at, open_by_pipeline[head.pipeline])
                if incident_id is not None:
                    joined.setdefault(incident_id, []).append(head.id)
                    target = await self._target(session, incident_id)
                    if target is not None:
                        lines.append((head.id, thread.line_row(incident_id, head.id, target, last.at)))
            elif incident_id is not None and self._edits.get(head.id) != rules.storm_edit_at(last.at):
                due = rules.storm_edit_at(last.at)
                target = await self._target(session, incident_id)
                line = await self._line(session, incident_id, head.id)
                if target is not None and line is not None:
                    edits.append(thread.edit_row(incident_id, head.id, target, f"edit:{int(due.timestamp())}",
                                                 due, last.at, parent_id=line))
                self._edits[head.id] = due
            for i, outcome in zip(idxs, outcomes, strict=True):
                results[i] = (outcome, head.id, incident_id)
        for incident_id, alert_ids in joined.items():
            await repo.set_incident(session, alert_ids, incident_id)
        if lines:
            ids = await store.add_deliveries(session, [row for _, row in lines])
            self._lines.update({alert_id: i for (alert_id, _), i in zip(lines, ids, strict=True)})
        if edits:
            await store.add_deliveries(session, edits)
        if len(self._edits) > 50_000:
            self._forget()
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

    async def _monitor(self, session: Any, event: inbox.Queued) -> tuple[Done, Follow | None]:
        """Acknowledge or resolve the open alert of the key (else the event is dropped); what the
        incident must follow, when the alert of an incident changed."""
        state = AlertState.ACKNOWLEDGED if event.action == Action.ACKNOWLEDGE.value else AlertState.RESOLVED
        alert = await repo.open_alert(session, event.integration_id, event.dedup_key)
        if alert is None:
            return ("dropped", None, None), None
        changed = alert.state != state.value and await repo.set_state(session, alert, state, event.at)
        if not changed or alert.incident_id is None:
            return (state.value, alert.id, alert.incident_id), None
        incident_id = alert.incident_id
        post = await outbox.post_delivery(session, incident_id)
        if post is not None:
            await store.add_deliveries(session, [
                thread.text_row(incident_id, f"alert:{alert.id}:monitor:{state.value}", post.target,
                                alert_text.monitor_line(alert.dedup_key, state.value), event.at),
                thread.edit_row(incident_id, alert.id, post.target, f"state:{state.value}", event.at, event.at),
            ])
        return (state.value, alert.id, incident_id), (incident_id, state, event.at)

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
