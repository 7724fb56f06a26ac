"""The HTTP side without Slack: in console mode (``oncall-bot run`` without Slack credentials)
GET /healthz, GET /metrics and the calendar feeds are served on ONCALL_HTTP_PORT as in Slack mode
(no POST /slack/events), so that the links the console hands out work."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from aiohttp import web

from bot.clock import clock_from
from bot.config import Settings
from bot.slack.client import close_client, make_client
from bot.slack.deps import SlackDeps
from bot.slack.guard import GuardedSite
from bot.slack.server import DRAIN_SECONDS, build_web_app

if TYPE_CHECKING:
    from bot.storage.bootstrap import Database

log = logging.getLogger("bot.slack.local_http")


@contextlib.asynccontextmanager
async def serve_without_slack(
    settings: Settings, db: Database, *, host: str = "0.0.0.0"
) -> AsyncIterator[tuple[str, int] | None]:
    """Serve /healthz, /metrics and /calendar/... while the block runs; yields the bound
    (host, port), or None when the port cannot be bound (the console runs anyway)."""
    client = make_client(settings)  # no token: only its metrics are read
    deps = SlackDeps(settings=settings, db=db, client=client, clock=clock_from(settings.clock_start))
    runner = web.AppRunner(build_web_app(deps, None), access_log=None, shutdown_timeout=min(DRAIN_SECONDS, 2.0))
    await runner.setup()
    bound: tuple[str, int] | None = None
    try:
        try:
            await GuardedSite(runner, host, settings.http_port).start()
            bound = (str(runner.addresses[0][0]), int(runner.addresses[0][1]))
        except OSError as exc:
            log.warning("not serving /healthz, /metrics and calendar feeds: port %s: %s", settings.http_port,
                        exc.strerror or exc)
        yield bound
    finally:
        await runner.cleanup()
        await close_client(client)
