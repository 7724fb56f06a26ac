"""Run the bot against Slack: Socket Mode when SLACK_APP_TOKEN is set, otherwise HTTP mode with
Slack's request URL at POST /slack/events. Both modes serve GET /healthz and GET /metrics on
ONCALL_HTTP_PORT. SIGTERM/SIGINT: stop taking requests, finish background work, close, exit 0.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import json
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import text

from bot.clock import clock_from
from bot.config import Settings
from bot.http import routes as http_routes
from bot.services import alerts as alert_service
from bot.services.cache import SnapshotCache
from bot.slack import changes
from bot.slack.app import SNAPSHOT_MAX_STALENESS, build_app, context_of
from bot.slack.client import close_client, is_loopback, make_client
from bot.slack.deps import SlackDeps
from bot.slack.guard import (
    MAX_BODY_BYTES,
    GuardedSite,
    RefusalLog,
    Refused,
    refusal_response,
    track_requests,
    verified_request,
)
from bot.slack.health_details import HealthDetails
from bot.slack.metrics import Metrics, metrics_of

log = logging.getLogger("bot.slack.server")

EVENTS_PATH = "/slack/events"
HEALTH_TIMEOUT_SECONDS = 3.0
DRAIN_SECONDS = 20.0
# After SIGTERM everything is closed within this many seconds, even with Slack hanging: what is
# not sent by then stays in the outbox (leased rows are taken up again when their lease ends).
SHUTDOWN_SECONDS = 6.0
TOKEN_REFUSALS = ("invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired")

# A periodic-work starter: called with the deps once the bot is connected; what it returns is
# stopped on shutdown (``await x.stop()``, ``x.aclose()`` or ``x.shutdown()`` when it has one).
JobStarter = Callable[[SlackDeps], Any]


class SlackLink:
    """Whether Slack is reachable: auth.test answers ok and, in Socket Mode, the socket is open."""

    def __init__(self, client: AsyncWebClient, socket: AsyncSocketModeHandler | None = None) -> None:
        # Its own client on the shared session: no retries, so a down Slack answers fast.
        self.client = AsyncWebClient(
            token=client.token,
            base_url=client.base_url,
            session=client.session,
            timeout=int(HEALTH_TIMEOUT_SECONDS),
            proxy=client.proxy,
            retry_handlers=[h for h in client.retry_handlers if type(h).__name__ == "SlackErrorObserver"],
        )
        self.socket = socket

    async def check(self) -> tuple[bool, dict[str, Any]]:
        mode = "socket" if self.socket is not None else "http"
        try:
            if self.socket is not None and not await self.socket.client.is_connected():
                return False, {"ok": False, "mode": mode, "error": "socket not connected"}
            result = await asyncio.wait_for(self.client.auth_test(), HEALTH_TIMEOUT_SECONDS)
        except Exception as exc:
            return False, {"ok": False, "mode": mode, "error": f"{type(exc).__name__}: {exc}"[:200]}
        return True, {"ok": True, "mode": mode, "team": result.get("team_id"), "bot": result.get("user_id")}


# A write that changes nothing, rolled back: it needs the write lock (SQLite) or a read-write
# transaction (PostgreSQL), so a read-only file, a full lock or a read-only replica all fail it.
WRITE_PROBE = text("UPDATE meta SET value = value WHERE 1 = 0")
PROBE_CACHE_SECONDS = 2.0


async def database_ok(deps: SlackDeps) -> tuple[bool, dict[str, Any]]:
    """Whether the database answers and takes writes (a no-op write, rolled back)."""
    try:
        async with deps.db.engine.connect() as conn:
            await asyncio.wait_for(conn.execute(WRITE_PROBE), HEALTH_TIMEOUT_SECONDS)
            await conn.rollback()
    except Exception as exc:
        return False, {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:200]}
    return True, {"ok": True, "dialect": deps.db.dialect}


class DatabaseProbe:
    """``database_ok``, at most once per ``PROBE_CACHE_SECONDS``: /healthz polled often (or by a
    stranger) costs one probe per period, and concurrent checks share it."""

    def __init__(self, deps: SlackDeps, seconds: float = PROBE_CACHE_SECONDS) -> None:
        self.deps = deps
        self.seconds = seconds
        self._lock = asyncio.Lock()
        self._last: tuple[float, tuple[bool, dict[str, Any]]] | None = None

    async def check(self) -> tuple[bool, dict[str, Any]]:
        async with self._lock:
            now = time.monotonic()
            if self._last is not None and now - self._last[0] < self.seconds:
                return self._last[1]
            result = await database_ok(self.deps)
            self._last = (time.monotonic(), result)
            return result


def build_web_app(
    deps: SlackDeps,
    app: AsyncApp | None,
    *,
    socket: AsyncSocketModeHandler | None = None,
    serve_events: bool = True,
) -> web.Application:
    """The HTTP side: POST /slack/events (bolt: signature and 5-minute window checked),
    GET /healthz (200 when the database takes a write and Slack answers, else 503, JSON), GET /metrics, and the
    schedule-change feature's calendar feeds (GET /calendar/TOKEN.ics)."""
    metrics: Metrics = metrics_of(deps.client)
    link = SlackLink(deps.client, socket) if app is not None else None  # None: console mode, no Slack
    database = DatabaseProbe(deps)

    secret = _secret(deps.settings.slack_signing_secret)
    refusals = RefusalLog()
    refused_delay = max(0.0, float(getattr(deps.settings, "refused_delay_seconds", 0.0)))

    async def slack_events(request: web.Request) -> web.StreamResponse:
        # Verified here, before bolt sees it: bolt's own check logs a refused body whole, and
        # parses it before checking. Socket Mode only (no secret): nothing is served here.
        if secret is None:
            return web.Response(status=404)
        try:
            bolt_request = await verified_request(request, secret)
        except Refused as refused:
            if refused.status == 401 and refused_delay > 0:
                # A tarpit: a sender of unsigned or badly signed requests waits for each answer, so
                # its connections (at most MAX_CONNECTIONS) bound how much of the loop it can take.
                # Slack's own requests are signed and never wait here.
                await asyncio.sleep(refused_delay)
            return refusal_response(refused, request, refusals)
        assert app is not None  # the route exists only with an app
        bolt_response = await app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def no_slack() -> tuple[bool, dict[str, Any]]:
        return True, {"ok": None, "mode": "console", "detail": "no Slack credentials: the local console"}

    details = HealthDetails(deps)

    async def healthz(request: web.Request) -> web.Response:
        (db_ok, db_detail), (slack_ok, slack_detail) = await asyncio.gather(
            database.check(), link.check() if link is not None else no_slack())
        healthy = db_ok and slack_ok
        body = {"status": "ok" if healthy else "unavailable", "database": db_detail, "slack": slack_detail}
        if request.query.get("details") in ("1", "true", "yes"):  # the doctor's checks; the status stays
            body["details"] = await details.get()
        return web.Response(status=200 if healthy else 503, text=json.dumps(body), content_type="application/json")

    async def metrics_page(_request: web.Request) -> web.Response:
        try:
            waiting = await asyncio.wait_for(alert_service.inbox_counts(deps.db), METRICS_DB_SECONDS)
            metrics.set_alert_inbox(waiting.queued, waiting.failed)
        except Exception:  # the database down or slow: the page still answers (the gauge keeps its last value)
            log.debug("/metrics: the alert inbox could not be counted", exc_info=True)
        return web.Response(body=metrics.render(), headers={"Content-Type": metrics.content_type})

    web_app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[track_requests])
    if serve_events and app is not None:
        web_app.router.add_post(EVENTS_PATH, slack_events)
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics_page)
    changes.add_routes(web_app, deps)  # GET /calendar/TOKEN.ics feeds
    http_routes.add_routes(web_app, deps)  # machine-facing: alerts, heartbeats, the read API
    return web_app


