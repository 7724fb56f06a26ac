"""Open the bot's database: migrate it when that is safe, load the seed into a new one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.seed.schema import SeedIn
from bot.seed.validate import SeedError, dump_seed, parse_seed_text
from bot.storage.db import create_engine, display_url, session_factory
from bot.storage.meta import lock
from bot.storage.migrate import Migration, current_revision, head_revision, is_known_revision, upgrade
from bot.storage.seedstore import SEED_LOCK_KEY, SeedChanges, apply_seed, export_seed, has_seed


class DatabaseNotReady(RuntimeError):
    """The database needs a migration the bot will not run by itself (or cannot run at all)."""


@dataclass
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    async def close(self) -> None:
        await self.engine.dispose()


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _steps(migration: Migration) -> str:
    start = f"from {migration.from_revision} " if migration.from_revision else ""
    return f"{start}to {migration.to_revision}"


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_seed_file(path: str | Path) -> SeedIn:
    """Read and validate a seed file; ``SeedError`` names every problem (or a missing file)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedError(str(p), [f"cannot read: {exc.strerror}"]) from None
    return parse_seed_text(text, str(p))


def _only_version_table(connection: Connection) -> bool:
    return set(inspect(connection).get_table_names()) <= {"alembic_version"}


async def _migrate(engine: AsyncEngine) -> Migration | None:
    """Bring the schema to head where allowed; the migration done, or None."""
    current, head = await current_revision(engine), head_revision()
    if current == head:
        return None
    if current is not None and not is_known_revision(current):
        raise DatabaseNotReady(
            f"database is at revision {current}, which this version of the bot does not know "
            f"(its head is {head}): run a newer bot"
        )
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            empty = await conn.run_sync(_only_version_table)
        if not empty and await current_revision(engine) == head:  # another process just migrated it
            return None
        if not empty:
            raise DatabaseNotReady(
                f"database is at revision {current or '(none)'}, head is {head}: run `oncall-bot db upgrade`"
            )
    done = await upgrade(engine)
    return done if done.changed else None  # None: another process was quicker


async def _load_if_empty(db: Database, path: Path) -> SeedIn | None:
    """Load the seed file when the database has no seed; the seed loaded, or None."""
    async with db.sessions() as session:
        if await has_seed(session):
            return None
    seed = read_seed_file(path)
    async with db.sessions.begin() as session:
        await lock(session, SEED_LOCK_KEY)
        if await has_seed(session):  # another process was quicker
            return None
        await apply_seed(session, seed)
    return seed


async def open_database(settings: Settings, *, say: Callable[[str], None] = print) -> Database:
    """Open ``settings.database_url``, ready for use.

    A database with no or an older schema is migrated: always on SQLite, on PostgreSQL only
    when it is empty (otherwise ``DatabaseNotReady``: migrating a shared server is an operator's
    step). A database without a seed gets ``settings.seed_path``. When it did anything, it says so
    in one line; an up-to-date database opens silently.
    """
    engine = create_engine(settings.database_url)
    db = Database(engine, session_factory(engine))
    try:
        migrated = await _migrate(engine)
        loaded = await _load_if_empty(db, settings.seed_path)
    except BaseException:
        await db.close()
        raise
    where = display_url(engine.url)
    if loaded is not None:
        counts = f"{_count(len(loaded.pipelines), 'pipeline', 'pipelines')}, " + _count(
            len(loaded.people), "person", "people"
        )
        what = f"loaded {_shown(settings.seed_path)} ({counts})"
        if migrated is None:
            say(f"Database at {where}: {what}.")
        elif migrated.from_revision is None:
            say(f"New database at {where}: migrated and {what}.")
        else:
            say(f"Database at {where}: migrated {_steps(migrated)} and {what}.")
    elif migrated is not None:
        say(f"Database at {where}: migrated {_steps(migrated)}.")
    return db


async def load_seed_file_into(db: Database, path: str | Path) -> SeedChanges:
    """Validate a seed file, then make the database hold it; on any error nothing is written."""
    seed = read_seed_file(path)
    async with db.sessions.begin() as session:
        return await apply_seed(session, seed)


async def export_seed_text(db: Database) -> str:
    """The database's seed as seed-file YAML (``NoSeed`` when none was loaded)."""
    async with db.sessions() as session:
        return dump_seed(await export_seed(session))
