"""The local console: the Slack commands in a terminal, rendered as Slack would show them."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.clock import clock_from
from bot.config import Settings
from bot.render.plain import message_to_text
from bot.services.ask import Said, ask_line

if TYPE_CHECKING:
    from bot.storage.bootstrap import Database

BANNER = (
    "On-call console. Type what you would in Slack: /oncall engagement, /oncall profit at saturday noon, "
    "/oncall @fe2, /runbook growth, @oncall who owns clickstream? 'help' lists them, 'exit' quits."
)
HISTORY = Path.home() / ".oncall_bot_history"


def said_text(said: Said) -> str:
    """An answer as the terminal prints it: the message, then how to say who you are if needed."""
    text = message_to_text(said.message, said.snapshot.directory)
    return f"{text}\n{said.who_hint}" if said.who_hint else text


def _setup_history() -> None:
    try:
        import readline

        if HISTORY.exists():
            readline.read_history_file(HISTORY)
        readline.set_history_length(1000)
    except (ImportError, OSError):
        pass


def _save_history() -> None:
    try:
        import readline

        readline.write_history_file(HISTORY)
    except (ImportError, OSError):
        pass


async def run_console(db: Database, settings: Settings, user: str | None = None) -> int:
    """Read commands until ``exit`` or end of input; each is answered at the moment it is read."""
    interactive = sys.stdin.isatty()
    if interactive:
        _setup_history()
    print(BANNER)
    loop = asyncio.get_running_loop()
    clock = clock_from(settings.clock_start)
    try:
        while True:
            try:
                line = await loop.run_in_executor(None, input, "oncall> " if interactive else "")
            except EOFError:
                break
            line = line.strip()
            if not line:
                continue
            if line.lower() in ("exit", "quit", ":q"):
                break
            said = await ask_line(db, settings, line, clock(), user)  # one clock read a command
            print(said_text(said))
            print()
    finally:
        if interactive:
            _save_history()
    return 0
