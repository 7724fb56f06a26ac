"""pytest fixtures for the Slack test harness.

Use from a conftest with ``pytest_plugins = ["tests.support.fixtures"]`` (top-level conftest
only), or import the fixtures into a conftest namespace::

    from tests.support.fixtures import fake_slack, no_proxy_env  # noqa: F401
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from .fake_slack import FakeSlack
from .signing import TEST_SIGNING_SECRET, SlackClientSim

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")

FakeSlackFactory = Callable[..., Awaitable[FakeSlack]]


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove proxy variables: slack_sdk reads HTTP(S)_PROXY and ignores NO_PROXY, so a proxy
    in the environment breaks calls to 127.0.0.1. Clients read them when constructed: request
    this fixture before building any client."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest_asyncio.fixture
async def fake_slack(no_proxy_env: None) -> AsyncIterator[FakeSlack]:
    """A started :class:`FakeSlack` with default settings (bot token ``xoxb-test``, app token
    ``xapp-test``, no token checking)."""
    async with FakeSlack() as slack:
        yield slack


@pytest_asyncio.fixture
async def fake_slack_factory(no_proxy_env: None) -> AsyncIterator[FakeSlackFactory]:
    """``slack = await fake_slack_factory(check_tokens=True, users=[...])``; stopped at teardown."""
    started: list[FakeSlack] = []

    async def make(**kwargs: Any) -> FakeSlack:
        slack = await FakeSlack(**kwargs).start()
        started.append(slack)
        return slack

    yield make
    for slack in reversed(started):
        await slack.stop()


def web_client_for(slack: FakeSlack, *, retries: bool = True, token: str | None = None) -> AsyncWebClient:
    """An AsyncWebClient aimed at ``slack``; with ``retries`` it has the 429 and 5xx retry
    handlers the bot should use (the default client only retries connection errors)."""
    handlers: list[AsyncRetryHandler] = []
    if retries:
        handlers = [
            AsyncConnectionErrorRetryHandler(),
            AsyncRateLimitErrorRetryHandler(),
            AsyncServerErrorRetryHandler(),
        ]
    return AsyncWebClient(token=token or slack.bot_token, base_url=slack.api_url, retry_handlers=handlers)


@pytest.fixture
def slack_web_client(fake_slack: FakeSlack) -> AsyncWebClient:
    """An AsyncWebClient on :func:`fake_slack` without retry handlers (a 429 raises)."""
    return web_client_for(fake_slack, retries=False)


@pytest_asyncio.fixture
async def slack_sim(no_proxy_env: None) -> AsyncIterator[SlackClientSim]:
    """A :class:`SlackClientSim` signing with ``TEST_SIGNING_SECRET``."""
    async with SlackClientSim(signing_secret=TEST_SIGNING_SECRET) as sim:
        yield sim
