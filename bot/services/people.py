"""People and Slack: find each seed person's Slack user by email (``users.lookupByEmail``, scope
``users:read.email``) and say, per person, whether their ``slack_user_id`` is right, missing,
different, unknown to Slack or deactivated; then the seed text with the ids set.

The Web API client is the bot's own (``ONCALL_SLACK_API_URL`` honoured), made and closed here.
"""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.seed.edit import SeedPerson, people_in_text, set_slack_ids

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.config import Settings

CONCURRENCY = 4


class Found(StrEnum):
    SAME = "same"  # the file already has the id Slack gives for the email
    FILLED = "filled"  # the file had no id
    CHANGED = "changed"  # the file had another id
    UNKNOWN = "unknown"  # no Slack user has the email (users_not_found)
    DEACTIVATED = "deactivated"  # the email's user is deactivated (deleted: true)
    NO_EMAIL = "no email"
    ERROR = "error"  # Slack did not answer usefully (the detail says why)


@dataclass(frozen=True)
class PersonSync:
    person: SeedPerson
    found: Found
    slack_id: str | None = None  # what Slack says the email's user is
    detail: str = ""

    @property
    def new_id(self) -> str | None:
        """The id to write to the seed (None: leave the file as it is)."""
        return self.slack_id if self.found in (Found.FILLED, Found.CHANGED) else None

    def line(self) -> str:
        p = self.person
        who = f"{p.id} ({p.name}, {p.email or 'no email'})"
        match self.found:
            case Found.SAME:
                return f"ok          {who}: {self.slack_id}"
            case Found.FILLED:
                return f"filled      {who}: {self.slack_id}"
            case Found.CHANGED:
                return f"changed     {who}: {p.slack_user_id} -> {self.slack_id}"
            case Found.UNKNOWN:
                return f"unknown     {who}: no Slack user has this email (invite them, or fix the email)"
            case Found.DEACTIVATED:
                return (f"deactivated {who}: Slack user {self.slack_id} is deactivated "
                        "(remove them from rotations, or fix the email)")
            case Found.NO_EMAIL:
                return f"no email    {who}: add their email to the seed"
        return f"error       {who}: {self.detail}"


@dataclass(frozen=True)
class SyncResult:
    people: tuple[PersonSync, ...]
    old_text: str
    new_text: str

    @property
    def changed(self) -> bool:
        return self.new_text != self.old_text

    @property
    def problems(self) -> list[PersonSync]:
        return [r for r in self.people if r.found in (Found.UNKNOWN, Found.DEACTIVATED, Found.NO_EMAIL, Found.ERROR)]

    def diff(self, path: str) -> str:
        return "".join(difflib.unified_diff(
            self.old_text.splitlines(keepends=True), self.new_text.splitlines(keepends=True),
            fromfile=f"{path} (now)", tofile=f"{path} (synced)",
        ))


def _error_of(exc: BaseException) -> str | None:
    from slack_sdk.errors import SlackApiError

    if isinstance(exc, SlackApiError) and exc.response is not None:
        error = exc.response.get("error")
        return str(error) if error else None
    return None


async def lookup_person(client: AsyncWebClient, person: SeedPerson) -> PersonSync:
    """What Slack says of ``person``'s email."""
    from slack_sdk.errors import SlackApiError

    if not person.email:
        return PersonSync(person, Found.NO_EMAIL)
    try:
        user = (await client.users_lookupByEmail(email=person.email)).get("user") or {}
    except SlackApiError as exc:
        error = _error_of(exc)
        if error == "users_not_found":
            return PersonSync(person, Found.UNKNOWN)
        if error == "missing_scope":
            return PersonSync(person, Found.ERROR, detail="the token lacks users:read.email: add it to the app "
                              "(manifest.yaml has it) and reinstall the app")
        return PersonSync(person, Found.ERROR, detail=f"users.lookupByEmail failed: {error or exc}")
    except Exception as exc:
        return PersonSync(person, Found.ERROR, detail=f"Slack not reachable: {type(exc).__name__}: {exc}"[:200])
    sid = str(user.get("id") or "")
    if user.get("deleted"):
        return PersonSync(person, Found.DEACTIVATED, sid)
    if person.slack_user_id == sid:
        return PersonSync(person, Found.SAME, sid)
    return PersonSync(person, Found.FILLED if person.slack_user_id is None else Found.CHANGED, sid)


async def lookup_people(client: AsyncWebClient, people: Sequence[SeedPerson]) -> list[PersonSync]:
    """``lookup_person`` for each, a few at a time, in the given order."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(p: SeedPerson) -> PersonSync:
        async with gate:
            return await lookup_person(client, p)

    return list(await asyncio.gather(*(one(p) for p in people)))


async def sync_seed_text(client: AsyncWebClient, text: str, source: str = "seed") -> SyncResult:
    """Look up every person of the seed ``text``; the text with the found ids set (``SeedError``
    when the file has no readable people list)."""
    people = people_in_text(text, source)
    results = await lookup_people(client, people)
    ids = {r.person.id: r.new_id for r in results if r.new_id is not None}
    return SyncResult(tuple(results), text, set_slack_ids(text, ids, source) if ids else text)


async def sync_seed_with_slack(settings: Settings, text: str, source: str = "seed") -> SyncResult:
    """``sync_seed_text`` with the bot's own Web API client (SLACK_BOT_TOKEN, ONCALL_SLACK_API_URL)."""
    from bot.slack.client import close_client, make_client

    client = make_client(settings)
    try:
        return await sync_seed_text(client, text, source)
    finally:
        await close_client(client)
