"""Handoff notes (issue 12 §5): ``add_note`` checks, on the state stored at that moment, that the
writer may (``bot.core.handoff.may_write_handoff``), stores the note and audits it
(``handoff.note_added``; a refusal ``handoff.refused``). The Monday announcement and the DMs to
whoever takes over carry the notes (``bot.services.scheduled.plan``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.commands.common import UsageError
from bot.commands.handoff import HandoffHelp, parse_handoff
from bot.core.announcement import seats_at
from bot.core.handoff import MAX_NOTE_LENGTH, HandoffNote, may_write_handoff
from bot.core.rotation import oncall_week_days
from bot.render import handoff as render
from bot.render.blocks import Message
from bot.services.queries import load_snapshot
from bot.storage import audit
from bot.storage import handoff_notes as repo
from bot.storage.bootstrap import Database


@dataclass(frozen=True)
class NoteSaved:
    note: HandoffNote
    next_handoff: datetime  # the announcement that will carry it
    zone: str  # the company zone, to say when


@dataclass(frozen=True)
class NoteRefused:
    reason: str


async def add_note(db: Database, author: str | None, text: str, now: datetime,
                   extra_admins: tuple[str, ...] = ()) -> NoteSaved | NoteRefused:
    """Store ``author``'s handoff note written at ``now``, if they may write one. ``author`` is a
    person id (console, CLI) or a Slack user id (read as the person it is in the stored seed)."""
    text = text.strip()
    if not text:
        return NoteRefused("Write the note after the command, e.g. `/handoff Kafka lag on clickstream; watch it`.")
    if len(text) > MAX_NOTE_LENGTH:
        return NoteRefused(f"A handoff note is at most {MAX_NOTE_LENGTH} characters ({len(text)} given).")
    snap = await load_snapshot(db, extra_admins)  # the stored state now, not a cached one
    d, cal = snap.directory, snap.calendar
    if author is not None and author not in d.people:
        author = snap.person_by_slack_id(author) or author
    seats = seats_at(d, now, cal.tz, snap.overrides)
    decision = may_write_handoff(d, snap.admins, seats, author)
    if not decision:
        async with db.sessions() as session, session.begin():
            await audit.record(session, at=now, actor=author, action="handoff.refused", subject="handoff",
                               after={"reason": decision.reason})
        return NoteRefused(decision.reason)
    assert author is not None
    week_start = max((s.handoff for s in seats), default=now)
    local = cal.to_local(week_start)
    next_handoff = cal.at_time(local.date() + timedelta(days=oncall_week_days(d)), local.time())
    async with db.sessions() as session, session.begin():
        note = await repo.add_note(session, week_start, author, text, now)
        await audit.record(session, at=now, actor=author, action="handoff.note_added", subject=f"handoff:{note.id}",
                           after={"text": text, "week_start": week_start, "why": decision.reason})
    return NoteSaved(note, next_handoff, d.calendar.timezone)



@dataclass(frozen=True)
class HandoffAnswer:
    message: Message
    user_error: bool


async def answer_handoff(db: Database, author: str | None, text: str, now: datetime,
                         extra_admins: tuple[str, ...] = ()) -> HandoffAnswer:
    """``/handoff TEXT`` by ``author`` (person or Slack user id) at ``now``, answered for any
    transport: parsed (``bot.commands.handoff``), stored if allowed, rendered (``bot.render.handoff``)."""
    try:
        parsed = parse_handoff(text)
    except UsageError as exc:
        return HandoffAnswer(render.refused_reply(str(exc)), True)
    if isinstance(parsed, HandoffHelp):
        return HandoffAnswer(render.help_reply(parsed.text), False)
    done = await add_note(db, author, parsed.note, now, extra_admins)
    if isinstance(done, NoteRefused):
        return HandoffAnswer(render.refused_reply(done.reason), True)
    return HandoffAnswer(render.saved_reply(ZoneInfo(done.zone), done.next_handoff), False)
