"""The bolt AsyncApp: built from the wired dependencies, listeners registered per module.

Answers go back in the HTTP response itself: the app runs with ``process_before_response=True``
(bolt then answers when the listener returns instead of polling for the ack every 10 ms), and
every listener does only fast work before returning: parse, read the cached snapshot, render,
``ack``. Anything slower (Web API calls, response_url posts) is handed to
``deps.background.spawn`` so it runs after the answer and is drained on shutdown.
"""

from __future__ import annotations

import logging
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from bot.services.cache import SnapshotCache
from bot.slack import errors
from bot.slack.deps import SlackDeps
from bot.slack.metrics import Metrics, metrics_of

log = logging.getLogger("bot.slack")



class RecentIds:
    """The last ``size`` ids seen (an LRU set): ``seen(id)`` is True from the second time on."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def seen(self, key: str) -> bool:
        if key in self._ids:
            self._ids.move_to_end(key)
            return True
        self._ids[key] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return False


@dataclass
class BotContext:
    """What this package's listeners share: the dependencies, the snapshot cache, the metrics."""

    deps: SlackDeps
    cache: SnapshotCache
    metrics: Metrics


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def dedupe_events(recent: RecentIds) -> Callable[..., Awaitable[BoltResponse | None]]:
    """Middleware: an Events API delivery whose event_id was already handled is acked and dropped
    (Slack redelivers with X-Slack-Retry-Num when an ack was late or lost)."""

    async def middleware(body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and recent.seen(str(event_id)):
            log.info("dropping a redelivered event %s", event_id)
            return BoltResponse(status=200, body="")
        await next()
        return None

    return middleware


def build_app(deps: SlackDeps, *, cache: SnapshotCache | None = None) -> AsyncApp:
    """A bolt app for ``deps`` with every listener registered (no module-level app)."""
    settings = deps.settings
    signing_secret = _secret(settings.slack_signing_secret)
    metrics = metrics_of(deps.client)
    ctx = BotContext(deps, cache or SnapshotCache(deps.db, settings.admin_ids), metrics)
    app = AsyncApp(
        name="oncall-bot",
        client=deps.client,
        signing_secret=signing_secret,
        # Socket Mode needs no signature (bolt skips it there); HTTP mode refuses to start without.
        request_verification_enabled=signing_secret is not None,
        process_before_response=True,
        logger=logging.getLogger("bot.slack.bolt"),
    )
    errors.register(app, metrics)
    app.middleware(dedupe_events(RecentIds()))

    _contexts[app] = ctx
    from bot.slack import commands, home, incidents, scheduled  # they import this module: imported late

    commands.register(app, ctx)
    home.register(app, ctx)
    incidents.register(app, deps)
    scheduled.register(app, deps)
    commands.register_fallbacks(app, ctx)  # last: only what no listener above took
    return app


_contexts: weakref.WeakKeyDictionary[AsyncApp, BotContext] = weakref.WeakKeyDictionary()


def context_of(app: AsyncApp) -> BotContext:
    """The ``BotContext`` an app made by ``build_app`` registered its listeners with."""
    return _contexts[app]
