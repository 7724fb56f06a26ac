"""Checklist and invite messages as rendered when they are sent, from the rows' state at that time."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.model import Directory
from bot.render.scheduled import (
    ChecklistView,
    ItemView,
    MeetingView,
    checklist_escalation_notice,
    checklist_escalation_thread,
    checklist_message,
    checklist_reminder,
    meeting_message,
)
from bot.services.deliveries import Rendered, Renderer, SlackPort
from bot.services.snapshot import Snapshot
from bot.storage import scheduled as store
from bot.storage.bootstrap import Database


async def load_checklist_view(
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


class SendTimeRenderers:
    """Renders checklist and invite messages when they are sent (from the rows' state then).

    ``for_snapshot`` gives the renderers of one tick; ``preload`` reads the checklists of a batch
    of deliveries at once; ``after_sent`` remembers where the messages went."""

    def __init__(self, db: Database, port: SlackPort) -> None:
        self.db = db
        self.port = port
        self._views: dict[int, tuple[ChecklistView, store.ChecklistRow]] = {}

    def for_snapshot(self, snap: Snapshot) -> dict[str, Renderer]:
        d, tz = snap.directory, snap.calendar.tz
        self._views = {}

        async def _checklist_view(
            session: AsyncSession, checklist_id: int
        ) -> tuple[ChecklistView | None, store.ChecklistRow | None]:
            hit = self._views.get(checklist_id)
            return hit if hit is not None else await load_checklist_view(session, checklist_id)

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

    async def meeting(self, meeting_id: int, directory: Directory | None = None) -> MeetingView | None:
        async with self.db.sessions() as session:
            found = await store.meeting(session, meeting_id)
        if found is None:
            return None
        row, answers = found
        return meeting_view(row, answers, directory)

    @staticmethod
    async def after_sent(session: AsyncSession, rows: list[store.DeliveryRow]) -> None:
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

    async def preload(self, session: AsyncSession, rows: Sequence[store.DeliveryRow]) -> None:
        ids = sorted({int(r.payload["checklist_id"]) for r in rows if "checklist_id" in r.payload})
        found = await store.checklists_by_ids(session, ids)
        self._views = {i: (checklist_view(row, items), row) for i, (row, items) in found.items()}
