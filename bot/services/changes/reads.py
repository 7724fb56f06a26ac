"""Reads: the list of changes, calendar-feed links and feeds (and the person's token), fairness."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.commands.changes import (
    CalendarLinks,
    ChangeItem,
    ChangesList,
)
from bot.commands.results import NotFound
from bot.core.changes import (
    may_cancel,
)
from bot.core.fairness import FairnessReport, fairness
from bot.core.feeds import feed_range, person_feed, pipeline_feed
from bot.core.model import Directory
from bot.core.search import find_pipeline
from bot.services.changes.apply import admins_with, change_pipelines, read_directory
from bot.storage import audit
from bot.storage import calendar_tokens as tokens
from bot.storage import changes as store
from bot.storage.bootstrap import Database
from bot.storage.overrides import overrides_between
from bot.storage.seedstore import load_directory

if TYPE_CHECKING:
    from bot.config import Settings


async def list_changes(
    db: Database, now: datetime, viewer: str | None, pipeline: str | None = None, *, extra_admins: Sequence[str] = ()
) -> ChangesList | NotFound:
    """Upcoming and ongoing changes (optionally those touching ``pipeline``), each with whether
    ``viewer`` may cancel it."""
    async with db.sessions() as session:
        directory = await load_directory(session)
        records = await store.changes_ending_after(session, now)
        end = max((r.end for r in records), default=now + timedelta(seconds=1))
        overrides = await overrides_between(session, min([now, *(r.start for r in records)]), end)
    pid = None
    if pipeline is not None:
        match = find_pipeline(directory, pipeline)
        if match.pipeline is None:
            return NotFound("pipeline", pipeline, match.suggestions, tuple(directory.pipelines))
        pid = match.pipeline.id
    admins = admins_with(directory, extra_admins)
    items = []
    for r in records:
        touched = change_pipelines(directory, r, overrides)
        if pid is not None and pid not in touched:
            continue
        items.append(ChangeItem(r, bool(may_cancel(directory, admins, viewer, r, overrides)), touched))
    return ChangesList(pid, tuple(items))


def public_base_url(settings: Settings) -> str:
    """Where Slack users reach the bot's HTTP server: ``ONCALL_PUBLIC_URL`` when the settings have
    it, else http://localhost:PORT."""
    url = getattr(settings, "public_url", None)
    return str(url).rstrip("/") if url else f"http://localhost:{settings.http_port}"


async def calendar_links(
    db: Database, person: str, now: datetime, base_url: str, *, reset: bool = False
) -> CalendarLinks:
    """The person's feed URL and the pipeline feeds' (``reset``: revoke the old token first)."""
    async with db.sessions() as session, session.begin():
        directory = await load_directory(session)
        if reset:
            token, created = await tokens.reset_token(session, person, now), True
        else:
            token, created = await tokens.token_for(session, person, now)
        if created:
            await audit.record(
                session,
                at=now,
                actor=person,
                action="calendar.reset" if reset else "calendar.token",
                subject=f"calendar:{person}",
            )
    base = f"{base_url.rstrip('/')}/calendar/{token}"
    return CalendarLinks(person, f"{base}.ics", tuple((p, f"{base}/{p}.ics") for p in directory.pipelines), reset=reset)


async def feed(db: Database, token: str, pipeline: str | None, now: datetime) -> bytes | None:
    """The iCalendar feed a token opens: its person's, or ``pipeline``'s; None for an unknown or
    revoked token or an unknown pipeline."""
    async with db.sessions() as session:
        person = await tokens.person_for_token(session, token)
        if person is None:
            return None
        directory, cal = await read_directory(session)
        start, end = feed_range(cal, now)
        overrides = await overrides_between(session, start, end)
    if pipeline is not None:
        if pipeline not in directory.pipelines:
            return None
        return pipeline_feed(directory, cal, pipeline, now, overrides)
    return person_feed(directory, cal, person, now, overrides)


async def fairness_report(db: Database, start: datetime, end: datetime) -> tuple[Directory, FairnessReport]:
    async with db.sessions() as session:
        directory, cal = await read_directory(session)
        overrides = await overrides_between(session, start, end)
    return directory, fairness(directory, cal, start, end, overrides)
