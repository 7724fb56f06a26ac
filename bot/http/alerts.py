"""Alert intake routes: PagerDuty Events API v2 (``POST /v2/enqueue``), Alertmanager's webhook
(``POST /api/v1/alertmanager``), generic JSON (``POST /api/v1/alerts``), and data-arrival
heartbeats (``POST``/``GET /api/v1/heartbeats/PIPELINE``).

Order of work for each request: the key first (the bearer header; for PagerDuty the body's
``routing_key``, the one field read before the key is checked), then the key's rate, then the
event's validation (pydantic, ``bot.http.events``), then the service. A request whose key is
unknown or revoked is answered and forgotten: not logged, not counted, not parsed further.
Answers are PagerDuty's: 202 ``{"status": "success", "message": "Event processed",
"dedup_key": ...}``; 400 ``{"status": "invalid event", ...}``; 429 with ``Retry-After``.

A 202 is sent once the event is stored (``Intake.accept``: one committed INSERT); it is applied
(alert, incident, Slack) moments later. Alertmanager's answer reports each alert's outcome, so
that route waits for them (a few seconds at most; ``queued`` when the wait ends first).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from bot.http.common import BadRequest, RateLimit, answer, bearer, invalid, located, read_json, throttled
from bot.http.events import AlertmanagerWebhook, GenericAlert, PagerDutyEvent
from bot.services import alerts as svc
from bot.services.alerts import AlertEvent, Intake, Integration, KeyCache
from bot.services.alerts.child import ApplierProcess, child_environment
from bot.services.cache import SnapshotCache
from bot.services.incidents import snapshot_source
from bot.slack.metrics import Metrics, metrics_of

log = logging.getLogger("bot.http.alerts")

UNAUTHORIZED = {"status": "unauthorized", "message": "A valid routing key is required: Authorization: Bearer KEY"}
ROUTES: web.AppKey[AlertRoutes] = web.AppKey("alert_routes")
KEY_CHECKED: web.RequestKey[Integration] = web.RequestKey("alert_key", Integration)  # a valid key's integration
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _processed(dedup_key: str) -> web.Response:
    return answer(202, {"status": "success", "message": "Event processed", "dedup_key": dedup_key})


def _refusals(handler: Handler, route: str, metrics: Metrics) -> Handler:
    """Turn ``BadRequest`` into its JSON answer; count the answer when the request's routing key
    was valid (a request without one is not counted: junk cannot move the figures)."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            response = await handler(request)
        except BadRequest as refused:
            response = answer(refused.status, refused.body, refused.headers)
        if request.get(KEY_CHECKED) is not None:
            metrics.count_alert_request(route, response.status)
        return response

    return wrapped


