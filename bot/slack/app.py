"""The bolt AsyncApp: built from the wired dependencies, listeners registered per module.

Answers go back in the HTTP response itself: the app runs with ``process_before_response=True``
(bolt then answers when the listener returns instead of polling for the ack every 10 ms), and
every listener does only fast work before returning: parse, read the cached snapshot, render,
``ack``. Anything slower (Web API calls, response_url posts) is handed to
``deps.background.spawn`` so it runs after the answer and is drained on shutdown.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.ops.logging import bolt_log_context
from bot.services.cache import SnapshotCache
from bot.slack import changes, commands, cover, errors, handoff, home, incidents, notify, scheduled
from bot.slack.channel_names import ChannelNames
from bot.slack.context import BotContext, attach
from bot.slack.context import context_of as context_of  # (re-exported for the server and tests)
from bot.slack.deps import SlackDeps
from bot.slack.limits import RefuseUnreadableText
from bot.slack.metrics import metrics_of

log = logging.getLogger("bot.slack")

# How old the data behind an answer may be, in seconds. Checking the database on every request
# measured 0.25-0.35 ms on loopback (a thread hop to SQLite, a round trip to PostgreSQL): half the
# cost of a whole no-op request. Answers are computed at the current second anyway (see
# ``bot.slack.memo.SecondMemo``), so data is checked at most once a second as well: every answer
# reflects the clock and the data of at most one second ago. In-process writers that need their
# change in the very next answer call ``context_of(app).cache.invalidate()``.
SNAPSHOT_MAX_STALENESS = 1.0


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


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


class DedupeEvents(AsyncMiddleware):
    """An Events API delivery whose event_id was already handled is acked and dropped (Slack
    redelivers with X-Slack-Retry-Num when an ack was late or lost). A class rather than a
    function middleware: bolt builds no keyword arguments for it on every request."""

    def __init__(self, recent: RecentIds) -> None:
        self.recent = recent

    async def async_process(
        self, *, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        body = req.body
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and self.recent.seen(str(event_id)):
            log.info("dropping a redelivered event %s", event_id)
            return BoltResponse(status=200, body="")
        await next()
        return resp


def build_app(deps: SlackDeps, *, cache: SnapshotCache | None = None) -> AsyncApp:
    """A bolt app for ``deps`` with every listener registered (no module-level app)."""
    settings = deps.settings
    signing_secret = _secret(settings.slack_signing_secret)
    metrics = metrics_of(deps.client)
    if cache is None:
        cache = SnapshotCache(deps.db, settings.admin_ids, max_staleness=SNAPSHOT_MAX_STALENESS)
    ctx = BotContext(deps, cache, metrics, channels=ChannelNames(deps.client))
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
    app.use(DedupeEvents(RecentIds()))
    app.use(bolt_log_context)  # every log line of a request carries its request id
    app.use(RefuseUnreadableText(deps, metrics))  # before any listener parses typed text

    attach(app, ctx)
    notify.register(app)  # before commands: "/oncall notify" is a form, not an answer
    commands.register(app, ctx)
    home.register(app, ctx)
    handoff.register(app, ctx)
    incidents.register(app, deps)
    scheduled.register(app, deps)
    changes.register(app, deps)
    cover.register(app, deps)
    commands.register_fallbacks(app, ctx)  # last: only what no listener above took
    return app

