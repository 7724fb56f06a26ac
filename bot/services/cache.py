"""The snapshot every Slack answer is computed from, kept in memory and reloaded when the data
changes.

How a change is seen: before handing out the cached snapshot, one small query reads the data's
*fingerprint*: the seed's digest (``apply_seed`` keeps it in ``meta``), a ``data_version``
counter in ``meta`` (``bump_data_version``: for any writer whose change the rest would miss) and
the count and highest id of ``overrides`` (overrides are only added and deleted, so together
these change on every write). Writers therefore need no cooperation for seed loads and
overrides, including writers in other processes (``oncall-bot seed load``).

The fingerprint query runs on a connection the cache keeps for itself, straight on the driver
(aiosqlite or asyncpg, outside any transaction: each query sees the latest commit and SQLite's
``BEGIN IMMEDIATE`` write lock is not taken): measured at 45-80 µs, against 0.4-1.1 ms through a
pooled SQLAlchemy connection with its BEGIN/ROLLBACK. Concurrent requests share one fingerprint
query (single flight) and one reload, so fifty simultaneous commands cost one query, not fifty.
``max_staleness`` (seconds, default 0: check on every request) lets a caller trade freshness
for fewer queries; ``invalidate()`` forces the next ``get()`` to check.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.services.queries import load_snapshot
from bot.services.snapshot import Snapshot
from bot.storage.bootstrap import Database
from bot.storage.db import is_unavailable as _is_outage

log = logging.getLogger(__name__)

DATA_VERSION_KEY = "data_version"

_FINGERPRINT_SQL = (
    "SELECT (SELECT value FROM meta WHERE key = 'seed.digest'),"
    " (SELECT value FROM meta WHERE key = 'data_version'),"
    " (SELECT count(*) FROM overrides),"
    " (SELECT max(id) FROM overrides)"
)
_FINGERPRINT = text(_FINGERPRINT_SQL)


async def get_data_version(session: AsyncSession) -> int:
    """The ``data_version`` counter (0 before the first bump)."""
    row = await session.execute(text("SELECT value FROM meta WHERE key = :k"), {"k": DATA_VERSION_KEY})
    value = row.scalar_one_or_none()
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0


async def bump_data_version(session: AsyncSession) -> int:
    """Add one to ``data_version`` in the caller's transaction; the new value.

    Call it from a write path whose change the fingerprint would not see (an in-place update of
    data that answers depend on): every ``SnapshotCache`` reloads on its next ``get()``.
    """
    await session.execute(
        text("INSERT INTO meta (key, value) VALUES (:k, '0') ON CONFLICT (key) DO NOTHING"), {"k": DATA_VERSION_KEY}
    )
    await session.execute(
        text("UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = :k"),
        {"k": DATA_VERSION_KEY},
    )
    return await get_data_version(session)


Fingerprint = tuple[Any, ...]


class _Probe:
    """A connection kept for the fingerprint query, used through its driver directly."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._conn: AsyncConnection | None = None
        self._driver: Any = None

    async def query(self) -> Fingerprint:
        dialect = self.db.dialect
        if dialect not in ("sqlite", "postgresql"):
            async with self.db.engine.connect() as conn:
                return tuple((await conn.execute(_FINGERPRINT)).one())
        if self._conn is None:
            conn = await self.db.engine.connect()
            try:
                raw = await conn.get_raw_connection()
                self._driver = raw.driver_connection
            except BaseException:
                await conn.close()
                raise
            self._conn = conn
        try:
            if dialect == "sqlite":
                rows = await self._driver.execute_fetchall(_FINGERPRINT_SQL)
                return tuple(rows[0])
            return tuple(await self._driver.fetchrow(_FINGERPRINT_SQL))
        except BaseException:
            await self.close(broken=True)  # not kept: the next query opens another connection
            raise

    async def close(self, *, broken: bool = False) -> None:
        conn, self._conn, self._driver = self._conn, None, None
        if conn is not None:
            try:
                if broken:
                    await conn.invalidate()
            finally:
                await conn.close()


