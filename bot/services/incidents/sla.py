"""SLA follow-ups of incidents (issue 12 §4): the reminder one business day before an incident's
fix-by, and its escalation at the deadline, each exactly once across replicas and restarts.

Each is *claimed* like scheduled work (``bot.services.scheduled.ticker``): an occurrence row with
the key ``incident:ID:sla:reminder`` / ``incident:ID:sla:escalation`` inserted with
``ON CONFLICT (key) DO NOTHING``; only the replica whose insert wins marks the incident
(``sla_reminded_at`` / ``sla_escalated_at``), records the audit entry and writes the messages
to the durable outbox, all in one transaction. The outbox then sends them (and retries).

- Reminder: a DM to the assignee (who acknowledged it, else whoever its current level paged,
  else the pipeline's primary now) and a line in the incident thread.
- Escalation: a DM to the pipeline's secondary at the deadline (or of the next window when the
  pipeline is not covered then), a post to each owning team's channel, a thread line and an
  update of the incident message (it then shows it is past its fix-by). An incident whose
  reminder was not sent before its deadline (the bot was down) gets the escalation only.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from bot.core.coverage import UnknownPipeline, oncall_at
from bot.core.incident import Incident, PageKind
from bot.render import sla as render
from bot.services.incidents import outbox
from bot.services.incidents.deps import Deps, SnapshotSource, snapshot_source
from bot.services.scheduled.config import replica_id
from bot.services.scheduled.followups import escalation_targets
from bot.services.snapshot import Snapshot
from bot.storage import audit
from bot.storage import incidents as repo
from bot.storage import scheduled as store

log = logging.getLogger("bot.incidents")


def sla_key(incident_id: int, stage: str) -> str:
    return f"incident:{incident_id}:sla:{stage}"


def assignee(snap: Snapshot, inc: Incident, now: datetime) -> str | None:
    """Who owns fixing ``inc`` now: who acknowledged it, else whoever its current level paged,
    else the pipeline's primary at ``now`` (a person id; None when nobody)."""
    if inc.acknowledged_by:
        person = snap.person_by_slack_id(inc.acknowledged_by)
        if person is not None:
            return person
    if inc.page.kind in (PageKind.PERSON, PageKind.QUEUED) and inc.page.person:
        return inc.page.person
    try:
        answer = oncall_at(snap.directory, snap.calendar, inc.pipeline, now, snap.overrides)
    except UnknownPipeline:
        return None
    return answer.primary.person if answer.primary else None


def _claim_row(inc: Incident, stage: str, now: datetime, people: list[str]) -> dict[str, Any]:
    return {"key": sla_key(inc.id, stage), "definition": "incident-sla", "kind": stage, "period": str(inc.id),
            "pipeline": inc.pipeline, "channel": inc.channel, "opens_at": now, "due_at": inc.fix_by,
            "assignees": people, "status": "claimed", "claimed_by": replica_id(), "claimed_at": now, "note": ""}


def _dm(snap: Snapshot, key: str, person: str, text: str, label: str, now: datetime) -> list[dict[str, Any]]:
    p = snap.directory.people.get(person)
    if p is None or not p.slack_user_id:
        log.warning("%s: cannot DM %s, not in the directory", key, person)
        return []
    return [outbox.owed_row(key, "post", p.slack_user_id, label, {"text": text, "kind": "incident_sla"}, now)]


async def _remind(deps: Deps, snap: Snapshot, inc: Incident, now: datetime) -> bool:
    d, tz = snap.directory, snap.calendar.tz
    who = assignee(snap, inc, now)
    key = sla_key(inc.id, "reminder")
    async with deps.db.sessions() as session, session.begin():
        if await store.claim(session, _claim_row(inc, "reminder", now, [who] if who else [])) is None:
            return False
        if not await repo.mark_sla(session, inc.id, "reminded", now):
            return False
        rows: list[dict[str, Any]] = []
        if who is not None:
            rows += _dm(snap, f"{key}:dm:{who}", who, render.reminder_message(d, tz, inc).text,
                        f"incident #{inc.id}: SLA reminder to {who}", now)
        post = await outbox.post_delivery(session, inc.id)
        if post is not None:
            rows.append(outbox.owed_row(f"incident:{inc.id}:thread:sla-reminder", "post", post.target,
                                        f"incident #{inc.id}: thread (SLA reminder)",
                                        {"text": render.reminder_thread_line(d, tz, inc, who),
                                         "kind": "incident_thread"}, now, parent_key=outbox.post_key(inc.id)))
        await store.add_deliveries(session, rows)
        await audit.record(session, at=now, actor=None, action="incident.sla_reminded", subject=f"incident:{inc.id}",
                           after={"fix_by": inc.fix_by, "assignee": who})
    return True


async def _escalate(deps: Deps, snap: Snapshot, inc: Incident, now: datetime) -> bool:
    d, tz = snap.directory, snap.calendar.tz
    assert inc.fix_by is not None
    people, channels = escalation_targets(d, snap.calendar, inc.pipeline, inc.fix_by, snap.overrides)
    key = sla_key(inc.id, "escalation")
    async with deps.db.sessions() as session, session.begin():
        if await store.claim(session, _claim_row(inc, "escalation", now, people)) is None:
            return False
        if not await repo.mark_sla(session, inc.id, "escalated", now):
            return False
        escalated = await repo.get_incident(session, inc.id) or inc
        text = render.escalation_message(d, tz, escalated).text
        rows: list[dict[str, Any]] = []
        for person in people:
            label = f"incident #{inc.id}: fix-by passed, DM {person}"
            rows += _dm(snap, f"{key}:dm:{person}", person, text, label, now)
        for channel in channels:
            rows.append(outbox.owed_row(f"{key}:channel:{channel}", "post", channel,
                                        f"incident #{inc.id}: fix-by passed, to {channel}",
                                        {"text": text, "kind": "incident_sla"}, now))
        post = await outbox.post_delivery(session, inc.id)
        if post is not None:
            rows += outbox.thread_rows(escalated, post.target, "sla-escalated",
                                       render.escalation_thread_line(d, tz, escalated, people, channels), now)
        await store.add_deliveries(session, rows)
        await audit.record(session, at=now, actor=None, action="incident.sla_escalated",
                           subject=f"incident:{inc.id}",
                           after={"fix_by": inc.fix_by, "people": people, "channels": channels})
    return True


async def follow_up_sla(deps: Deps, now: datetime, *, snapshots: SnapshotSource | None = None) -> tuple[int, int]:
    """Send the SLA reminders and escalations due at ``now`` (each claimed once); how many of
    each this call did (another replica may have done the rest)."""
    async with deps.db.sessions() as session:
        due = await repo.sla_due(session, now)
    if not due:
        return 0, 0
    snap = await (snapshots or snapshot_source(deps))()
    reminded = escalated = 0
    for inc in due:
        assert inc.fix_by is not None
        if inc.fix_by <= now:
            escalated += await _escalate(deps, snap, inc, now)
        else:
            reminded += await _remind(deps, snap, inc, now)
    return reminded, escalated
