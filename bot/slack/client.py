"""The one AsyncWebClient of a running bot: shared aiohttp session, retries, base URL."""

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
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.slack.metrics import Metrics, SlackErrorObserver

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


def retry_handlers(metrics: Metrics | None = None) -> list[AsyncRetryHandler]:
    """Observer first (it sees every attempt), then connection errors, 429 (Retry-After), 5xx."""
    handlers: list[AsyncRetryHandler] = [SlackErrorObserver(metrics)] if metrics is not None else []
    handlers += [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        AsyncServerErrorRetryHandler(max_retry_count=2),
    ]
    return handlers


def make_client(settings: Settings, metrics: Metrics | None = None) -> AsyncWebClient:
    """The bot's Web API client. Call inside the running loop; ``close_client`` closes its session.

    Proxies: the session ignores the environment (``trust_env=False``) and a loopback base URL
    (tests, local fakes) never goes through a proxy. For Slack itself slack_sdk's own rule applies:
    HTTPS_PROXY/HTTP_PROXY are used when set (it ignores NO_PROXY).
    """
    base_url = api_url(settings)
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS), trust_env=False)
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = AsyncWebClient(
        token=token,
        base_url=base_url,
        session=session,
        timeout=TIMEOUT_SECONDS,
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
