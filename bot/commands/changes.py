"""``/oncall override|swap|away|changes|cancel|calendar|fairness``: parsing and resolving. Pure.

``parse_change`` turns the text after ``/oncall`` into a command value (or None when the text is
not a schedule change, so the other ``/oncall`` forms keep working). ``resolve_request`` turns an
override, swap or away command into a ``bot.core.changes.ChangeRequest`` against a snapshot at an
explicit ``now``, or a ``Problem``/``NotFound`` saying what to fix. Applying it (database, DMs) is
``bot.services.changes``.

Times: FROM and TO are what ``bot.core.when`` reads ("tomorrow 09:00", "dec 24", ISO, ...), with
an optional ``from``/``to`` around them; a date without a time means the whole day (FROM its
start, TO its end), and a TO that is only a time of day is on FROM's date (or the day after).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.commands.common import MENTION, UsageError, resolve_person
from bot.commands.results import NotFound, Problem
from bot.core.changes import (
    ChangeKind,
    ChangeRecord,
    ChangeRequest,
    Plan,
    Refusal,
    ShiftChange,
    find_target,
    week_of,
)
from bot.core.fairness import FairnessReport
from bot.core.model import Person
from bot.core.when import WhenError, parse_when
from bot.services.snapshot import Snapshot

CMD = "/oncall"
HEADS = ("override", "swap", "away", "changes", "cancel", "calendar", "fairness")
_SEPARATORS = ("to", "until", "till", "through", "thru", "-", "–", "—", "..")
_CLOCK_ONLY = re.compile(r"^(?:at\s+)?\d{1,2}(?::\d{2})?\s*(?:am|pm)?$", re.IGNORECASE)
MAX_WHEN_WORDS = 5
DEFAULT_FAIRNESS_WEEKS = 12


# --- commands -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OverrideCommand:
    target: str  # a rotation, role or pipeline, as typed
    who: str  # a mention or @id
    when: str  # "FROM TO [reason]"


@dataclass(frozen=True, slots=True)
class SwapCommand:
    a: str
    b: str
    week: str  # "this week", "next week", or a day of that week


@dataclass(frozen=True, slots=True)
class AwayCommand:
    when: str  # "FROM TO [reason]"
    who: str | None = None  # someone else (leads and admins); None: the requester
    cover: str | None = None


@dataclass(frozen=True, slots=True)
class ChangesCommand:
    pipeline: str | None = None


@dataclass(frozen=True, slots=True)
class CancelCommand:
    change_id: int


@dataclass(frozen=True, slots=True)
class CalendarCommand:
    reset: bool = False


@dataclass(frozen=True, slots=True)
class FairnessCommand:
    when: str = ""  # "FROM TO", empty: the last 12 weeks


@dataclass(frozen=True, slots=True)
class ChangeModal:
    """``/oncall override`` (swap, away) without arguments: open the modal with pickers."""

    kind: ChangeKind


ChangeCommand = (
    OverrideCommand | SwapCommand | AwayCommand | ChangesCommand | CancelCommand | CalendarCommand
    | FairnessCommand | ChangeModal
)

HELP_LINES: list[tuple[str, str]] = [
    ("/oncall override TARGET @who FROM TO [reason]",
     "@who covers a rotation, a role (R1) or a pipeline; e.g. `override R1 @dev fri 09:00 mon 09:00`"),
    ("/oncall swap @a @b WEEK", 'the two exchange every slot they hold that week ("this week", "next week", a date)'),
    ("/oncall away FROM TO [@cover]", "you are away; your slots go to @cover or the next member who is not away"),
    ("/oncall away @someone FROM TO [@cover]", "leads and admins: someone else is away"),
    ("/oncall changes [PIPELINE]", "upcoming changes, each with a Cancel button for whoever may cancel it"),
    ("/oncall calendar [reset]", "your calendar feed link (reset: revoke it and get a new one)"),
    ("/oncall fairness [FROM TO]", "shifts and hours per person and team (default: the last 12 weeks)"),
    ("/oncall override  ·  swap  ·  away", "without arguments: a form with pickers"),
]


# --- parsing ------------------------------------------------------------------------------------


def _usage(message: str) -> Exception:
    return UsageError(message, CMD)


def is_person_word(word: str) -> bool:
    """A Slack mention ``<@U123|name>`` or ``@someone``."""
    return bool(MENTION.match(word)) or (word.startswith("@") and len(word) > 1)


def parse_change(args: str) -> ChangeCommand | None:
    """The schedule-change command in ``args`` (the text after ``/oncall``), or None if it is not
    one. Raises ``UsageError`` when it is one but does not fit."""
    words = args.split()
    if not words or words[0].lower() not in HEADS:
        return None
    head, rest = words[0].lower(), words[1:]
    if head in ("override", "swap", "away") and not rest:
        return ChangeModal(ChangeKind(head))
    if head == "override":
        return _parse_override(rest)
    if head == "swap":
        people = [w for w in rest[:2] if is_person_word(w)]
        if len(people) < 2:
            raise _usage("Name the two people and the week: `/oncall swap @dana @dev next week`.")
        week = " ".join(rest[2:]) or "this week"
        return SwapCommand(people[0], people[1], week)
    if head == "away":
        return _parse_away(rest)
    if head == "cancel" or (head == "changes" and rest and rest[0].lower() == "cancel"):
        ids = rest[1:] if head == "changes" else rest
        if len(ids) != 1 or not ids[0].lstrip("#").isdigit():
            raise _usage("Which change? `/oncall cancel 12` (the number `/oncall changes` shows).")
        return CancelCommand(int(ids[0].lstrip("#")))
    if head == "changes":
        return ChangesCommand(" ".join(rest) or None)
    if head == "calendar":
        if rest and rest[0].lower() not in ("reset", "revoke", "new"):
            raise _usage("`/oncall calendar` gives your feed link; `/oncall calendar reset` revokes it.")
        return CalendarCommand(reset=bool(rest))
    return FairnessCommand(" ".join(rest))


def _parse_override(rest: list[str]) -> OverrideCommand:
    at = next((i for i, w in enumerate(rest) if is_person_word(w)), None)
    example = "`/oncall override R1 @dev friday 09:00 monday 09:00 covering the release`"
    if at is None:
        raise _usage(f"Name who covers with an @mention: {example}.")
    if at == 0:
        raise _usage(f"Name what @who covers first (a rotation, a role or a pipeline): {example}.")
    if at + 1 >= len(rest):
        raise _usage(f"Say from when to when: {example}.")
    return OverrideCommand(" ".join(rest[:at]), rest[at], " ".join(rest[at + 1:]))


def _parse_away(rest: list[str]) -> AwayCommand:
    who = None
    if rest and is_person_word(rest[0]):
        who, rest = rest[0], rest[1:]
    cover_at = next((i for i, w in enumerate(rest) if is_person_word(w)), None)
    cover = None
    if cover_at is not None:
        cover = rest[cover_at]
        rest = rest[:cover_at] + rest[cover_at + 1:]
    if not rest:
        raise _usage("Say from when to when: `/oncall away dec 24 dec 31 @dev` (dates are whole days).")
    return AwayCommand(" ".join(rest), who, cover)


# --- times --------------------------------------------------------------------------------------


def _local_midnight(day: datetime, tz: ZoneInfo, plus_days: int = 0) -> datetime:
    return datetime.combine(day.astimezone(tz).date() + timedelta(days=plus_days), time(0), tzinfo=tz)


def _bound(text: str, now: datetime, tz: ZoneInfo, *, end: bool, after: datetime | None = None) -> datetime | None:
    """One end of a range: a date alone is the day's start (``end``: the next day's start)."""
    if end and after is not None and _CLOCK_ONLY.match(text):
        try:
            clock = parse_when(text, now, tz).time()
        except WhenError:
            return None
        day = after.astimezone(tz).date()
        at = datetime.combine(day, clock, tzinfo=tz)
        return at if at > after else datetime.combine(day + timedelta(days=1), clock, tzinfo=tz)
    try:
        return _local_midnight(parse_when(f"{text} 00:00", now, tz), tz, 1 if end else 0)
    except WhenError:
        pass
    try:
        return parse_when(text, now, tz)
    except WhenError:
        return None


def split_range(text: str, now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime, str] | str:
    """``(start, end, the rest)`` of "FROM TO rest", or what is wrong (module doc for the forms)."""
    words = text.split()
    if words and words[0].lower() == "from":
        words = words[1:]
    for i in range(min(len(words), MAX_WHEN_WORDS), 0, -1):
        start = _bound(" ".join(words[:i]), now, tz, end=False)
        if start is None:
            continue
        rest = words[i:]
        if rest and rest[0].lower() in _SEPARATORS:
            rest = rest[1:]
        for j in range(min(len(rest), MAX_WHEN_WORDS), 0, -1):
            stop = _bound(" ".join(rest[:j]), now, tz, end=True, after=start)
            if stop is not None:
                return start, stop, " ".join(rest[j:])
        if not rest:
            break
    return ("I could not read FROM and TO in “" + text + "”: try `tomorrow 09:00 friday 17:00`, "
            "`dec 24 dec 31` (whole days) or ISO times like `2026-12-24T09:00 2026-12-26T09:00`.")


def week_instant(text: str, now: datetime, tz: ZoneInfo) -> datetime | str:
    """The instant that picks the week: "this week" (now), "next week" (7 days on), a day."""
    key = " ".join(text.lower().split()).removeprefix("week of ").removeprefix("the week of ")
    if key in ("", "this week", "this", "now"):
        return now
    if key in ("next week", "next"):
        return (now.astimezone(tz) + timedelta(days=7)).astimezone(now.tzinfo)
    try:
        return parse_when(key, now, tz)
    except WhenError as exc:
        return str(exc)


# --- resolving ----------------------------------------------------------------------------------


def resolve_request(
    command: OverrideCommand | SwapCommand | AwayCommand, snap: Snapshot, now: datetime, actor: str | None
) -> ChangeRequest | NotFound | Problem:
    """The change ``command`` asks for, made by person ``actor`` at ``now``."""
    d, tz = snap.directory, snap.calendar.tz
    if isinstance(command, OverrideCommand):
        target = find_target(d, command.target)
        if target is None:
            choices = tuple(r for r in d.rotations) + tuple(d.pipelines)
            return NotFound("target", command.target, (), choices)
        who = resolve_person(snap, command.who, actor)
        if not isinstance(who, Person):
            return who
        span = split_range(command.when, now, tz)
        if isinstance(span, str):
            return Problem(span, CMD)
        start, end, reason = span
        return ChangeRequest(ChangeKind.OVERRIDE, actor, start, end, who.id, target=target, reason=reason)
    if isinstance(command, SwapCommand):
        a = resolve_person(snap, command.a, actor)
        if not isinstance(a, Person):
            return a
        b = resolve_person(snap, command.b, actor)
        if not isinstance(b, Person):
            return b
        at = week_instant(command.week, now, tz)
        if isinstance(at, str):
            return Problem(at, CMD)
        week = week_of(d, tz, [a.id, b.id], at)
        if isinstance(week, str):
            return Problem(week, CMD)
        return ChangeRequest(ChangeKind.SWAP, actor, week[0], week[1], a.id, other=b.id)
    subject: Person | NotFound | Problem
    subject = resolve_person(snap, command.who or "me", actor)
    if not isinstance(subject, Person):
        return subject
    cover = None
    if command.cover is not None:
        found = resolve_person(snap, command.cover, actor)
        if not isinstance(found, Person):
            return found
        cover = found.id
    span = split_range(command.when, now, tz)
    if isinstance(span, str):
        return Problem(span, CMD)
    start, end, reason = span
    return ChangeRequest(ChangeKind.AWAY, actor, start, end, subject.id, other=cover, reason=reason)


def fairness_range(command: FairnessCommand, now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime] | str:
    """The range of ``/oncall fairness``: as given, else the 12 weeks up to today's end."""
    if not command.when.strip():
        end = _local_midnight(now, tz, 1)
        return datetime.combine(end.date() - timedelta(weeks=DEFAULT_FAIRNESS_WEEKS), time(0), tzinfo=tz), end
    span = split_range(command.when, now, tz)
    if isinstance(span, str):
        return span
    if span[2]:
        return f"I did not understand “{span[2]}” after the range."
    return span[0], span[1]


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Applied:
    """A change applied; ``replayed``: the same request (Slack trigger or view id) had applied it
    already, so nothing changed this time and nobody is told again."""

    record: ChangeRecord
    plan: Plan
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class Refused:
    refusal: Refusal
    request: ChangeRequest | None = None
    change_id: int | None = None  # a refused cancel


@dataclass(frozen=True, slots=True)
class Cancelled:
    record: ChangeRecord
    affected: tuple[str, ...]
    impact: tuple[ShiftChange, ...] = ()


@dataclass(frozen=True, slots=True)
class ChangeItem:
    record: ChangeRecord
    may_cancel: bool
    pipelines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ChangesList:
    pipeline: str | None
    items: tuple[ChangeItem, ...]


@dataclass(frozen=True, slots=True)
class CalendarLinks:
    person: str
    person_url: str
    pipeline_urls: tuple[tuple[str, str], ...]
    reset: bool = False


@dataclass(frozen=True, slots=True)
class FairnessResult:
    report: FairnessReport


ChangeResult = Applied | Refused | Cancelled | ChangesList | CalendarLinks | FairnessResult | Problem | NotFound
