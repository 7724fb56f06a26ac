"""A running bot for the Slack tests: ``build_app`` + ``build_web_app`` served on 127.0.0.1 (an
ephemeral port), its Web API client pointed at a FakeSlack, on the ``db`` fixture (SQLite and
PostgreSQL), with the clock fixed at Tuesday 2026-12-01 10:00 in New York."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from pydantic import SecretStr
from slack_bolt.async_app import AsyncApp

from bot.clock import fixed_clock
from bot.config import Settings
from bot.slack.app import build_app
from bot.slack.client import close_client, make_client
from bot.slack.context import BotContext, context_of
from bot.slack.deps import SlackDeps
from bot.slack.guard import GuardedSite
from bot.slack.server import EVENTS_PATH, build_web_app
from bot.storage.bootstrap import Database
from tests.support.fake_slack import FakeSlack
from tests.support.signing import TEST_SIGNING_SECRET, SlackClientSim

# Tuesday 2026-12-01 10:00 America/New_York: a business day, Engagement is covered.
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
DANA = "U0DE00001"  # de1, Data Engineering
DEV = "U0DE00002"  # de2


def slack_settings(base: Settings, slack: FakeSlack, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_api_url": slack.api_url,
        "slack_bot_token": SecretStr(slack.bot_token),
        "slack_signing_secret": SecretStr(TEST_SIGNING_SECRET),
        "http_port": 0,
    }
    values.update(extra)
    return base.model_copy(update=values)


@dataclass
class RunningBot:
    """The bot under test and the two sides of Slack around it."""

    url: str
    events_url: str
    slack: FakeSlack
    sim: SlackClientSim
    deps: SlackDeps
    app: AsyncApp

    @property
    def ctx(self) -> BotContext:
        return context_of(self.app)

    async def settle(self) -> None:
        """Wait for the bot's background work (replies posted after the ack), including the work
        that work started (e.g. the outbox kicked after a change)."""
        for _ in range(5):
            if not self.deps.background.tasks:
                return
            await self.deps.background.drain(timeout=10)


async def serve(web_app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = GuardedSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


@asynccontextmanager
async def running_bot(config: Settings, db: Database, fake_slack: FakeSlack) -> AsyncIterator[RunningBot]:
    """The bot's app and HTTP server on ``db`` with ``config`` (see ``slack_settings``), its clock at NOW."""
    client = make_client(config)
    deps = SlackDeps(settings=config, db=db, client=client, clock=fixed_clock(NOW))
    app = build_app(deps)
    runner, url = await serve(build_web_app(deps, app))
    sim = SlackClientSim(signing_secret=TEST_SIGNING_SECRET)
    try:
        yield RunningBot(url, url + EVENTS_PATH, fake_slack, sim, deps, app)
    finally:
        await sim.close()
        await runner.cleanup()
        await deps.background.drain(timeout=5)
        await context_of(app).cache.close()
        await close_client(client)


@pytest.fixture
async def bot(settings: Settings, db: Database, fake_slack: FakeSlack) -> AsyncIterator[RunningBot]:
    async with running_bot(slack_settings(settings, fake_slack), db, fake_slack) as running:
        yield running
