"""Fixtures of the scheduled-work tests: a FakeSlack on virtual time with the seed's workspace,
and tickers aimed at it (on the ``db`` fixture: SQLite and PostgreSQL)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.append(_ROOT)

from bot.services.deliveries import DeliveryConfig, WebSlackPort  # noqa: E402
from bot.services.scheduled import ScheduleConfig, Ticker  # noqa: E402
from bot.storage.bootstrap import Database  # noqa: E402
from tests.slack.harness import bot  # noqa: E402, F401
from tests.support.fake_slack import FakeSlack, ManualClock  # noqa: E402
from tests.support.fixtures import fake_slack, no_proxy_env, web_client_for  # noqa: E402, F401

from .helpers import VirtualTime, seed_workspace  # noqa: E402


@pytest.fixture
def vt() -> VirtualTime:
    return VirtualTime(ManualClock())


@pytest.fixture
async def slack(vt: VirtualTime, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeSlack]:
    """A FakeSlack whose clock is the virtual time, with the seed's users, channels and groups."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    async with FakeSlack(clock=vt.clock) as fake:
        seed_workspace(fake)
        yield fake


TickerFactory = Callable[..., Ticker]


@pytest.fixture
async def make_ticker(db: Database, slack: FakeSlack, vt: VirtualTime) -> AsyncIterator[TickerFactory]:
    """``make_ticker(grace=..., owner=..., **delivery_config)``: a Ticker on ``db`` posting to the
    fake through the Web API client (no client-side retry handlers: 429s reach our limiter)."""
    clients = []

    def make(*, owner: str | None = None, **kw: Any) -> Ticker:
        client = web_client_for(slack, retries=False)
        clients.append(client)
        grace = kw.pop("grace", None)
        config = ScheduleConfig(delivery=DeliveryConfig(**kw))
        if grace is not None:
            config.grace = grace
        return Ticker(db, WebSlackPort(client), config=config, owner=owner, monotonic=vt, sleep=vt.sleep)

    yield make
    for c in clients:
        if c.session is not None and not c.session.closed:
            await c.session.close()