async def prepare_for_traffic(app: AsyncApp) -> None:
    """Load the snapshot before the first request, then ``freeze_heap``."""
    await context_of(app).cache.get()
    freeze_heap()


METRICS_DB_SECONDS = 1.0  # /metrics waits this long for the alert inbox's counts, then answers without them


def freeze_heap() -> None:
    """Move everything alive now (the snapshots, the libraries' state: ~150k objects) out of the
    garbage collector's way: a full collection over them takes 50-150 ms, a pause every request
    in flight would wait for (the alert intake's p99 over 50 ms came from two such pauses)."""
    gc.collect()
    gc.freeze()


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def default_jobs() -> list[JobStarter]:
    """The periodic work of a running bot: the scheduler's minute tick."""
    from bot.jobs import scheduler

    return [scheduler.start]


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def _stop_job(job: Any) -> None:
    for name in ("stop", "aclose", "shutdown", "cancel"):
        method = getattr(job, name, None)
        if callable(method):
            await _maybe_await(method())
            return


async def run_slack(
    settings: Settings,
    *,
    host: str = "0.0.0.0",
    stop: asyncio.Event | None = None,
    on_ready: Callable[[str, int], Awaitable[None] | None] | None = None,
    jobs: Sequence[JobStarter] | None = None,
) -> int:
    """Serve Slack until SIGTERM/SIGINT (or ``stop`` is set); the exit code.

    ``on_ready(host, port)`` is called once the HTTP server listens and Slack is connected
    (tests pass ``ONCALL_HTTP_PORT=0`` and read the port from it).
    """
    from bot.services.database import open_database

    bot_token = _secret(settings.slack_bot_token)
    app_token = _secret(settings.slack_app_token)
    signing_secret = _secret(settings.slack_signing_secret)
    if bot_token is None or (app_token is None and signing_secret is None):
        log.error("Slack needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP)")
        return 2
    stop = stop or asyncio.Event()
    db = await open_database(settings, say=log.info)
    client = make_client(settings)
    deps = SlackDeps(settings=settings, db=db, client=client, clock=clock_from(settings.clock_start))
    cache = SnapshotCache(db, settings.admin_ids, max_staleness=SNAPSHOT_MAX_STALENESS)
    runner: web.AppRunner | None = None
    socket: AsyncSocketModeHandler | None = None
    started: list[Any] = []
    loop = asyncio.get_running_loop()
    signals: list[signal.Signals] = []
    try:
        identity = await check_token(deps.client)
        if identity is not None and identity.startswith("refused: "):
            log.error("Slack %s: not starting (copy the Bot User OAuth Token, xoxb-..., from the app's "
                      "OAuth & Permissions page into SLACK_BOT_TOKEN)", identity)
            return 1
        app = build_app(deps, cache=cache)
        await prepare_for_traffic(app)
        if app_token is not None:
            socket = AsyncSocketModeHandler(app, app_token, web_client=client)
            if is_loopback(client.base_url):
                socket.client.proxy = None
        web_app = build_web_app(deps, app, socket=socket, serve_events=socket is None or signing_secret is not None)
        runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=DRAIN_SECONDS)
        await runner.setup()
        freeze_heap()  # again: what the web app's start loaded (the alert intake's snapshot)
        site = GuardedSite(runner, host, settings.http_port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        if socket is not None:
            await socket.client.connect()  # type: ignore[no-untyped-call]
        for starter in default_jobs() if jobs is None else jobs:
            started.append(await _maybe_await(starter(deps)))
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, stop.set)
                signals.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
                break
        mode = "Socket Mode" if socket is not None else f"HTTP mode ({EVENTS_PATH})"
        if identity is not None:
            log.info("connected to Slack in %s as %s; /healthz and /metrics on %s:%s", mode, identity, bound_host,
                     bound_port)
        else:
            log.warning("started in %s, but Slack did not answer auth.test: /healthz answers 503 until it does; "
                        "/healthz and /metrics on %s:%s", mode, bound_host, bound_port)
        if on_ready is not None:
            await _maybe_await(on_ready(str(bound_host), int(bound_port)))
        await stop.wait()
        log.info("stopping: no new requests; finishing background work")
        return 0
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        await _shutdown(deps, cache, runner, socket, started)


