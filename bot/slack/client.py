"""The one AsyncWebClient of a running bot: shared aiohttp session, retries, base URL, time-out.

Retries: 429s for every method; connection errors and 5xx only for methods that are safe to
repeat (``NOT_IDEMPOTENT`` are never retried blindly: the outbox delivers what must arrive).
"""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.slack.metrics import Metrics, SlackErrorObserver, api_method

DEFAULT_API_URL = "https://slack.com/api/"
TIMEOUT_SECONDS = 10

log = logging.getLogger(__name__)


def api_url(settings: Settings) -> str:
    """The Web API base URL (ONCALL_SLACK_API_URL or Slack's), always ending with ``/``."""
    url = settings.slack_api_url or DEFAULT_API_URL
    return url if url.endswith("/") else url + "/"


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


NOT_IDEMPOTENT = frozenset({
    "chat.postMessage", "chat.postEphemeral", "chat.meMessage", "chat.scheduleMessage",
    "files.upload", "files.completeUploadExternal", "conversations.create",
})
"""Web API methods that must not be sent again after a time-out, a lost connection or a 5xx: the
first attempt may have worked, and a second is a second message. (A 429 is retried: Slack did
not do it.) What must arrive goes through the outbox, which looks for the first post first."""


class IdempotentOnly(AsyncRetryHandler):
    """Wraps a retry handler so that it never retries a ``NOT_IDEMPOTENT`` method."""

    def __init__(self, inner: AsyncRetryHandler) -> None:
        super().__init__(max_retry_count=inner.max_retry_count, interval_calculator=inner.interval_calculator)
        self.inner = inner

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if api_method(request.url) in NOT_IDEMPOTENT:
            return False
        return await self.inner.can_retry_async(state=state, request=request, response=response, error=error)

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        await self.inner.prepare_for_next_attempt_async(state=state, request=request, response=response, error=error)


def retry_handlers(metrics: Metrics | None = None) -> list[AsyncRetryHandler]:
    """Observer first (it sees every attempt), then connection errors and 5xx (idempotent methods
    only: never a blind second ``chat.postMessage``), then 429 (Retry-After; any method)."""
    handlers: list[AsyncRetryHandler] = [SlackErrorObserver(metrics)] if metrics is not None else []
    handlers += [
        IdempotentOnly(AsyncConnectionErrorRetryHandler(max_retry_count=2)),
        AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        IdempotentOnly(AsyncServerErrorRetryHandler(max_retry_count=2)),
    ]
    return handlers


def make_client(settings: Settings, metrics: Metrics | None = None) -> AsyncWebClient:
    """The bot's Web API client. Call inside the running loop; ``close_client`` closes its session.

    Proxies: the session ignores the environment (``trust_env=False``) and a loopback base URL
    (tests, local fakes) never goes through a proxy. For Slack itself slack_sdk's own rule applies:
    HTTPS_PROXY/HTTP_PROXY are used when set (it ignores NO_PROXY).
    """
    base_url = api_url(settings)
    timeout = float(getattr(settings, "slack_timeout_seconds", None) or TIMEOUT_SECONDS)
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout), trust_env=False)
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = AsyncWebClient(
        token=token,
        base_url=base_url,
        session=session,
        timeout=int(max(1, timeout)),
        proxy=None,
        trust_env_in_session=False,
        retry_handlers=retry_handlers(metrics if metrics is not None else Metrics()),
    )
    if is_loopback(base_url):
        client.proxy = None
    return client


async def close_client(client: AsyncWebClient) -> None:
    """Close the shared session of a client made by ``make_client``."""
    session = client.session
    if session is not None and not session.closed:
        await session.close()
