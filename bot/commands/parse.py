"""Parse slash-command text into a command value. Pure; no data lookups."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.commands.changes import HELP_LINES as CHANGE_HELP_LINES
from bot.commands.changes import ChangeCommand, parse_change
from bot.commands.common import UsageError as UsageError  # (re-exported: callers catch it from here)
from bot.commands.common import mention_user_id as mention_user_id
from bot.commands.cover import HELP_LINES as COVER_HELP_LINES
from bot.core.when import WEEKDAY_RULE

COMMANDS = ("/oncall", "/runbook", "/whoowns", "/incident")


@dataclass(frozen=True, slots=True)
class OncallAll:
    at: str | None = None
    everything: bool = False  # "/oncall all": every pipeline, even typed in a pipeline's channel


@dataclass(frozen=True, slots=True)
class OncallPipeline:
    pipeline: str
    at: str | None = None


@dataclass(frozen=True, slots=True)
class OncallPerson:
    who: str  # "me", a Slack mention "<@U123|name>", "@" and a person id, name or handle, or those without "@"


@dataclass(frozen=True, slots=True)
class OncallSchedule:
    pipeline: str
    weeks: int = 2


@dataclass(frozen=True, slots=True)
class Runbook:
    pipeline: str


@dataclass(frozen=True, slots=True)
class WhoOwns:
    query: str


@dataclass(frozen=True, slots=True)
class OpenIncident:
    pipeline: str
    summary: str
    critical: bool = False


@dataclass(frozen=True, slots=True)
class Help:
    command: str  # "/oncall", ... or "" for everything


Command = (
    OncallAll | OncallPipeline | OncallPerson | OncallSchedule | Runbook | WhoOwns | OpenIncident | Help
    | ChangeCommand  # override, swap, away, changes, cancel, calendar, fairness (bot.commands.changes)
)

_CRITICAL = re.compile(r"(^|\s)(--critical|critical:|!critical|\[critical\])(\s|$)", re.IGNORECASE)
MAX_SCHEDULE_WEEKS = 12


def parse_command(command: str, text: str) -> Command:
    """The command that ``command`` (e.g. "/oncall") with argument ``text`` asks for.

    Raises ``UsageError`` when the text does not fit; ``help`` (or ``?``) gives ``Help``.
    """
    name = "/" + command.strip().lstrip("/").lower()
    args = " ".join(text.split())
    lowered = args.lower()
    if lowered in ("help", "?", "-h", "--help"):
        return Help(name)
    if name == "/oncall":
        return _parse_oncall(args)
    if name == "/runbook":
        return Runbook(args)  # "": the channel's pipeline (bot.commands.answer), or a question back
    if name == "/whoowns":
        if not args:
            raise UsageError("Owners of what? Try `/whoowns clickstream` or `/whoowns growth`.", name)
        return WhoOwns(args)
    if name == "/incident":
        critical = bool(_CRITICAL.search(args))
        args = " ".join(_CRITICAL.sub(" ", args).split())
        pipeline, _, summary = args.partition(" ")
        if not pipeline or not summary.strip():
            raise UsageError(
                "Name the pipeline and say what is wrong: `/incident profit Revenue totals don't match the filing`"
                " (add `--critical` when investor reporting is affected).",
                name,
            )
        return OpenIncident(pipeline, summary.strip(), critical)
    raise UsageError(f"Unknown command {name}: try {', '.join(COMMANDS)}.", "")


def _parse_oncall(args: str) -> Command:
    if not args:
        return OncallAll()
    change = parse_change(args)
    if change is not None:
        return change
    words = args.split(" ")
    head = words[0].lower()
    if head == "at" and len(words) > 1:
        return OncallAll(" ".join(words[1:]))
    if head in ("all", "everything") and (len(words) == 1 or (words[1].lower() == "at" and len(words) > 2)):
        return OncallAll(" ".join(words[2:]) or None, everything=True)
    if head == "me" and len(words) == 1:
        return OncallPerson("me")
    if mention_user_id(words[0]) and len(words) == 1:
        return OncallPerson(words[0])
    if args.startswith("@") and len(args) > 1:  # "@fe2", "@Fay Ellis": typed, not turned into a mention
        return OncallPerson(args)
    if head == "who" and len(words) >= 2:
        return OncallPerson(" ".join(words[1:]))
    if head == "schedule":
        if len(words) < 2:
            raise UsageError("Which pipeline? Try `/oncall schedule engagement 4`.", "/oncall")
        weeks = 2
        pipeline_words = words[1:]
        if pipeline_words[-1].isdigit() and len(pipeline_words) > 1:
            weeks = int(pipeline_words[-1])
            pipeline_words = pipeline_words[:-1]
            if not 1 <= weeks <= MAX_SCHEDULE_WEEKS:
                raise UsageError(f"Weeks must be 1 to {MAX_SCHEDULE_WEEKS}.", "/oncall")
        return OncallSchedule(" ".join(pipeline_words), weeks)
    m = re.match(r"^(?P<p>.+?)\s+at\s+(?P<when>.+)$", args, re.IGNORECASE)
    if m:
        return OncallPipeline(m.group("p"), m.group("when"))
    return OncallPipeline(args)


TIMES_RULE = (
    'WHEN is "now", "14:00", "noon", "midnight" (the start of the day), "today", "tomorrow", "yesterday", '
    '"saturday", "next monday 8am", "dec 25", or ISO. ' + WEEKDAY_RULE + " A day without a time is its 12:00 "
    "for a moment (`at saturday`) and the whole day in a range (`away dec 24 dec 26`, `--to 2026-12-31`)."
)
"""How times are read, as ``help`` and README state it."""

HELP_TEXT: dict[str, list[tuple[str, str]]] = {
    "/oncall": [
        ("/oncall", "who is on call now: for this channel's pipelines in a pipeline's or owning team's channel, "
                    "else for every pipeline"),
        ("/oncall all [at WHEN]", "every pipeline, wherever you ask"),
        ("/oncall PIPELINE", "primary and backup now, until when, and who is next"),
        ("/oncall PIPELINE at WHEN", 'at any time: "tomorrow 10:00", "saturday noon", "yesterday", "next monday 8am", '
                                     '"dec 25", ISO; a day alone is its 12:00'),
        ("/oncall at WHEN", "every pipeline at that time"),
        ("/oncall me  ·  /oncall @someone", "roles this week and next shifts (@ an id, a name or a mention)"),
        ("/oncall schedule PIPELINE [WEEKS]", "the coming weeks (default 2, at most 12)"),
        ("/oncall notify", "how the bot wakes you: add, test, remove, order your contact methods"),
        *CHANGE_HELP_LINES,
        *COVER_HELP_LINES,
    ],
    "/runbook": [("/runbook PIPELINE", "data, owners, common issues, SLAs, on-call notes and who is on call now"),
                 ("/runbook", "in a pipeline's channel: that pipeline's runbook")],
    "/whoowns": [("/whoowns QUERY", 'owners of a pipeline or of the data it carries ("clickstream", "churn")')],
    "/incident": [
        ("/incident PIPELINE SUMMARY", "open an incident in the pipeline's channel and page the on-call"),
        ("/incident PIPELINE SUMMARY --critical", "the same, when investor reporting is affected"),
    ],
}