async def check_token(client: AsyncWebClient) -> str | None:
    """``auth.test`` once, without retries: ``@bot (U…) in team`` when Slack accepts the token,
    ``refused: <error>`` when it refuses it, None when Slack does not answer (down, unreachable)."""
    from slack_sdk.errors import SlackApiError

    link = SlackLink(client)
    try:
        resp = await asyncio.wait_for(link.client.auth_test(), HEALTH_TIMEOUT_SECONDS)
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        if error in TOKEN_REFUSALS:
            return f"refused: SLACK_BOT_TOKEN ({error})"
        log.warning("auth.test failed: %s", error or type(exc).__name__)
        return None
    except Exception as exc:
        log.warning("auth.test failed: %s", f"{type(exc).__name__}: {exc}"[:200])
        return None
    return f"@{resp.get('user')} ({resp.get('user_id')}) in {resp.get('team')}"


def _stopper(job: Any) -> Callable[[], Awaitable[None]]:
    return lambda: _stop_job(job)


async def _shutdown(
    deps: SlackDeps,
    cache: SnapshotCache,
    runner: web.AppRunner | None,
    socket: AsyncSocketModeHandler | None,
    started: list[Any],
) -> None:
    """Stop taking work (socket, HTTP), stop the jobs, drain background tasks, close everything."""
    steps: list[tuple[str, Callable[[], Awaitable[Any]]]] = []
    if socket is not None:
        steps.append(("socket mode", socket.close_async))
    if runner is not None:
        steps.append(("http server", runner.cleanup))
    for job in reversed(started):
        steps.append(("job", _stopper(job)))
    steps += [
        ("background tasks", lambda: deps.background.drain(DRAIN_SECONDS)),
        ("snapshot cache", cache.close),
        ("slack client", lambda: close_client(deps.client)),
        ("database", deps.db.close),
    ]
    deadline = time.monotonic() + SHUTDOWN_SECONDS
    for what, step in steps:
        try:
            await asyncio.wait_for(step(), max(deadline - time.monotonic(), 0.2))
        except TimeoutError:
            log.warning("shutdown: the %s did not finish within %.0f s; stopped it (unsent work stays in the outbox)",
                        what, SHUTDOWN_SECONDS)
        except Exception:
            log.exception("shutdown: closing the %s failed", what)