@dataclass(frozen=True)
class _Cached:
    snapshot: Snapshot
    fingerprint: Fingerprint
    by_slack_id: dict[str, str]


class SnapshotCache:
    """``await cache.get()``: the current snapshot, loaded at most once per change of the data."""

    def __init__(
        self,
        db: Database,
        extra_admins: tuple[str, ...] = (),
        *,
        max_staleness: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.extra_admins = tuple(extra_admins)
        self.max_staleness = max_staleness
        self._monotonic = monotonic
        self._cached: _Cached | None = None
        self._checked_at = float("-inf")
        self._check: asyncio.Future[Fingerprint] | None = None
        self._reload = asyncio.Lock()
        self._probe = _Probe(db)
        self._outage_logged = float("-inf")
        self.loads = 0  # how many times the snapshot was read from the database
        self.checks = 0  # how many fingerprint queries ran

    async def fingerprint(self) -> Fingerprint:
        """What the data looks like now: one small query, shared by concurrent callers."""
        if self._check is not None:
            return await asyncio.shield(self._check)
        loop = asyncio.get_running_loop()
        self._check = loop.create_future()
        try:
            self.checks += 1
            row = await self._probe.query()
            result: Fingerprint = tuple(str(v) if v is not None else None for v in row)
        except BaseException as exc:
            self._check.set_exception(exc)
            self._check.exception()  # retrieved: joiners get it, no "never retrieved" warning
            raise
        else:
            self._check.set_result(result)
            return result
        finally:
            self._check = None

    async def get(self) -> Snapshot:
        """The snapshot for the data as it is now (within ``max_staleness`` seconds)."""
        cached = self._cached
        if cached is not None and self._monotonic() - self._checked_at < self.max_staleness:
            return cached.snapshot
        started = self._monotonic()
        try:
            current = await self.fingerprint()
        except Exception as exc:
            if self._cached is None or not _is_outage(exc):
                raise
            # The database is down: keep answering lookups from the last snapshot (they are
            # read-only) rather than failing every request; writes still fail and say so.
            if started - self._outage_logged > 60:
                self._outage_logged = started
                log.warning("database unavailable, answering from the last snapshot: %s: %s",
                            type(exc).__name__, exc)
            return self._cached.snapshot
        cached = self._cached
        if cached is None or cached.fingerprint != current:
            cached = await self._load(current)
        self._checked_at = max(self._checked_at, started)
        return cached.snapshot

    async def _load(self, fingerprint: Fingerprint) -> _Cached:
        async with self._reload:
            cached = self._cached
            if cached is not None and cached.fingerprint == fingerprint:
                return cached  # another caller loaded it while this one waited
            # Read the fingerprint again inside the load so that a write racing with the first
            # check is not paired with an older snapshot.
            snapshot = await load_snapshot(self.db, self.extra_admins)
            after = await self.fingerprint()
            self.loads += 1
            index = {p.slack_user_id: p.id for p in snapshot.directory.people.values()}
            cached = _Cached(snapshot, after if after == fingerprint else ("stale", *after), index)
            self._cached = cached
            return cached

    async def close(self) -> None:
        """Give back the connection the cache keeps."""
        await self._probe.close()

    def invalidate(self) -> None:
        """Make the next ``get()`` check the database, whatever ``max_staleness`` says."""
        self._checked_at = float("-inf")

    def person_id(self, snapshot: Snapshot, slack_user_id: str | None) -> str | None:
        """The person id of a Slack user in ``snapshot`` (None if unknown): a dict lookup."""
        if slack_user_id is None:
            return None
        cached = self._cached
        if cached is not None and cached.snapshot is snapshot:
            return cached.by_slack_id.get(slack_user_id)
        return snapshot.person_by_slack_id(slack_user_id)
