"""What every ``oncall-bot`` command module shares: the user-error exception, reading a time
argument, printing JSON and tables, opening the database, naming pipelines and people.

Imports lazily (inside the functions) so that a one-shot answer stays fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from bot.config import Settings
    from bot.core.answer import Holder
    from bot.core.model import Directory
    from bot.services.snapshot import Snapshot
    from bot.storage.bootstrap import Database

Command = Callable[["argparse.Namespace", "Settings", datetime], Coroutine[Any, Any, int]]
"""A subcommand: its arguments, the settings and the one clock read of the invocation; the exit code."""


class CliError(Exception):
    """A user mistake: printed as one line, exit code 2."""


def parse_instant(text: str | None, tz_name: str, now: datetime) -> datetime:
    """``text`` as ``--at`` reads it (ISO-8601 local to ``tz_name``, or "tomorrow 10:00"), in
    UTC; ``now`` when None. A bad time raises ``CliError``."""
    if text is None:
        return now
    from zoneinfo import ZoneInfo

    from bot.core.when import WhenError, parse_when

    try:
        return parse_when(text, now, ZoneInfo(tz_name)).astimezone(UTC)
    except WhenError as exc:
        raise CliError(str(exc)) from None


def parse_bound(text: str, tz_name: str, now: datetime, *, end: bool) -> datetime:
    """``text`` as ``--from``/``--since`` (``end`` False) or ``--to`` (``end`` True) read it, in UTC:
    as ``--at`` does, except that a date without a time is the whole day (``--from DATE`` its
    start, ``--to DATE`` the next day's start, so the day is included). ``CliError`` if bad."""
    from zoneinfo import ZoneInfo

    from bot.core.when import WhenError, parse_bound

    try:
        return parse_bound(text, now, ZoneInfo(tz_name), end=end).astimezone(UTC)
    except WhenError as exc:
        raise CliError(str(exc)) from None


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


async def with_db(settings: Settings, fn: Callable[[Database], Awaitable[int]]) -> int:
    """Open the database (migrating and seeding it where needed), run ``fn``, close it."""
    from bot.services.database import open_database

    db = await open_database(settings, say=lambda line: print(line, file=sys.stderr))
    try:
        return await fn(db)
    finally:
        await db.close()


async def with_snapshot(settings: Settings, answer: Callable[[Snapshot], int]) -> int:
    """Open the database as ``with_db`` does, load a snapshot and answer from it."""

    async def go(db: Database) -> int:
        return answer(await load_snapshot(db, settings))

    return await with_db(settings, go)


async def load_snapshot(db: Database, settings: Settings) -> Snapshot:
    from bot.services.queries import load_snapshot

    return await load_snapshot(db, settings.admin_ids)


def pipeline_id(snap: Snapshot, text: str) -> str:
    """The id of the pipeline ``text`` names; ``CliError`` with suggestions when none."""
    from bot.core.search import find_pipeline

    match = find_pipeline(snap.directory, text)
    if match.pipeline is None:
        hint = f" Did you mean {' or '.join(match.suggestions)}?" if match.suggestions else ""
        raise CliError(f"unknown pipeline '{text}'.{hint} Pipelines: {', '.join(snap.directory.pipelines)}")
    return match.pipeline.id


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    for c in columns:
        t.add_column(c)
    for r in rows:
        t.add_row(*r)
    Console(width=max(100, min(200, 160))).print(t)


def check_range(start: datetime, end: datetime) -> None:
    """``CliError`` unless ``--to`` (``end``) is after ``--from`` (``start``)."""
    if end <= start:
        raise CliError("--to must be after --from")


def person_label(directory: Directory, person: str) -> str:
    """"Name (id)" of a person id, or the id itself when the directory does not know it."""
    p = directory.people.get(person)
    return f"{p.name} ({p.id})" if p else person


def person_names(directory: Directory, people: Iterable[str]) -> str:
    """The names of ``people`` (ids the directory does not know as they are), comma-separated."""
    return ", ".join(directory.people[p].name if p in directory.people else p for p in people)


def holder_name(snap: Snapshot, holder: Holder | None) -> str:
    return "—" if holder is None else person_label(snap.directory, holder.person)
