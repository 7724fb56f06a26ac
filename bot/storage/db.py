"""Engines and sessions for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_MS = 30_000
_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


def async_url(url: str | URL) -> URL:
    """``url`` with its async driver: ``sqlite:///`` -> aiosqlite, ``postgresql://`` -> asyncpg.

    Raises ``ValueError`` for any other database or driver.
    """
    parsed = make_url(url) if isinstance(url, str) else url
    driver = _DRIVERS.get(parsed.drivername)
    if driver is None:
        raise ValueError(
            f"unsupported database URL '{parsed.render_as_string(hide_password=True)}': "
            "use sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db"
        )
    return parsed.set(drivername=driver)


def display_url(url: str | URL) -> str:
    """The URL without its password, for messages."""
    parsed = make_url(url) if isinstance(url, str) else url
    # URL.set(password=None) means "unchanged", not "none": rendering with hide_password masks it.
    return parsed.render_as_string(hide_password=True)


def _is_memory(url: URL) -> bool:
    db = url.database or ""
    return db in ("", ":memory:") or db.startswith("file::memory:")


def _enable_wal(cursor: Any, attempts: int = 50) -> None:
    """Put the file in WAL mode (persistent: later connections find it so). Switching needs an
    exclusive lock and SQLite answers "database is locked" at once, without its busy handler,
    while another connection opens the same new file; so retry briefly. This runs in the
    driver's thread (aiosqlite), never on the event loop."""
    import time

    for attempt in range(attempts):
        try:
            cursor.execute("PRAGMA journal_mode")
            row = cursor.fetchone()
            if row is not None and str(row[0]).lower() == "wal":
                return
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as exc:  # the driver's OperationalError, adapted or not
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.02 * (attempt + 1))


def create_engine(url: str) -> AsyncEngine:
    """An async engine for ``url``.

    SQLite: creates the file's directory; every connection gets ``foreign_keys=ON``,
    ``journal_mode=WAL`` and ``busy_timeout``; every transaction starts with ``BEGIN IMMEDIATE``,
    so concurrent writers queue on the write lock (up to the busy timeout) instead of failing with
    "database is locked" when a read turns into a write.
    """
    parsed = async_url(url)
    if parsed.get_backend_name() != "sqlite":
        # pre-ping: after a PostgreSQL restart, pooled connections are dead; test before use
        # so the first request after recovery does not fail.
        return create_async_engine(parsed, pool_pre_ping=True)
    if not _is_memory(parsed) and parsed.database:
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(parsed)
    memory = _is_memory(parsed)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if not memory:
            _enable_wal(cursor)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def is_dead_connection(error: BaseException) -> bool:
    """Whether ``error``, raised by a statement on a driver connection (asyncpg), means the
    connection had died (the server restarted or ended it, the network dropped it): worth one
    retry on a fresh connection. A connection that the server ended while it was kept idle can
    fail its next statement with asyncpg's ``InternalClientError`` ("cannot switch to state ...")
    before it knows it is closed."""
    import asyncpg
    from asyncpg.exceptions import AdminShutdownError, CrashShutdownError

    return isinstance(error, asyncpg.PostgresConnectionError | asyncpg.InterfaceError | asyncpg.InternalClientError
                      | AdminShutdownError | CrashShutdownError | ConnectionError)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on ``engine`` whose objects stay readable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


_DRIVER_PACKAGES = frozenset({"sqlalchemy", "asyncpg", "aiosqlite", "sqlite3"})
_HTTP_PACKAGES = frozenset({"slack_sdk", "slack_bolt", "aiohttp"})


def _raised_in_driver(error: BaseException) -> bool:
    """Whether ``error`` was raised under the database driver or SQLAlchemy rather than under
    Slack's client or aiohttp: the innermost frame of either kind in its traceback decides."""
    tb = error.__traceback__
    packages: list[str] = []
    while tb is not None:
        packages.append(str(tb.tb_frame.f_globals.get("__name__", "")).split(".", 1)[0])
        tb = tb.tb_next
    for package in reversed(packages):  # innermost (where it was raised) first
        if package in _DRIVER_PACKAGES:
            return True
        if package in _HTTP_PACKAGES:
            return False
    return False


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` is the database (or the network to it) being down: a passing state that
    a retry fixes, not a bug.

    Only database errors count: SQLAlchemy's ``OperationalError``/``InterfaceError`` and
    invalidated connections, asyncpg's connection errors, SQLite's ``OperationalError`` (locked,
    read-only, disk full, I/O error), and a connection error or time-out raised while the driver
    was connecting. A time-out or ``OSError`` from anything else (Slack's client, aiohttp) is not
    a database outage."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    if isinstance(error, OperationalError | InterfaceError):
        return True
    if isinstance(error, DBAPIError):
        # asyncpg's "the database system is starting up" comes wrapped in a plain DBAPIError
        causes = (error.orig, getattr(error.orig, "__cause__", None))
        return bool(error.connection_invalidated) or any(
            c is not None and not isinstance(c, DBAPIError) and is_unavailable(c) for c in causes
        )
    if type(error).__module__.startswith("asyncpg"):  # raw driver errors (the cache's probe)
        import asyncpg

        return isinstance(error, asyncpg.PostgresConnectionError | asyncpg.InterfaceError
                          | asyncpg.CannotConnectNowError)
    import sqlite3

    if isinstance(error, sqlite3.OperationalError):  # locked, read-only, disk full, I/O error
        return True
    if isinstance(error, TimeoutError | ConnectionError | OSError) and not isinstance(
        error, FileNotFoundError | PermissionError
    ):
        return _raised_in_driver(error)
    return False
