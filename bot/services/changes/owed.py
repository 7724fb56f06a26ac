"""The DMs a schedule change owes, as delivery outbox rows written in the change's own transaction.

``queue_in(session, …)`` is called by ``apply_change`` / ``cancel_change`` (``queue_dms=True``)
inside the transaction that writes the change: the change and the DMs it owes commit together or
not at all, so no crash between them can lose a DM. Keys are ``change:ID:notify:PERSON`` (a
cancellation: ``change:ID:cancel:PERSON``); ``change.notified`` / ``cancel.notified`` (``queued``:
the people) is audited in the same transaction. The outbox sends them (``send_change_dms`` kicks
it at once; the minute tick retries what failed until sent or ``EXPIRES`` passed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands.changes import Applied, Cancelled
from bot.core.calendar import CompanyCalendar
from bot.core.model import Directory
from bot.render.blocks import Message
from bot.render.changes import render_change_dm
from bot.storage import audit
from bot.storage import scheduled as scheduled_store
from bot.storage.scheduled import OWED_FOR, owed_row

EXPIRES = OWED_FOR
"""How long a change DM is retried before it is given up (``expired``, listed as failed)."""


def prefix(change_id: int) -> str:
    """The key prefix of every DM change ``change_id`` (and its cancellation) owes."""
    return f"change:{change_id}:"


def change_dms(directory: Directory, result: Applied | Cancelled) -> tuple[str, list[tuple[str, Message]]]:
    """The DMs a change (or its cancellation) owes: to each person it affects but not whoever made
    it, ``(person id, message)``; and the audit action that records them."""
    tz = CompanyCalendar.from_spec(directory.calendar).tz
    if isinstance(result, Applied):
        record, impact, people = result.record, result.plan.impact, result.plan.affected
        skip, cancelled, action = record.created_by, False, "change.notified"
    else:
        record, impact, people = result.record, result.impact, result.affected
        skip, cancelled, action = record.cancelled_by, True, "cancel.notified"
    return action, [(person, render_change_dm(directory, tz, record, impact, person, cancelled=cancelled))
                    for person in people if person != skip and person in directory.people]


def dm_rows(directory: Directory, result: Applied | Cancelled, now: datetime) -> list[dict[str, Any]]:
    """The outbox rows of the DMs ``result`` owes (people without a Slack id are skipped)."""
    _action, owed = change_dms(directory, result)
    record = result.record
    what = "cancel" if isinstance(result, Cancelled) else "notify"
    rows: list[dict[str, Any]] = []
    for person, message in owed:
        p = directory.people.get(person)
        if p is None or not p.slack_user_id:
            continue
        rows.append(owed_row(f"{prefix(record.id)}{what}:{person}", "post", p.slack_user_id,
                             f"change #{record.id}: DM to {person}",
                             {"text": message.text, "blocks": message.blocks_json(), "kind": "change_dm"}, now))
    return rows


async def queue_in(session: AsyncSession, directory: Directory, result: Applied | Cancelled,
                   now: datetime) -> list[str]:
    """Write the DMs ``result`` owes to the outbox in ``session``'s transaction (the change's),
    with their audit entry; the keys queued."""
    rows = dm_rows(directory, result, now)
    if not rows:
        return []
    action = "cancel.notified" if isinstance(result, Cancelled) else "change.notified"
    await scheduled_store.add_deliveries(session, rows)
    await audit.record(session, at=now, actor=None, action=action, subject=f"change:{result.record.id}",
                       after={"queued": [str(r["key"]).rsplit(":", 1)[-1] for r in rows]})
    return [str(r["key"]) for r in rows]
