"""Several bot replicas on one database (SQLite and PostgreSQL): the same dedup key sent to three
at once opens one incident; new keys of one pipeline at once join one incident; a data-arrival
deadline crossed while two replicas tick opens one incident, and the next arrival resolves it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import timedelta

import pytest_asyncio

from bot.config import Settings
from bot.services import alerts as svc
from bot.storage import alerts as repo
from bot.storage.bootstrap import Database
from tests.alerts.conftest import Bot, make_bot, pd
from tests.support.fake_slack import FakeSlack


@pytest_asyncio.fixture
async def replicas(db: Database, settings: Settings, fake_slack: FakeSlack) -> AsyncIterator[list[Bot]]:
    async with AsyncExitStack() as stack:
        first_gen = make_bot(db, settings, fake_slack)
        first = await first_gen.__anext__()
        stack.push_async_callback(first_gen.aclose)
        bots = [first]
        for _ in range(2):
            gen = make_bot(db, settings, fake_slack, keys=first.keys, clock=first.clock)
            bots.append(await gen.__anext__())
            stack.push_async_callback(gen.aclose)
        yield bots


async def test_the_same_key_at_three_replicas_at_once_opens_one_incident(replicas: list[Bot]) -> None:
    for n, pipeline in enumerate(("engagement", "profit", "growth")):
        key = replicas[0].keys[pipeline]
        answers = await asyncio.gather(*(b.post("/v2/enqueue", pd(key, dedup=f"load-{n}")) for b in replicas))
        assert [a[0] for a in answers] == [202, 202, 202]
    for b in replicas:
        await b.settle()
    found = await svc.incidents(replicas[0].deps.db)
    assert sorted(i["pipeline"] for i in found) == ["engagement", "growth", "profit"]
    assert all(i["alerts"] == 1 for i in found)
    async with replicas[0].deps.db.sessions() as session:
        assert await repo.event_count(session) == 9
        for i in found:
            (alert,) = await repo.alerts_of(session, i["id"])
            assert alert.count == 3
    tops = [p for p in replicas[0].posts() if "thread_ts" not in p and str(p["channel"]).startswith("C")]
    assert len(tops) == 3  # one incident message each, whatever replica sent it


async def test_new_keys_of_one_pipeline_at_once_join_one_incident(replicas: list[Bot]) -> None:
    key = replicas[0].keys["engagement"]
    answers = await asyncio.gather(*(b.post("/v2/enqueue", pd(key, dedup=f"k{i}")) for i, b in enumerate(replicas)))
    assert [a[0] for a in answers] == [202, 202, 202]
    for b in replicas:
        await b.settle()
    (inc,) = await svc.incidents(replicas[0].deps.db)
    assert sorted(inc["dedup_keys"]) == ["k0", "k1", "k2"]


async def test_a_missed_arrival_opens_one_incident_with_two_replicas_ticking(replicas: list[Bot]) -> None:
    a, b = replicas[0], replicas[1]
    start = a.clock()
    assert await svc.check(a.deps, start, a.routes.snapshots) == []  # starts the clock (first seen)
    await svc.arrived(a.deps, "engagement", start - timedelta(hours=1), start, a.routes.snapshots)
    late = start + timedelta(hours=47, minutes=1)
    opened = await asyncio.gather(svc.check(a.deps, late, a.routes.snapshots),
                                  svc.check(b.deps, late, b.routes.snapshots))
    assert sorted(len(o) for o in opened) == [0, 1]
    assert await svc.check(a.deps, late + timedelta(minutes=1), a.routes.snapshots) == []  # no second one
    (inc,) = await svc.incidents(a.deps.db)
    assert inc["source"] == "heartbeat" and inc["pipeline"] == "engagement" and inc["state"] == "open"
    assert inc["summary"].startswith("Engagement: no data has arrived for 48 h; last arrival Tue Dec 1 09:00 EST")
    a.clock.at = late + timedelta(minutes=5)
    await a.settle()
    status, body, _ = await a.post("/api/v1/heartbeats/engagement", key=a.keys["engagement"])
    assert status == 202 and body["resolved_incidents"] == [inc["id"]]
    await a.settle()
    (inc,) = await svc.incidents(a.deps.db)
    assert inc["state"] == "resolved"
    thread = [p["text"] for p in a.posts("C0DENGAGE") if "thread_ts" in p]
    assert any("Data arrived" in t and "incident resolved" in t for t in thread)
    assert any("Opened by the data-arrival check" in t for t in thread)


async def test_heartbeat_keys_and_get(replicas: list[Bot]) -> None:
    a = replicas[0]
    status, _, _ = await a.post("/api/v1/heartbeats/engagement", key=a.keys["profit"])
    assert status == 403
    status, _, _ = await a.post("/api/v1/heartbeats/engagement")
    assert status == 401
    async with a.http.get(a.base + "/api/v1/heartbeats/engagement",
                          headers={"Authorization": f"Bearer {a.keys['engagement']}"}) as resp:
        assert resp.status == 202
    (row,) = await svc.report(a.deps, await a.routes.snapshots(), a.clock())
    assert row.last_arrival == a.clock() and not row.late
