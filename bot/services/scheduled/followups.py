"""Checklist follow-ups: the reminder of an incomplete checklist and the escalation of an overdue one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.core.calendar import CompanyCalendar
from bot.core.coverage import oncall_at
from bot.core.model import Directory, Override
from bot.services.scheduled.config import TickReport
from bot.services.scheduled.plan import ESCALATION_EXPIRY, delivery_row
from bot.services.snapshot import Snapshot
from bot.storage import audit
from bot.storage import scheduled as store
from bot.storage.bootstrap import Database


def escalation_targets(
    d: Directory, cal: CompanyCalendar, pipeline: str | None, due: datetime, overrides: Sequence[Override]
) -> tuple[list[str], list[str]]:
    """Who an overdue checklist is escalated to: the pipeline's secondary at its due time (or of
    the next window when not covered then), and the owning teams' channels."""
    if pipeline is None or pipeline not in d.pipelines:
        return [], []
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


async def follow_up_checklists(db: Database, snap: Snapshot, now: datetime, report: TickReport) -> None:
    """Remind the incomplete checklists whose reminder time has come and escalate the overdue
    ones, each claimed once by key (``KEY#reminder``, ``KEY#escalation``)."""
    d, cal = snap.directory, snap.calendar
    async with db.sessions() as session:
        remind, overdue = await store.checklists_needing(session, now)
    for c in remind:
        key = f"{c.key}#reminder"
        async with db.sessions() as session, session.begin():
            occ_id = await store.claim(session, follow_up_row(c, key, "reminder", now))
            if occ_id is not None:
                rows = [
                    delivery_row(
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
                rows[0]["parent_id"] = await store.delivery_id(session, f"{c.key}|post")
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
        async with db.sessions() as session, session.begin():
            occ_id = await store.claim(session, follow_up_row(c, key, "escalation", now))
            if occ_id is None:
                continue
            if not await store.mark_overdue(session, c.id, now, people, channels):
                continue
            await audit.record(session, at=now, actor=None, action="checklist.escalated",
                               subject=f"checklist:{c.key}", before={"status": "open"},
                               after={"id": c.id, "status": "overdue", "due": c.due_at, "people": people,
                                      "channels": channels})
            expires = now + ESCALATION_EXPIRY
            parent_id = await store.delivery_id(session, f"{c.key}|post")
            rows = [
                delivery_row(
                    key,
                    "update",
                    "update_checklist",
                    c.channel or "",
                    {"kind": "checklist_update", "render": "checklist", "checklist_id": c.id},
                    now,
                    expires,
                    f"mark overdue: {c.title}",
                ),
                delivery_row(
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
                    delivery_row(
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
                    delivery_row(
                        key,
                        f"dm:{person}",
                        "post",
                        d.slack_id_of(person),
                        {"kind": "escalation", "render": "checklist_escalation_notice", "checklist_id": c.id},
                        now,
                        expires,
                        f"overdue DM {d.name_of(person)}: {c.title}",
                    )
                )
            await store.add_deliveries(session, [{**r, "occurrence_id": occ_id} for r in rows])
        report.escalated.append(c.key)


def follow_up_row(c: store.ChecklistRow, key: str, kind: str, now: datetime) -> dict[str, Any]:
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
