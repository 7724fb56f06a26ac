"""What the machine-facing routes share: JSON answers, bounded body reads, bearer keys, the
per-key rate limit.

Nothing of a request is logged or counted before its key is known good: a refused request
costs a bounded read and a short answer, and leaves no trace (a flood of junk writes nothing).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import ValidationError

MAX_BODY_BYTES = 512 * 1024  # PagerDuty's limit for one event
READ_SECONDS = 10.0


class BadRequest(Exception):
    """The request is refused with ``status`` and a JSON ``body``."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers


def answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), content_type="application/json", headers=headers)


def invalid(errors: list[str], status: int = 400) -> BadRequest:
    """PagerDuty's answer to an event it refuses."""
    return BadRequest(status, {"status": "invalid event", "message": "Event object is invalid", "errors": errors})


async def read_json(request: web.Request) -> Any:
    """The body as JSON: at most ``MAX_BODY_BYTES`` (413 beyond), whole within ``READ_SECONDS``."""
    length = request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        raise BadRequest(413, {"status": "invalid event", "message": "Request body too large"})
    if length is not None and request.content.is_eof():
        # the whole body came with the headers (a monitor's event is a few hundred bytes): taken
        # as it is, without the timed read that a body still on its way needs
        body = request.content.read_nowait()
    else:
        body = await _read_body(request)
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest(413, {"status": "invalid event", "message": "Request body too large"})
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise invalid(["Body is not valid JSON"]) from None
    where = unstorable_text(parsed)
    if where is not None:
        raise invalid([f"{where[:120]}: text may not contain NUL (\\u0000) or unpaired surrogates"])
    return parsed


async def _read_body(request: web.Request) -> bytes:
    """The body as it arrives: at most ``MAX_BODY_BYTES`` + 1 bytes, whole within ``READ_SECONDS``."""
    try:
        async with asyncio.timeout(READ_SECONDS):
            body = await request.content.read(MAX_BODY_BYTES + 1)
            while len(body) <= MAX_BODY_BYTES and not request.content.at_eof():
                more = await request.content.read(MAX_BODY_BYTES + 1 - len(body))
                if not more:
                    break
                body += more
    except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
        raise BadRequest(400, {"status": "invalid event", "message": "Request body not received"}) from None
    return body


def unstorable_text(value: Any, where: str = "") -> str | None:
    """Where in a parsed JSON value a string (a value or a key) holds what no database text can
    store (NUL, an unpaired UTF-16 surrogate from a ``\\ud800`` escape), as ``a.b.0``; None if
    nowhere. PostgreSQL refuses both; refused here, they are a 400, not a failed write."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, str):
            if "\x00" in item or not _utf8(item):
                return at or "body"
        elif isinstance(item, dict):
            for k, v in item.items():
                path = f"{at}.{k}" if at else str(k)
                if "\x00" in k or not _utf8(k):
                    return at or "body"
                stack.append((v, path))
        elif isinstance(item, list):
            stack.extend((v, f"{at}.{i}" if at else str(i)) for i, v in enumerate(item))
    return None


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def bearer(request: web.Request) -> str | None:
    """The key of ``Authorization: Bearer KEY`` (also ``Token token=KEY``), or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "token" and value.startswith("token="):
        return value[6:].strip() or None
    return None


def located(exc: ValidationError) -> list[str]:
    """Each error of a validation as ``where: what`` (never the value sent)."""
    out = []
    for e in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(x) for x in e["loc"]) or "event"
        out.append(f"{where}: {e['msg']}")
    return out[:20]


@dataclass
class RateLimit:
    """A token bucket per routing key: ``rate`` events a second, bursts of ``burst``."""

    rate: float
    burst: float
    monotonic: Callable[[], float] = time.monotonic
    _buckets: dict[int, tuple[float, float]] = field(default_factory=dict)

    def take(self, key: int) -> float | None:
        """Take one event of ``key``: None when allowed, else the seconds until one is."""
        now = self.monotonic()
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate
        self._buckets[key] = (tokens - 1.0, now)
        return None


def throttled(wait: float) -> BadRequest:
    seconds = max(1, int(wait + 0.999))
    return BadRequest(429, {"status": "throttle event", "message": "Requests for this routing key are arriving "
                                                                    "too quickly. Please retry later."},
                      {"Retry-After": str(seconds)})
