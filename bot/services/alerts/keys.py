"""Routing keys of pipelines (``oncall-bot integrations``): made here, shown once, stored as a hash.

A key is 32 lowercase hex characters from ``secrets`` (128 bits). Only its SHA-256 is stored;
a key presented is hashed, looked up by hash, and compared with the stored hash in constant time.
A key is never logged. ``KeyCache`` remembers keys it has checked for ``ttl`` seconds, so a storm
costs no lookup per event; a revoked key is refused by every replica within ``ttl`` seconds.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.storage import alerts as repo
from bot.storage import audit
from bot.storage.bootstrap import Database

KEY_CACHE_SECONDS = 5.0

Integration = repo.Integration


@dataclass(frozen=True, slots=True)
class NewKey:
    id: int
    pipeline: str
    name: str
    routing_key: str


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


async def add(db: Database, pipeline: str, name: str, now: datetime) -> NewKey:
    """A new routing key for ``pipeline`` (an id the caller checked), audited (without the key)."""
    key = secrets.token_hex(16)
    async with db.sessions() as session, session.begin():
        new_id = await repo.add_integration(session, pipeline, name, key_hash(key), now)
        await audit.record(session, at=now, actor=None, action="integration.added", subject=f"integration:{new_id}",
                           after={"pipeline": pipeline, "name": name})
    return NewKey(new_id, pipeline, name, key)


async def listed(db: Database) -> list[repo.Integration]:
    async with db.sessions() as session:
        return await repo.integrations(session)


async def revoke(db: Database, integration_id: int, now: datetime) -> repo.Integration | None:
    async with db.sessions() as session, session.begin():
        found = await repo.revoke_integration(session, integration_id, now)
        if found is not None:
            await audit.record(session, at=now, actor=None, action="integration.revoked",
                               subject=f"integration:{integration_id}", after={"revoked_at": found.revoked_at})
    return found


class KeyCache:
    """``await cache.check(key)``: the live integration the key belongs to, or None.

    A key checked is remembered for ``ttl`` seconds. Past half of that, the next check answers
    from memory and refreshes it in the background, so under steady traffic no event waits for a
    lookup and a revoked key is still refused within ``ttl`` seconds. Concurrent checks of one
    key share one lookup (a storm does not send one query per event when its key is due)."""

    def __init__(self, db: Database, ttl: float = KEY_CACHE_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.db = db
        self.ttl = ttl
        self.monotonic = monotonic
        self._known: dict[str, tuple[float, repo.Integration | None]] = {}
        self._lookups: dict[str, asyncio.Task[repo.Integration | None]] = {}
        self.lookups = 0  # queries made (tests, figures)

    async def check(self, key: str) -> repo.Integration | None:
        if not key or len(key) > 256:
            return None
        digest = key_hash(key)
        cached = self._known.get(digest)
        if cached is not None:
            age = self.monotonic() - cached[0]
            if age < self.ttl:
                if age >= self.ttl / 2 and digest not in self._lookups:
                    self._lookup(digest).add_done_callback(_quiet)  # fresh again before it expires
                return cached[1]
        return await asyncio.shield(self._lookups.get(digest) or self._lookup(digest))

    def _lookup(self, digest: str) -> asyncio.Task[repo.Integration | None]:
        """One lookup of ``digest`` (shared by every check until it ends), remembered when done."""
        self.lookups += 1
        task = asyncio.get_running_loop().create_task(self._query(digest, self.monotonic()), name="alerts:key")
        self._lookups[digest] = task
        task.add_done_callback(lambda _t: self._lookups.pop(digest, None))
        return task

    async def _query(self, digest: str, started: float) -> repo.Integration | None:
        """Look ``digest`` up; remembered as of ``started`` (the answer is as old as the query)."""
        async with self.db.sessions() as session:
            found = await repo.integration_by_hash(session, digest)
        live = None
        if found is not None:
            integration, stored = found
            if hmac.compare_digest(stored, digest) and integration.revoked_at is None:
                live = integration
        if len(self._known) > 10_000:  # a flood of made-up keys cannot grow it without bound
            self._known.clear()
        self._known[digest] = (started, live)
        return live


def _quiet(task: asyncio.Task[Any]) -> None:
    """A background refresh that failed (the database down a moment): the entry stays until it
    expires, and the check after that looks it up itself (and reports the failure)."""
    if not task.cancelled():
        task.exception()
