"""Signed requests as Slack sends them to an app in HTTP mode.

    body = slash_command_body("/oncall", "engagement", response_url=slack.response_url("cmd"))
    async with SlackClientSim(signing_secret=SECRET) as sim:
        status, answer = await sim.post(f"{bot_url}/slack/events", body)

``sign`` is an independent HMAC-SHA256 implementation (``v0:{timestamp}:{body}``); the self-tests
check it against ``slack_sdk.signature.SignatureVerifier``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp

from . import payloads as p

TEST_SIGNING_SECRET = "test-signing-secret"


def sign(body: str | bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers ``X-Slack-Request-Timestamp`` and ``X-Slack-Signature`` (``v0=<hex>``) for ``body``.

    ``timestamp`` defaults to now (wall clock, as Slack's verifier compares against its own clock);
    pass an old one to test the 5-minute replay window.
    """
    ts = int(time.time()) if timestamp is None else int(timestamp)
    raw = body.encode() if isinstance(body, str) else body
    base = b"v0:" + str(ts).encode() + b":" + raw
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}


def retry_headers(num: int = 1, reason: str = "http_timeout") -> dict[str, str]:
    """Headers Slack adds to a redelivered event (``X-Slack-Retry-Num`` 1..3)."""
    return {"X-Slack-Retry-Num": str(num), "X-Slack-Retry-Reason": reason}


def form_body(fields: Mapping[str, Any]) -> str:
    return urlencode({k: str(v) for k, v in fields.items()})


def payload_form_body(payload: Mapping[str, Any]) -> str:
    """Interactivity bodies are a form with one field: ``payload=<json>``."""
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))})


def json_body(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"))


def slash_command_body(command: str = "/oncall", text: str = "", **kwargs: Any) -> str:
    """Form body of a slash command; keyword arguments as :func:`payloads.slash_command_payload`
    (user_id, channel_id, response_url, trigger_id, ...)."""
    return form_body(p.slash_command_payload(command, text, **kwargs))


def block_action_body(
    action_id: str,
    value: str | None = None,
    user_id: str = p.USER_ID,
    channel: str | None = p.CHANNEL_ID,
    message_ts: str | None = None,
    **kwargs: Any,
) -> str:
    """Form body (``payload=``) of a block_actions request; see
    :func:`payloads.block_action_payload` for the other keywords (view=, response_url=, ...)."""
    return payload_form_body(
        p.block_action_payload(action_id, value, user_id=user_id, channel=channel, message_ts=message_ts, **kwargs)
    )


def message_shortcut_body(callback_id: str, **kwargs: Any) -> str:
    return payload_form_body(p.message_shortcut_payload(callback_id, **kwargs))


def global_shortcut_body(callback_id: str, **kwargs: Any) -> str:
    return payload_form_body(p.global_shortcut_payload(callback_id, **kwargs))


def view_submission_body(callback_id: str, values: Mapping[str, Mapping[str, Any]] | None = None, **kwargs: Any) -> str:
    return payload_form_body(p.view_submission_payload(callback_id, values, **kwargs))


def event_body(event: Mapping[str, Any], event_id: str | None = None, **kwargs: Any) -> str:
    """JSON body of an Events API delivery wrapping ``event``."""
    return json_body(p.event_callback(event, event_id=event_id, **kwargs))


def app_mention_body(text: str, *, event_id: str | None = None, **kwargs: Any) -> str:
    return event_body(p.app_mention_event(text, **kwargs), event_id=event_id)


def app_home_opened_body(user_id: str = p.USER_ID, *, event_id: str | None = None, **kwargs: Any) -> str:
    return event_body(p.app_home_opened_event(user_id, **kwargs), event_id=event_id)


def url_verification_body(challenge: str = "fake-challenge") -> str:
    return json_body(p.url_verification_payload(challenge))


@dataclass
class SimResponse:
    """What the app answered. Unpacks as ``status, body = response``; ``body`` is parsed JSON when
    the app answered JSON, else the text."""

    status: int
    body: Any
    text: str
    headers: Mapping[str, str] = field(default_factory=dict)
    elapsed: float = 0.0

    def __iter__(self) -> Iterator[Any]:
        return iter((self.status, self.body))


class SlackClientSim:
    """Plays Slack's side of HTTP mode: posts (signed) requests to the app.

    Uses its own ``aiohttp.ClientSession(trust_env=False)``: proxies in the environment are
    ignored. ``async with SlackClientSim(...) as sim`` or call :meth:`close`.
    """

    def __init__(
        self,
        signing_secret: str | None = TEST_SIGNING_SECRET,
        base_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.signing_secret = signing_secret
        self.base_url = base_url.rstrip("/") if base_url else None
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SlackClientSim:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _sess(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(trust_env=False, timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    def _url(self, path_url: str) -> str:
        if path_url.startswith(("http://", "https://")):
            return path_url
        if self.base_url is None:
            raise ValueError(f"relative URL {path_url!r} needs base_url")
        return f"{self.base_url}/{path_url.lstrip('/')}"

    async def post(
        self,
        path_url: str,
        body: str | bytes,
        headers: Mapping[str, str] | None = None,
        *,
        signed: bool = True,
        timestamp: int | None = None,
    ) -> SimResponse:
        """POST ``body``. Content-Type follows the body (JSON if it starts with ``{``, else form)
        unless ``headers`` sets it. Signature headers are added when ``signed`` and a secret is
        set, unless ``headers`` already has them."""
        all_headers: dict[str, str] = {}
        raw = body.encode() if isinstance(body, str) else body
        if raw.lstrip()[:1] == b"{":
            all_headers["Content-Type"] = "application/json"
        else:
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        given = {k.lower() for k in (headers or {})}
        if signed and self.signing_secret and "x-slack-signature" not in given:
            all_headers.update(sign(raw, self.signing_secret, timestamp))
        for k, v in (headers or {}).items():
            for existing in [e for e in all_headers if e.lower() == k.lower()]:
                del all_headers[existing]
            all_headers[k] = v
        started = time.perf_counter()
        async with self._sess().post(self._url(path_url), data=raw, headers=all_headers) as res:
            text = await res.text()
            elapsed = time.perf_counter() - started
            parsed: Any = text
            if res.content_type == "application/json" or text[:1] in ("{", "["):
                try:
                    parsed = json.loads(text)
                except ValueError:
                    parsed = text
            return SimResponse(res.status, parsed, text, dict(res.headers), elapsed)

    # Convenience wrappers -------------------------------------------------------------------

    async def slash_command(self, path_url: str, command: str = "/oncall", text: str = "", **kw: Any) -> SimResponse:
        return await self.post(path_url, slash_command_body(command, text, **kw))

    async def block_action(self, path_url: str, action_id: str, value: str | None = None, **kw: Any) -> SimResponse:
        return await self.post(path_url, block_action_body(action_id, value, **kw))

    async def event(self, path_url: str, event: Mapping[str, Any], **kw: Any) -> SimResponse:
        return await self.post(path_url, event_body(event, **kw))
