"""One command line answered for the terminal transports (console, ``oncall-bot ask``): change
commands by the changes service (they write), the rest by the pure command layer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.commands.results import NotFound, Problem
from bot.config import Settings
from bot.render.blocks import Message, render_result
from bot.services.changes import answer_change_line
from bot.services.queries import ask_snapshot, load_snapshot
from bot.services.snapshot import Snapshot
from bot.storage.bootstrap import Database


@dataclass(frozen=True)
class Said:
    message: Message
    snapshot: Snapshot
    user_error: bool


async def ask_line(db: Database, settings: Settings, line: str, now: datetime, user: str | None) -> Said:
    """The answer to ``line`` asked at ``now`` by person id ``user``."""
    snap = await load_snapshot(db, settings.admin_ids)
    changed = await answer_change_line(db, snap, line, now, user, settings)
    if changed is not None:
        return Said(changed.message, snap, changed.outcome == "user_error")
    asked = ask_snapshot(snap, line, now, user)
    message = render_result(snap.directory, snap.calendar.tz, asked.result, user)
    return Said(message, snap, isinstance(asked.result, Problem | NotFound))
