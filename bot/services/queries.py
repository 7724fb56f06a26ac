"""Answer slash-command text: load a snapshot once, ask the pure command layer, hand back the result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.services.snapshot import ALL_FROM, ALL_TO, Snapshot
from bot.storage.bootstrap import Database
from bot.storage.overrides import overrides_between
from bot.storage.seedstore import load_directory

if TYPE_CHECKING:
    from bot.commands.results import Result



async def load_snapshot(db: Database, extra_admins: tuple[str, ...] = ()) -> Snapshot:
    """The directory and every override, read in one transaction."""
    async with db.sessions() as session, session.begin():
        directory = await load_directory(session)
        overrides = await overrides_between(session, ALL_FROM, ALL_TO)
    return Snapshot.build(directory, overrides, extra_admins)


@dataclass(frozen=True)
class Asked:
    result: Result
    snapshot: Snapshot
    now: datetime


def split_command_line(line: str) -> tuple[str, str]:
    """``"/oncall engagement"`` → ``("/oncall", "engagement")``; a bare word is an /oncall argument."""
    line = line.strip()
    head, _, rest = line.partition(" ")
    name = head.lstrip("/").lower()
    if name in ("oncall", "runbook", "whoowns", "incident"):
        return f"/{name}", rest
    if name in ("help", "?"):
        return "/oncall", "help"
    return "/oncall", line


def ask_snapshot(snap: Snapshot, line: str, now: datetime, user: str | None, channel: str | None = None) -> Asked:
    """Parse and answer one command line against a loaded snapshot (pure), asked in ``channel``
    (``#name``, None when not known: answers as anywhere)."""
    # The command layer is imported here, not above: ``oncall-bot oncall --json`` loads a snapshot
    # and asks the core directly, and a one-shot answer should not pay for parsing it never does.
    from bot.commands.answer import answer
    from bot.commands.parse import Help, UsageError, parse_command
    from bot.commands.results import Problem

    if line.strip().lower() in ("help", "?", "/help"):
        return Asked(answer(Help(""), snap, now, user), snap, now)
    command, text = split_command_line(line)
    try:
        parsed = parse_command(command, text)
    except UsageError as exc:
        return Asked(Problem(str(exc), exc.command), snap, now)
    return Asked(answer(parsed, snap, now, user, channel), snap, now)
