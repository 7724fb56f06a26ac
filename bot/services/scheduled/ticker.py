"""The scheduled work's tick: what is due now, claimed once, delivered once.

``Ticker.tick(now)`` (one clock read by the caller, passed in):

1. loads the snapshot (directory, calendar, overrides);
2. lists the occurrences that have opened and may still be undecided (pure, ``bot.core.recurrence``;
   cached per definition and local day, so a quiet tick is cheap);
3. for each one no replica has decided yet: past its grace (6 h for announcements and invites,
   its due time for checklists) it is recorded ``skipped``; otherwise it is *claimed* with an
   insert that conflicts on its key, and only the winner writes its deliveries (and its checklist
   or meeting rows) in the same transaction;
4. reminds the incomplete checklists whose reminder time has come and escalates the overdue ones
   (each also claimed by key: ``key#reminder``, ``key#escalation``);
5. queues the channel topics whose people changed (``bot.services.scheduled.topics``);
6. sends the ready deliveries (``bot.services.deliveries``).

The audit trail (``bot.storage.audit``) gets, each in the transaction that makes the change:
``delivery.skipped`` (an occurrence past its grace), ``checklist.opened``, ``checklist.reminded``
and ``checklist.escalated`` from the tick (actor None; in the tick's batches), and from Slack
``checklist.ticked`` / ``checklist.unticked`` / ``checklist.completed`` / ``checklist.reopened``
/ ``checklist.refused`` and ``meeting.accepted`` / ``meeting.declined`` / ``meeting.refused``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.model import Directory, RecurringWork
from bot.core.recurrence import Occurrence, definition_occurrences, lookback, with_assignees
from bot.services.deliveries import SEPARATE_PREFIXES, Deliverer, SlackPort
from bot.services.queries import load_snapshot
from bot.services.scheduled.config import ScheduleConfig, TickReport, replica_id
from bot.services.scheduled.followups import follow_up_checklists
from bot.services.scheduled.plan import deliveries_for_many
from bot.services.scheduled.rendering import SendTimeRenderers
from bot.services.scheduled.topics import TopicKeeper
from bot.services.snapshot import Snapshot
from bot.storage import audit
from bot.storage import scheduled as store
from bot.storage.bootstrap import Database

_SKIP_MARGIN = timedelta(days=1)  # occurrences this much older than their grace are not looked at


SnapshotSource = Callable[[], Awaitable[Snapshot]]


class Ticker:
    """Runs ticks for one process. Keeps caches between ticks (the occurrences of each definition
    for the current local day, the keys already decided); the database stays the truth."""

    def __init__(
        self,
        db: Database,
        port: SlackPort,
        *,
        snapshots: SnapshotSource | None = None,
        config: ScheduleConfig | None = None,
        owner: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.db = db
        self.sleep = sleep
        self.port = port
        self.config = config or ScheduleConfig()
        self.owner = owner or replica_id()
        self.monotonic = monotonic
        self._snapshots = snapshots
        self._cache_dir: Directory | None = None
        self._cache_day: Any = None
        self._candidates: dict[str, list[Occurrence]] = {}
        self._known: set[str] = set()
        self._known_loaded_since: datetime | None = None
        self.rendering = SendTimeRenderers(db, port)
        self.topics = TopicKeeper()

    # -- snapshot and candidates --------------------------------------------------------------

    async def snapshot(self) -> Snapshot:
        if self._snapshots is not None:
            return await self._snapshots()
        return await load_snapshot(self.db)

    def _horizon(self, rw: RecurringWork) -> timedelta:
        return lookback(rw, self.config.grace) + _SKIP_MARGIN

    def candidates(self, snap: Snapshot, now: datetime) -> list[Occurrence]:
        """Occurrences opened at or before ``now`` and recent enough to be undecided (no assignees
        yet). Computed once per definition and local day."""
        d, cal = snap.directory, snap.calendar
        day = cal.local_date(now)
        if self._cache_dir is not d or self._cache_day != day:
            self._cache_dir, self._cache_day = d, day
            self._candidates = {}
            day_end = cal.day_start(day + timedelta(days=1))
            for rw in d.recurring.values():
                start = cal.day_start(day) - self._horizon(rw)
                self._candidates[rw.id] = definition_occurrences(d, cal, rw, start, day_end, with_assignees=False)
        out: list[Occurrence] = []
        for rw in d.recurring.values():
            oldest = now - self._horizon(rw)
            for occ in self._candidates.get(rw.id, ()):
                if oldest <= occ.at <= now:
                    out.append(occ)
        return out

    async def undecided(self, session: AsyncSession, cands: list[Occurrence], now: datetime) -> list[Occurrence]:
        """The candidates no replica has decided yet (reads only; remembers the decided keys)."""
        if self._known_loaded_since is None and cands:
            since = min(o.at for o in cands)
            self._known |= await store.keys_since(session, since)
            self._known_loaded_since = since
        unknown = [o for o in cands if o.key not in self._known]
        if unknown:
            found = await store.known_keys(session, [o.key for o in unknown])
            self._known |= found
            unknown = [o for o in unknown if o.key not in found]
        return unknown

    # -- the tick ----------------------------------------------------------------------------------

    async def tick(self, now: datetime) -> TickReport:
        t0 = self.monotonic()
        now = now.astimezone(UTC)
        report = TickReport(now)
        snap = await self.snapshot()
        cands = self.candidates(snap, now)
        if cands:
            async with self.db.sessions() as session:
                undecided = await self.undecided(session, cands, now)
            await self._decide_all(snap, undecided, now, report)
        await follow_up_checklists(self.db, snap, now, report)
        report.topics = await self.topics.run(self.db, snap, now)
        deliverer = Deliverer(
            self.db,
            self.port,
            owner=self.owner,
            config=self.config.delivery,
            renderers=self.rendering.for_snapshot(snap),
            after_sent=self.rendering.after_sent,
            preload=self.rendering.preload,
            monotonic=self.monotonic,
            sleep=self.sleep or asyncio.sleep,
            skip=SEPARATE_PREFIXES,  # incident, change and cover messages: their own deliverers send them
        )
        report.deliveries = await deliverer.run(now)
        report.seconds = self.monotonic() - t0
        return report

    def _row(self, occ: Occurrence, now: datetime) -> dict[str, Any]:
        return {
            "key": occ.key,
            "definition": occ.definition,
            "kind": occ.kind,
            "period": occ.period,
            "pipeline": occ.pipeline,
            "channel": occ.channel,
            "opens_at": occ.at,
            "due_at": occ.due,
            "claimed_by": self.owner,
            "claimed_at": now,
        }

    async def _decide_all(self, snap: Snapshot, occs: Sequence[Occurrence], now: datetime, report: TickReport) -> None:
        """Skip what is past its grace and claim the rest, in batches (one transaction each, keys
        in order); only this replica's winners get their deliveries written, in the same
        transaction."""
        occs = sorted(occs, key=lambda o: o.key)
        late = [o for o in occs if now > o.expires_at(self.config.grace)]
        due = [o for o in occs if now <= o.expires_at(self.config.grace)]
        if late:
            rows = []
            for o in late:
                hours = (now - o.at).total_seconds() / 3600
                expires = o.expires_at(self.config.grace).isoformat()
                note = f"not delivered: {hours:.1f} h late, past its grace ({expires})"
                rows.append({**self._row(o, now), "assignees": [], "status": "skipped", "note": note})
            async with self.db.sessions() as session, session.begin():
                won = await store.claim_many(session, rows)
                await audit.record_many(session, [
                    audit.entry(at=now, actor=None, action="delivery.skipped", subject=f"occurrence:{r['key']}",
                                after={"kind": r["kind"], "definition": r["definition"], "opens_at": r["opens_at"],
                                       "due": r["due_at"], "note": r["note"]})
                    for r in sorted(rows, key=lambda r: str(r["key"])) if r["key"] in won
                ])
            self._known.update(o.key for o in late)
            report.skipped += [o.key for o in late if o.key in won]
        for i in range(0, len(due), 100):
            chunk = [with_assignees(snap.directory, o, snap.overrides) for o in due[i : i + 100]]
            rows = [
                {**self._row(o, now), "assignees": list(o.assignees), "status": "claimed", "note": ""} for o in chunk
            ]
            async with self.db.sessions() as session, session.begin():
                won = await store.claim_many(session, rows)
                mine = [o for o in chunk if o.key in won]
                deliveries = await deliveries_for_many(session, snap, mine, won, now, self.config.grace)
                await store.add_deliveries(session, deliveries)
            self._known.update(o.key for o in chunk)
            report.claimed += [o.key for o in mine]
