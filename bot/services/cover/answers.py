"""Answering ``/oncall cover|take|give`` typed in Slack or the console: parse, apply, render.

``answer_cover`` is what every transport calls; ``kick_cover`` / ``kick_owed`` in the answer say
which outbox to send at once (the cover messages; the change DMs and incident threads of a pager
handed over). A form (``CoverForm``) needs Slack: elsewhere the answer says how to type it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.commands.common import resolve_person
from bot.commands.cover import (
    CoverCommand,
    CoverCommandValue,
    CoverListCommand,
    CoverTakeCommand,
    PagerCommand,
    cover_range,
    pager_until,
    parse_cover,
)
from bot.commands.parse import UsageError
from bot.commands.results import NotFound, Problem
from bot.core.changes import Refusal
from bot.core.model import Person
from bot.core.search import find_pipeline
from bot.render.blocks import Message, render_not_found, render_problem
from bot.render.cover import pager_answer, render_cover_list, render_refusal, render_requested, render_taken
from bot.services.cover.pager import hand_pager
from bot.services.cover.requests import list_requests, request_cover, take_slots, untake
from bot.services.queries import split_command_line
from bot.services.snapshot import Snapshot
from bot.storage.bootstrap import Database

if TYPE_CHECKING:
    from bot.config import Settings


@dataclass(frozen=True)
class CoverAnswered:
    message: Message
    outcome: str  # "ok" | "user_error"
    kick_cover: bool = False
    kick_owed: bool = False


def _mistake(snap: Snapshot, result: Problem | NotFound) -> CoverAnswered:
    if isinstance(result, Problem):
        return CoverAnswered(render_problem(result), "user_error")
    return CoverAnswered(render_not_found(snap.directory, result), "user_error")


async def answer_cover(
    db: Database, snap: Snapshot, command: CoverCommandValue, user: str | None, now: datetime, *,
    extra_admins: Sequence[str] = (), source_key: str | None = None, who: str | None = None,
) -> CoverAnswered:
    """Answer ``command`` of person ``user`` (``who``: the Slack user, for the audit trail when
    ``user`` is not in the directory) at ``now``."""
    d, tz = snap.directory, snap.calendar.tz
    if isinstance(command, CoverCommand):
        subject = resolve_person(snap, command.who or "me", user)
        if not isinstance(subject, Person):
            return _mistake(snap, subject)
        span = cover_range(command, now, tz)
        if isinstance(span, str):
            return _mistake(snap, Problem(span, "/oncall"))
        start, end, reason = span
        made = await request_cover(db, subject.id, start, end, reason, user, now, extra_admins=extra_admins,
                                   source_key=source_key)
        if isinstance(made, Refusal):
            return CoverAnswered(render_refusal(d, tz, made, "Not asked"), "user_error")
        return CoverAnswered(render_requested(d, tz, made), "ok", kick_cover=True)
    if isinstance(command, CoverListCommand):
        directory, requests = await list_requests(db, open_only=command.open_only)
        return CoverAnswered(render_cover_list(directory, tz, requests), "ok")
    if isinstance(command, CoverTakeCommand):
        if command.untake:
            back = await untake(db, command.request, command.slot or 0, user, now, extra_admins=extra_admins)
            if isinstance(back, Refusal):
                return CoverAnswered(render_refusal(d, tz, back, "Not given back"), "user_error")
            text = f":leftwards_arrow_with_hook: Slot #{command.slot} of cover request #{back.id} is open again."
            return CoverAnswered(Message(text), "ok", kick_cover=True)
        slots = [command.slot] if command.slot is not None else None
        got = await take_slots(db, command.request, user, now, slots=slots, channel=command.channel, who=who)
        if got.problem is not None or got.request is None:
            assert got.problem is not None
            return CoverAnswered(render_refusal(d, tz, got.problem), "user_error")
        message = render_taken(d, tz, got.request, got.taken, got.refused)
        return CoverAnswered(message, "ok" if got.taken else "user_error", kick_cover=bool(got.taken))
    if isinstance(command, PagerCommand):
        match = find_pipeline(d, command.pipeline)
        if match.pipeline is None:
            return _mistake(snap, NotFound("pipeline", command.pipeline, match.suggestions, tuple(d.pipelines)))
        taker = resolve_person(snap, command.to or "me", user)
        if not isinstance(taker, Person):
            return _mistake(snap, taker)
        until = pager_until(command.until, now, tz)
        if isinstance(until, str):
            return _mistake(snap, Problem(until, "/oncall"))
        done = await hand_pager(db, match.pipeline.id, user, taker.id, now, until=until, extra_admins=extra_admins)
        if isinstance(done, Refusal):
            return CoverAnswered(render_refusal(d, tz, done, "Not handed over"), "user_error")
        return CoverAnswered(pager_answer(d, tz, done.span, done.taker, done.record.id), "ok", kick_owed=True)
    return CoverAnswered(render_problem(Problem("The form needs Slack; here, type the whole command: "
                                                "`/oncall cover FROM TO [reason]`.")), "user_error")


async def answer_cover_line(
    db: Database, snap: Snapshot, line: str, now: datetime, user: str | None, settings: Settings
) -> CoverAnswered | None:
    """``line`` answered when it is a cover or pager command, else None. For the console and
    ``oncall-bot ask`` (what they owe stays in the outbox for the running bot to send)."""
    name, rest = split_command_line(line)
    if name != "/oncall":
        return None
    try:
        command = parse_cover(" ".join(rest.split()))
    except UsageError as exc:
        return CoverAnswered(render_problem(Problem(str(exc), exc.command)), "user_error")
    if command is None:
        return None
    return await answer_cover(db, snap, command, user, now, extra_admins=settings.admin_ids)
