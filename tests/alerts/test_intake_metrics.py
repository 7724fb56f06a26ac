"""The alert intake on ``GET /metrics`` (both databases, real HTTP): requests with a valid routing
key counted by route and status (429s included); requests without one not counted at all; the
inbox's queued and failed events as a gauge, read at each scrape."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest_asyncio

from bot.config import Settings
from bot.storage import alert_inbox as inbox
from bot.storage.bootstrap import Database
from tests.alerts.conftest import Bot, make_bot, pd
from tests.support.fake_slack import FakeSlack


@pytest_asyncio.fixture
async def limited_bot(db: Database, settings: Settings, fake_slack: FakeSlack) -> AsyncIterator[Bot]:
    async for bot in make_bot(db, settings, fake_slack, alert_rate_per_second=0.5, alert_burst=2):
        yield bot


async def scrape(bot: Bot) -> dict[str, float]:
    async with bot.http.get(bot.base + "/metrics") as resp:
        assert resp.status == 200
        text = await resp.text()
    found = re.findall(r"^(oncall_alert_\w+\{[^}]*\}) (\S+)$", text, re.MULTILINE)
    return {name: float(value) for name, value in found}


async def test_requests_with_a_valid_key_are_counted_and_the_inbox_is_a_gauge(limited_bot: Bot) -> None:
    key = limited_bot.keys["engagement"]
    statuses = [(await limited_bot.post("/v2/enqueue", body))[0]
                for body in (pd(key), {"routing_key": key, "event_action": "explode"}, pd(key))]
    assert statuses == [202, 400, 429]
    assert (await limited_bot.post("/v2/enqueue", pd("0" * 32)))[0] == 400  # unknown key: not counted
    assert (await limited_bot.post("/api/v1/alerts", {"summary": "x"}))[0] == 401  # no key: not counted
    hook = {"version": "4", "status": "firing", "alerts": [{"status": "firing", "labels": {"a": "b"}}]}
    assert (await limited_bot.post("/api/v1/alertmanager", hook, key=limited_bot.keys["profit"]))[0] == 202
    await limited_bot.settle()
    at = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    await inbox.accept(limited_bot.deps.db, [inbox.event_row(None, "growth", "trigger", "waits", "error", "x", None,
                                                             None, None, at)])
    got = await scrape(limited_bot)
    requests = {k: v for k, v in got.items() if k.startswith("oncall_alert_requests_total")}
    assert requests == {
        'oncall_alert_requests_total{route="pagerduty",status="202"}': 1.0,
        'oncall_alert_requests_total{route="pagerduty",status="400"}': 1.0,
        'oncall_alert_requests_total{route="pagerduty",status="429"}': 1.0,
        'oncall_alert_requests_total{route="alertmanager",status="202"}': 1.0,
    }
    assert got['oncall_alert_inbox_events{outcome="queued"}'] == 1.0
    assert got['oncall_alert_inbox_events{outcome="failed"}'] == 0.0
