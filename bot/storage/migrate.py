"""Alembic from inside a running event loop (the cookbook's connection-sharing recipe).

The migration scripts live in ``migrations/`` at the repository root, found from this file rather
than the working directory. Each call runs in one transaction on one connection: ``env.py`` takes
the connection from ``config.attributes["connection"]``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage.revisions import MIGRATIONS_DIR
from bot.storage.revisions import head_revision as head_revision  # re-exported
from bot.storage.revisions import is_known_revision as is_known_revision  # re-exported
from bot.storage.tables import Base

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported only where a migration runs: checking the revision of a database that is
# at head (every CLI call) reads the scripts' ids with a regular expression (``bot.storage.revisions``)
# and one SELECT, which keeps a one-shot `oncall-bot oncall` quick.

# pg_advisory_xact_lock key held while migrating, so that concurrent upgraders queue.
MIGRATION_LOCK_KEY = 0x6F6E63616C6C


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for ``migrations/``; with ``connection``, env.py migrates on it."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _current(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    value = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    return str(value) if value is not None else None


async def current_revision(engine: AsyncEngine) -> str | None:
    """The database's revision, or None when it has never been migrated."""
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


async def is_at_head(engine: AsyncEngine) -> bool:
    return await current_revision(engine) == head_revision()


# Alembic's ``context`` and ``op`` are module-level proxies: two migrations interleaved on one
# event loop would overwrite each other's. Other processes are kept apart by the database (an
# advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite; see env.py).
_loop_locks: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = WeakKeyDictionary()


@dataclass(frozen=True)
class Migration:
    """What a migration did: the revision before (None: a new database) and after."""

    from_revision: str | None
    to_revision: str | None

    @property
    def changed(self) -> bool:
        return self.from_revision != self.to_revision


def _migrate(connection: Connection, step: Callable[[Config], None]) -> Migration:
    config = alembic_config(connection)
    step(config)  # env.py records the revision it found once it held the lock
    return Migration(config.attributes.get("from_revision"), _current(connection))


async def _run(conn: AsyncConnection, step: Callable[[Config], None]) -> Migration:
    async with _loop_locks.setdefault(asyncio.get_running_loop(), asyncio.Lock()):
        return await conn.run_sync(_migrate, step)


async def upgrade_on(conn: AsyncConnection, revision: str = "head") -> Migration:
    """Migrate up to ``revision`` on ``conn``, in the caller's transaction (no-op when there)."""
    from alembic import command

    return await _run(conn, lambda config: command.upgrade(config, revision))


async def upgrade(engine: AsyncEngine, revision: str = "head") -> Migration:
    """Migrate the database up to ``revision`` in one transaction (a no-op when it is there)."""
    async with engine.begin() as conn:
        return await upgrade_on(conn, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> Migration:
    """Migrate the database down to ``revision`` (``"base"``: drop everything) in one transaction."""
    from alembic import command

    async with engine.begin() as conn:
        return await _run(conn, lambda config: command.downgrade(config, revision))


def _diffs(connection: Connection) -> list[Any]:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext


    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def schema_diffs(engine: AsyncEngine) -> list[Any]:
    """What ``alembic check`` would report: differences between the tables and the database."""
    async with engine.connect() as conn:
        return await conn.run_sync(_diffs)
