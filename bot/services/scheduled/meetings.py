"""Answering an onboarding invite from Slack (accept or decline)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.render.scheduled import MeetingView
from bot.services.scheduled.rendering import meeting_view
from bot.services.snapshot import Snapshot
from bot.storage import audit
from bot.storage import scheduled as store
from bot.storage.bootstrap import Database


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