class AlertRoutes:
    """The intake of one bot process: its key cache, rate limit and ``Intake``."""

    def __init__(self, deps: Any, *, clock: Callable[[], datetime] | None = None) -> None:
        settings = deps.settings
        self.deps = deps
        self.clock = clock or deps.clock
        self.keys = KeyCache(deps.db)
        self.rate = RateLimit(float(getattr(settings, "alert_rate_per_second", 50.0)),
                              float(getattr(settings, "alert_burst", 500)))
        self.cache = SnapshotCache(deps.db, tuple(getattr(settings, "admin_ids", ())), max_staleness=2.0)
        self.snapshots = snapshot_source(deps, self.cache)
        self.intake = Intake(deps, self.snapshots, applier_loop(deps, self.clock))

    async def _key(self, request: web.Request, key: str | None, *, pd: bool = False) -> Integration:
        found = await self.keys.check(key) if key else None
        if found is None:
            if pd:
                raise invalid(["Invalid routing key"])
            raise BadRequest(401, UNAUTHORIZED, {"WWW-Authenticate": "Bearer"})
        request[KEY_CHECKED] = found
        wait = self.rate.take(found.id)
        if wait is not None:
            raise throttled(wait)
        return found

    async def _accept(self, integration: Integration, event: AlertEvent) -> web.Response:
        """Store the event (applied moments later) and answer 202."""
        await self.intake.accept(integration.id, integration.pipeline, [event], self.clock())
        return _processed(event.dedup_key)

    async def enqueue(self, request: web.Request) -> web.StreamResponse:
        """``POST /v2/enqueue``: one PagerDuty Events API v2 event."""
        body = await read_json(request)
        key = body.get("routing_key") if isinstance(body, dict) else None
        integration = await self._key(request, key if isinstance(key, str) else None, pd=True)
        try:
            event = PagerDutyEvent.model_validate(body).event()
        except ValidationError as exc:
            raise invalid(located(exc)) from None
        return await self._accept(integration, event)

    async def generic(self, request: web.Request) -> web.StreamResponse:
        """``POST /api/v1/alerts``: one event in our own small JSON."""
        integration = await self._key(request, bearer(request))
        try:
            event = GenericAlert.model_validate(await read_json(request)).event()
        except ValidationError as exc:
            raise invalid(located(exc)) from None
        return await self._accept(integration, event)

    async def alertmanager(self, request: web.Request) -> web.StreamResponse:
        """``POST /api/v1/alertmanager``: Alertmanager's webhook (v4), one alert per fingerprint."""
        integration = await self._key(request, bearer(request))
        try:
            hook = AlertmanagerWebhook.model_validate(await read_json(request))
        except ValidationError as exc:
            raise invalid(located(exc)) from None
        events = [alert.event(hook.externalURL) for alert in hook.alerts]
        got = await self.intake.receive_all(integration.id, integration.pipeline, events, self.clock())
        results = [{"dedup_key": g.dedup_key, "outcome": g.outcome} for g in got]
        return answer(202, {"status": "success", "message": "Event processed", "alerts": results})

    async def heartbeat(self, request: web.Request) -> web.StreamResponse:
        """``POST`` (or ``GET``) ``/api/v1/heartbeats/PIPELINE``: data of PIPELINE arrived now."""
        integration = await self._key(request, bearer(request))
        pipeline = request.match_info["pipeline"]
        if pipeline != integration.pipeline:
            raise BadRequest(403, {"status": "forbidden",
                                   "message": "This key reports for another pipeline."})
        now = self.clock()
        resolved = await svc.arrived(self.deps, pipeline, now, now, self.snapshots)
        return answer(202, {"status": "success", "message": "Arrival recorded", "pipeline": pipeline,
                            "at": now.astimezone(UTC).isoformat(), "resolved_incidents": resolved})


def applier_loop(deps: Any, clock: Callable[[], datetime]) -> ApplierProcess | None:
    """The applier of this process's accepts per ``settings.alert_applier``: a child process
    (``process``; ``auto`` on PostgreSQL), or None (``inline``; ``auto`` on SQLite): the intake's
    own loop in this process."""
    mode = getattr(deps.settings, "alert_applier", "inline")
    if mode == "auto":
        mode = "process" if deps.db.dialect == "postgresql" else "inline"
    if mode != "process":
        return None
    return ApplierProcess(child_environment(deps.settings, clock))


def add_routes(web_app: web.Application, deps: Any) -> AlertRoutes:
    """Register the intake routes on ``web_app``; the routes' state (for tests)."""
    routes = AlertRoutes(deps)
    metrics = metrics_of(deps.client)
    heartbeat = _refusals(routes.heartbeat, "heartbeat", metrics)
    web_app.router.add_post("/v2/enqueue", _refusals(routes.enqueue, "pagerduty", metrics))
    web_app.router.add_post("/api/v1/alerts", _refusals(routes.generic, "generic", metrics))
    web_app.router.add_post("/api/v1/alertmanager", _refusals(routes.alertmanager, "alertmanager", metrics))
    web_app.router.add_post("/api/v1/heartbeats/{pipeline}", heartbeat)
    web_app.router.add_get("/api/v1/heartbeats/{pipeline}", heartbeat)
    web_app[ROUTES] = routes

    async def warm(_app: web.Application) -> None:  # the snapshot loaded before the first event waits for it
        if isinstance(routes.intake.loop, ApplierProcess):
            # the applier's process started now, not with the first event: a storm's first
            # events are not applied a second late (its start), nor answered late (its fork)
            routes.intake.loop.wake()
        try:
            await routes.snapshots()
        except Exception:  # the database may be down at start: the first event loads it then
            log.warning("alert intake: the snapshot could not be loaded at start; loading it on the first event")

    async def close(_app: web.Application) -> None:  # what the applier is doing finishes first (bounded)
        try:
            await asyncio.wait_for(routes.intake.applied(), 5.0)
        except TimeoutError:  # still queued: the next applier (or the minute tick) applies it
            log.warning("alert intake: stopping with events not applied yet; they stay queued")
        await routes.intake.close()
        await routes.cache.close()  # the connection its probe keeps

    web_app.on_startup.append(warm)
    web_app.on_cleanup.append(close)
    return routes
