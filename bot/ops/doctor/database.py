"""``doctor``'s database checks: reachable within a timeout, and the schema at head (read-only)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.ops.doctor.report import Report, Status, with_timeout
from bot.ops.logging import format_exception_safely, safe_url

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.config import Settings


DB_TIMEOUT = 10.0


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL or an in-memory database)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    db = parsed.database or ""
    if db in ("", ":memory:") or db.startswith("file::memory:"):
        return None
    return Path(db).expanduser()


@dataclass
class DbState:
    engine: AsyncEngine | None = None
    at_head: bool = False
    display: str = ""


async def check_database(settings: Settings, report: Report) -> DbState:
    from sqlalchemy import text

    from bot.storage.db import create_engine
    from bot.storage.migrate import current_revision, head_revision, is_known_revision

    state = DbState()
    try:
        state.display = safe_url(settings.database_url)
    except Exception as exc:
        report.add("database", Status.FAIL, f"ONCALL_DATABASE_URL cannot be parsed: {format_exception_safely(exc)}",
                   "use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER:PASSWORD@HOST:5432/DB")
        return state
    sqlite_file = _sqlite_file(settings.database_url)
    if sqlite_file is not None and not sqlite_file.exists():
        report.add("database", Status.WARN, f"no SQLite file at {sqlite_file} yet",
                   "`oncall-bot run` (or any command) creates it, migrates it and loads the seed")
        report.add("schema", Status.SKIP, "skipped: no database yet")
        return state
    try:
        engine = create_engine(settings.database_url)
    except Exception as exc:
        report.add("database", Status.FAIL, f"{state.display}: {format_exception_safely(exc)}",
                   "use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER:PASSWORD@HOST:5432/DB")
        return state
    state.engine = engine

    async def ping() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    try:
        await with_timeout(ping(), DB_TIMEOUT)
    except Exception as exc:
        what = "timed out" if isinstance(exc, TimeoutError) else format_exception_safely(exc)
        report.add("database", Status.FAIL, f"cannot connect to {state.display}: {what}",
                   "check ONCALL_DATABASE_URL, that the server is running and reachable, and the credentials")
        report.add("schema", Status.SKIP, "skipped: database not reachable")
        return state
    report.add("database", Status.OK, f"reachable: {state.display} ({engine.dialect.name})")

    head = head_revision()
    try:
        current = await with_timeout(current_revision(engine), DB_TIMEOUT)
    except Exception as exc:
        report.add("schema", Status.FAIL, f"cannot read the schema revision: {format_exception_safely(exc)}",
                   "check the database user's permissions")
        return state
    if current == head:
        state.at_head = True
        report.add("schema", Status.OK, f"at head ({head})")
    elif current is not None and not is_known_revision(current):
        report.add("schema", Status.FAIL, f"at {current}, which this bot does not know (its head is {head})",
                   "run the newer bot that migrated it (never downgrade the image below the schema)")
    elif engine.dialect.name == "sqlite":
        report.add("schema", Status.WARN, f"at {current or 'empty'}, head is {head}",
                   "the bot migrates SQLite by itself when it starts; or run `oncall-bot db upgrade`")
    elif current is None:
        report.add("schema", Status.WARN, f"empty database, head is {head}",
                   "the bot migrates an empty database at start; or run `oncall-bot db upgrade`")
    else:
        report.add("schema", Status.FAIL, f"at {current}, head is {head}: the bot will refuse to start",
                   "run `oncall-bot db upgrade` (the container entrypoint does it under a lock)")
    return state
