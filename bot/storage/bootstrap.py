"""Open the bot's database: migrate it when that is safe, load the seed into a new one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.seed.schema import SeedIn
from bot.seed.validate import dump_seed, read_seed_file
from bot.storage.db import create_engine, display_url, session_factory
from bot.storage.driver import DriverConnections
from bot.storage.meta import lock
from bot.storage.migrate import Migration, current_revision, head_revision, is_known_revision, upgrade_on
from bot.storage.seedstore import SEED_LOCK_KEY, SeedChanges, apply_seed, export_seed, has_seed


class DatabaseNotReady(RuntimeError):
    """The database needs a migration the bot will not run by itself (or cannot run at all)."""


@dataclass
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    _driver: DriverConnections | None = field(default=None, repr=False)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def driver(self) -> DriverConnections:
        """PostgreSQL only: plain asyncpg connections to the same database, for statements on a
        hot path (``bot.storage.driver``), made on first use."""
        if self._driver is None:
            self._driver = DriverConnections(self.engine)
        return self._driver

    async def close(self) -> None:
        driver, self._driver = self._driver, None
        if driver is not None:
            await driver.close()
        await self.engine.dispose()


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _only_version_table(connection: Connection) -> bool:
    return set(inspect(connection).get_table_names()) <= {"alembic_version"}


async def _check_migratable(engine: AsyncEngine, current: str | None, head: str) -> None:
    """Raise ``DatabaseNotReady`` unless the bot may bring this database to ``head`` itself."""
    if current is not None and not is_known_revision(current):
        raise DatabaseNotReady(
            f"database is at revision {current}, which this version of the bot does not know "
            f"(its head is {head}): run a newer bot"
        )
    if engine.dialect.name != "postgresql":
        return
    async with engine.connect() as conn:
        empty = await conn.run_sync(_only_version_table)
    if not empty and await current_revision(engine) != head:  # (at head: another process just did it)
        raise DatabaseNotReady(
            f"database is at revision {current or '(none)'}, head is {head}: run `oncall-bot db upgrade`"
        )


async def _prepare(db: Database, seed_path: Path) -> tuple[Migration, SeedIn | None] | None:
    """Migrate and seed the database where needed, all in one transaction (so that of several
    processes opening a new database at once, one does both and the others find it done).

    The migration and the seed loaded (None: it had one), or None when there was nothing to do.
    """
    current, head = await current_revision(db.engine), head_revision()
    if current == head:
        async with db.sessions() as session:
            if await has_seed(session):
                return None
    else:
        await _check_migratable(db.engine, current, head)
    async with db.engine.begin() as conn:
        migration = await upgrade_on(conn)
        async with db.sessions(bind=conn) as session:
            await lock(session, SEED_LOCK_KEY)
            if await has_seed(session):
                return (migration, None) if migration.changed else None
            seed = read_seed_file(seed_path)
            await apply_seed(session, seed)
    return migration, seed


async def open_database(settings: Settings, *, say: Callable[[str], None] = print) -> Database:
    """Open ``settings.database_url``, ready for use.

    A database with no or an older schema is migrated: always on SQLite, on PostgreSQL only
    when it is empty (otherwise ``DatabaseNotReady``: migrating a shared server is an operator's
    step). A database without a seed gets ``settings.seed_path`` (a bad file: ``SeedError`` and
    nothing written). When it did anything, it says so in one line; an up-to-date database opens
    silently.
    """
    engine = create_engine(settings.database_url)
    db = Database(engine, session_factory(engine))
    try:
        done = await _prepare(db, settings.seed_path)
    except BaseException:
        await db.close()
        raise
    if done is not None:
        say(_what_was_done(display_url(engine.url), settings.seed_path, *done))
    return db


def _what_was_done(where: str, seed_path: Path, migration: Migration, loaded: SeedIn | None) -> str:
    steps = ""
    if migration.changed:
        start = f"from {migration.from_revision} " if migration.from_revision else ""
        steps = f"migrated {start}to {migration.to_revision}"
    if loaded is None:
        return f"Database at {where}: {steps}."
    counts = f"{_count(len(loaded.pipelines), 'pipeline', 'pipelines')}, " + _count(
        len(loaded.people), "person", "people"
    )
    what = f"loaded {_shown(seed_path)} ({counts})"
    if migration.changed and migration.from_revision is None:
        return f"New database at {where}: migrated and {what}."
    return f"Database at {where}: {steps} and {what}." if steps else f"Database at {where}: {what}."


async def load_seed_file_into(db: Database, path: str | Path) -> SeedChanges:
    """Validate a seed file, then make the database hold it; on any error nothing is written."""
    seed = read_seed_file(path)
    async with db.sessions.begin() as session:
        return await apply_seed(session, seed)


async def export_seed_text(db: Database) -> str:
    """The database's seed as seed-file YAML (``NoSeed`` when none was loaded)."""
    async with db.sessions() as session:
        return dump_seed(await export_seed(session))
