"""Fixtures for alert tests: the bot's web app (``build_web_app``, console mode: no bolt app)
served on 127.0.0.1 by aiohttp's test server, on the ``db`` fixture's database (SQLite and
PostgreSQL), with the fake Slack workspace for the outbox; a routing key per test."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest_asyncio
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.append(_ROOT)

from bot.config import Settings  # noqa: E402
from bot.http.alerts import ROUTES, AlertRoutes  # noqa: E402
from bot.services import alerts as svc  # noqa: E402
from bot.services.incidents import outbox  # noqa: E402
from bot.slack.deps import SlackDeps  # noqa: E402
from bot.slack.server import build_web_app  # noqa: E402
from bot.storage.bootstrap import Database  # noqa: E402
from tests.incidents.conftest import add_channels  # noqa: E402
from tests.support.fake_slack import FakeSlack  # noqa: E402
from tests.support.fixtures import fake_slack, no_proxy_env, web_client_for  # noqa: E402, F401

TZ = ZoneInfo("America/New_York")
START = datetime(2026, 12, 1, 10, 0, tzinfo=TZ)  # a Tuesday, business hours


class MovableClock:
    """A clock the test moves (never the wall clock)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **kw: float) -> None:
        self.at += timedelta(**kw)


@dataclass
class Bot:
    deps: SlackDeps
    routes: AlertRoutes
    http: ClientSession
    base: str
    slack: FakeSlack
    clock: MovableClock
    keys: dict[str, str]

    async def post(self, path: str, body: Any = None, *, key: str | None = None,
                   raw: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any, Any]:
        h = dict(headers or {})
        if key is not None:
            h["Authorization"] = f"Bearer {key}"
        kwargs: dict[str, Any] = {"data": raw} if raw is not None else {"json": body}
        async with self.http.post(self.base + path, headers=h, **kwargs) as resp:
            text = await resp.text()
            try:
                import json

                data = json.loads(text)
            except ValueError:
                data = text
            return resp.status, data, resp.headers

    async def settle(self) -> None:
        """Wait for the intake's applier to apply what was accepted, and for its outbox kick,
        then send what is due now (the minute tick's work)."""
        for _ in range(2):
            await self.routes.intake.applied()
            await self.routes.intake.kicker.wait()
            while self.deps.background.tasks:
                await asyncio.wait(set(self.deps.background.tasks))
            snap = await self.routes.snapshots()
            await outbox.deliver(self.deps, snap, self.clock())

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        calls = self.slack.calls_to("chat.postMessage", ok_only=True)
        return [{**c.params, "channel": (c.response or {}).get("channel")} for c in calls
                if channel is None or (c.response or {}).get("channel") == channel]

    def updates(self) -> list[dict[str, Any]]:
        return [c.params for c in self.slack.calls_to("chat.update", ok_only=True)]


async def make_bot(db: Database, settings: Settings, slack: FakeSlack, *, keys: dict[str, str] | None = None,
                   clock: MovableClock | None = None, **overrides: Any) -> AsyncIterator[Bot]:
    """A bot process's web app on ``db`` (several on one database are replicas: pass the first
    one's ``keys`` and ``clock``)."""
    if keys is None:
        add_channels(slack)
    clock = clock or MovableClock(START)
    settings = settings.model_copy(update={"outbox_kick_wait": 0.5, **overrides})
    deps = SlackDeps(settings=settings, db=db, client=web_client_for(slack, retries=False), clock=clock)
    web_app = build_web_app(deps, None)
    routes = web_app[ROUTES]
    server = TestServer(web_app, host="127.0.0.1")
    await server.start_server()
    if keys is None:
        keys = {}
        for pipeline in ("engagement", "profit", "growth"):
            keys[pipeline] = (await svc.add(db, pipeline, f"{pipeline} monitor", clock())).routing_key
    async with ClientSession() as http:
        try:
            yield Bot(deps, routes, http, f"http://127.0.0.1:{server.port}", slack, clock, keys)
        finally:
            await routes.intake.applied()
            await routes.intake.kicker.wait()
            await deps.background.drain()
            await server.close()


@pytest_asyncio.fixture
async def alert_bot(db: Database, settings: Settings, fake_slack: FakeSlack) -> AsyncIterator[Bot]:  # noqa: F811
    async for bot in make_bot(db, settings, fake_slack):
        yield bot


def pd(key: str, action: str = "trigger", dedup: str | None = "disk-full", severity: str = "error",
       summary: str = "Disk full on ingest-1", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"routing_key": key, "event_action": action}
    if dedup is not None:
        body["dedup_key"] = dedup
    if action == "trigger":
        body["payload"] = {"summary": summary, "source": "ingest-1", "severity": severity,
                           "custom_details": {"free_gb": 0}}
    body.update(extra)
    return body


Check = Callable[..., Any]
