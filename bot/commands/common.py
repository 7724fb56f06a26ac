"""What the command modules share: ``UsageError``, Slack mentions, and naming a person.

Imported by ``parse``, ``changes`` and ``answer`` (which import each other in that order only).
"""

from __future__ import annotations

import difflib
import re

from bot.commands.results import NotFound, Problem
from bot.core.model import Person
from bot.services.snapshot import Snapshot

MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
"""A Slack user mention, ``<@U123>`` or ``<@U123|name>``; group 1 is the user id."""


UNKNOWN_USER = "I don't know who you are here: your Slack user is not in the seed's people."
"""What "me" answers when the asker is not a person of the directory (terminals add how to say who)."""


class UsageError(ValueError):
    """What the user typed does not fit the command; the message says how to fix it."""

    def __init__(self, message: str, command: str) -> None:
        super().__init__(message)
        self.command = command

MAX_NAME_CHARS = 200  # longer than any person's id or name: never fuzzy-matched


def mention_user_id(text: str) -> str | None:
    """The Slack user id of a ``<@U123>`` mention, or None."""
    m = MENTION.match(text.strip())
    return m.group(1) if m else None


def resolve_person(snap: Snapshot, text: str, user: str | None) -> Person | NotFound | Problem:
    """The person ``text`` names: "me" (the asking ``user``), a Slack mention, an id or a name."""
    people = snap.directory.people
    if text.lower() == "me":
        if user is None or user not in people:
            return Problem(UNKNOWN_USER, "/oncall")
        return people[user]
    slack_id = mention_user_id(text)
    if slack_id is not None:
        pid = snap.person_by_slack_id(slack_id)
        if pid is None:
            return Problem(f"<@{slack_id}> is not in any team of the on-call directory.", "/oncall")
        return people[pid]
    key = text.lower().lstrip("@")
    for p in people.values():
        if key in (p.id.lower(), p.name.lower(), p.email.lower().split("@")[0]):
            return p
    names = {p.id: p.id for p in people.values()} | {p.name.lower(): p.id for p in people.values()}
    # Bounded: names are short, so a key longer than MAX_NAME_CHARS is close to none of them.
    close = difflib.get_close_matches(key, list(names), n=3, cutoff=0.6) if len(key) <= MAX_NAME_CHARS else []
    return NotFound("person", text, tuple(dict.fromkeys(names[c] for c in close)), tuple(people))
