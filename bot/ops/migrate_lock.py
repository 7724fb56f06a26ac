"""Migrate once when several replicas start together (``oncall-bot db upgrade --lock``).

On PostgreSQL every migration runs in one transaction that first takes the transaction-level
advisory lock ``MIGRATION_LOCK_KEY`` (``migrations/env.py``) and only then reads the revision:
of replicas starting together one migrates, the others wait for it, find the schema at head and
do nothing. This module adds what an operator needs around that:

* a ``pg_try_advisory_xact_lock`` look first, so a waiting replica says that it waits and why;
* a bound on the wait (``lock_timeout`` on the migration's connections: a migration stuck
  behind a lock fails with a message instead of hanging the deployment);
* ``wait_for_database``: retries the first connection while the server starts (containers
  started together), so the entrypoint does not fail on a PostgreSQL that is a second late.

The locks end with their transactions: a replica killed mid-migration rolls back and releases
the lock, and nothing is left to clean up. SQLite needs none of this: the migration's
``BEGIN IMMEDIATE`` holds the database's write lock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.storage.db import async_url, create_engine
from bot.storage.migrate import MIGRATION_LOCK_KEY, current_revision, head_revision, is_known_revision, upgrade

DEFAULT_LOCK_TIMEOUT = 300.0


class MigrationError(RuntimeError):
    """The migration could not run; the message says why and what to do."""


@dataclass(frozen=True)
class MigrationOutcome:
    before: str | None
    after: str | None
    migrated: bool  # this process ran the migration
    waited: bool  # another process was migrating when this one looked

    def describe(self) -> str:
        if self.migrated:
            return f"Database migrated from {self.before or 'empty'} to {self.after} (head)."
        if self.waited:
            return f"Database at {self.after} (head): another replica migrated it."
        return f"Database at {self.after} (head), nothing to do."


def migration_engine(url: str, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> AsyncEngine:
    """An engine for migrating ``url``: on PostgreSQL its sessions wait at most ``lock_timeout``
    seconds for any lock (the migration lock, or tables held by long transactions).

    The limit is a startup parameter of each connection (asyncpg ``server_settings``): a ``SET``
    would be undone by the rollback that ends the connection's first transaction.
    """
    parsed = async_url(url)
    if parsed.get_backend_name() != "postgresql":
        return create_engine(url)
    millis = max(1, int(lock_timeout * 1000))
    return create_async_engine(parsed, connect_args={"server_settings": {"lock_timeout": str(millis)}})


def _check_known(revision: str | None, head: str) -> None:
    if revision is not None and revision != head and not is_known_revision(revision):
        raise MigrationError(
            f"database is at revision {revision}, which this version of the bot does not know "
            f"(its head is {head}): run a newer bot"
        )


def _is_lock_timeout(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "__cause__", None), "sqlstate", None)
    return sqlstate == "55P03" or "LockNotAvailable" in type(orig).__name__ or "lock timeout" in str(exc).lower()


async def _someone_migrating(engine: AsyncEngine) -> bool:
    """Whether another session holds the migration lock right now (a look, not a wait)."""
    async with engine.connect() as conn, conn.begin():
        got = (await conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})).scalar()
    return not got


async def upgrade_with_lock(
    engine: AsyncEngine,
    *,
    say: Callable[[str], None] = print,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> MigrationOutcome:
    """Bring the database to head, once across processes; what happened.

    Use an engine from ``migration_engine`` so that waits are bounded. Raises ``MigrationError``
    when a lock wait times out or the database is newer than this bot.
    """
    head = head_revision()
    _check_known(await current_revision(engine), head)
    waited = False
    if engine.dialect.name == "postgresql" and await _someone_migrating(engine):
        waited = True
        say(f"Another replica is migrating the database; waiting for it (up to {lock_timeout:g}s).")
    try:
        done = await upgrade(engine)
    except DBAPIError as exc:
        if _is_lock_timeout(exc):
            raise MigrationError(
                f"waited more than {lock_timeout:g}s for a lock (another replica's migration, or long "
                "transactions on the tables): look at pg_locks / pg_stat_activity, then start again"
            ) from None
        raise
    if done.to_revision != head:  # pragma: no cover - alembic would have raised
        raise MigrationError(f"database is at {done.to_revision} after the upgrade, expected {head}")
    return MigrationOutcome(done.from_revision, done.to_revision, done.changed, waited)


def _transient(exc: BaseException) -> bool:
    """A connection that failed because the server is not (yet) accepting connections."""
    if isinstance(exc, OSError | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, OperationalError | DBAPIError):
        orig = getattr(exc, "orig", None)
        text_ = f"{type(orig).__name__} {orig} {exc}".lower()
        hints = ("connect", "starting up", "shutting down", "refused", "cannotconnectnow", "too many clients",
                 "connection was closed", "timeout")
        return any(h in text_ for h in hints) or isinstance(getattr(orig, "__cause__", None), OSError)
    name = type(exc).__name__
    return name in ("CannotConnectNowError", "ConnectionDoesNotExistError", "TooManyConnectionsError")


async def wait_for_database(
    engine: AsyncEngine,
    *,
    within: float,
    say: Callable[[str], None] = print,
    monotonic: Callable[[], float] = time.monotonic,
    interval: float = 1.0,
) -> None:
    """Return once a connection succeeds; retry connection errors for up to ``within`` seconds.

    Anything that is not a connection problem (a wrong password, a missing database) is raised
    at once: waiting would not fix it.
    """
    deadline = monotonic() + within
    said = False
    while True:
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return
        except Exception as exc:
            if not _transient(exc) or monotonic() >= deadline:
                raise
            if not said:
                say(f"Database not reachable yet; retrying for up to {within:g}s.")
                said = True
            await asyncio.sleep(interval)
