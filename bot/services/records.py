"""Read-only records for the transports: the directory, the audit trail, checklists with their
items, meetings with their answers, and the deliveries queue.

Transports (CLI, Slack Home tab and listeners) call these instead of ``bot.storage``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.model import Directory
from bot.storage import audit
from bot.storage import scheduled as store
from bot.storage.audit import AuditEntry
from bot.storage.bootstrap import Database
from bot.storage.scheduled import ChecklistItemRow, ChecklistRow, DeliveryRow, MeetingAnswerRow, MeetingRow
from bot.storage.seedstore import load_directory

DELIVERY_READY = store.READY
"""Delivery statuses that wait for a (next) attempt."""


async def directory_of(db: Database) -> Directory:
    """The seed as core values (``NoSeed`` when none was loaded)."""
    async with db.sessions() as session:
        return await load_directory(session)


async def audit_entries(
    db: Database, *, since: datetime | None, actor: str | None, actions: Sequence[str], limit: int | None
) -> list[AuditEntry]:
    """Audit entries oldest first, filtered as ``bot.storage.audit.entries`` does."""
    async with db.sessions() as session:
        return await audit.entries(session, since=since, actor=actor, actions=actions, limit=limit)


async def checklists_with_items(
    db: Database, *, open_only: bool
) -> tuple[list[ChecklistRow], dict[int, list[ChecklistItemRow]]]:
    """The newest checklists (only open and overdue ones with ``open_only``) and their items by id."""
    async with db.sessions() as session:
        rows = await store.checklists(session, open_only=open_only)
        return rows, await store.items_of(session, [r.id for r in rows])


async def open_checklists(db: Database) -> list[ChecklistRow]:
    """The open and overdue checklists, newest first."""
    async with db.sessions() as session:
        return await store.checklists(session, open_only=True)


async def checklist(db: Database, checklist_id: int) -> tuple[ChecklistRow, list[ChecklistItemRow]] | None:
    """A checklist with its items as stored now (None: no such checklist)."""
    async with db.sessions() as session:
        return await store.checklist(session, checklist_id)


async def meeting(db: Database, meeting_id: int) -> tuple[MeetingRow, list[MeetingAnswerRow]] | None:
    """A meeting with its answers as stored now (None: no such meeting)."""
    async with db.sessions() as session:
        return await store.meeting(session, meeting_id)


async def deliveries(db: Database, *, failed_only: bool) -> list[DeliveryRow]:
    """The newest deliveries (only failed, expired or retrying ones with ``failed_only``)."""
    async with db.sessions() as session:
        return await store.list_deliveries(session, failed_only=failed_only)
