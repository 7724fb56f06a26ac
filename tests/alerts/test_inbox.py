"""Accept durably, then apply (issue 12's intake), over real HTTP on SQLite and PostgreSQL: a 202
means the event is stored; a process that dies before applying it loses nothing (the next
applier, or the minute tick, applies it exactly once); events of one key are applied in the order
they came; two appliers at once apply each event once; an event that cannot be applied is marked
``failed`` without holding up the ones after it."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from bot.config import Settings
from bot.services import alerts as svc
from bot.services.alerts.apply import Applier
from bot.storage import alert_inbox as inbox
from bot.storage import alerts as repo
from bot.storage.bootstrap import Database
from bot.storage.tables import AlertEventRow
from tests.alerts.conftest import Bot, make_bot, pd
from tests.support.fake_slack import FakeSlack

ENGAGE = "C0DENGAGE"


@pytest_asyncio.fixture
async def dead_bot(db: Database, settings: Settings, fake_slack: FakeSlack) -> AsyncIterator[Bot]:
    """A bot process whose applier never runs: as if it died right after each 202."""
    async for bot in make_bot(db, settings, fake_slack):
        bot.routes.intake.loop.enabled = False
        yield bot


async def events(bot: Bot) -> list[tuple[str, str]]:
    """(dedup key, outcome) of every event stored, in arrival order."""
    from sqlalchemy import select

    async with bot.deps.db.sessions() as session:
        rows = await session.execute(select(AlertEventRow.dedup_key, AlertEventRow.outcome).order_by(AlertEventRow.id))
        return [(k, o) for k, o in rows]


async def queued(bot: Bot) -> int:
    async with bot.deps.db.sessions() as session:
        return (await inbox.counts(session)).queued


async def test_an_accepted_event_outlives_the_process_that_accepted_it(dead_bot: Bot) -> None:
    status, body, _ = await dead_bot.post("/v2/enqueue", pd(dead_bot.keys["engagement"]))
    assert (status, body["dedup_key"]) == (202, "disk-full")
    assert await events(dead_bot) == [("disk-full", "queued")] and await queued(dead_bot) == 1
    assert await svc.incidents(dead_bot.deps.db) == []
    # the minute tick of any process (a new Intake) applies it, exactly once
    assert await svc.apply_queued(dead_bot.deps) == 1
    assert await svc.apply_queued(dead_bot.deps) == 0
    await dead_bot.settle()
    (inc,) = await svc.incidents(dead_bot.deps.db)
    assert inc["source"] == "alert" and inc["dedup_keys"] == ["disk-full"]
    assert await events(dead_bot) == [("disk-full", "opened")]
    async with dead_bot.deps.db.sessions() as session:
        (alert,) = await repo.alerts_of(session, inc["id"])
        assert alert.count == 1 and alert.source == "ingest-1"  # the source kept by the inbox
    assert len([p for p in dead_bot.posts(ENGAGE) if "thread_ts" not in p]) == 1


async def test_a_new_process_applies_what_a_dead_one_accepted(dead_bot: Bot, db: Database, settings: Settings,
                                                             fake_slack: FakeSlack) -> None:
    key = dead_bot.keys["engagement"]
    for dedup in ("a", "b"):
        assert (await dead_bot.post("/v2/enqueue", pd(key, dedup=dedup)))[0] == 202
    async for fresh in make_bot(db, settings, fake_slack, keys=dead_bot.keys, clock=dead_bot.clock):
        assert (await fresh.post("/v2/enqueue", pd(key, dedup="c")))[0] == 202  # wakes its applier
        await fresh.settle()
        (inc,) = await svc.incidents(db)
        assert inc["dedup_keys"] == ["a", "b", "c"]
        assert await events(fresh) == [("a", "opened"), ("b", "joined"), ("c", "joined")]


async def test_trigger_then_resolve_back_to_back_ends_resolved(alert_bot: Bot) -> None:
    key = alert_bot.keys["engagement"]
    answers = [await alert_bot.post("/v2/enqueue", pd(key, action=a)) for a in ("trigger", "resolve")]
    assert [a[0] for a in answers] == [202, 202]
    await alert_bot.settle()
    (inc,) = await svc.incidents(alert_bot.deps.db)
    assert inc["state"] == "resolved"
    assert await events(alert_bot) == [("disk-full", "opened"), ("disk-full", "resolved")]


async def test_one_batch_keeps_each_keys_order_and_the_incident_follows(dead_bot: Bot) -> None:
    """All queued, then applied by one drain: the resolve of ``a`` and ``b`` resolve the incident
    before the later trigger of ``b``, which opens a new alert and a new incident."""
    key = dead_bot.keys["engagement"]
    for action, dedup in (("trigger", "a"), ("trigger", "b"), ("resolve", "a"), ("resolve", "b"), ("trigger", "b"),
                          ("acknowledge", "zz")):
        assert (await dead_bot.post("/v2/enqueue", pd(key, action=action, dedup=dedup)))[0] == 202
    assert await queued(dead_bot) == 6
    assert await dead_bot.routes.intake.drain() == 6
    await dead_bot.settle()
    assert await events(dead_bot) == [("a", "opened"), ("b", "joined"), ("a", "resolved"), ("b", "resolved"),
                                      ("b", "opened"), ("zz", "dropped")]
    newest, first = await svc.incidents(dead_bot.deps.db)
    assert first["state"] == "resolved" and first["dedup_keys"] == ["a", "b"]
    assert newest["state"] == "open" and newest["dedup_keys"] == ["b"]
    thread = [p["text"] for p in dead_bot.posts(ENGAGE) if "thread_ts" in p]
    assert any("All 2 alerts of this incident resolved by the monitor" in t for t in thread)


async def test_two_appliers_at_once_apply_each_event_once(dead_bot: Bot) -> None:
    sent: Counter[str] = Counter()
    for i in range(40):
        pipeline = ("engagement", "profit")[i % 2]
        dedup = f"{pipeline}-{i % 7}"
        sent[dedup] += 1
        assert (await dead_bot.post("/v2/enqueue", pd(dead_bot.keys[pipeline], dedup=dedup)))[0] == 202
    one, two = (svc.Intake(dead_bot.deps, dead_bot.routes.snapshots) for _ in range(2))
    one.applier.max_batch = two.applier.max_batch = 3  # many turns each, so that they interleave
    applied = await asyncio.gather(one.drain(), two.drain())
    assert sum(applied) == 40 and await queued(dead_bot) == 0
    found = await svc.incidents(dead_bot.deps.db)
    assert sorted(i["pipeline"] for i in found) == ["engagement", "profit"]  # one each: new keys joined it
    async with dead_bot.deps.db.sessions() as session:
        counts = {a.dedup_key: a.count for i in found for a in await repo.alerts_of(session, i["id"])}
    assert counts == dict(sent)  # no trigger added twice
    outcomes = Counter(o for _, o in await events(dead_bot))
    assert outcomes == {"opened": 2, "joined": 12, "added": 26}


async def test_alertmanager_reports_queued_when_the_wait_ends_first(dead_bot: Bot) -> None:
    dead_bot.routes.intake.wait = 0.2
    hook = {"version": "4", "status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": "Lag"}, "fingerprint": "f1"}]}
    status, body, _ = await dead_bot.post("/api/v1/alertmanager", hook, key=dead_bot.keys["profit"])
    assert status == 202 and body["alerts"] == [{"dedup_key": "f1", "outcome": "queued"}]
    dead_bot.routes.intake.loop.enabled = True  # the process lives on: the next event wakes it
    dead_bot.routes.intake.wait = 30.0  # its answer waits for both to be applied (0.2 s was too short under load)
    status, body, _ = await dead_bot.post("/api/v1/alertmanager", hook, key=dead_bot.keys["profit"])
    assert body["alerts"] == [{"dedup_key": "f1", "outcome": "added"}]
    assert await events(dead_bot) == [("f1", "opened"), ("f1", "added")]


async def test_an_event_that_cannot_be_applied_is_marked_failed(dead_bot: Bot, monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    real = Applier._incident_for

    async def poisoned(self: Applier, session: Any, snap: Any, alert: Any, *args: Any) -> Any:
        if alert.summary == "poison":
            raise ValueError("cannot apply this one")
        return await real(self, session, snap, alert, *args)

    monkeypatch.setattr(Applier, "_incident_for", poisoned)
    key = dead_bot.keys["engagement"]
    for dedup, summary in (("a", "fine"), ("p", "poison"), ("b", "fine too")):
        await dead_bot.post("/v2/enqueue", pd(key, dedup=dedup, summary=summary))
    with caplog.at_level(logging.ERROR, logger="bot.alerts"):
        assert await dead_bot.routes.intake.drain() == 3
    assert await events(dead_bot) == [("a", "opened"), ("p", "failed"), ("b", "joined")]
    assert any("could not be applied" in r.getMessage() and "cannot apply this one" in r.getMessage()
               for r in caplog.records)


async def test_concurrent_accepts_share_statements_and_a_bad_row_fails_alone() -> None:
    from bot.services.alerts.batch import GroupInsert

    statements: list[list[int]] = []
    counter = iter(range(1, 1000))

    async def insert(rows: list[dict[str, Any]]) -> list[int]:
        statements.append([r["n"] for r in rows])
        await asyncio.sleep(0.01)
        if any(r["n"] == 13 for r in rows):
            raise ValueError("bad row")
        return [next(counter) for _ in rows]

    group = GroupInsert(insert, in_flight=1)
    got = await asyncio.gather(*(group([{"n": n}]) for n in range(1, 6)), group([{"n": 13}]), group([{"n": 7}]),
                               return_exceptions=True)
    assert statements[0] == [1]  # alone, at once
    assert statements[1] == [2, 3, 4, 5, 13, 7]  # the rest, together
    assert statements[2:] == [[2], [3], [4], [5], [13], [7]]  # that failed: each alone
    assert isinstance(got[5], ValueError)
    assert [g for i, g in enumerate(got) if i != 5] == [[1], [2], [3], [4], [5], [6]]


async def test_no_other_applier_runs_while_an_incident_follows_its_alerts(dead_bot: Bot,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The turn covers the follow after the commit: a second applier (another replica, the minute
    tick) waits, so the trigger after the resolve cannot join the incident being resolved."""
    if dead_bot.deps.db.dialect != "postgresql":
        pytest.skip("SQLite: one bot process at a time (the turn is each transaction's own)")
    key = dead_bot.keys["engagement"]
    for action in ("trigger", "resolve"):
        assert (await dead_bot.post("/v2/enqueue", pd(key, action=action, dedup="a")))[0] == 202
    following, go_on = asyncio.Event(), asyncio.Event()
    real = Applier._follow_incident

    async def slow_follow(self: Applier, *args: Any) -> None:
        following.set()
        await go_on.wait()
        await real(self, *args)

    monkeypatch.setattr(Applier, "_follow_incident", slow_follow)
    first = svc.Intake(dead_bot.deps, dead_bot.routes.snapshots)
    one = asyncio.create_task(first.drain())
    await asyncio.wait_for(following.wait(), 30)
    assert (await dead_bot.post("/v2/enqueue", pd(key, dedup="b")))[0] == 202
    other = svc.Intake(dead_bot.deps, dead_bot.routes.snapshots)
    two = asyncio.create_task(other.drain())
    await asyncio.sleep(0.5)
    assert not two.done() and ("b", "queued") in await events(dead_bot)  # waiting for the turn
    go_on.set()
    assert await asyncio.wait_for(one, 30) + await asyncio.wait_for(two, 30) == 3
    assert await events(dead_bot) == [("a", "opened"), ("a", "resolved"), ("b", "opened")]
    newest, resolved = await svc.incidents(dead_bot.deps.db)
    assert resolved["state"] == "resolved" and resolved["dedup_keys"] == ["a"]
    assert newest["state"] == "open" and newest["dedup_keys"] == ["b"]
