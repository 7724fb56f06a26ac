"""Fixtures of the audit-trail tests: one FakeSlack with the seed's workspace (users, channels,
user groups) that both the incident service and the scheduled work talk to, on the ``db``
fixture's database (SQLite and PostgreSQL), and the running bot for clicks through Slack."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # ``tests.support`` however pytest was started
    sys.path.append(_ROOT)

from bot.clock import fixed_clock  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.slack.deps import SlackDeps  # noqa: E402
from bot.storage.bootstrap import Database  # noqa: E402
from tests.scheduled.helpers import ny, seed_workspace  # noqa: E402
from tests.slack.harness import bot  # noqa: E402, F401
from tests.support.fake_slack import FakeSlack  # noqa: E402
from tests.support.fixtures import fake_slack, no_proxy_env, web_client_for  # noqa: E402, F401


@pytest_asyncio.fixture
async def workspace(fake_slack: FakeSlack) -> FakeSlack:  # noqa: F811
    seed_workspace(fake_slack)
    return fake_slack


@pytest_asyncio.fixture
async def deps(db: Database, settings: Settings, workspace: FakeSlack) -> AsyncIterator[SlackDeps]:
    client = web_client_for(workspace, retries=False)
    try:
        yield SlackDeps(settings=settings, db=db, client=client, clock=fixed_clock(ny(2026, 12, 1, 10)))
    finally:
        if client.session is not None and not client.session.closed:
            await client.session.close()
