"""Plain asyncpg connections for the few statements on a hot path that skip SQLAlchemy.

The alert intake's accept is one INSERT a request: through a pooled SQLAlchemy connection it
took 0.94 ms here, straight on asyncpg 0.46 ms, and asyncpg's own pool added 0.1 ms more per
statement (its acquire and release bookkeeping, and by default a ``RESET ALL`` round trip at each
release). ``DriverConnections`` is a free list and nothing more:

- ``connection()`` takes an idle connection (or opens one) and gives it back afterwards; there is
  no waiting for a connection: callers bound their own concurrency (the intake keeps at most four
  statements in flight), so the list holds about as many connections as were ever in use at once
  (at most ``max_idle`` are kept);
- a connection whose use raised anything (a failed statement, a cancellation mid-statement, a
  server that ended it) is closed, not given back: the next use opens a fresh one, and a
  connection never returns in an unknown state (half a statement, a session lock still held);
- statements run outside transactions: each is its own, committed as any other.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine


class DriverConnections:
    """Plain asyncpg connections to the PostgreSQL database of ``engine``, opened on first use."""

    def __init__(self, engine: AsyncEngine, max_idle: int = 8) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("driver connections are for PostgreSQL (SQLite statements go through the main engine)")
        _args, kwargs = engine.dialect.create_connect_args(engine.url)  # as the engine's own connections
        kwargs.pop("prepared_statement_cache_size", None)  # SQLAlchemy's name; asyncpg caches statements itself
        self._connect_kwargs = kwargs
        self.max_idle = max_idle
        self._idle: list[Any] = []
        self._closed = False
        self.opened = 0  # connections opened so far (tests, figures)

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """An asyncpg connection for a few statements; closed instead of kept if anything raises."""
        conn = await self._take()
        try:
            yield conn
        except BaseException:
            conn.terminate()
            raise
        self._give(conn)

    async def _take(self) -> Any:
        if self._closed:
            raise RuntimeError("the database's driver connections are closed")
        while self._idle:
            conn = self._idle.pop()
            if not conn.is_closed():
                return conn
        import asyncpg

        conn = await asyncpg.connect(**self._connect_kwargs)
        self.opened += 1
        return conn

    def _give(self, conn: Any) -> None:
        if conn.is_closed():
            return
        if self._closed or len(self._idle) >= self.max_idle or conn.is_in_transaction():
            conn.terminate()
            return
        self._idle.append(conn)

    async def close(self) -> None:
        """Close the idle connections (one in use is closed when given back)."""
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            try:
                await conn.close(timeout=2.0)
            except Exception:  # a dead network: do not wait for it
                conn.terminate()
