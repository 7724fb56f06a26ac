"""Ticking and unticking checklist items from Slack: who may, and the audit entries of each change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.model import Directory
from bot.render.scheduled import ChecklistView
from bot.services.scheduled.rendering import checklist_view
from bot.services.snapshot import Snapshot
from bot.storage import audit
from bot.storage import scheduled as store
from bot.storage.bootstrap import Database


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
    async with db.sessions() as session, session.begin():
        if not await store.lock_checklist(session, checklist_id):
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
