"""Fixtures for incident tests: a fake Slack workspace with the seed's channels, and the wired
dependencies on the ``db`` fixture's database (SQLite and PostgreSQL)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # ``tests.support`` however pytest was started
    sys.path.append(_ROOT)

from bot.clock import fixed_clock  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.slack.deps import SlackDeps  # noqa: E402
from bot.storage.bootstrap import Database  # noqa: E402
from tests.slack.harness import RunningBot, bot  # noqa: E402, F401
from tests.support.fake_slack import FakeSlack  # noqa: E402
from tests.support.fixtures import fake_slack, no_proxy_env, web_client_for  # noqa: E402, F401

TZ = ZoneInfo("America/New_York")

# The seed's channels as the fake workspace knows them (name -> id).
CHANNELS = {
    "data-profit": "C0DPROFIT", "data-growth": "C0DGROWTH", "data-engagement": "C0DENGAGE",
    "data-investors": "C0DINVEST", "finance": "C0FINANCE", "risk": "C0RISK000", "accounts": "C0ACCOUNT",
    "frontend": "C0FRONTND", "analytics": "C0ANALYTC", "data-eng": "C0DATAENG", "data-oncall": "C0ONCALL0",
}
REPORTER = "U0ANA0001"


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)  # type: ignore[misc]


def add_channels(slack: FakeSlack) -> None:
    for name, cid in CHANNELS.items():
        slack.add_channel(id=cid, name=name)


@pytest_asyncio.fixture
async def workspace(fake_slack: FakeSlack) -> FakeSlack:  # noqa: F811
    add_channels(fake_slack)
    return fake_slack


@pytest_asyncio.fixture
async def deps(db: Database, settings: Settings, workspace: FakeSlack) -> AsyncIterator[SlackDeps]:
    client = web_client_for(workspace, retries=False)
    yield SlackDeps(settings=settings, db=db, client=client, clock=fixed_clock(local(2026, 12, 1, 10, 0)))


@pytest.fixture
def tz() -> ZoneInfo:
    return TZ


@pytest_asyncio.fixture
async def incident_bot(bot: RunningBot) -> RunningBot:  # noqa: F811
    """The running bot (tests/slack/harness.py) with the seed's channels in its fake workspace."""
    add_channels(bot.slack)
    return bot
