"""Alert intake over real HTTP (issue 12 §1-§2), on SQLite and PostgreSQL: PagerDuty Events v2
answers, keys, rate limit, storms, the join rule, acknowledge/resolve, Alertmanager, generic."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.config import Settings
from bot.services import alerts as svc
from bot.storage import alerts as repo
from bot.storage.bootstrap import Database
from tests.alerts.conftest import Bot, make_bot, pd
from tests.support.fake_slack import FakeSlack

ENGAGE = "C0DENGAGE"


async def incidents(bot: Bot) -> list[dict]:
    return await svc.incidents(bot.deps.db)


async def test_trigger_opens_an_incident_like_slash_incident(alert_bot: Bot) -> None:
    status, body, _ = await alert_bot.post("/v2/enqueue", pd(alert_bot.keys["engagement"]))
    assert (status, body) == (202, {"status": "success", "message": "Event processed", "dedup_key": "disk-full"})
    await alert_bot.settle()
    (inc,) = await incidents(alert_bot)
    assert inc["pipeline"] == "engagement" and inc["source"] == "alert" and inc["severity"] == "error"
    assert inc["state"] == "open" and inc["alerts"] == 1 and inc["dedup_keys"] == ["disk-full"]
    assert inc["fix_by"] is None
    channel = alert_bot.posts(ENGAGE)
    top = [p for p in channel if "thread_ts" not in p]
    assert len(top) == 1 and "Disk full on ingest-1" in top[0]["text"]
    thread = [p["text"] for p in channel if "thread_ts" in p]
    assert any("Opened by an alert (error)" in t for t in thread)
    assert any("*Alert* `disk-full`" in t and "free_gb" in t for t in thread)
    dms = [p for p in alert_bot.posts() if str(p.get("channel", "")).startswith("D")]
    assert len(dms) == 1  # the primary at that instant was paged


async def test_no_dedup_key_gets_a_generated_one(alert_bot: Bot) -> None:
    status, body, _ = await alert_bot.post("/v2/enqueue", pd(alert_bot.keys["engagement"], dedup=None))
    assert status == 202 and len(body["dedup_key"]) == 32


async def test_unknown_revoked_and_bad_events_get_pagerdutys_400(alert_bot: Bot) -> None:
    status, body, _ = await alert_bot.post("/v2/enqueue", pd("x" * 32))
    assert status == 400 and body["status"] == "invalid event" and body["message"] == "Event object is invalid"
    assert body["errors"] == ["Invalid routing key"]
    (listed,) = [i for i in await svc.listed(alert_bot.deps.db) if i.pipeline == "growth"]
    await svc.revoke(alert_bot.deps.db, listed.id, alert_bot.clock())
    alert_bot.routes.keys.ttl = 0  # no cache in this test: a revoked key is refused at once
    status, body, _ = await alert_bot.post("/v2/enqueue", pd(alert_bot.keys["growth"]))
    assert status == 400 and body["errors"] == ["Invalid routing key"]
    key = alert_bot.keys["engagement"]
    status, body, _ = await alert_bot.post("/v2/enqueue", pd(key, summary="x" * 1025))
    assert status == 400 and any(e.startswith("payload.summary:") for e in body["errors"])
    status, body, _ = await alert_bot.post("/v2/enqueue", pd(key, severity="fatal"))
    assert status == 400 and any(e.startswith("payload.severity:") for e in body["errors"])
    status, body, _ = await alert_bot.post("/v2/enqueue", pd(key, dedup="k" * 256))
    assert status == 400 and any(e.startswith("dedup_key:") for e in body["errors"])
    status, body, _ = await alert_bot.post("/v2/enqueue", pd(key, action="resolve", dedup=None))
    assert status == 400
    status, body, _ = await alert_bot.post("/v2/enqueue", raw=b"{not json",
                                           headers={"Content-Type": "application/json"})
    assert status == 400 and body["status"] == "invalid event"
    status, _, _ = await alert_bot.post("/v2/enqueue", raw=b"{" + b" " * (600 * 1024) + b"}")
    assert status == 413
    assert await incidents(alert_bot) == []


async def test_a_storm_is_one_line_edited_at_most_every_30_s(alert_bot: Bot) -> None:
    key = alert_bot.keys["engagement"]
    for i in range(12):
        status, _, _ = await alert_bot.post("/v2/enqueue", pd(key, summary=f"Disk full ({i})"))
        assert status == 202
    await alert_bot.settle()
    (inc,) = await incidents(alert_bot)
    assert inc["alerts"] == 1
    async with alert_bot.deps.db.sessions() as session:
        (alert,) = await repo.alerts_of(session, inc["id"])
        assert alert.count == 12 and await repo.event_count(session) == 12
    lines = [p for p in alert_bot.posts(ENGAGE) if "*Alert*" in p["text"]]
    assert len(lines) == 1
    assert [u for u in alert_bot.updates() if "*Alert*" in u["text"]] == []  # not before its window ends
    alert_bot.clock.advance(seconds=31)
    await alert_bot.settle()
    edits = [u for u in alert_bot.updates() if "*Alert*" in u["text"]]
    assert len(edits) == 1 and "×12" in edits[0]["text"] and "Disk full (11)" in edits[0]["text"]
    for _ in range(5):  # the next window: one more edit
        await alert_bot.post("/v2/enqueue", pd(key))
    alert_bot.clock.advance(seconds=31)
    await alert_bot.settle()
    edits = [u for u in alert_bot.updates() if "*Alert*" in u["text"]]
    assert len(edits) == 2 and "×17" in edits[1]["text"]


async def test_new_keys_join_the_open_incident_unless_more_severe(alert_bot: Bot) -> None:
    key = alert_bot.keys["engagement"]
    await alert_bot.post("/v2/enqueue", pd(key, dedup="a", severity="error"))
    await alert_bot.post("/v2/enqueue", pd(key, dedup="b", severity="warning"))
    await alert_bot.post("/v2/enqueue", pd(key, dedup="c", severity="error"))
    await alert_bot.settle()
    (inc,) = await incidents(alert_bot)
    assert inc["alerts"] == 3 and inc["dedup_keys"] == ["a", "b", "c"]
    await alert_bot.post("/v2/enqueue", pd(key, dedup="d", severity="critical", summary="Warehouse down"))
    await alert_bot.settle()
    newest, first = await incidents(alert_bot)
    assert newest["severity"] == "critical" and newest["dedup_keys"] == ["d"] and first["alerts"] == 3
    assert len([p for p in alert_bot.posts(ENGAGE) if "thread_ts" not in p]) == 2


async def test_acknowledge_then_resolve_from_the_monitor(alert_bot: Bot) -> None:
    key = alert_bot.keys["engagement"]
    await alert_bot.post("/v2/enqueue", pd(key, dedup="a"))
    await alert_bot.post("/v2/enqueue", pd(key, dedup="b"))
    status, body, _ = await alert_bot.post("/v2/enqueue", pd(key, action="acknowledge", dedup="a"))
    assert (status, body["dedup_key"]) == (202, "a")
    await alert_bot.settle()
    assert (await incidents(alert_bot))[0]["state"] == "open"  # b is still open
    await alert_bot.post("/v2/enqueue", pd(key, action="acknowledge", dedup="b"))
    await alert_bot.settle()
    assert (await incidents(alert_bot))[0]["state"] == "acknowledged"
    await alert_bot.post("/v2/enqueue", pd(key, action="resolve", dedup="a"))
    await alert_bot.settle()
    assert (await incidents(alert_bot))[0]["state"] == "acknowledged"
    await alert_bot.post("/v2/enqueue", pd(key, action="resolve", dedup="b"))
    await alert_bot.settle()
    (inc,) = await incidents(alert_bot)
    assert inc["state"] == "resolved"
    thread = [p["text"] for p in alert_bot.posts(ENGAGE) if "thread_ts" in p]
    assert any("All 2 alerts of this incident resolved by the monitor: incident resolved." in t for t in thread), thread
    assert any("The monitor acknowledged alert `a`" in t for t in thread)
    top = [u for u in alert_bot.updates() if "RESOLVED" in u["text"]]
    assert top  # the incident message (and its buttons) updated
    # dropped: a resolve for a key with no open alert is stored, answered 202, changes nothing
    status, _, _ = await alert_bot.post("/v2/enqueue", pd(key, action="resolve", dedup="a"))
    assert status == 202
    # after resolve the same key opens a new alert (and, the incident being resolved, a new incident)
    await alert_bot.post("/v2/enqueue", pd(key, dedup="a"))
    await alert_bot.settle()
    assert len(await incidents(alert_bot)) == 2
    async with alert_bot.deps.db.sessions() as session:
        assert await repo.event_count(session) == 8  # every event, the dropped one too


async def test_alertmanager_webhook(alert_bot: Bot) -> None:
    key = alert_bot.keys["profit"]
    alerts = [{"status": "firing", "labels": {"alertname": "RevenueLag", "severity": "warning"},
               "annotations": {"summary": "Revenue load is 2 h late"}, "fingerprint": "f1",
               "startsAt": "2026-12-01T15:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
               "generatorURL": "http://prometheus:9090/graph?g0.expr=lag"},
              {"status": "firing", "labels": {"alertname": "RevenueRows", "severity": "warning"},
               "annotations": {"description": "Row count dropped"}, "fingerprint": "f2"}]
    hook = {"version": "4", "status": "firing", "receiver": "oncall", "alerts": alerts,
            "externalURL": "http://alertmanager:9093"}
    status, body, _ = await alert_bot.post("/api/v1/alertmanager", hook)
    assert status == 401
    status, body, _ = await alert_bot.post("/api/v1/alertmanager", hook, key=key)
    assert status == 202 and [a["outcome"] for a in body["alerts"]] == ["opened", "joined"]
    for a in alerts:
        a["status"] = "resolved"
    status, body, _ = await alert_bot.post("/api/v1/alertmanager", {**hook, "status": "resolved"}, key=key)
    assert [a["outcome"] for a in body["alerts"]] == ["resolved", "resolved"]
    await alert_bot.settle()
    (inc,) = await incidents(alert_bot)
    assert inc["state"] == "resolved" and inc["dedup_keys"] == ["f1", "f2"] and inc["severity"] == "warning"


async def test_generic_json(alert_bot: Bot) -> None:
    key = alert_bot.keys["growth"]
    body = {"summary": "dbt run failed: 3 models", "severity": "error", "dedup_key": "dbt-nightly",
            "details": {"failed": ["a", "b", "c"]}, "links": [{"href": "https://ci.example.com/1", "text": "CI"}]}
    status, got, _ = await alert_bot.post("/api/v1/alerts", body, key=key)
    assert (status, got["dedup_key"]) == (202, "dbt-nightly")
    status, got, _ = await alert_bot.post("/api/v1/alerts", {"severity": "error"}, key=key)
    assert status == 400 and got["status"] == "invalid event"
    status, got, _ = await alert_bot.post("/api/v1/alerts", body, key="nope")
    assert status == 401
    status, got, _ = await alert_bot.post("/api/v1/alerts", {"action": "resolve", "dedup_key": "dbt-nightly"}, key=key)
    assert status == 202
    await alert_bot.settle()
    (inc,) = await incidents(alert_bot)
    assert inc["state"] == "resolved" and inc["pipeline"] == "growth"


@pytest_asyncio.fixture
async def limited_bot(db: Database, settings: Settings, fake_slack: FakeSlack) -> AsyncIterator[Bot]:
    async for bot in make_bot(db, settings, fake_slack, alert_rate_per_second=0.5, alert_burst=3):
        yield bot


async def test_a_key_over_its_rate_gets_429_with_retry_after(limited_bot: Bot) -> None:
    key = limited_bot.keys["engagement"]
    answers = [await limited_bot.post("/v2/enqueue", pd(key)) for _ in range(4)]
    assert [a[0] for a in answers] == [202, 202, 202, 429]
    assert int(answers[3][2]["Retry-After"]) >= 1
    other = await limited_bot.post("/v2/enqueue", pd(limited_bot.keys["profit"]))
    assert other[0] == 202  # per key


async def test_an_incident_a_person_opened_stays_open_when_its_alerts_resolve(alert_bot: Bot) -> None:
    from bot.services import incidents as incident_service

    opened = await incident_service.open_incident(alert_bot.deps, "engagement", "Clickstream looks stale", False,
                                                  "de1", alert_bot.clock())
    key = alert_bot.keys["engagement"]
    await alert_bot.post("/v2/enqueue", pd(key, dedup="lag"))
    await alert_bot.settle()
    (inc,) = await incidents(alert_bot)
    assert (inc["id"], inc["source"], inc["dedup_keys"]) == (opened.incident.id, "slack", ["lag"])  # joined
    await alert_bot.post("/v2/enqueue", pd(key, action="resolve", dedup="lag"))
    await alert_bot.settle()
    (inc,) = await incidents(alert_bot)
    assert inc["state"] == "open"  # a person opened it: a person resolves it
    thread = [p["text"] for p in alert_bot.posts(ENGAGE) if "thread_ts" in p]
    assert any("The monitor resolved alert `lag`" in t for t in thread), thread


async def raw_post(bot: Bot, body: bytes, parts: list[bytes], pause: float) -> bytes:
    """POST /v2/enqueue over a raw socket: the headers (Content-Length of ``body``), then ``parts``
    of the body ``pause`` seconds apart; the answer's head and body."""
    import asyncio

    host, port = bot.base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"POST /v2/enqueue HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body))
    for part in parts:
        await writer.drain()
        await asyncio.sleep(pause)
        writer.write(part)
    await writer.drain()
    try:  # the answer as soon as it is whole (the server may linger before it closes)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        return head + await asyncio.wait_for(reader.readexactly(length), 30)
    finally:
        writer.close()


async def test_a_body_that_arrives_in_pieces_is_read_whole_and_one_that_stops_is_a_400(
        alert_bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from bot.http import common

    monkeypatch.setattr(common, "READ_SECONDS", 0.5)
    body = json.dumps(pd(alert_bot.keys["engagement"], dedup="slow")).encode()
    answer = await raw_post(alert_bot, body, [body[:20], body[20:]], 0.1)  # the slow path: read as it arrives
    assert answer.startswith(b"HTTP/1.1 202") and b'"dedup_key": "slow"' in answer
    answer = await raw_post(alert_bot, body, [body[:20]], 0.0)  # the rest never comes
    assert answer.startswith(b"HTTP/1.1 400") and b"Request body not received" in answer
    await alert_bot.settle()
    assert [i["dedup_keys"] for i in await incidents(alert_bot)] == [["slow"]]
