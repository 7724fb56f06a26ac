"""The HTTP front door for Slack's requests: nothing is parsed, trusted or logged before the
signature is checked, and no connection may hold the server for long.

- ``verified_request`` reads the body (at most ``MAX_BODY_BYTES``, within ``READ_TIMEOUT_SECONDS``),
  checks ``X-Slack-Request-Timestamp`` (digits, within five minutes) and ``X-Slack-Signature``
  (HMAC-SHA256 of ``v0:{timestamp}:{body}``) on the raw bytes, and only then decodes and parses
  it. Refusals are ``Refused(status, reason)``: 401 unsigned or badly signed, 400 malformed after
  verification, 408 too slow, 413 too big. A refusal logs one line with no body and no header.
- ``ConnectionGuard`` is the server's protocol factory: at most ``max_connections`` open
  connections, and a connection that started a request must deliver it whole within
  ``read_timeout`` seconds. When full, one connection is closed for the new one, by how much it
  has proven (``GuardedHandler.trust``): first those that never had a request succeed (junk
  answered 401, slow senders, newcomers; the one stuck the longest first, reading a request or
  idle), then those whose only successes were unsigned (a health probe, a calendar feed), and
  only then an idle connection that carried a request Slack's signature verified (Slack and real
  clients keep their connections alive: they are the last to go, never in the middle of a
  request). If no connection may go, the new one is closed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from slack_bolt.request.async_request import AsyncBoltRequest

log = logging.getLogger("bot.slack.guard")

MAX_BODY_BYTES = 1024 * 1024  # Slack's requests are a few KB; a modal's state stays well under this
READ_TIMEOUT_SECONDS = 10.0
IDLE_TIMEOUT_SECONDS = 75.0  # a keep-alive connection with no request in flight
MAX_CONNECTIONS = 256
MAX_SKEW_SECONDS = 5 * 60
BACKLOG = 1024  # connections the kernel holds for accept(): a burst is queued, not dropped (SYN retry: 1 s)
ACCEPT_BATCH = 32  # connections taken from that queue per event-loop turn: a burst of connections
# (asyncio takes up to its backlog at once) does not stall the requests already being served


@dataclass(frozen=True)
class Refused(Exception):
    """A request answered with ``status`` and nothing else done; ``reason`` is for the log."""

    status: int
    reason: str


def _check_headers(timestamp: str | None, signature: str | None, now: float) -> None:
    """What can be refused without reading the body."""
    if not timestamp or not signature:
        raise Refused(401, "missing signature headers")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise Refused(401, "malformed timestamp")
    if abs(now - int(timestamp)) > MAX_SKEW_SECONDS:
        raise Refused(401, "stale timestamp")
    if not signature.isascii() or not signature.startswith("v0=") or len(signature) != 67:
        raise Refused(401, "malformed signature")


def _check_signature(secret: bytes, timestamp: str, signature: str, body: bytes) -> None:
    expected = "v0=" + hmac.new(secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise Refused(401, "bad signature")


def _parse(text: str, content_type: str) -> dict[str, Any]:
    """What bolt will parse, parsed first so that a malformed body is a 400, not a traceback."""
    try:
        if content_type == "application/json" or text.startswith("{"):
            if content_type != "application/json":
                raise Refused(400, "JSON body without a JSON content type")
            parsed: Any = json.loads(text)
        else:
            fields = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text)))
            parsed = json.loads(fields["payload"]) if "payload" in fields else fields
    except ValueError:
        raise Refused(400, "malformed body") from None
    if not isinstance(parsed, dict):
        raise Refused(400, "body is not an object")
    return parsed


async def _read(request: web.Request) -> bytes:
    length = request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        raise Refused(413, "body too large")
    try:
        async with asyncio.timeout(READ_TIMEOUT_SECONDS):
            body = await request.content.read(MAX_BODY_BYTES + 1)
            if len(body) > MAX_BODY_BYTES:
                raise Refused(413, "body too large")
            while not request.content.at_eof():  # read() may return before the end: read on, bounded
                more = await request.content.read(MAX_BODY_BYTES + 1 - len(body))
                if not more and request.content.at_eof():
                    break
                body += more
                if len(body) > MAX_BODY_BYTES:
                    raise Refused(413, "body too large")
    except TimeoutError:
        raise Refused(408, "body not received in time") from None
    except (ConnectionError, asyncio.IncompleteReadError, web.HTTPException):
        raise Refused(400, "body not received whole") from None
    return body


async def verified_request(request: web.Request, signing_secret: str, now: float | None = None) -> AsyncBoltRequest:
    """The bolt request for ``request`` once its signature holds; raises ``Refused`` otherwise."""
    timestamp = request.headers.get("X-Slack-Request-Timestamp")
    signature = request.headers.get("X-Slack-Signature")
    _check_headers(timestamp, signature, time.time() if now is None else now)  # before reading a byte
    body = await _read(request)
    guarded = handler_of(request)
    if guarded is not None:
        guarded.started()
    _check_signature(signing_secret.encode(), str(timestamp), str(signature), body)
    if guarded is not None:
        guarded.verified += 1  # a proven Slack connection: evicted last (``ConnectionGuard``)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "body is not UTF-8") from None
    _parse(text, request.content_type)
    return AsyncBoltRequest(body=text, query=request.query_string, headers=dict(request.headers))


class RefusalLog:
    """One line per refusal (no body, no headers beyond the length), at most ``per_window`` lines
    per status and ``window`` seconds; the rest are counted and said in one line when the next
    window opens. A flood of junk writes a bounded log."""

    def __init__(self, per_window: int = 10, window: float = 10.0) -> None:
        self.per_window = per_window
        self.window = window
        self._windows: dict[int, tuple[float, int]] = {}  # status -> (window start, lines in it)
        self._suppressed: dict[int, int] = {}

    def __call__(self, refused: Refused, request: web.Request) -> None:
        level = logging.INFO if refused.status == 401 else logging.WARNING
        now = time.monotonic()
        start, lines = self._windows.get(refused.status, (now, 0))
        if now - start >= self.window:
            quiet = self._suppressed.pop(refused.status, 0)
            if quiet:
                log.log(level, "refused %d more requests with %d in the last %.0f s (not logged one by one)",
                        quiet, refused.status, now - start)
            start, lines = now, 0
        if lines >= self.per_window:
            self._suppressed[refused.status] = self._suppressed.get(refused.status, 0) + 1
            self._windows[refused.status] = (start, lines)
            return
        self._windows[refused.status] = (start, lines + 1)
        log.log(level, "refused a request from %s: %s (%s bytes announced) -> %s", request.remote,
                refused.reason, request.content_length, refused.status)


def refusal_response(refused: Refused, request: web.Request, say: RefusalLog | None = None) -> web.Response:
    """A bodyless answer, logged by ``say`` (one line, no body)."""
    (say or RefusalLog())(refused, request)
    # After a 401 the unread body (at most 1 MB) is drained by aiohttp and the connection kept.
    headers = {"Connection": "close"} if refused.status in (400, 408, 413) else None
    return web.Response(status=refused.status, headers=headers)


class GuardedHandler(RequestHandler):
    """aiohttp's connection handler, watched by a ``ConnectionGuard``."""

    guard: ConnectionGuard
    reading_since: float | None = None  # first byte of a request not yet handed to a handler
    idle_since: float = 0.0
    busy: bool = False
    served: int = 0  # requests answered on this connection
    succeeded: int = 0  # of them, answered with a success (< 400)
    verified: int = 0  # of them, carried a valid Slack signature
    _deadline: asyncio.TimerHandle | None = None

    @property
    def trust(self) -> int:
        """2: a request on it passed Slack's signature check; 1: it was answered a success without
        one (a health probe, a calendar feed); 0: neither (junk, a slow sender, a newcomer)."""
        return 2 if self.verified else (1 if self.succeeded else 0)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.idle_since = time.monotonic()
        self.guard.opened(self)
        self._arm(IDLE_TIMEOUT_SECONDS)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm()
        self.guard.closed(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.reading_since is None and not self.busy:
            self.reading_since = time.monotonic()
            self._arm(self.guard.read_timeout)
        super().data_received(data)

    def started(self) -> None:
        """A request's body was read: the handler works on it now (no deadline)."""
        self.reading_since = None
        self.busy = True
        self._disarm()

    def finished(self, ok: bool = False) -> None:
        """A request was answered (``ok``: with a success); the connection waits for the next."""
        self.served += 1
        self.succeeded += ok
        self.busy = False
        self.reading_since = None
        self.idle_since = time.monotonic()
        self._arm(IDLE_TIMEOUT_SECONDS)

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = asyncio.get_running_loop().call_later(seconds, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if self.busy:
            return
        self.guard.expired += 1
        self.force_close()
        if self.transport is not None:
            self.transport.close()


class ConnectionGuard:
    """A protocol factory for ``loop.create_server`` wrapping aiohttp's ``web.Server``."""

    def __init__(self, server: web.Server, *, max_connections: int = MAX_CONNECTIONS,
                 read_timeout: float = READ_TIMEOUT_SECONDS) -> None:
        self.server = server
        self.max_connections = max_connections
        self.read_timeout = read_timeout
        self.open: set[GuardedHandler] = set()
        self.evicted = 0
        self.evicted_by_trust = [0, 0, 0]  # closed for a newcomer, by ``GuardedHandler.trust``
        self.refused = 0  # newcomers closed because no connection could go
        self.expired = 0

    def __call__(self) -> GuardedHandler:
        handler = GuardedHandler(self.server, loop=asyncio.get_running_loop(), **self.server._kwargs)
        handler.guard = self
        return handler

    def opened(self, handler: GuardedHandler) -> None:
        if len(self.open) >= self.max_connections:
            victim = self._victim()
            self.evicted += 1
            if victim is None:  # everyone is busy with a request: the newcomer waits outside
                self.refused += 1
                if handler.transport is not None:
                    handler.transport.close()
                return
            self.evicted_by_trust[victim.trust] += 1
            victim.force_close()
            if victim.transport is not None:
                victim.transport.close()
            self.open.discard(victim)
        self.open.add(handler)

    def closed(self, handler: GuardedHandler) -> None:
        self.open.discard(handler)

    def _victim(self) -> GuardedHandler | None:
        """The connection to close for a newcomer: never a busy one nor a verified one in the
        middle of a request; the least trusted first (``GuardedHandler.trust``); within a level,
        the one that has held its place without progress the longest: reading one request since
        long ago (a slow sender) or idle since long ago. A connection whose request arrived a
        moment ago and waits for its turn is not slow: it goes last within its level."""
        candidates = [h for h in self.open if not h.busy and not (h.verified and h.reading_since is not None)]
        if not candidates:
            return None

        def rank(h: GuardedHandler) -> tuple[int, float]:
            since = h.reading_since
            return h.trust, since if since is not None else h.idle_since

        return min(candidates, key=rank)


def handler_of(request: web.Request) -> GuardedHandler | None:
    protocol = request.protocol
    return protocol if isinstance(protocol, GuardedHandler) else None


@web.middleware
async def track_requests(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every route: the connection's read deadline stops once the request is handed over."""
    guarded = handler_of(request)
    if guarded is not None and request.method != "POST":
        guarded.started()
    ok = False
    try:
        response: web.StreamResponse = await handler(request)
        ok = response.status < 400
        return response
    finally:
        if guarded is not None:
            guarded.finished(ok)


class GuardedSite(web.TCPSite):
    """``web.TCPSite`` whose connections go through a ``ConnectionGuard``."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, *, max_connections: int = MAX_CONNECTIONS,
                 read_timeout: float = READ_TIMEOUT_SECONDS) -> None:
        super().__init__(runner, host, port)
        self.max_connections = max_connections
        self.read_timeout = read_timeout
        self.guard: ConnectionGuard | None = None

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        if server is None:
            raise RuntimeError("runner.setup() first")
        self.guard = ConnectionGuard(server, max_connections=self.max_connections, read_timeout=self.read_timeout)
        self._server = await asyncio.get_running_loop().create_server(
            self.guard, self._host, self._port, backlog=ACCEPT_BATCH, reuse_address=self._reuse_address)
        for wrapped in self._server.sockets:  # the kernel's queue stays long; asyncio accepts in small batches
            raw = socket.socket(fileno=wrapped.fileno())
            try:
                raw.listen(BACKLOG)
            finally:
                raw.detach()  # the server keeps the socket
