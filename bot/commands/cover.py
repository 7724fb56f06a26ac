"""``/oncall cover|take|give``: parsing and resolving. Pure.

``parse_cover`` turns the text after ``/oncall`` into a command value, or None when it is not one
of these (so the other ``/oncall`` forms keep working); it raises ``UsageError`` when it is one
but does not fit. The forms:

- ``cover FROM TO [reason]`` (``cover @someone FROM TO [reason]``: a lead or admin for someone);
  ``cover`` alone: the form; ``cover list [open]``; ``cover take REQUEST [N]``;
  ``cover untake REQUEST N``;
- ``take PIPELINE [for DURATION | until TIME]``; ``give PIPELINE @someone``.

FROM and TO read as in ``bot.commands.changes.split_range``; DURATION as ``2h``, ``90m``,
``1h30m``, ``2 hours``; TIME as ``bot.core.when`` reads it (``18:00``, ``tomorrow 9am``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.commands.changes import is_person_word, split_range
from bot.commands.common import UsageError
from bot.core.when import WhenError, parse_when

CMD = "/oncall"
HEADS = ("cover", "take", "give")
_DURATION = re.compile(r"^(?:(\d+)\s*(?:h|hr|hrs|hour|hours))?\s*(?:(\d+)\s*(?:m|min|mins|minute|minutes))?$")
MAX_PAGER_HOURS = 24 * 7


@dataclass(frozen=True, slots=True)
class CoverCommand:
    when: str  # "FROM TO [reason]"
    who: str | None = None  # someone else (leads and admins)


@dataclass(frozen=True, slots=True)
class CoverForm:
    """``/oncall cover`` without arguments: the form."""


@dataclass(frozen=True, slots=True)
class CoverListCommand:
    open_only: bool = False


@dataclass(frozen=True, slots=True)
class CoverTakeCommand:
    request: int
    slot: int | None = None  # None: every open slot
    untake: bool = False
    channel: str | None = None  # with ``slot`` None: only the open slots offered in this channel


@dataclass(frozen=True, slots=True)
class PagerCommand:
    pipeline: str
    to: str | None = None  # give: who gets it; None: take (the asker)
    until: str | None = None  # "for 2h" / "until 18:00" as typed


CoverCommandValue = CoverCommand | CoverForm | CoverListCommand | CoverTakeCommand | PagerCommand

HELP_LINES: list[tuple[str, str]] = [
    ("/oncall cover FROM TO [reason]", "ask your rotation's channel to cover your slots then (Take buttons)"),
    ("/oncall cover list [open]", "cover requests and their slots"),
    ("/oncall take PIPELINE [for 2h | until 18:00]", "be primary for PIPELINE from now (default: the window's end)"),
    ("/oncall give PIPELINE @someone", "hand the pager you hold to someone"),
]


def _usage(message: str) -> UsageError:
    return UsageError(message, CMD)


def _int(word: str) -> int | None:
    w = word.lstrip("#")
    return int(w) if w.isdigit() else None


def parse_cover(args: str) -> CoverCommandValue | None:
    """The command in ``args`` (module doc), or None when it is none of these."""
    words = args.split()
    if not words or words[0].lower() not in HEADS:
        return None
    head, rest = words[0].lower(), words[1:]
    if head == "cover":
        return _parse_cover(rest)
    if not rest:
        raise _usage(f"Which pipeline? `/oncall {head} profit`" + (" @someone`." if head == "give" else "."))
    if head == "give":
        at = next((i for i, w in enumerate(rest) if is_person_word(w)), None)
        if at is None or at == 0:
            raise _usage("Name the pipeline and who gets the pager: `/oncall give profit @fay`.")
        until = " ".join(rest[at + 1:]) or None
        return PagerCommand(" ".join(rest[:at]), rest[at], until)
    for i, w in enumerate(rest):
        if w.lower() in ("for", "until", "till") and i > 0:
            return PagerCommand(" ".join(rest[:i]), None, " ".join(rest[i:]))
    return PagerCommand(" ".join(rest))


def _parse_cover(rest: list[str]) -> CoverCommandValue:
    if not rest:
        return CoverForm()
    sub = rest[0].lower()
    if sub == "list":
        return CoverListCommand(open_only=any(w.lower() == "open" for w in rest[1:]))
    if sub in ("take", "untake"):
        nums = [_int(w) for w in rest[1:]]
        if not nums or any(n is None for n in nums) or len(nums) > 2 or (sub == "untake" and len(nums) != 2):
            raise _usage(f"`/oncall cover {sub} REQUEST{' N' if sub == 'untake' else ' [N]'}` (numbers from "
                         "`/oncall cover list`).")
        return CoverTakeCommand(int(nums[0] or 0), nums[1] if len(nums) > 1 else None, untake=sub == "untake")
    who = None
    if is_person_word(rest[0]):
        who, rest = rest[0], rest[1:]
    if not rest:
        raise _usage("Say from when to when: `/oncall cover fri 09:00 mon 09:00 dentist`.")
    return CoverCommand(" ".join(rest), who)


def pager_until(text: str | None, now: datetime, tz: ZoneInfo) -> datetime | str | None:
    """When a Take of the pager ends: None (the end of the current window), an instant, or what
    is wrong with ``text`` ("for 2h", "until 18:00")."""
    if not text:
        return None
    words = text.split()
    head, rest = words[0].lower(), " ".join(words[1:])
    if head == "for":
        m = _DURATION.match(rest.strip().lower())
        if not rest.strip() or m is None or not (m.group(1) or m.group(2)):
            return f"I could not read “{rest}” as a duration: try `for 2h`, `for 90m` or `for 1h30m`."
        delta = timedelta(hours=int(m.group(1) or 0), minutes=int(m.group(2) or 0))
        if not timedelta(0) < delta <= timedelta(hours=MAX_PAGER_HOURS):
            return f"A take runs for at most {MAX_PAGER_HOURS} hours."
        return now + delta
    try:
        at = parse_when(rest, now, tz)
    except WhenError as exc:
        return str(exc)
    if at <= now:  # a time of day already past today: tomorrow's
        local = at.astimezone(tz)
        at = datetime.combine(local.date() + timedelta(days=1), local.timetz()).astimezone(now.tzinfo)
    return at


def cover_range(command: CoverCommand, now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime, str] | str:
    """``(start, end, reason)`` of a cover command, or what is wrong."""
    return split_range(command.when, now, tz)
