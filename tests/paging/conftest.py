"""Fixtures for pages beyond Slack: a local SMTP server (aiosmtpd) and a local HTTP server that
receive real Apprise notifications, and the incident dependencies with a secret key and a public
URL, on the ``db`` fixture's database (SQLite and PostgreSQL) and the fake Slack workspace."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from aiohttp import web
from aiosmtpd.controller import Controller

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.append(_ROOT)

from bot.clock import fixed_clock  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.slack.deps import SlackDeps  # noqa: E402
from bot.storage.bootstrap import Database  # noqa: E402
from tests.incidents.conftest import CHANNELS, add_channels  # noqa: E402
from tests.support.fake_slack import FakeSlack  # noqa: E402
from tests.support.fixtures import fake_slack, no_proxy_env, web_client_for  # noqa: E402, F401

TZ = ZoneInfo("America/New_York")
NIGHT = datetime(2026, 12, 1, 3, 0, tzinfo=TZ)  # Tuesday 03:00: Profit is not covered; de1 holds DE R1
DANA = "U0DE00001"
SECRET = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
PUBLIC = "https://oncall.test"
PROFIT = CHANNELS["data-profit"]


@dataclass
class Received:
    """What a local server received, and an event-driven wait for it."""

    items: list[Any] = field(default_factory=list)
    loop: asyncio.AbstractEventLoop | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, item: Any) -> None:
        self.items.append(item)
        self.changed.set()

    def add_threadsafe(self, item: Any) -> None:
        assert self.loop is not None
        self.loop.call_soon_threadsafe(self.add, item)

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Any]:  # noqa: ASYNC109
        async def loop() -> None:
            while len(self.items) < count:
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(loop(), timeout)
        return list(self.items)


class _Handler:
    def __init__(self, received: Received) -> None:
        self.received = received

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        self.received.add_threadsafe({"to": list(envelope.rcpt_tos), "subject": str(msg["subject"]), "body": text})
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest_asyncio.fixture
async def smtp() -> AsyncIterator[tuple[Received, int]]:
    """A local SMTP server (no TLS, no login) on 127.0.0.1; its received mails and its port."""
    received = Received(loop=asyncio.get_running_loop())
    port = _free_port()
    controller = Controller(_Handler(received), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield received, port
    finally:
        controller.stop()


@pytest_asyncio.fixture
async def sink() -> AsyncIterator[tuple[Received, str]]:
    """A local HTTP server taking ``json://`` and ``ntfy://`` pages; what it got and its host:port."""
    received = Received(loop=asyncio.get_running_loop())

    async def take(request: web.Request) -> web.Response:
        received.add({"path": request.path, "json": await request.json()})
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", take)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield received, f"127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def mail_url(port: int, to: str = "de1@example.com") -> str:
    return f"mailto://127.0.0.1:{port}?from=oncall@example.com&to={to}&secure=no"


@pytest_asyncio.fixture
async def workspace(fake_slack: FakeSlack) -> FakeSlack:  # noqa: F811
    add_channels(fake_slack)
    fake_slack.add_user(id=DANA, name="de1")
    return fake_slack


@pytest.fixture
def paging_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"secret_key": SECRET, "public_url": PUBLIC, "outbox_kick_wait": 10.0})


@pytest_asyncio.fixture
async def deps(db: Database, paging_settings: Settings, workspace: FakeSlack) -> AsyncIterator[SlackDeps]:
    client = web_client_for(workspace, retries=False)
    d = SlackDeps(settings=paging_settings, db=db, client=client, clock=fixed_clock(NIGHT))
    try:
        yield d
    finally:
        await d.background.drain(timeout=10)
