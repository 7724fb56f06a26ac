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
5. sends the ready deliveries (``bot.services.deliveries``).

The audit trail (``bot.storage.audit``) gets, each in the transaction that makes the change:
``delivery.skipped`` (an occurrence past its grace), ``checklist.opened``, ``checklist.reminded``
and ``checklist.escalated`` from the tick (actor None; in the tick's batches), and from Slack
``checklist.ticked`` / ``checklist.unticked`` / ``checklist.completed`` / ``checklist.reopened``
/ ``checklist.refused`` and ``meeting.accepted`` / ``meeting.declined`` / ``meeting.refused``.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.announcement import Announcement, build_announcement, meeting_note
from bot.core.calendar import CompanyCalendar
from bot.core.model import Directory, Override, RecurringWork
from bot.core.recurrence import (
    ANNOUNCEMENT,
    CHECKLIST,
    DEFAULT_GRACE,
    MEETING,
    Occurrence,
    definition_occurrences,
    lookback,
    occurrences,
    week_monday,
    with_assignees,
)
from bot.render.scheduled import (
    ChecklistView,
    ItemView,
    MeetingView,
    announcement_message,
    checklist_escalation_notice,
    checklist_escalation_thread,
    checklist_message,
    checklist_reminder,
    meeting_ics,
    meeting_message,
    shift_start_message,
)
from bot.services.deliveries import (
    Deliverer,
    DeliveryConfig,
    DeliveryReport,
    Rendered,
    Renderer,
    SlackPort,
)
from bot.services.snapshot import Snapshot
from bot.storage import audit
from bot.storage import scheduled as store
from bot.storage.bootstrap import Database

log = logging.getLogger(__name__)

_SKIP_MARGIN = timedelta(days=1)  # occurrences this much older than their grace are not looked at
_USERGROUP_EXPIRY = timedelta(days=7)
_ESCALATION_EXPIRY = timedelta(days=7)


@dataclass
class ScheduleConfig:
    """``grace``: how late an announcement or invite may still go out (checklists: until due)."""

    grace: timedelta = DEFAULT_GRACE
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ScheduleConfig:
        """Defaults, overridden by ``ONCALL_SCHEDULE_GRACE_MINUTES`` (announcements and invites),
        ``ONCALL_SLACK_WORKSPACE_RATE`` (posts a second, workspace-wide; unset: learned from 429s)
        and ``ONCALL_SLACK_CONCURRENCY`` (requests in flight). A bad value raises ``ValueError``
        naming the variable."""
        env = os.environ if env is None else env
        config = cls()

        def number(name: str) -> float | None:
            raw = env.get(name)
            if raw is None or raw.strip() == "":
                return None
            try:
                value = float(raw)
            except ValueError:
                raise ValueError(f"{name} must be a number, got {raw!r}") from None
            if value <= 0:
                raise ValueError(f"{name} must be positive, got {raw!r}")
            return value

        grace = number("ONCALL_SCHEDULE_GRACE_MINUTES")
        if grace is not None:
            config.grace = timedelta(minutes=grace)
        rate = number("ONCALL_SLACK_WORKSPACE_RATE")
        if rate is not None:
            config.delivery.workspace_per_second = rate
        concurrency = number("ONCALL_SLACK_CONCURRENCY")
        if concurrency is not None:
            config.delivery.concurrency = max(1, int(concurrency))
        return config


@dataclass
class TickReport:
    at: datetime
    claimed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    reminded: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    deliveries: DeliveryReport = field(default_factory=DeliveryReport)
    seconds: float = 0.0

    def summary(self) -> str:
        d = self.deliveries
        parts = [
            f"claimed {len(self.claimed)}",
            f"skipped {len(self.skipped)}",
            f"reminded {len(self.reminded)}",
            f"escalated {len(self.escalated)}",
            f"sent {d.sent}",
        ]
        if d.found:
            parts.append(f"found already posted {d.found}")
        if d.failed:
            parts.append(f"failed {d.failed} (retried later)")
        if d.expired:
            parts.append(f"expired {d.expired}")
        if d.rate_limited:
            parts.append(f"rate limited {d.rate_limited}×")
        return ", ".join(parts)


def replica_id() -> str:
    """Who holds a claim or a lease: host, pid and a random part."""
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


SnapshotSource = Callable[[], Awaitable[Snapshot]]


def _delivery(
    occ_key: str,
    part: str,
    op: str,
    target: str,
    payload: dict[str, Any],
    now: datetime,
    expires: datetime | None,
    label: str,
    parent: str | None = None,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "key": f"{occ_key}|{part}",
        "op": op,
        "target": target,
        "label": label,
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "expires_at": expires,
        "maybe_posted": False,
        "created_at": now,
    }
    if parent is not None:
        row["parent_key"] = f"{occ_key}|{parent}"
    return row


def _slack_id(d: Directory, person: str) -> str:
    p = d.people.get(person)
    return p.slack_user_id if p else person


def _name(d: Directory, person: str) -> str:
    p = d.people.get(person)
    return p.name if p else person


def escalation_targets(
    d: Directory, cal: CompanyCalendar, pipeline: str | None, due: datetime, overrides: Sequence[Override]
) -> tuple[list[str], list[str]]:
    """Who an overdue checklist is escalated to: the pipeline's secondary at its due time (or of
    the next window when not covered then), and the owning teams' channels."""
    if pipeline is None or pipeline not in d.pipelines:
        return [], []
    from bot.core.coverage import oncall_at

    people: list[str] = []
    answer = oncall_at(d, cal, pipeline, due, overrides)
    holder = answer.secondary or answer.primary
    if holder is None and answer.next is not None:
        holder = answer.next.secondary or answer.next.primary
    if holder is not None:
        people.append(holder.person)
    p = d.pipelines[pipeline]
    channels: list[str] = []
    for team in p.primary_owners:
        t = d.teams.get(team)
        if t is not None and t.channel and t.channel != p.channel and t.channel not in channels:
            channels.append(t.channel)
    return people, channels


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
        self._views: dict[int, tuple[ChecklistView, store.ChecklistRow]] = {}

    # -- snapshot and candidates --------------------------------------------------------------

    async def snapshot(self) -> Snapshot:
        if self._snapshots is not None:
            return await self._snapshots()
        from bot.services.queries import load_snapshot

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

    async def _undecided(self, session: AsyncSession, cands: list[Occurrence], now: datetime) -> list[Occurrence]:
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
                undecided = await self._undecided(session, cands, now)
            await self._decide_all(snap, undecided, now, report)
        await self._follow_up_checklists(snap, now, report)
        deliverer = Deliverer(
            self.db,
            self.port,
            owner=self.owner,
            config=self.config.delivery,
            renderers=self._renderers(snap),
            after_sent=self._after_sent,
            preload=self._preload,
            monotonic=self.monotonic,
            sleep=self.sleep or asyncio.sleep,
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
                deliveries = await self._deliveries_for_many(session, snap, mine, won, now)
                await store.add_deliveries(session, deliveries)
            self._known.update(o.key for o in chunk)
            report.claimed += [o.key for o in mine]

    async def _deliveries_for_many(
        self, session: AsyncSession, snap: Snapshot, occs: Sequence[Occurrence], ids: dict[str, int], now: datetime
    ) -> list[dict[str, Any]]:
        d = snap.directory
        lists = [o for o in occs if o.kind == CHECKLIST and o.due is not None]
        checklist_ids = await store.add_checklists(
            session,
            [
                {
                    "occurrence_id": ids[o.key],
                    "key": o.key,
                    "definition": o.definition,
                    "title": o.title,
                    "pipeline": o.pipeline,
                    "channel": o.channel,
                    "opens_at": o.at,
                    "due_at": o.due,
                    "reminder_at": o.reminder_at,
                    "assignees": list(o.assignees),
                    "status": "open",
                    "overdue": False,
                    "escalated_to": [],
                    "escalation_channels": [],
                    "version": 0,
                }
                for o in lists
            ],
            {o.key: d.recurring[o.definition].items for o in lists},
        )
        await audit.record_many(session, [
            audit.entry(at=now, actor=None, action="checklist.opened", subject=f"checklist:{o.key}",
                        after={"id": checklist_ids[o.key], "title": o.title, "pipeline": o.pipeline,
                               "channel": o.channel, "due": o.due, "assignees": o.assignees,
                               "items": d.recurring[o.definition].items})
            for o in lists if o.key in checklist_ids
        ])
        out: list[dict[str, Any]] = []
        for o in occs:
            expires = o.expires_at(self.config.grace)
            rows = await self._deliveries_for(session, snap, o, ids[o.key], now, expires, checklist_ids.get(o.key))
            out += [{**r, "occurrence_id": ids[o.key]} for r in rows]
        return out

    async def _deliveries_for(
        self,
        session: AsyncSession,
        snap: Snapshot,
        occ: Occurrence,
        occ_id: int,
        now: datetime,
        expires: datetime,
        checklist_id: int | None = None,
    ) -> list[dict[str, Any]]:
        d, cal = snap.directory, snap.calendar
        tz = cal.tz
        if occ.kind == ANNOUNCEMENT:
            ann = self.announcement(snap, occ.at)
            rows: list[dict[str, Any]] = []
            if occ.channel:
                msg = announcement_message(d, tz, ann)
                payload = {"kind": "announcement", "text": msg.text, "blocks": msg.blocks_json()}
                rows.append(_delivery(occ.key, "post", "post", occ.channel, payload, now, expires, "announcement"))
            for shift in ann.starting:
                msg = shift_start_message(d, tz, ann, shift)
                payload = {"kind": "shift_start", "text": msg.text, "blocks": msg.blocks_json()}
                rows.append(
                    _delivery(
                        occ.key,
                        f"dm:{shift.person}",
                        "post",
                        _slack_id(d, shift.person),
                        payload,
                        now,
                        expires,
                        f"DM {_name(d, shift.person)}: shift starts",
                    )
                )
            for ug in ann.usergroups:
                payload = {"kind": "usergroup", "users": [_slack_id(d, p) for p in ug.members]}
                rows.append(
                    _delivery(
                        occ.key,
                        f"usergroup:{ug.handle}",
                        "usergroup",
                        ug.handle,
                        payload,
                        now,
                        occ.at + _USERGROUP_EXPIRY,
                        f"@{ug.handle} := {', '.join(ug.members)} ({ug.source})",
                    )
                )
            return rows
        if occ.kind == MEETING and occ.meeting_start is not None and occ.meeting_end is not None:
            note = meeting_note(cal, occ)
            because = note.moved_because if note is not None else None
            rw = d.recurring[occ.definition]
            meeting_id = await store.add_meeting(
                session,
                {
                    "occurrence_id": occ_id,
                    "key": occ.key,
                    "uid": f"{occ.key}@oncall-bot",
                    "definition": occ.definition,
                    "title": occ.title,
                    "start_at": occ.meeting_start,
                    "end_at": occ.meeting_end,
                    "attendees": list(occ.assignees),
                    "moved_because": because,
                },
            )
            targets = ",".join(dict.fromkeys(_slack_id(d, p) for p in occ.assignees))
            ics = meeting_ics(
                d,
                tz,
                uid=f"{occ.key}@oncall-bot",
                title=occ.title,
                description=rw.description or occ.title,
                start=occ.meeting_start,
                end=occ.meeting_end,
                attendees=occ.assignees,
                stamp=occ.at,
            )
            day = cal.local_date(occ.meeting_start)
            filename = f"{occ.definition}-{day.isoformat()}.ics"
            return [
                _delivery(
                    occ.key,
                    "post",
                    "post",
                    targets,
                    {"kind": "meeting", "render": "meeting", "meeting_id": meeting_id},
                    now,
                    expires,
                    f"group DM: {occ.title}",
                ),
                _delivery(
                    occ.key,
                    "ics",
                    "file",
                    targets,
                    {
                        "kind": "ics",
                        "filename": filename,
                        "title": f"{occ.title} ({day:%b} {day.day})",
                        "content_b64": base64.b64encode(ics).decode("ascii"),
                    },
                    now,
                    expires,
                    f"{filename}",
                    parent="post",
                ),
            ]
        if occ.kind == CHECKLIST and occ.due is not None and checklist_id is not None:
            target = occ.channel or (d.announcement_channel or "")
            return [
                _delivery(
                    occ.key,
                    "post",
                    "post",
                    target,
                    {"kind": "checklist", "render": "checklist", "checklist_id": checklist_id},
                    now,
                    occ.due,
                    f"checklist: {occ.title}",
                )
            ]
        return []

    def announcement(self, snap: Snapshot, at: datetime) -> Announcement:
        cal = snap.calendar
        first = week_monday(cal.local_date(at))
        week = occurrences(
            snap.directory,
            cal,
            cal.day_start(first),
            cal.day_start(first + timedelta(days=7)),
            snap.overrides,
        )
        return build_announcement(snap.directory, cal, at, snap.overrides, week)

    # -- checklist reminders and escalations ---------------------------------------------------

    async def _follow_up_checklists(self, snap: Snapshot, now: datetime, report: TickReport) -> None:
        d, cal = snap.directory, snap.calendar
        async with self.db.sessions() as session:
            remind, overdue = await store.checklists_needing(session, now)
        for c in remind:
            key = f"{c.key}#reminder"
            async with self.db.sessions() as session, session.begin():
                occ_id = await store.claim(session, self._follow_up_row(c, key, "reminder", now))
                if occ_id is not None:
                    rows = [
                        _delivery(
                            key,
                            "thread",
                            "post",
                            c.channel or "",
                            {"kind": "reminder", "render": "checklist_reminder", "checklist_id": c.id},
                            now,
                            c.due_at,
                            f"reminder: {c.title}",
                        )
                    ]
                    rows[0]["parent_id"] = await self._post_id(session, c.key)
                    await store.add_deliveries(session, [{**r, "occurrence_id": occ_id} for r in rows])
                    await audit.record(session, at=now, actor=None, action="checklist.reminded",
                                       subject=f"checklist:{c.key}",
                                       after={"id": c.id, "due": c.due_at, "assignees": c.assignees})
                await store.mark_reminded(session, c.id, now)
            if occ_id is not None:
                report.reminded.append(c.key)
        for c in overdue:
            key = f"{c.key}#escalation"
            people, channels = escalation_targets(d, cal, c.pipeline, c.due_at, snap.overrides)
            async with self.db.sessions() as session, session.begin():
                occ_id = await store.claim(session, self._follow_up_row(c, key, "escalation", now))
                if occ_id is None:
                    continue
                if not await store.mark_overdue(session, c.id, now, people, channels):
                    continue
                await audit.record(session, at=now, actor=None, action="checklist.escalated",
                                   subject=f"checklist:{c.key}", before={"status": "open"},
                                   after={"id": c.id, "status": "overdue", "due": c.due_at, "people": people,
                                          "channels": channels})
                expires = now + _ESCALATION_EXPIRY
                parent_id = await self._post_id(session, c.key)
                rows = [
                    _delivery(
                        key,
                        "update",
                        "update_checklist",
                        c.channel or "",
                        {"kind": "checklist_update", "render": "checklist", "checklist_id": c.id},
                        now,
                        expires,
                        f"mark overdue: {c.title}",
                    ),
                    _delivery(
                        key,
                        "thread",
                        "post",
                        c.channel or "",
                        {"kind": "escalation", "render": "checklist_escalation_thread", "checklist_id": c.id},
                        now,
                        expires,
                        f"overdue in thread: {c.title}",
                    ),
                ]
                rows[1]["parent_id"] = parent_id
                for ch in channels:
                    rows.append(
                        _delivery(
                            key,
                            f"team:{ch}",
                            "post",
                            ch,
                            {"kind": "escalation", "render": "checklist_escalation_notice", "checklist_id": c.id},
                            now,
                            expires,
                            f"overdue to {ch}: {c.title}",
                        )
                    )
                for person in people:
                    rows.append(
                        _delivery(
                            key,
                            f"dm:{person}",
                            "post",
                            _slack_id(d, person),
                            {"kind": "escalation", "render": "checklist_escalation_notice", "checklist_id": c.id},
                            now,
                            expires,
                            f"overdue DM {_name(d, person)}: {c.title}",
                        )
                    )
                await store.add_deliveries(session, [{**r, "occurrence_id": occ_id} for r in rows])
            report.escalated.append(c.key)

    @staticmethod
    def _follow_up_row(c: store.ChecklistRow, key: str, kind: str, now: datetime) -> dict[str, Any]:
        return {
            "key": key,
            "definition": c.definition,
            "kind": kind,
            "period": key.rsplit("/", 1)[-1][:32],
            "pipeline": c.pipeline,
            "channel": c.channel,
            "opens_at": now,
            "due_at": c.due_at,
            "assignees": list(c.assignees),
            "status": "claimed",
            "claimed_at": now,
            "note": "",
        }

    @staticmethod
    async def _post_id(session: AsyncSession, occ_key: str) -> int | None:
        from sqlalchemy import select

        row = await session.execute(select(store.DeliveryRow.id).where(store.DeliveryRow.key == f"{occ_key}|post"))
        return row.scalar_one_or_none()

    # -- rendering at send time ---------------------------------------------------------------

    def _renderers(self, snap: Snapshot) -> dict[str, Renderer]:
        d, tz = snap.directory, snap.calendar.tz
        self._views = {}

        async def _checklist_view(
            session: AsyncSession, checklist_id: int
        ) -> tuple[ChecklistView | None, store.ChecklistRow | None]:
            hit = self._views.get(checklist_id)
            return hit if hit is not None else await _load_checklist_view(session, checklist_id)

        async def checklist(session: AsyncSession, row: store.DeliveryRow) -> Rendered | None:
            view, c = await _checklist_view(session, int(row.payload["checklist_id"]))
            if view is None or c is None:
                return None
            msg = checklist_message(d, tz, view)
            return Rendered(msg.text, msg.blocks_json(), c.channel_id, c.ts)

        async def reminder(session: AsyncSession, row: store.DeliveryRow) -> Rendered | None:
            view, _c = await _checklist_view(session, int(row.payload["checklist_id"]))
            if view is None or view.complete:
                return None
            msg = checklist_reminder(d, tz, view)
            return Rendered(msg.text, msg.blocks_json())

        async def escalation_thread(session: AsyncSession, row: store.DeliveryRow) -> Rendered | None:
            view, _c = await _checklist_view(session, int(row.payload["checklist_id"]))
            if view is None:
                return None
            msg = checklist_escalation_thread(d, tz, view)
            return Rendered(msg.text, msg.blocks_json())

        async def escalation_notice(session: AsyncSession, row: store.DeliveryRow) -> Rendered | None:
            view, c = await _checklist_view(session, int(row.payload["checklist_id"]))
            if view is None or c is None:
                return None
            link = await self.port.permalink(c.channel_id, c.ts) if c.channel_id and c.ts else None
            msg = checklist_escalation_notice(d, tz, view, link)
            return Rendered(msg.text, msg.blocks_json())

        async def meeting(session: AsyncSession, row: store.DeliveryRow) -> Rendered | None:
            found = await store.meeting(session, int(row.payload["meeting_id"]))
            if found is None:
                return None
            msg = meeting_message(d, tz, meeting_view(found[0], found[1], d))
            return Rendered(msg.text, msg.blocks_json())

        return {
            "checklist": checklist,
            "checklist_reminder": reminder,
            "checklist_escalation_thread": escalation_thread,
            "checklist_escalation_notice": escalation_notice,
            "meeting": meeting,
        }

    async def meeting_view(self, meeting_id: int, directory: Directory | None = None) -> MeetingView | None:
        async with self.db.sessions() as session:
            found = await store.meeting(session, meeting_id)
        if found is None:
            return None
        row, answers = found
        return meeting_view(row, answers, directory)

    @staticmethod
    async def _after_sent(session: AsyncSession, rows: list[store.DeliveryRow]) -> None:
        """Remember where checklist and invite messages went (for updates and thread replies)."""
        refs = [
            (int(r.payload["checklist_id"]), r.channel_id, r.ts)
            for r in rows
            if r.payload.get("kind") == "checklist" and "checklist_id" in r.payload
        ]
        await store.set_checklist_messages(session, refs)
        for r in rows:
            if r.payload.get("kind") == "meeting":
                await store.set_meeting_message(session, r.key.split("|", 1)[0], r.channel_id, r.ts)

    async def _preload(self, session: AsyncSession, rows: Sequence[store.DeliveryRow]) -> None:
        ids = sorted({int(r.payload["checklist_id"]) for r in rows if "checklist_id" in r.payload})
        found = await store.checklists_by_ids(session, ids)
        self._views = {i: (checklist_view(row, items), row) for i, (row, items) in found.items()}


async def _load_checklist_view(
    session: AsyncSession, checklist_id: int
) -> tuple[ChecklistView | None, store.ChecklistRow | None]:
    found = await store.checklist(session, checklist_id)
    if found is None:
        return None, None
    row, items = found
    return checklist_view(row, items), row


def checklist_view(row: store.ChecklistRow, items: Sequence[store.ChecklistItemRow]) -> ChecklistView:
    return ChecklistView(
        id=row.id,
        key=row.key,
        title=row.title,
        pipeline=row.pipeline,
        opens_at=row.opens_at,
        due=row.due_at,
        assignees=tuple(row.assignees),
        items=tuple(ItemView(i.position, i.text, i.ticked_by, i.ticked_at) for i in items),
        status=row.status,
        overdue=row.overdue,
        completed_at=row.completed_at,
        escalated_to=tuple(row.escalated_to or ()),
        escalation_channels=tuple(row.escalation_channels or ()),
    )


def meeting_view(
    row: store.MeetingRow, answers: Sequence[store.MeetingAnswerRow], directory: Directory | None = None
) -> MeetingView:
    rw = directory.recurring.get(row.definition) if directory is not None else None
    return MeetingView(
        id=row.id,
        key=row.key,
        uid=row.uid,
        title=row.title,
        pipeline=rw.pipeline if rw is not None else None,
        start=row.start_at,
        end=row.end_at,
        attendees=tuple(row.attendees),
        moved_because=row.moved_because,
        answers={a.person: (a.answer, a.at) for a in answers},
    )


# -- actions from Slack: ticking checklists, answering invites ------------------------------------


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str


def may_tick(directory: Directory, admins: Sequence[str], actor: str | None, assignees: Sequence[str]) -> Decision:
    """Only a checklist's assignees, the members of their teams and admins may tick it."""
    if actor is None or actor not in directory.people:
        return Decision(False, "You are not in the on-call directory, so you can't tick checklists.")
    if actor in admins:
        return Decision(True, "admin")
    if actor in assignees:
        return Decision(True, "assignee")
    teams = {directory.people[p].team for p in assignees if p in directory.people}
    if directory.people[actor].team in teams:
        return Decision(True, "assignee's team")
    return Decision(False, "not an assignee, in an assignee's team or an admin")


@dataclass(frozen=True)
class ChecklistAction:
    """What a tick/untick did: ``allowed`` (else ``reason`` says why not), ``changed`` positions, the
    checklist as it is now and where its message is."""

    allowed: bool
    reason: str
    view: ChecklistView | None
    changed: tuple[int, ...] = ()
    channel_id: str | None = None
    ts: str | None = None


async def set_checklist_items(
    db: Database,
    snap: Snapshot,
    checklist_id: int,
    actor: str | None,
    positions: Sequence[int],
    selected: Sequence[int],
    now: datetime,
    *,
    slack_user: str | None = None,
) -> ChecklistAction:
    """Make the items at ``positions`` ticked exactly when they are in ``selected`` (what a Slack
    checkboxes element sends: its whole selection), as ``actor``; records who and when, and
    completes (or reopens) the checklist. Refused unless ``may_tick``.

    Audited in the same transaction: each item changed, the completion or reopening, or the
    refusal (by ``actor``, else ``slack_user``: who clicked, when not in the directory)."""
    from sqlalchemy import select

    async with db.sessions() as session, session.begin():
        locked = await session.execute(
            select(store.ChecklistRow.id).where(store.ChecklistRow.id == checklist_id).with_for_update()
        )
        if locked.scalar_one_or_none() is None:
            return ChecklistAction(False, "I have no record of this checklist.", None)
        found = await store.checklist(session, checklist_id)
        assert found is not None
        row, items = found
        subject = f"checklist:{row.key}"
        decision = may_tick(snap.directory, snap.admins, actor, row.assignees)
        if not decision.allowed:
            await audit.record(session, at=now, actor=actor or slack_user, action="checklist.refused",
                               subject=subject, before={"id": row.id, "status": row.status},
                               after={"positions": list(positions), "selected": list(selected),
                                      "refusal": decision.reason})
            return ChecklistAction(False, decision.reason, checklist_view(row, items), (), row.channel_id, row.ts)
        wanted = set(selected)
        changed: list[int] = []
        entries: list[dict[str, Any]] = []
        status_before = row.status
        for item in items:
            if item.position not in positions:
                continue
            tick = item.position in wanted
            if tick != (item.ticked_by is not None):
                old = _item_json(item.position, item.text, item.ticked_by, item.ticked_at)
                await store.set_item(session, checklist_id, item.position, actor if tick else None, now)
                changed.append(item.position)
                new = _item_json(item.position, item.text, actor if tick else None, now if tick else None)
                entries.append(audit.entry(
                    at=now, actor=actor, action="checklist.ticked" if tick else "checklist.unticked", subject=subject,
                    before=old, after={**new, "permission": decision.reason}))
        if changed:
            status = await store.refresh_status(session, checklist_id, now)
            if status != status_before and "complete" in (status, status_before):
                entries.append(audit.entry(
                    at=now, actor=actor, action="checklist.completed" if status == "complete" else "checklist.reopened",
                    subject=subject, before={"id": row.id, "status": status_before},
                    after={"status": status, "completed_at": now if status == "complete" else None,
                           "permission": decision.reason}))
            await audit.record_many(session, entries)
        found = await store.checklist(session, checklist_id)
        assert found is not None
        row, items = found
        return ChecklistAction(
            True, decision.reason, checklist_view(row, items), tuple(changed), row.channel_id, row.ts
        )


def _item_json(position: int, text: str, ticked_by: str | None, ticked_at: datetime | None) -> dict[str, Any]:
    return {"item": position, "text": text, "ticked_by": ticked_by, "ticked_at": ticked_at}


@dataclass(frozen=True)
class MeetingAnswer:
    allowed: bool
    reason: str
    view: MeetingView | None
    channel_id: str | None = None
    ts: str | None = None


async def answer_invite(
    db: Database,
    snap: Snapshot,
    meeting_id: int,
    actor: str | None,
    answer: str,
    now: datetime,
    *,
    slack_user: str | None = None,
) -> MeetingAnswer:
    """Record ``actor``'s Accept/Decline (``meeting.accepted`` / ``meeting.declined`` in the audit
    trail); only the invited may answer (else ``meeting.refused``, by ``actor`` or ``slack_user``)."""
    async with db.sessions() as session, session.begin():
        found = await store.meeting(session, meeting_id)
        if found is None:
            return MeetingAnswer(False, "I have no record of this meeting.", None)
        row, answers = found
        subject = f"meeting:{row.key}"
        if actor is None or actor not in row.attendees:
            reason = "Only the people invited can answer this invite."
            await audit.record(session, at=now, actor=actor or slack_user, action="meeting.refused", subject=subject,
                               after={"id": row.id, "answer": answer, "refusal": reason})
            view = meeting_view(row, answers, snap.directory)
            return MeetingAnswer(False, reason, view, row.channel_id, row.ts)
        previous = next(({"answer": a.answer, "at": a.at} for a in answers if a.person == actor), None)
        await store.answer_meeting(session, meeting_id, actor, answer, now)
        await audit.record(
            session, at=now, actor=actor, action="meeting.accepted" if answer == "accept" else "meeting.declined",
            subject=subject, before=previous, after={"id": row.id, "answer": answer, "at": now},
        )
        found = await store.meeting(session, meeting_id)
        assert found is not None
        row, answers = found
        return MeetingAnswer(True, answer, meeting_view(row, answers, snap.directory), row.channel_id, row.ts)
