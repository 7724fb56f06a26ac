"""``/handoff NOTE``: parsing. Pure. Storing the note (and who may) is ``bot.services.handoff``."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.common import UsageError

CMD = "/handoff"
USAGE = ("`/handoff NOTE`: a note for whoever takes over from you, e.g. `/handoff Kafka lag on clickstream "
         "since Friday; backfill runs nightly`. It goes into the next handoff announcement and their DM.")


@dataclass(frozen=True, slots=True)
class HandoffCommand:
    note: str


@dataclass(frozen=True, slots=True)
class HandoffHelp:
    text: str = USAGE


def parse_handoff(text: str) -> HandoffCommand | HandoffHelp:
    """The note typed after ``/handoff``; help for ``help``; ``UsageError`` for nothing at all."""
    note = text.strip()
    if note.lower() in ("help", "?", "-h", "--help"):
        return HandoffHelp()
    if not note:
        raise UsageError(f"Nothing to note. {USAGE}", CMD)
    return HandoffCommand(note)


def handoff_line(line: str) -> str | None:
    """The text after ``/handoff`` when ``line`` is a ``/handoff`` command, else None."""
    head, _, rest = line.strip().partition(" ")
    return rest if head.lower() == CMD else None
