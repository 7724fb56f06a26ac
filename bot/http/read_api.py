"""The read API (issue 12 §6): ``GET /api/v1/oncall``, ``/api/v1/oncall/PIPELINE?at=``,
``/api/v1/schedule/PIPELINE?from=&to=``, ``/api/v1/incidents?state=`` and the OpenAPI document
``/api/v1/openapi.json``.

Every data route needs ``Authorization: Bearer TOKEN`` (``oncall-bot tokens add``): the header is
checked first, and a request without a live token gets 401 before anything else of it is parsed
or logged (the token never is). Queries are validated with the pydantic models of
``bot.http.api_models`` (400 with the parameter's location, e.g. ``query.at``); answers are the
same JSON as ``oncall-bot oncall|schedule --json`` (``bot.services.readapi``), validated against
the response models on the way out. Read-only: nothing here writes.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError

from bot.core.when import WhenError, parse_bound, parse_when
from bot.http.api_models import ErrorOut, IncidentOut, IncidentsQuery, OncallAnswer, OncallQuery, ScheduleQuery, Segment
from bot.http.openapi import document
from bot.services import readapi
from bot.services.queries import load_snapshot
from bot.services.snapshot import Snapshot

if TYPE_CHECKING:
    from bot.slack.deps import SlackDeps

PREFIX = "/api/v1"
MAX_RANGE = timedelta(days=readapi.MAX_RANGE_DAYS)
_ANSWER = TypeAdapter(OncallAnswer)
_ANSWERS = TypeAdapter(list[OncallAnswer])
_SEGMENTS = TypeAdapter(list[Segment])
_INCIDENTS = TypeAdapter(list[IncidentOut])

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    def __init__(self, status: int, body: ErrorOut) -> None:
        super().__init__(body.message)
        self.status = status
        self.body = body


def _reply(status: int, data: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=json.dumps(data, ensure_ascii=False), content_type="application/json",
                        headers={"Cache-Control": "no-store", **(headers or {})})


ErrorKind = Literal["unauthorized", "bad_request", "not_found"]


def _error(status: int, error: ErrorKind, message: str, location: str | None = None,
           suggestions: list[str] | None = None) -> ApiError:
    return ApiError(status, ErrorOut(error=error, message=message, location=location,
                                     suggestions=suggestions or []))


def _bearer(request: web.Request) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _query(model: type[BaseModel], request: web.Request) -> Any:
    """The request's query validated by ``model``; 400 naming the first bad parameter."""
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        name = ".".join(str(p) for p in first["loc"]) or "query"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise _error(400, "bad_request", f"query parameter '{name}': {message}", f"query.{name}") from None


def _instant(text: str, name: str, snap: Snapshot, now: datetime, *, bound: str | None = None) -> datetime:
    tz = ZoneInfo(snap.directory.calendar.timezone)
    try:
        if bound is None:
            return parse_when(text, now, tz).astimezone(UTC)
        return parse_bound(text, now, tz, end=bound == "end").astimezone(UTC)
    except WhenError as exc:
        raise _error(400, "bad_request", f"query parameter '{name}': {exc}", f"query.{name}") from None


class ReadApi:
    def __init__(self, deps: SlackDeps) -> None:
        self.deps = deps

    def guarded(self, handler: Handler) -> Handler:
        """``handler`` behind the bearer-token check (first, before anything else is read)."""

        async def run(request: web.Request) -> web.StreamResponse:
            token = _bearer(request)
            if token is None:
                return _reply(401, ErrorOut(error="unauthorized", message="Send 'Authorization: Bearer TOKEN' "
                                            "(make one with: oncall-bot tokens add --name NAME).").model_dump(),
                              {"WWW-Authenticate": 'Bearer realm="oncall-bot"'})
            if await readapi.authenticate(self.deps.db, token) is None:
                return _reply(401, ErrorOut(error="unauthorized", message="Unknown or revoked token.").model_dump(),
                              {"WWW-Authenticate": 'Bearer realm="oncall-bot", error="invalid_token"'})
            try:
                return await handler(request)
            except ApiError as exc:
                return _reply(exc.status, exc.body.model_dump())

        return run

    async def _snapshot(self) -> Snapshot:
        return await load_snapshot(self.deps.db, self.deps.settings.admin_ids)

    def _pipeline(self, snap: Snapshot, request: web.Request) -> str:
        name = request.match_info["pipeline"]
        try:
            return readapi.resolve_pipeline(snap, name)
        except readapi.UnknownPipelineError as exc:
            raise _error(404, "not_found", f"unknown pipeline '{name[:64]}'", "path.pipeline",
                         exc.suggestions) from None

    async def oncall(self, request: web.Request) -> web.StreamResponse:
        query: OncallQuery = _query(OncallQuery, request)
        snap, now = await self._snapshot(), self.deps.clock()
        pipeline = self._pipeline(snap, request) if "pipeline" in request.match_info else None
        at = _instant(query.at, "at", snap, now) if query.at is not None else now
        data = readapi.oncall_data(snap, pipeline, at)
        adapter: TypeAdapter[Any] = _ANSWER if pipeline else _ANSWERS
        return _reply(200, adapter.dump_python(adapter.validate_python(data), mode="json"))

    async def schedule(self, request: web.Request) -> web.StreamResponse:
        query: ScheduleQuery = _query(ScheduleQuery, request)
        snap, now = await self._snapshot(), self.deps.clock()
        pipeline = self._pipeline(snap, request)
        start = _instant(query.start, "from", snap, now, bound="start")
        end = _instant(query.end, "to", snap, now, bound="end")
        if end <= start:
            raise _error(400, "bad_request", "query parameter 'to': must be after 'from'", "query.to")
        if end - start > MAX_RANGE:
            raise _error(400, "bad_request", f"query parameter 'to': at most {MAX_RANGE.days} days after 'from'",
                         "query.to")
        data = readapi.schedule_data(snap, pipeline, start, end)
        return _reply(200, _SEGMENTS.dump_python(_SEGMENTS.validate_python(data), mode="json"))

    async def incidents(self, request: web.Request) -> web.StreamResponse:
        query: IncidentsQuery = _query(IncidentsQuery, request)
        data = await readapi.incidents_data(self.deps.db, query.state, self.deps.clock())
        return _reply(200, _INCIDENTS.dump_python(_INCIDENTS.validate_python(data), mode="json"))


async def openapi(_request: web.Request) -> web.StreamResponse:
    return _reply(200, document())


def add_routes(web_app: web.Application, deps: SlackDeps) -> None:
    """The read API's routes on the bot's aiohttp application."""
    api = ReadApi(deps)
    web_app.router.add_get(f"{PREFIX}/oncall", api.guarded(api.oncall))
    web_app.router.add_get(f"{PREFIX}/oncall/{{pipeline}}", api.guarded(api.oncall))
    web_app.router.add_get(f"{PREFIX}/schedule/{{pipeline}}", api.guarded(api.schedule))
    web_app.router.add_get(f"{PREFIX}/incidents", api.guarded(api.incidents))
    web_app.router.add_get(f"{PREFIX}/openapi.json", openapi)
