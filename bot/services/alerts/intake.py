"""Alert events in: accept durably, then apply.

``Intake.accept`` stores the events as they came, ``queued``, with one INSERT committed in a
transaction of its own (``bot.storage.alert_inbox.accept``; concurrent accepts share one,
``GroupInsert``), and wakes this process's applier:
an answer of 202 means the event is stored and will be applied, even if this process dies the
next instant (another process's applier, or the minute tick's ``apply_queued``, applies it).
The applier (``bot.services.alerts.apply``) takes the queued events in arrival order, a batch per
transaction, one applier at a time across replicas, moments later.

``Intake.receive`` accepts and waits (a few seconds at most) for the events' outcomes, for the
answers that report them (Alertmanager's webhook, ``oncall-bot alert``); ``applied`` waits for
this process's applier to be idle (tests, the CLI).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bot.core.alerts import Action
from bot.services.alerts.apply import Applier
from bot.services.alerts.batch import Drainer, GroupInsert
from bot.services.incidents import outbox
from bot.services.incidents.deps import Deps, SnapshotSource, snapshot_source
from bot.storage import alert_inbox as inbox
from bot.storage.tables.alerts import QUEUED

log = logging.getLogger("bot.alerts")

APPLY_WAIT = 5.0  # seconds an answer that reports outcomes waits for them
APPLY_PAUSE = 0.025  # seconds between two steps of the applier (under load: fewer, larger transactions)


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
    """What an event did: ``outcome`` (opened, joined, added, acknowledged, resolved, dropped;
    queued: not applied yet; failed) and the incident it concerns."""

    dedup_key: str
    outcome: str
    incident_id: int | None = None
    alert_id: int | None = None


class Kicker:
    """Kicks the outbox after a commit, coalesced (a ``Drainer`` whose step delivers once): while a
    kick runs, later ones just mark it to run once more (a storm of new keys runs a few
    deliveries, not one per event), at the instant of the kick that started it."""

    def __init__(self, deps: Deps, snapshots: SnapshotSource) -> None:
        self.deps = deps
        self.snapshots = snapshots
        self._now: datetime | None = None
        background = getattr(deps, "background", None)
        spawn = None if background is None else lambda coro: background.spawn(coro, name="alerts:kick")
        self._runs = Drainer(self._deliver, spawn, failure="delivering alert messages failed; the minute tick retries",
                             go_on_if_woken=True)

    def kick(self, now: datetime) -> None:
        if not self._runs.running:
            self._now = now
        self._runs.wake()

    async def _deliver(self) -> int:
        assert self._now is not None
        await outbox.deliver(self.deps, await self.snapshots(), self._now)
        return 0

    async def wait(self) -> None:
        """Wait for the kick in flight (tests, the CLI)."""
        await self._runs.idle()


class ApplyLoop(Protocol):
    """What applies the queued events when woken: a ``Drainer`` in this process, or an
    ``ApplierProcess`` (``bot.services.alerts.child``)."""

    enabled: bool

    def wake(self) -> None: ...

    async def idle(self) -> None: ...


class Intake:
    """The intake of one process: accepts events, and applies queued ones (its own and any
    other's), in this process or, given ``loop``, elsewhere."""

    def __init__(self, deps: Deps, snapshots: SnapshotSource | None = None, loop: ApplyLoop | None = None, *,
                 pause: float = APPLY_PAUSE) -> None:
        self.deps = deps
        self.snapshots = snapshots or snapshot_source(deps)
        self.kicker = Kicker(deps, self.snapshots)
        self.applier = Applier(deps, self.snapshots, lambda at: self.kicker.kick(at))
        background = getattr(deps, "background", None)
        spawn = None if background is None else lambda coro: background.spawn(coro, name="alerts:apply")
        self.loop: ApplyLoop = loop or Drainer(self.applier.step, spawn, pause=pause)
        self.inserts = GroupInsert(lambda rows: inbox.accept(deps.db, rows))
        self.wait = APPLY_WAIT  # how long ``receive`` waits for outcomes, unless told

    async def accept(self, integration_id: int | None, pipeline: str, events: list[AlertEvent],
                     now: datetime) -> list[int]:
        """Store events of routing key ``integration_id`` (None: the local CLI) on ``pipeline``,
        queued (committed when this returns), and wake the applier; their ids."""
        if not events:
            return []
        ids = await self.inserts([_row(integration_id, pipeline, e, now) for e in events])
        self.loop.wake()
        return ids

    async def receive(self, integration_id: int | None, pipeline: str, event: AlertEvent, now: datetime,
                      wait: float | None = None) -> Received:
        """Accept one event and wait (at most ``wait`` seconds) for what it did."""
        (got,) = await self.receive_all(integration_id, pipeline, [event], now, wait)
        return got

    async def receive_all(self, integration_id: int | None, pipeline: str, events: list[AlertEvent],
                          now: datetime, wait: float | None = None) -> list[Received]:
        """Accept events and wait (at most ``wait`` seconds) for what they did (``queued``: not
        applied yet when the wait ended; applied moments later all the same)."""
        ids = await self.accept(integration_id, pipeline, events, now)
        found = await self.outcomes(ids, self.wait if wait is None else wait)
        return [Received(e.dedup_key, o.outcome, o.incident_id, o.alert_id) for e, o in zip(events, found, strict=True)]

    async def outcomes(self, ids: list[int], wait: float) -> list[inbox.Outcome]:
        """The outcomes of events ``ids`` once applied (by this process or another), or as they
        are after ``wait`` seconds."""
        clock = asyncio.get_running_loop().time
        deadline = clock() + wait
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.loop.idle(), max(0.0, deadline - clock()))
            async with self.deps.db.sessions() as session:
                found = await inbox.outcomes(session, ids)
            got = [found.get(i, _QUEUED) for i in ids]
            if all(o.outcome != QUEUED for o in got) or clock() >= deadline:
                return got
            # another replica's applier holds them, or this one had stopped: a pass of this one
            # waits for the other's turn to end, then finds them applied (or applies them)
            self.loop.wake()
            await asyncio.sleep(0.01)

    async def applied(self) -> None:
        """Wait until this process's applier has applied everything it was woken for."""
        await self.loop.idle()

    async def close(self) -> None:
        """Stop the applier when it runs elsewhere (a child process); the in-process one ends
        with its last pass."""
        close = getattr(self.loop, "close", None)
        if close is not None:
            await close()

    async def drain(self) -> int:
        """Apply everything queued now, whoever accepted it (the minute tick; a new process);
        how many events."""
        total = 0
        while applied := await self.applier.step():
            total += applied
        await self.kicker.wait()
        return total


def _row(integration_id: int | None, pipeline: str, event: AlertEvent, now: datetime) -> dict[str, Any]:
    trigger = event.action == Action.TRIGGER
    return inbox.event_row(integration_id, pipeline, event.action.value, event.dedup_key,
                           event.severity if trigger else None, event.summary or None, event.source,
                           event.details, event.links or None, now)


_QUEUED = inbox.Outcome(QUEUED, None, None)


async def apply_queued(deps: Deps, snapshots: SnapshotSource | None = None) -> int:
    """The minute tick's sweep: apply what is queued (normally nothing: each process applies what
    it accepts at once; here, what a process that stopped before applying it left)."""
    return await Intake(deps, snapshots).drain()
