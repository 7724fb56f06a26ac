"""What a claimed occurrence needs delivered: its checklist or meeting rows and its delivery rows.

Announcements (a channel post, the before-shift DMs, the user-group updates), checklists (the
checklist message) and onboarding invites (the invite with its .ics file) each become the rows of
``scheduled_deliveries`` that the outbox (``bot.services.deliveries``) sends.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.announcement import Announcement, announced_week, build_announcement, meeting_note
from bot.core.handoff import HandoffNote, notes_window
from bot.core.incident import Incident
from bot.core.recurrence import ANNOUNCEMENT, CHECKLIST, MEETING, Occurrence, occurrences
from bot.render.scheduled import announcement_message, meeting_ics, shift_start_message
from bot.services.snapshot import Snapshot
from bot.storage import audit
from bot.storage import handoff_notes as notes_repo
from bot.storage import incidents as incidents_repo
from bot.storage import scheduled as store

USERGROUP_EXPIRY = timedelta(days=7)
ESCALATION_EXPIRY = timedelta(days=7)


def delivery_row(
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


async def deliveries_for_many(
    session: AsyncSession,
    snap: Snapshot,
    occs: Sequence[Occurrence],
    ids: dict[str, int],
    now: datetime,
    grace: timedelta,
) -> list[dict[str, Any]]:
    """The checklists and the deliveries of the occurrences this replica won (``ids``: their row
    ids), written in the caller's transaction with the ``checklist.opened`` entries."""
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
        expires = o.expires_at(grace)
        rows = await deliveries_for(session, snap, o, ids[o.key], now, expires, checklist_ids.get(o.key))
        out += [{**r, "occurrence_id": ids[o.key]} for r in rows]
    return out


async def deliveries_for(
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
        window = notes_window(d, cal, occ.at)
        ann = announcement(snap, occ.at, open_incidents=await incidents_repo.open_incidents(session),
                           handoff_notes=await notes_repo.notes_between(session, *window))
        rows: list[dict[str, Any]] = []
        if occ.channel:
            msg = announcement_message(d, tz, ann)
            payload = {"kind": "announcement", "text": msg.text, "blocks": msg.blocks_json()}
            rows.append(delivery_row(occ.key, "post", "post", occ.channel, payload, now, expires, "announcement"))
        for shift in ann.starting:
            msg = shift_start_message(d, tz, ann, shift)
            payload = {"kind": "shift_start", "text": msg.text, "blocks": msg.blocks_json()}
            rows.append(
                delivery_row(
                    occ.key,
                    f"dm:{shift.person}",
                    "post",
                    d.slack_id_of(shift.person),
                    payload,
                    now,
                    expires,
                    f"DM {d.name_of(shift.person)}: shift starts",
                )
            )
        for ug in ann.usergroups:
            payload = {"kind": "usergroup", "users": [d.slack_id_of(p) for p in ug.members]}
            rows.append(
                delivery_row(
                    occ.key,
                    f"usergroup:{ug.handle}",
                    "usergroup",
                    ug.handle,
                    payload,
                    now,
                    occ.at + USERGROUP_EXPIRY,
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
        targets = ",".join(dict.fromkeys(d.slack_id_of(p) for p in occ.assignees))
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
            delivery_row(
                occ.key,
                "post",
                "post",
                targets,
                {"kind": "meeting", "render": "meeting", "meeting_id": meeting_id},
                now,
                expires,
                f"group DM: {occ.title}",
            ),
            delivery_row(
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
            delivery_row(
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


def announcement(snap: Snapshot, at: datetime, *, open_incidents: Sequence[Incident] = (),
                 handoff_notes: Sequence[HandoffNote] = ()) -> Announcement:
    cal = snap.calendar
    first, last = announced_week(snap.directory, cal, at)
    week = occurrences(
        snap.directory,
        cal,
        cal.day_start(first),
        cal.day_start(last + timedelta(days=1)),
        snap.overrides,
    )
    return build_announcement(snap.directory, cal, at, snap.overrides, week, open_incidents=open_incidents,
                              handoff_notes=handoff_notes)
