"""``KeyCache`` on both databases, with a clock the test moves: concurrent checks share one
lookup; a key is answered from memory for ``ttl`` seconds, refreshed in the background past half
of it (no check waits), and a revoked key is refused within ``ttl`` seconds."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.services import alerts as svc
from bot.services.alerts import KeyCache
from bot.storage.bootstrap import Database

NOW = datetime(2026, 11, 30, 10, 35, tzinfo=UTC)


class Ticks:
    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


async def settled(cache: KeyCache) -> None:
    while cache._lookups:
        await asyncio.wait(set(cache._lookups.values()))


async def test_checks_share_lookups_refresh_ahead_and_revocation_holds_within_ttl(db: Database) -> None:
    key = (await svc.add(db, "engagement", "airflow", NOW)).routing_key
    ticks = Ticks()
    cache = KeyCache(db, ttl=5.0, monotonic=ticks)
    found = await asyncio.gather(*(cache.check(key) for _ in range(20)))
    assert {f.pipeline for f in found if f is not None} == {"engagement"} and None not in found
    assert cache.lookups == 1  # twenty concurrent checks, one query
    ticks.at += 2.0
    assert await cache.check(key) is not None and cache.lookups == 1  # fresh: from memory
    ticks.at += 1.0  # 3 s old: answered from memory, refreshed behind the answer
    assert await cache.check(key) is not None and cache.lookups == 2
    await settled(cache)
    (integration,) = [i for i in await svc.listed(db) if i.name == "airflow"]
    await svc.revoke(db, integration.id, NOW)
    ticks.at += 2.0  # 2 s after the refresh: still remembered as live (within the ttl)
    assert await cache.check(key) is not None and cache.lookups == 2
    ticks.at += 1.0  # past half: the refresh learns of the revocation
    await cache.check(key)
    await settled(cache)
    assert await cache.check(key) is None and cache.lookups == 3
    assert await cache.check("not-a-key-" + "x" * 22) is None


async def test_an_expired_key_is_looked_up_before_it_is_answered(db: Database) -> None:
    key = (await svc.add(db, "profit", "dbt", NOW)).routing_key
    ticks = Ticks()
    cache = KeyCache(db, ttl=5.0, monotonic=ticks)
    assert await cache.check(key) is not None
    (integration,) = [i for i in await svc.listed(db) if i.name == "dbt"]
    await svc.revoke(db, integration.id, NOW)
    ticks.at += 6.0  # no check in between: expired, so the check waits for the lookup
    assert await cache.check(key) is None and cache.lookups == 2
