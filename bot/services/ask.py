"""One command line answered for the terminal transports (console, ``oncall-bot ask``): change
commands by the changes service (they write), the rest by the pure command layer. A line is
whatever Slack accepts: a slash command, a mention's question ("@oncall who owns clickstream?"),
or ``/oncall`` arguments (``bot.commands.mention.console_command``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.commands.common import UNKNOWN_USER
from bot.commands.handoff import handoff_line
from bot.commands.mention import console_command
from bot.commands.results import NotFound, OwnersReport, Problem
from bot.config import Settings
from bot.render.blocks import Message, render_not_understood, render_result
from bot.services.changes import answer_change_line
from bot.services.cover import answer_cover_line
from bot.services.handoff import answer_handoff
from bot.services.queries import ask_snapshot, load_snapshot
from bot.services.snapshot import Snapshot
from bot.storage.bootstrap import Database


@dataclass(frozen=True)
class Said:
    message: Message
    snapshot: Snapshot
    user_error: bool
    nothing_found: bool = False  # a search that found nothing ("/whoowns nonsense")
    who_hint: str | None = None  # how to say who you are, when "me" was asked by nobody


def who_hint(snap: Snapshot, user: str | None = None) -> str:
    """How to say who you are in a terminal: the ``--user`` option, with a person id as example."""
    example = next(iter(snap.directory.people), "PERSON_ID")
    wrong = f"'{user}' is not a person id of the seed. " if user else ""
    return (f"{wrong}Say who you are with --user PERSON_ID (a person id of the seed): `oncall-bot console --user "
            f"{example}` or `oncall-bot ask \"/oncall me\" --user {example}`.")


async def ask_line(db: Database, settings: Settings, line: str, now: datetime, user: str | None) -> Said:
    """The answer to ``line`` asked at ``now`` by person id ``user``."""
    snap = await load_snapshot(db, settings.admin_ids)
    command = console_command(line)
    if command is None:
        return Said(render_not_understood(), snap, True)
    handoff_text = handoff_line(command)
    if handoff_text is not None:  # /handoff NOTE: stored (if allowed) by the handoff service
        noted = await answer_handoff(db, user, handoff_text, now, settings.admin_ids)
        return Said(noted.message, snap, noted.user_error)
    changed = (await answer_cover_line(db, snap, command, now, user, settings)
               or await answer_change_line(db, snap, command, now, user, settings))
    if changed is not None:
        said = Said(changed.message, snap, changed.outcome == "user_error")
    else:
        asked = ask_snapshot(snap, command, now, user)
        message = render_result(snap.directory, snap.calendar.tz, asked.result, user)
        empty = isinstance(asked.result, OwnersReport) and not asked.result.hits
        said = Said(message, snap, isinstance(asked.result, Problem | NotFound), nothing_found=empty)
    if said.user_error and UNKNOWN_USER in said.message.text and (user is None or user not in snap.directory.people):
        return Said(said.message, snap, True, who_hint=who_hint(snap, user))
    return said
