"""FakeSlack: an in-process stand-in for the Slack Web API, response_url and Socket Mode.

An aiohttp server on 127.0.0.1 (ephemeral port). Point the real clients at it::

    async with FakeSlack() as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        await client.chat_postMessage(channel="C0CHAN001", text="hi")
        [call] = await slack.wait_for("chat.postMessage")
        assert call.params["text"] == "hi"

Everything runs on the test's event loop; there is no thread and no lock. Waiting helpers are
event-driven: they wake on each recorded call and only use ``timeout`` as an upper bound.

The server's clock (``clock=``, default ``time.monotonic``) stamps calls and drives the rate
limiter and trigger expiry; pass a :class:`ManualClock` to test limits without sleeping.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

from . import payloads as p
from .blockkit import MESSAGE_BLOCKS_LIMIT, validate_blocks, validate_view

JsonDict = dict[str, Any]
Handler = Callable[["Call"], "JsonDict | Awaitable[JsonDict]"]
T = TypeVar("T")

log = logging.getLogger(__name__)

# Parameters whose value is JSON when a client sends them form- or query-encoded.
_JSON_PARAMS = frozenset({"blocks", "attachments", "metadata", "view", "files", "user_auth_blocks"})


class ManualClock:
    """A monotonic clock the test moves by hand: ``FakeSlack(clock=clock)``; ``clock.advance(1.0)``."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a monotonic clock does not go back")
        self.now += seconds


@dataclass
class Call:
    """One request to ``/api/<method>`` as the fake received it, and what it answered.

    ``params`` merges the query string and the body (JSON or form; body wins), with the JSON-valued
    parameters (blocks, attachments, metadata, view, files) decoded when they came as strings.
    ``encoding`` says where the parameters were: "json", "form", "multipart", "query" (query
    string only) or "none". ``status``/``response`` are None until the fake has answered.
    """

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at_monotonic: float
    http_method: str = "POST"
    encoding: str = "none"
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None
    status: int | None = None
    response: JsonDict | None = None
    answered_at: float | None = None

    @property
    def token(self) -> str | None:
        auth = next((v for k, v in self.headers.items() if k.lower() == "authorization"), None)
        if auth and auth.lower().startswith("bearer "):
            return auth[7:].strip()
        tok = self.params.get("token")
        return str(tok) if tok is not None else None

    @property
    def answered(self) -> bool:
        return self.status is not None

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response and self.response.get("ok") is True)

    @property
    def error(self) -> str | None:
        if self.response is None:
            return None
        err = self.response.get("error")
        return str(err) if err is not None else None


@dataclass
class ResponseCall:
    """A POST to a ``response_url`` issued by :meth:`FakeSlack.response_url`."""

    name: str
    body: Any
    headers: dict[str, str]
    at_monotonic: float
    raw: str = ""
    status: int = 200


@dataclass
class SocketAck:
    """A message the Socket Mode client sent over the WebSocket (acks are ``envelope_id`` +
    optional ``payload``)."""

    envelope_id: str | None
    payload: Any
    raw: Any
    at_monotonic: float


@dataclass
class Fault:
    method: str
    times: int
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    body: JsonDict | None = None
    where: Callable[[Call], bool] | None = None


@dataclass
class _Delay:
    method: str
    seconds: float
    times: int | None


class Gate:
    """Holds replies to a method until released (see :meth:`FakeSlack.hold`)."""

    def __init__(self, method: str, times: int | None) -> None:
        self.method = method
        self.times = times
        self.waiting = 0
        self._event = asyncio.Event()

    def release(self) -> None:
        self._event.set()

    @property
    def released(self) -> bool:
        return self._event.is_set()

    async def wait(self) -> None:
        self.waiting += 1
        try:
            await self._event.wait()
        finally:
            self.waiting -= 1


@dataclass
class _Bucket:
    tokens: float
    last: float


@dataclass
class RateLimitRule:
    method: str
    per_channel_per_second: float | None
    burst: float
    workspace_per_second: float | None
    workspace_burst: float
    retry_after: int | None
    channels: dict[str, _Bucket] = field(default_factory=dict)
    workspace: _Bucket | None = None


class _SocketConn:
    def __init__(self, ws: web.WebSocketResponse, number: int, at: float) -> None:
        self.ws = ws
        self.number = number
        self.at = at


class _ApiError(Exception):
    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def _flag(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True", "TRUE")


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _split_ids(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def _cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _page(items: list[T], params: Mapping[str, Any], default_limit: int = 100) -> tuple[list[T], str]:
    try:
        limit = int(params.get("limit") or default_limit)
    except (TypeError, ValueError):
        limit = default_limit
    limit = max(1, min(limit, 1000))
    start = 0
    cursor = params.get("cursor")
    if cursor:
        try:
            start = int(base64.b64decode(str(cursor)).decode().split(":", 1)[1])
        except (ValueError, IndexError) as exc:
            raise _ApiError("invalid_cursor") from exc
    chunk = items[start : start + limit]
    nxt = _cursor(start + limit) if start + limit < len(items) else ""
    return chunk, nxt


class FakeSlack:
    """The fake Slack server. See the module docstring; the public API is documented per method."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test",
        app_token: str = "xapp-test",
        check_tokens: bool = False,
        clock: Callable[[], float] = time.monotonic,
        team_id: str = p.TEAM_ID,
        team_domain: str = p.TEAM_DOMAIN,
        team_name: str = p.TEAM_NAME,
        bot_user_id: str = p.BOT_USER_ID,
        bot_id: str = p.BOT_ID,
        bot_name: str = p.BOT_NAME,
        app_id: str = p.APP_ID,
        users: Iterable[Mapping[str, Any]] = (),
        channels: Iterable[Mapping[str, Any]] = (),
        usergroups: Iterable[Mapping[str, Any]] = (),
        auto_create_channels: bool = True,
        validate_blocks: bool = True,
        trigger_ttl: float = 3.0,
        first_ts: str = "1700000000.000100",
        host: str = "127.0.0.1",
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.check_tokens = check_tokens
        self.clock = clock
        self.team_id = team_id
        self.team_domain = team_domain
        self.team_name = team_name
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.app_id = app_id
        self.auto_create_channels = auto_create_channels
        self.validate_blocks = validate_blocks
        self.trigger_ttl = trigger_ttl
        self.host = host

        # Recorded traffic.
        self.calls: list[Call] = []
        self.responses: list[ResponseCall] = []
        self.socket_received: list[SocketAck] = []
        self.socket_sent: list[JsonDict] = []
        self.internal_errors: list[BaseException] = []

        # Workspace state.
        self.users: dict[str, JsonDict] = {}
        self.channels: dict[str, JsonDict] = {}
        self.members: dict[str, list[str]] = {}
        self.messages: dict[str, list[JsonDict]] = {}
        self.ephemerals: list[JsonDict] = []
        self.deleted: list[JsonDict] = []
        self.reactions: list[JsonDict] = []
        self.usergroups: dict[str, JsonDict] = {}
        # ``plan_upgrade_required`` (free plan), ``permission_denied``/``no_permission`` (the
        # workspace does not let everyone manage groups): every usergroups.users.update refused.
        self.usergroup_update_error: str | None = None
        self.usergroup_history: dict[str, list[list[str]]] = {}
        self.topic_history: dict[str, list[str]] = {}  # channel id -> every topic the bot set, in order
        self.views: dict[str, JsonDict] = {}
        self.opened_views: list[JsonDict] = []
        self.home_views: dict[str, JsonDict] = {}
        self.files: dict[str, JsonDict] = {}
        # Do Not Disturb per user id: ``set_dnd(user, start, end)`` / ``set_snooze(user)``.
        self.dnd: dict[str, JsonDict] = {}

        sec, _, frac = first_ts.partition(".")
        self._ts_next = int(sec) * 1_000_000 + int(frac.ljust(6, "0"))
        self._seq = 0
        self._dm_by_users: dict[frozenset[str], str] = {}
        self._triggers: dict[str, tuple[float, bool]] = {}
        self._tickets: set[str] = set()
        self._hash_seq = 0

        self._faults: list[Fault] = []
        self._delays: list[_Delay] = []
        self._gates: list[Gate] = []
        self._rate_limits: dict[str, RateLimitRule] = {}
        self._custom: dict[str, Handler] = {}

        self._sockets: list[_SocketConn] = []
        self._socket_count = 0
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

        self._handlers: dict[str, Callable[[Call], JsonDict]] = {
            "api.test": self._api_test,
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "conversations.info": self._conversations_info,
            "conversations.setTopic": self._conversations_set_topic,
            "conversations.list": self._conversations_list,
            "conversations.members": self._conversations_members,
            "conversations.join": self._conversations_join,
            "users.info": self._users_info,
            "dnd.info": self._dnd_info,
            "users.list": self._users_list,
            "users.lookupByEmail": self._users_lookup_by_email,
            "usergroups.list": self._usergroups_list,
            "usergroups.users.list": self._usergroups_users_list,
            "usergroups.users.update": self._usergroups_users_update,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "reactions.add": self._reactions_add,
        }

        for u in users:
            self.add_user(**u)
        for c in channels:
            self.add_channel(**c)
        for g in usergroups:
            self.add_usergroup(**g)

    # ----------------------------------------------------------------------------------------
    # Lifecycle
    # ----------------------------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        app.router.add_post("/response/{name}", self._handle_response_url)
        app.router.add_get("/socket", self._handle_socket)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        address = self._runner.addresses[0]
        self._port = int(address[1])
        return self

    async def stop(self) -> None:
        for gate in self._gates:
            gate.release()
        for conn in list(self._sockets):
            await conn.ws.close(code=1001, message=b"server shutdown")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeSlack is not started")
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """Base URL for ``AsyncWebClient(base_url=...)``: ``http://127.0.0.1:PORT/api/``."""
        return f"{self.url}/api/"

    @property
    def socket_url(self) -> str:
        return f"ws://{self.host}:{self.port}/socket"

    # ----------------------------------------------------------------------------------------
    # Workspace set-up
    # ----------------------------------------------------------------------------------------

    def _next_id(self, prefix: str) -> str:
        self._seq += 1
        return f"{prefix}0F{self._seq:07d}"

    def _next_ts(self) -> str:
        v = self._ts_next
        self._ts_next += 100
        return f"{v // 1_000_000}.{v % 1_000_000:06d}"

    def add_user(
        self,
        id: str | None = None,
        name: str = "user",
        *,
        email: str | None = None,
        real_name: str | None = None,
        display_name: str | None = None,
        tz: str = "America/New_York",
        is_bot: bool = False,
        deleted: bool = False,
        **extra: Any,
    ) -> str:
        """Add (or replace) a user; returns its id. ``extra`` keys go onto the user object."""
        uid = id or self._next_id("U")
        real = real_name or name
        profile: JsonDict = {
            "real_name": real,
            "display_name": display_name if display_name is not None else name,
            "real_name_normalized": real,
            "display_name_normalized": display_name if display_name is not None else name,
        }
        if email is not None:
            profile["email"] = email
        self.users[uid] = {
            "id": uid,
            "team_id": self.team_id,
            "name": name,
            "deleted": deleted,
            "real_name": real,
            "tz": tz,
            "tz_label": tz,
            "tz_offset": 0,
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": 1700000000,
            **extra,
        }
        return uid

    def add_channel(
        self,
        id: str | None = None,
        name: str | None = None,
        *,
        is_private: bool = False,
        members: Iterable[str] = (),
        is_member: bool = True,
        is_archived: bool = False,
        topic: str = "",
        purpose: str = "",
    ) -> str:
        """Add (or replace) a channel; returns its id (``C...``, or ``G...`` when private)."""
        cid = id or self._next_id("G" if is_private else "C")
        member_list = list(dict.fromkeys(members))
        if is_member and self.bot_user_id not in member_list:
            member_list.append(self.bot_user_id)
        self.members[cid] = member_list
        self.channels[cid] = {
            "id": cid,
            "name": name or cid.lower(),
            "is_channel": not is_private,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": is_private,
            "is_archived": is_archived,
            "is_general": False,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": is_member,
            "created": 1700000000,
            "creator": p.USER_ID,
            "context_team_id": self.team_id,
            "topic": {"value": topic, "creator": "", "last_set": 0},
            "purpose": {"value": purpose, "creator": "", "last_set": 0},
        }
        self.messages.setdefault(cid, [])
        return cid

    def add_usergroup(
        self,
        id: str | None = None,
        handle: str = "group",
        *,
        name: str | None = None,
        users: Iterable[str] = (),
        description: str = "",
    ) -> str:
        """Add a user group (``S...``); returns its id."""
        gid = id or self._next_id("S")
        self.usergroups[gid] = {
            "id": gid,
            "team_id": self.team_id,
            "is_usergroup": True,
            "is_subteam": True,
            "name": name or handle,
            "description": description,
            "handle": handle,
            "is_external": False,
            "date_create": 1700000000,
            "date_update": 1700000000,
            "date_delete": 0,
            "auto_type": None,
            "created_by": p.USER_ID,
            "updated_by": p.USER_ID,
            "deleted_by": None,
            "prefs": {"channels": [], "groups": []},
            "users": list(users),
        }
        self.usergroup_history.setdefault(gid, [])
        return gid

    def add_message(
        self,
        channel: str,
        text: str = "",
        *,
        user: str = p.USER_ID,
        ts: str | None = None,
        thread_ts: str | None = None,
        blocks: list[JsonDict] | None = None,
        metadata: JsonDict | None = None,
        **extra: Any,
    ) -> str:
        """Seed a message (e.g. one a user wrote) into a channel's history; returns its ts."""
        if channel not in self.channels and channel[:1] in ("C", "G", "D"):
            self.add_channel(id=channel)
        msg: JsonDict = {"type": "message", "user": user, "text": text, "ts": ts or self._next_ts(), **extra}
        if blocks is not None:
            msg["blocks"] = blocks
        if metadata is not None:
            msg["metadata"] = metadata
        self._store_message(channel, msg, thread_ts)
        return str(msg["ts"])

    def register(self, method: str, handler: Handler) -> None:
        """Serve ``method`` with ``handler(call) -> dict`` (sync or async); overrides a built-in."""
        self._custom[method] = handler

    def new_trigger_id(self) -> str:
        """Issue a trigger_id whose age the fake checks: views.open/push answer
        ``expired_trigger_id`` after ``trigger_ttl`` seconds (server clock), ``exchanged_trigger_id``
        on second use. trigger_ids the fake did not issue are accepted once each, without expiry."""
        tid = p.new_trigger_id()
        self._triggers[tid] = (self.clock(), False)
        return tid

    def response_url(self, name: str = "default") -> str:
        """A response_url on this server; POSTs to it are recorded in :attr:`responses` (any
        name is accepted, this only builds the URL)."""
        return f"{self.url}/response/{name}"

    # ----------------------------------------------------------------------------------------
    # Inspection
    # ----------------------------------------------------------------------------------------

    def calls_to(self, method: str, *, ok_only: bool = False) -> list[Call]:
        """Every request to ``method`` in arrival order (including failed attempts unless
        ``ok_only``)."""
        return [c for c in self.calls if c.method == method and (c.ok or not ok_only)]

    def last_call(self, method: str) -> Call:
        calls = self.calls_to(method)
        if not calls:
            raise AssertionError(f"no call to {method}; calls: {self._summary()}")
        return calls[-1]

    @property
    def rate_limited(self) -> list[Call]:
        """Calls answered with HTTP 429 (by :meth:`rate_limit` or :meth:`fail_next`)."""
        return [c for c in self.calls if c.status == 429]

    def messages_in(self, channel: str, *, include_replies: bool = True) -> list[JsonDict]:
        """Messages stored in a channel, oldest first."""
        msgs = self.messages.get(channel, [])
        if include_replies:
            return list(msgs)
        return [m for m in msgs if self._is_top_level(m)]

    def thread(self, channel: str, thread_ts: str) -> list[JsonDict]:
        """The parent and its replies, oldest first."""
        msgs = self.messages.get(channel, [])
        return [m for m in msgs if m["ts"] == thread_ts or m.get("thread_ts") == thread_ts]

    def find_message(self, channel: str, ts: str) -> JsonDict | None:
        return next((m for m in self.messages.get(channel, []) if m["ts"] == ts), None)

    def usergroup_members(self, usergroup: str) -> list[str]:
        return list(self.usergroups[usergroup]["users"])

    def dm_channel(self, user_id: str) -> str:
        """The D... id of the bot's DM with ``user_id`` (opening it if needed)."""
        return self._open_conversation([user_id])[0]

    def responses_to(self, name: str) -> list[ResponseCall]:
        return [r for r in self.responses if r.name == name]

    def _summary(self) -> str:
        return ", ".join(f"{c.method}->{c.status}:{c.error or 'ok'}" for c in self.calls) or "(none)"

    # ----------------------------------------------------------------------------------------
    # Fault injection
    # ----------------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 429,
        *,
        retry_after: int | None = 1,
        times: int = 1,
        error: str | None = None,
        body: JsonDict | None = None,
        where: Callable[[Call], bool] | None = None,
    ) -> Fault:
        """Answer the next ``times`` calls to ``method`` (that match ``where``) with a failure.

        * ``status=429``: ``{"ok": false, "error": "ratelimited"}`` + ``Retry-After`` header.
        * ``status=500/503``: ``{"ok": false, "error": "internal_error"}``.
        * ``status=200, error="channel_not_found"``: a normal Slack API error.
        ``body`` replaces the JSON body. Faults queue in order. ``method="response_url"`` applies to
        response_url POSTs.
        """
        fault = Fault(method, times, status, error, retry_after if status == 429 else None, body, where)
        self._faults.append(fault)
        return fault

    def delay(self, method: str, seconds: float, *, times: int | None = None) -> None:
        """Delay replies to ``method`` by ``seconds`` (real time) — for the next ``times`` calls or
        until :meth:`clear_faults`. Prefer :meth:`hold` when the test only needs ordering."""
        self._delays.append(_Delay(method, seconds, times))

    def hold(self, method: str, *, times: int | None = None) -> Gate:
        """Hold replies to ``method`` until ``gate.release()``; no wall-clock time involved."""
        gate = Gate(method, times)
        self._gates.append(gate)
        return gate

    def rate_limit(
        self,
        method: str = "chat.postMessage",
        *,
        per_channel_per_second: float | None = 1.0,
        burst: float = 1.0,
        workspace_per_second: float | None = None,
        workspace_burst: float | None = None,
        retry_after: int | None = None,
    ) -> RateLimitRule:
        """Token-bucket rate limiting for ``method``, measured on the server clock.

        Per channel (the ``channel`` parameter): ``burst`` messages at once, refilling at
        ``per_channel_per_second``; optionally a workspace-wide bucket too. Over the limit the
        fake answers 429 ``ratelimited`` with ``Retry-After`` (seconds until a token is back,
        rounded up, at least 1; or ``retry_after``). Refused calls do not consume tokens.
        """
        ws_burst = workspace_burst if workspace_burst is not None else max(1.0, workspace_per_second or 1.0)
        rule = RateLimitRule(
            method=method,
            per_channel_per_second=per_channel_per_second,
            burst=burst,
            workspace_per_second=workspace_per_second,
            workspace_burst=ws_burst,
            retry_after=retry_after,
        )
        self._rate_limits[method] = rule
        return rule

    def clear_faults(self) -> None:
        """Drop pending faults, delays, rate limits; release every gate."""
        self._faults.clear()
        self._delays.clear()
        self._rate_limits.clear()
        for gate in self._gates:
            gate.release()
        self._gates.clear()

    # ----------------------------------------------------------------------------------------
    # Waiting
    # ----------------------------------------------------------------------------------------

    def _bump(self) -> None:
        ev = self._changed
        self._changed = asyncio.Event()
        ev.set()

    async def _wait_until(
        self,
        probe: Callable[[], T | None],
        timeout: float,  # noqa: ASYNC109
        what: Callable[[], str],
    ) -> T:
        async def loop() -> T:
            while True:
                result = probe()
                if result is not None:
                    return result
                await self._changed.wait()

        try:
            return await asyncio.wait_for(loop(), timeout)
        except TimeoutError:
            raise AssertionError(f"timed out after {timeout}s waiting for {what()}") from None

    async def wait_for(
        self,
        method: str | None = None,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        where: Callable[[Call], bool] | None = None,
        ok_only: bool = False,
        answered: bool = True,
    ) -> list[Call]:
        """Wait until at least ``count`` answered calls to ``method`` (any method if None) match;
        return all matching calls so far. Raises AssertionError on timeout.

        ``ok_only``: count only successful answers. ``answered=False``: count calls as soon as they
        arrive (e.g. held by :meth:`hold`)."""

        def probe() -> list[Call] | None:
            found = [
                c
                for c in self.calls
                if (c.answered or not answered)
                and (method is None or c.method == method)
                and (not ok_only or c.ok)
                and (where is None or where(c))
            ]
            return found if len(found) >= count else None

        return await self._wait_until(
            probe, timeout, lambda: f"{count} x {method or 'any method'}; calls: {self._summary()}"
        )

    async def wait_for_responses(
        self,
        name: str | None = None,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[ResponseCall]:
        """Wait for ``count`` POSTs to response_url ``name`` (any if None)."""

        def probe() -> list[ResponseCall] | None:
            found = [r for r in self.responses if name is None or r.name == name]
            return found if len(found) >= count else None

        return await self._wait_until(
            probe, timeout, lambda: f"{count} response_url posts to {name or 'any'}; got {self.responses}"
        )

    # ----------------------------------------------------------------------------------------
    # Socket Mode
    # ----------------------------------------------------------------------------------------

    @property
    def socket_connections(self) -> int:
        return len(self._sockets)

    async def socket_wait_connected(self, count: int = 1, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until ``count`` Socket Mode connections are open."""
        await self._wait_until(
            lambda: True if len(self._sockets) >= count else None,
            timeout,
            lambda: f"{count} socket connection(s); have {len(self._sockets)}",
        )

    async def socket_send(self, envelope: Mapping[str, Any], timeout: float = 5.0) -> str:  # noqa: ASYNC109
        """Push an envelope to the newest connected client (waiting for one); returns the
        envelope_id (one is added if missing)."""
        env = dict(envelope)
        env.setdefault("envelope_id", p.new_envelope_id())
        await self.socket_wait_connected(1, timeout)
        conn = self._sockets[-1]
        await conn.ws.send_str(json.dumps(env))
        self.socket_sent.append(env)
        return str(env["envelope_id"])

    async def socket_acks(
        self,
        envelope_id: str | None = None,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[SocketAck]:
        """Wait for ``count`` acks (for ``envelope_id``, or any) and return all such so far."""

        def probe() -> list[SocketAck] | None:
            found = [
                a
                for a in self.socket_received
                if a.envelope_id is not None and (envelope_id is None or a.envelope_id == envelope_id)
            ]
            return found if len(found) >= count else None

        return await self._wait_until(
            probe, timeout, lambda: f"{count} ack(s) for {envelope_id or 'any'}; got {self.socket_received}"
        )

    async def socket_request(
        self,
        envelope: Mapping[str, Any],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> SocketAck:
        """Send an envelope and wait for its ack."""
        eid = await self.socket_send(envelope, timeout)
        return (await self.socket_acks(eid, 1, timeout))[0]

    async def socket_disconnect(self, reason: str = "refresh_requested") -> None:
        """Send Slack's ``disconnect`` message to every client (they reconnect via
        apps.connections.open)."""
        msg = {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}}
        for conn in list(self._sockets):
            await conn.ws.send_str(json.dumps(msg))
            self.socket_sent.append(msg)

    async def socket_close(self, code: int = 1001) -> None:
        """Close every WebSocket from the server side."""
        for conn in list(self._sockets):
            await conn.ws.close(code=code)

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return web.Response(status=401, text="invalid ticket")
        ws = web.WebSocketResponse(autoping=True, timeout=1.0)
        await ws.prepare(request)
        self._socket_count += 1
        conn = _SocketConn(ws, self._socket_count, self.clock())
        self._sockets.append(conn)
        hello = {
            "type": "hello",
            "num_connections": len(self._sockets),
            "debug_info": {"host": "applink-fake", "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        }
        await ws.send_str(json.dumps(hello))
        self._bump()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data: Any = json.loads(msg.data)
                except ValueError:
                    data = msg.data
                eid = data.get("envelope_id") if isinstance(data, dict) else None
                payload = data.get("payload") if isinstance(data, dict) else None
                self.socket_received.append(SocketAck(eid, payload, data, self.clock()))
                self._bump()
        finally:
            self._sockets.remove(conn)
            self._bump()
        return ws

    # ----------------------------------------------------------------------------------------
    # HTTP plumbing
    # ----------------------------------------------------------------------------------------

    @staticmethod
    async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, str], Any, str]:
        query = {k: v for k, v in request.query.items()}
        params: dict[str, Any] = dict(query)
        encoding = "query" if query else "none"
        body: Any = None
        if request.body_exists:
            ctype = request.content_type
            if ctype == "application/x-www-form-urlencoded" or ctype.startswith("multipart/"):
                form = await request.post()
                body = {}
                for k, v in form.items():
                    if isinstance(v, web.FileField):
                        body[k] = v.file.read()
                    else:
                        body[k] = v
                encoding = "form" if ctype.endswith("urlencoded") else "multipart"
            else:
                raw = await request.text()
                if raw:
                    try:
                        body = json.loads(raw)
                        encoding = "json"
                    except ValueError:
                        body = raw
                        encoding = "raw"
            if isinstance(body, dict):
                params.update(body)
        for key in _JSON_PARAMS & params.keys():
            params[key] = _maybe_json(params[key])
        return params, query, body, encoding

    def _take_fault(self, call: Call) -> Fault | None:
        for fault in self._faults:
            if fault.method == call.method and fault.times > 0 and (fault.where is None or fault.where(call)):
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
                return fault
        return None

    async def _slow_down(self, method: str) -> None:
        for gate in list(self._gates):
            if gate.method == method and not gate.released:
                if gate.times is not None:
                    gate.times -= 1
                    if gate.times <= 0:
                        self._gates.remove(gate)
                await gate.wait()
        total = 0.0
        for d in list(self._delays):
            if d.method == method:
                total += d.seconds
                if d.times is not None:
                    d.times -= 1
                    if d.times <= 0:
                        self._delays.remove(d)
        if total > 0:
            await asyncio.sleep(total)

    @staticmethod
    def _fault_answer(fault: Fault) -> tuple[int, JsonDict, dict[str, str]]:
        headers: dict[str, str] = {}
        if fault.status == 429:
            headers["Retry-After"] = str(fault.retry_after if fault.retry_after is not None else 1)
            default: JsonDict = {"ok": False, "error": fault.error or "ratelimited"}
        elif fault.status >= 500:
            default = {"ok": False, "error": fault.error or "internal_error"}
        else:
            default = {"ok": False, "error": fault.error or "fatal_error"}
        return fault.status, fault.body if fault.body is not None else default, headers

    def _rate_key(self, call: Call) -> str:
        ref = str(call.params.get("channel") or "")
        if ref[:1] in ("U", "W"):
            return self._dm_by_users.get(frozenset([ref]), ref)
        name = ref.lstrip("#")
        for cid, ch in self.channels.items():
            if ch.get("name") == name:
                return cid
        return ref

    def _check_rate_limit(self, call: Call) -> int | None:
        """Return a Retry-After value when the call is over the limit, else consume a token."""
        rule = self._rate_limits.get(call.method)
        if rule is None:
            return None
        now = call.at_monotonic
        buckets: list[tuple[_Bucket, float, float]] = []
        if rule.per_channel_per_second:
            key = self._rate_key(call)
            b = rule.channels.setdefault(key, _Bucket(rule.burst, now))
            buckets.append((b, rule.per_channel_per_second, rule.burst))
        if rule.workspace_per_second:
            if rule.workspace is None:
                rule.workspace = _Bucket(rule.workspace_burst, now)
            buckets.append((rule.workspace, rule.workspace_per_second, rule.workspace_burst))
        wait = 0.0
        for b, rate, cap in buckets:
            b.tokens = min(cap, b.tokens + max(0.0, now - b.last) * rate)
            b.last = max(b.last, now)
            if b.tokens < 1.0 - 1e-9:
                wait = max(wait, (1.0 - b.tokens) / rate)
        if wait > 0:
            return rule.retry_after if rule.retry_after is not None else max(1, math.ceil(wait - 1e-9))
        for b, _rate, _cap in buckets:
            b.tokens -= 1.0
        return None

    def _check_token(self, call: Call) -> None:
        if not self.check_tokens:
            return
        tok = call.token
        if not tok:
            raise _ApiError("not_authed")
        expected = self.app_token if call.method == "apps.connections.open" else self.bot_token
        if tok == expected:
            return
        if tok in (self.app_token, self.bot_token):
            raise _ApiError("not_allowed_token_type")
        raise _ApiError("invalid_auth")

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        now = self.clock()
        params, query, body, encoding = await self._read_params(request)
        call = Call(
            method=method,
            params=params,
            headers=dict(request.headers),
            at_monotonic=now,
            http_method=request.method,
            encoding=encoding,
            query=query,
            body=body,
        )
        self.calls.append(call)
        self._bump()
        status, answer, headers = await self._answer(call)
        call.status, call.response, call.answered_at = status, answer, self.clock()
        self._bump()
        return web.json_response(answer, status=status, headers=headers)

    async def _answer(self, call: Call) -> tuple[int, JsonDict, dict[str, str]]:
        try:
            await self._slow_down(call.method)
            self._check_token(call)
            fault = self._take_fault(call)
            if fault is not None:
                return self._fault_answer(fault)
            retry_after = self._check_rate_limit(call)
            if retry_after is not None:
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}
            custom = self._custom.get(call.method)
            if custom is not None:
                result = custom(call)
                answer = await result if isinstance(result, Awaitable) else result
                return 200, answer, {}
            handler = self._handlers.get(call.method)
            if handler is None:
                return 200, {"ok": False, "error": "unknown_method"}, {}
            return 200, handler(call), {}
        except _ApiError as e:
            return 200, {"ok": False, "error": e.error, **e.extra}, {}
        except Exception as e:  # a bug in the fake or a custom handler: make it visible
            log.exception("FakeSlack failed to answer %s", call.method)
            self.internal_errors.append(e)
            return 500, {"ok": False, "error": "fake_slack_internal_error", "detail": repr(e)}, {}

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        f = self.files.get(file_id)
        if f is None:
            return web.Response(status=404, text="file not found", content_type="text/plain")
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            first = next(iter(form.values()), "")
            data = first.file.read() if isinstance(first, web.FileField) else str(first).encode()
        else:
            data = await request.read()
        f["content"] = data
        f["uploaded"] = True
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    async def _handle_response_url(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        raw = await request.text()
        body: Any = raw
        if request.content_type == "application/x-www-form-urlencoded":
            form = await request.post()
            body = {k: _maybe_json(v) if isinstance(v, str) else v for k, v in form.items()}
            if isinstance(body.get("payload"), dict):
                body = body["payload"]
        else:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw
        record = ResponseCall(name, body, dict(request.headers), self.clock(), raw)
        probe_params = body if isinstance(body, dict) else {}
        probe = Call("response_url", probe_params, record.headers, record.at_monotonic)
        await self._slow_down("response_url")
        fault = self._take_fault(probe)
        if fault is not None:
            status, answer, headers = self._fault_answer(fault)
        else:
            status, answer, headers = 200, {"ok": True}, {}
        record.status = status
        self.responses.append(record)
        self._bump()
        return web.json_response(answer, status=status, headers=headers)

    # ----------------------------------------------------------------------------------------
    # Helpers for method handlers
    # ----------------------------------------------------------------------------------------

    def _bot_profile(self) -> JsonDict:
        return {
            "id": self.bot_id,
            "app_id": self.app_id,
            "name": self.bot_name,
            "deleted": False,
            "team_id": self.team_id,
        }

    @staticmethod
    def _is_top_level(m: Mapping[str, Any]) -> bool:
        return m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"

    def _store_message(self, channel: str, msg: JsonDict, thread_ts: str | None) -> None:
        msgs = self.messages.setdefault(channel, [])
        if thread_ts:
            msg["thread_ts"] = thread_ts
            parent = self.find_message(channel, thread_ts)
            if parent is not None:
                parent["thread_ts"] = thread_ts
                parent["reply_count"] = int(parent.get("reply_count", 0)) + 1
                users = parent.setdefault("reply_users", [])
                author = msg.get("user")
                if author and author not in users:
                    users.append(author)
                parent["reply_users_count"] = len(users)
                parent["latest_reply"] = msg["ts"]
        msgs.append(msg)

    def _open_conversation(self, users: list[str]) -> tuple[str, bool]:
        key = frozenset(users)
        existing = self._dm_by_users.get(key)
        if existing is not None:
            return existing, True
        if len(users) == 1:
            cid = self._next_id("D")
            self.channels[cid] = {
                "id": cid,
                "created": 1700000000,
                "is_im": True,
                "is_org_shared": False,
                "context_team_id": self.team_id,
                "user": users[0],
                "is_user_deleted": False,
                "priority": 0,
                "is_open": True,
            }
        else:
            cid = self._next_id("G")
            names = [str(self.users.get(u, {}).get("name", u)) for u in users]
            self.channels[cid] = {
                "id": cid,
                "name": f"mpdm-{'--'.join(names)}-1",
                "is_channel": False,
                "is_group": False,
                "is_im": False,
                "is_mpim": True,
                "is_private": True,
                "is_archived": False,
                "is_member": True,
                "created": 1700000000,
                "context_team_id": self.team_id,
            }
        self.members[cid] = [self.bot_user_id, *users]
        self.messages.setdefault(cid, [])
        self._dm_by_users[key] = cid
        return cid, False

    def _resolve_channel(self, ref: Any, *, post: bool = False) -> str:
        if not ref:
            raise _ApiError("channel_not_found")
        ref_s = str(ref)
        if ref_s[:1] in ("U", "W") and post:
            return self._open_conversation([ref_s])[0]
        if ref_s in self.channels:
            ch = self.channels[ref_s]
            if post and ch.get("is_archived"):
                raise _ApiError("is_archived")
            if post and not ch.get("is_im") and not ch.get("is_mpim") and not ch.get("is_member", True):
                raise _ApiError("not_in_channel")
            return ref_s
        name = ref_s.lstrip("#")
        for cid, ch in self.channels.items():
            if ch.get("name") == name:
                return self._resolve_channel(str(cid), post=post)
        if self.auto_create_channels and ref_s[:1] in ("C", "G", "D"):
            return self.add_channel(id=ref_s)
        raise _ApiError("channel_not_found")

    def _check_blocks(self, params: Mapping[str, Any], error: str = "invalid_blocks") -> None:
        if not self.validate_blocks or params.get("blocks") is None:
            return
        errors = validate_blocks(params["blocks"], limit=MESSAGE_BLOCKS_LIMIT)
        if errors:
            raise _ApiError(error, errors=errors, response_metadata={"messages": errors})

    @staticmethod
    def _check_metadata(metadata: Any) -> None:
        if metadata is None:
            return
        if not isinstance(metadata, Mapping) or not isinstance(metadata.get("event_type"), str):
            raise _ApiError("invalid_metadata_format")
        if not isinstance(metadata.get("event_payload", {}), Mapping):
            raise _ApiError("invalid_metadata_format")

    def _new_hash(self) -> str:
        self._hash_seq += 1
        return f"{1700000000 + self._hash_seq}.{self._hash_seq:08x}"

    @staticmethod
    def _with_block_ids(blocks: Any) -> Any:
        """Slack gives every block a block_id in what it stores and returns."""
        if not isinstance(blocks, list):
            return blocks
        out = copy.deepcopy(blocks)
        taken = {b.get("block_id") for b in out if isinstance(b, dict)}
        n = 0
        for b in out:
            if isinstance(b, dict) and "block_id" not in b:
                while f"fk{n}" in taken:
                    n += 1
                b["block_id"] = f"fk{n}"
                taken.add(b["block_id"])
        return out

    def _message_view(self, m: Mapping[str, Any], *, with_metadata: bool) -> JsonDict:
        out = copy.deepcopy(dict(m))
        if not with_metadata:
            out.pop("metadata", None)
        return out

    @staticmethod
    def _need(params: Mapping[str, Any], *names: str) -> None:
        missing = [n for n in names if params.get(n) in (None, "")]
        if missing:
            messages = [f"[ERROR] missing required field: {n}" for n in missing]
            raise _ApiError("invalid_arguments", response_metadata={"messages": messages})

    def _check_trigger(self, trigger_id: str) -> None:
        issued = self._triggers.get(trigger_id)
        if issued is None:
            self._triggers[trigger_id] = (self.clock(), True)
            return
        at, used = issued
        if used:
            raise _ApiError("exchanged_trigger_id")
        if self.clock() - at > self.trigger_ttl:
            raise _ApiError("expired_trigger_id")
        self._triggers[trigger_id] = (at, True)

    # ----------------------------------------------------------------------------------------
    # Methods
    # ----------------------------------------------------------------------------------------

    def _api_test(self, call: Call) -> JsonDict:
        return {"ok": True, "args": {k: v for k, v in call.params.items() if k != "token"}}

    def _auth_test(self, call: Call) -> JsonDict:
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, call: Call) -> JsonDict:
        ticket = f"fake-{len(self._tickets) + 1}"
        self._tickets.add(ticket)
        return {"ok": True, "url": f"{self.socket_url}?ticket={ticket}&app_id={self.app_id}"}

    def _chat_post_message(self, call: Call) -> JsonDict:
        prm = call.params
        channel = self._resolve_channel(prm.get("channel"), post=True)
        text = prm.get("text")
        blocks = prm.get("blocks")
        attachments = prm.get("attachments")
        if not text and not blocks and not attachments:
            raise _ApiError("no_text")
        if isinstance(text, str) and len(text) > 40_000:
            raise _ApiError("msg_too_long")
        self._check_blocks(prm)
        self._check_metadata(prm.get("metadata"))
        ts = self._next_ts()
        msg: JsonDict = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": text or "",
            "ts": ts,
            "team": self.team_id,
            "bot_profile": self._bot_profile(),
        }
        if blocks:
            msg["blocks"] = self._with_block_ids(blocks)
        if attachments:
            msg["attachments"] = attachments
        if prm.get("metadata") is not None:
            msg["metadata"] = prm["metadata"]
        if prm.get("username"):
            msg["username"] = prm["username"]
        thread_ts = prm.get("thread_ts") or None
        if thread_ts and _flag(prm.get("reply_broadcast")):
            msg["subtype"] = "thread_broadcast"
        self._store_message(channel, msg, str(thread_ts) if thread_ts else None)
        return {"ok": True, "channel": channel, "ts": ts, "message": copy.deepcopy(msg)}

    def _chat_post_ephemeral(self, call: Call) -> JsonDict:
        prm = call.params
        channel = self._resolve_channel(prm.get("channel"), post=True)
        if not prm.get("user"):
            raise _ApiError("user_not_found")
        if not prm.get("text") and not prm.get("blocks") and not prm.get("attachments"):
            raise _ApiError("no_text")
        self._check_blocks(prm)
        ts = self._next_ts()
        self.ephemerals.append(
            {
                "channel": channel,
                "user": prm["user"],
                "text": prm.get("text") or "",
                "blocks": prm.get("blocks"),
                "thread_ts": prm.get("thread_ts"),
                "message_ts": ts,
            }
        )
        return {"ok": True, "message_ts": ts}

    def _chat_update(self, call: Call) -> JsonDict:
        prm = call.params
        channel = self._resolve_channel(prm.get("channel"))
        ts = str(prm.get("ts") or "")
        msg = self.find_message(channel, ts)
        if msg is None:
            raise _ApiError("message_not_found")
        if msg.get("bot_id") != self.bot_id:
            raise _ApiError("cant_update_message")
        if prm.get("text") is None and prm.get("blocks") is None and prm.get("attachments") is None:
            raise _ApiError("no_text")
        self._check_blocks(prm)
        self._check_metadata(prm.get("metadata"))
        if prm.get("text") is not None:
            msg["text"] = prm["text"]
        if prm.get("blocks") is not None:
            if prm["blocks"]:
                msg["blocks"] = self._with_block_ids(prm["blocks"])
            else:
                msg.pop("blocks", None)
        if prm.get("attachments") is not None:
            msg["attachments"] = prm["attachments"]
        if prm.get("metadata") is not None:
            msg["metadata"] = prm["metadata"]
        msg["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {"ok": True, "channel": channel, "ts": ts, "text": msg["text"], "message": copy.deepcopy(msg)}

    def _chat_delete(self, call: Call) -> JsonDict:
        prm = call.params
        channel = self._resolve_channel(prm.get("channel"))
        ts = str(prm.get("ts") or "")
        msg = self.find_message(channel, ts)
        if msg is None:
            raise _ApiError("message_not_found")
        if msg.get("bot_id") != self.bot_id:
            raise _ApiError("cant_delete_message")
        self.messages[channel].remove(msg)
        self.deleted.append({"channel": channel, **msg})
        return {"ok": True, "channel": channel, "ts": ts}

    def _chat_get_permalink(self, call: Call) -> JsonDict:
        prm = call.params
        channel = self._resolve_channel(prm.get("channel"))
        ts = str(prm.get("message_ts") or "")
        if self.find_message(channel, ts) is None:
            raise _ApiError("message_not_found")
        link = f"https://{self.team_domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        return {"ok": True, "channel": channel, "permalink": link}

    def _conversations_open(self, call: Call) -> JsonDict:
        prm = call.params
        if prm.get("channel"):
            cid = self._resolve_channel(prm["channel"])
            return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": cid}}
        users = _split_ids(prm.get("users"))
        if not users:
            raise _ApiError("users_list_not_supplied")
        if len(users) > 8:
            raise _ApiError("too_many_users")
        cid, existed = self._open_conversation(users)
        channel: JsonDict = copy.deepcopy(self.channels[cid]) if _flag(prm.get("return_im")) else {"id": cid}
        out: JsonDict = {"ok": True, "channel": channel}
        if existed:
            out.update(no_op=True, already_open=True)
        return out

    def _history_view(self, msgs: list[JsonDict], prm: Mapping[str, Any]) -> tuple[list[JsonDict], bool, str]:
        inclusive = _flag(prm.get("inclusive"))
        oldest = prm.get("oldest")
        latest = prm.get("latest")

        def in_range(m: Mapping[str, Any]) -> bool:
            ts = float(m["ts"])
            if oldest not in (None, "") and (ts < float(oldest) or (ts == float(oldest) and not inclusive)):
                return False
            return latest in (None, "") or ts < float(latest) or (ts == float(latest) and inclusive)

        with_meta = _flag(prm.get("include_all_metadata"))
        selected = [self._message_view(m, with_metadata=with_meta) for m in msgs if in_range(m)]
        page, nxt = _page(selected, prm)
        return page, bool(nxt), nxt

    def _conversations_history(self, call: Call) -> JsonDict:
        prm = call.params
        channel = self._resolve_channel(prm.get("channel"))
        top = [m for m in self.messages.get(channel, []) if self._is_top_level(m)]
        top.sort(key=lambda m: float(m["ts"]), reverse=True)
        page, has_more, nxt = self._history_view(top, prm)
        return {
            "ok": True,
            "messages": page,
            "has_more": has_more,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {"next_cursor": nxt},
        }

    def _conversations_replies(self, call: Call) -> JsonDict:
        prm = call.params
        channel = self._resolve_channel(prm.get("channel"))
        ts = str(prm.get("ts") or "")
        msgs = self.thread(channel, ts)
        if not msgs:
            raise _ApiError("thread_not_found")
        msgs.sort(key=lambda m: float(m["ts"]))
        page, has_more, nxt = self._history_view(msgs, prm)
        return {"ok": True, "messages": page, "has_more": has_more, "response_metadata": {"next_cursor": nxt}}

    def _conversations_info(self, call: Call) -> JsonDict:
        prm = call.params
        cid = self._resolve_channel(prm.get("channel"))
        ch = copy.deepcopy(self.channels[cid])
        if _flag(prm.get("include_num_members")):
            ch["num_members"] = len(self.members.get(cid, []))
        return {"ok": True, "channel": ch}

    def _conversations_set_topic(self, call: Call) -> JsonDict:
        """As Slack: the bot must be in the channel; plain text of at most 250 characters; a
        topic equal to the current one is still a change (Slack posts "set the channel topic")."""
        prm = call.params
        cid = self._resolve_channel(prm.get("channel"))
        ch = self.channels[cid]
        if ch.get("is_archived"):
            raise _ApiError("is_archived")
        if ch.get("is_im") or ch.get("is_mpim"):
            raise _ApiError("method_not_supported_for_channel_type")
        if self.bot_user_id not in self.members.get(cid, []):
            raise _ApiError("not_in_channel")
        topic = str(prm.get("topic") or "")
        if len(topic) > 250:
            raise _ApiError("too_long")
        ch["topic"] = {"value": topic, "creator": self.bot_user_id, "last_set": int(self.clock())}
        self.topic_history.setdefault(cid, []).append(topic)
        return {"ok": True, "channel": copy.deepcopy(ch)}

    def set_topic_by_hand(self, channel: str, topic: str) -> None:
        """A person sets the channel's topic (what the team writes before the separator)."""
        self.channels[self._resolve_channel(channel)]["topic"] = {"value": topic, "creator": p.USER_ID,
                                                                  "last_set": int(self.clock())}

    def topic_of(self, channel: str) -> str:
        return str(self.channels[self._resolve_channel(channel)]["topic"]["value"])

    def _conversations_list(self, call: Call) -> JsonDict:
        prm = call.params
        types = set(_split_ids(prm.get("types")) or ["public_channel"])

        def kind(ch: Mapping[str, Any]) -> str:
            if ch.get("is_im"):
                return "im"
            if ch.get("is_mpim"):
                return "mpim"
            return "private_channel" if ch.get("is_private") else "public_channel"

        chans = [
            copy.deepcopy(ch)
            for ch in self.channels.values()
            if kind(ch) in types and not (_flag(prm.get("exclude_archived")) and ch.get("is_archived"))
        ]
        for ch in chans:
            if not ch.get("is_im"):
                ch["num_members"] = len(self.members.get(ch["id"], []))
        page, nxt = _page(chans, prm)
        return {"ok": True, "channels": page, "response_metadata": {"next_cursor": nxt}}

    def _conversations_members(self, call: Call) -> JsonDict:
        prm = call.params
        cid = self._resolve_channel(prm.get("channel"))
        page, nxt = _page(list(self.members.get(cid, [])), prm)
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": nxt}}

    def _conversations_join(self, call: Call) -> JsonDict:
        cid = self._resolve_channel(call.params.get("channel"))
        ch = self.channels[cid]
        already = bool(ch.get("is_member"))
        ch["is_member"] = True
        if self.bot_user_id not in self.members.setdefault(cid, []):
            self.members[cid].append(self.bot_user_id)
        out: JsonDict = {"ok": True, "channel": copy.deepcopy(ch)}
        if already:
            out["warning"] = "already_in_channel"
            out["response_metadata"] = {"warnings": ["already_in_channel"]}
        return out

    def set_dnd(self, user: str, start: float, end: float) -> None:
        """Put ``user`` in a Do Not Disturb window ``[start, end)`` (Unix seconds), as scheduled DND."""
        self.dnd[user] = {"dnd_enabled": True, "next_dnd_start_ts": int(start), "next_dnd_end_ts": int(end),
                          "snooze_enabled": False}

    def set_snooze(self, user: str, until: float) -> None:
        """``user`` snoozed notifications until ``until`` (Unix seconds)."""
        self.dnd[user] = {"dnd_enabled": False, "snooze_enabled": True, "snooze_endtime": int(until),
                          "snooze_remaining": 0}

    def _dnd_info(self, call: Call) -> JsonDict:
        user = str(call.params.get("user") or "")
        if user and user not in self.users:
            raise _ApiError("user_not_found")
        state = self.dnd.get(user, {"dnd_enabled": False, "next_dnd_start_ts": 1, "next_dnd_end_ts": 1,
                                    "snooze_enabled": False})
        return {"ok": True, **copy.deepcopy(state)}

    def _users_info(self, call: Call) -> JsonDict:
        user = self.users.get(str(call.params.get("user") or ""))
        if user is None:
            raise _ApiError("user_not_found")
        return {"ok": True, "user": copy.deepcopy(user)}

    def _users_list(self, call: Call) -> JsonDict:
        page, nxt = _page([copy.deepcopy(u) for u in self.users.values()], call.params, default_limit=200)
        meta = {"next_cursor": nxt}
        return {"ok": True, "members": page, "cache_ts": 1700000000, "response_metadata": meta}

    def _users_lookup_by_email(self, call: Call) -> JsonDict:
        email = str(call.params.get("email") or "").strip().lower()
        if not email:
            raise _ApiError("invalid_arguments")
        for user in self.users.values():
            if str(user.get("profile", {}).get("email", "")).lower() == email:
                return {"ok": True, "user": copy.deepcopy(user)}
        raise _ApiError("users_not_found")

    def _usergroup_view(self, g: Mapping[str, Any], prm: Mapping[str, Any]) -> JsonDict:
        out = copy.deepcopy(dict(g))
        users = out.pop("users")
        if _flag(prm.get("include_users")):
            out["users"] = users
        if _flag(prm.get("include_count")) or "user_count" in prm:
            out["user_count"] = len(users)
        return out

    def _usergroups_list(self, call: Call) -> JsonDict:
        prm = call.params
        groups = [
            self._usergroup_view(g, prm)
            for g in self.usergroups.values()
            if _flag(prm.get("include_disabled")) or not g.get("date_delete")
        ]
        return {"ok": True, "usergroups": groups}

    def _usergroups_users_list(self, call: Call) -> JsonDict:
        gid = str(call.params.get("usergroup") or "")
        if gid not in self.usergroups:
            raise _ApiError("no_such_subteam")
        return {"ok": True, "users": list(self.usergroups[gid]["users"])}

    def _usergroups_users_update(self, call: Call) -> JsonDict:
        prm = call.params
        gid = str(prm.get("usergroup") or "")
        if gid not in self.usergroups:
            raise _ApiError("no_such_subteam")
        if self.usergroup_update_error is not None:  # the workspace refuses every update
            raise _ApiError(self.usergroup_update_error)
        users = list(dict.fromkeys(_split_ids(prm.get("users"))))
        if not users:
            raise _ApiError("no_users_provided")
        # Slack refuses guests (restricted accounts) and bots in user groups.
        if any(self.users.get(u, {}).get(flag) for u in users for flag in ("is_bot", "is_restricted",
                                                                          "is_ultra_restricted")):
            raise _ApiError("invalid_users")
        group = self.usergroups[gid]
        group["users"] = users
        group["date_update"] = int(group["date_update"]) + 1
        group["updated_by"] = self.bot_user_id
        self.usergroup_history.setdefault(gid, []).append(list(users))
        view = self._usergroup_view(group, {"include_users": True, "include_count": prm.get("include_count")})
        return {"ok": True, "usergroup": view}

    def _new_view(self, view: Any, *, view_id: str | None = None, root: str | None = None) -> JsonDict:
        if self.validate_blocks:
            errors = validate_view(view)
            if errors:
                raise _ApiError("invalid_arguments", response_metadata={"messages": errors})
        elif not isinstance(view, Mapping):
            raise _ApiError("invalid_arguments")
        vid = view_id or self._next_id("V")
        out: JsonDict = {
            "id": vid,
            "team_id": self.team_id,
            "type": view.get("type"),
            "blocks": self._with_block_ids(view.get("blocks", [])),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": self._new_hash(),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": root or vid,
            "previous_view_id": None,
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "bot_id": self.bot_id,
        }
        for key in ("title", "submit", "close"):
            if key in view:
                out[key] = copy.deepcopy(view[key])
        return out

    def _views_open(self, call: Call) -> JsonDict:
        prm = call.params
        self._need(prm, "trigger_id", "view")
        view = self._new_view(prm["view"])
        self._check_trigger(str(prm["trigger_id"]))
        self.views[view["id"]] = view
        self.opened_views.append(view)
        return {"ok": True, "view": copy.deepcopy(view)}

    def _views_push(self, call: Call) -> JsonDict:
        prm = call.params
        self._need(prm, "trigger_id", "view")
        view = self._new_view(prm["view"])
        self._check_trigger(str(prm["trigger_id"]))
        self.views[view["id"]] = view
        self.opened_views.append(view)
        return {"ok": True, "view": copy.deepcopy(view)}

    def _views_update(self, call: Call) -> JsonDict:
        prm = call.params
        self._need(prm, "view")
        vid = prm.get("view_id")
        ext = prm.get("external_id")
        current: JsonDict | None = None
        if vid:
            current = self.views.get(str(vid))
        elif ext:
            current = next((v for v in self.views.values() if v.get("external_id") == ext), None)
        else:
            raise _ApiError("invalid_arguments")
        if current is None:
            raise _ApiError("not_found")
        if prm.get("hash") and prm["hash"] != current["hash"]:
            raise _ApiError("hash_conflict")
        view = self._new_view(prm["view"], view_id=current["id"], root=current["root_view_id"])
        self.views[view["id"]] = view
        return {"ok": True, "view": copy.deepcopy(view)}

    def _views_publish(self, call: Call) -> JsonDict:
        prm = call.params
        self._need(prm, "user_id", "view")
        uid = str(prm["user_id"])
        previous = self.home_views.get(uid)
        if previous is not None and prm.get("hash") and prm["hash"] != previous["hash"]:
            raise _ApiError("hash_conflict")
        if isinstance(prm["view"], Mapping) and prm["view"].get("type") != "home":
            raise _ApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] must be home"]})
        view = self._new_view(prm["view"], view_id=previous["id"] if previous else None)
        self.views[view["id"]] = view
        self.home_views[uid] = view
        return {"ok": True, "view": copy.deepcopy(view)}

    def _files_get_upload_url_external(self, call: Call) -> JsonDict:
        prm = call.params
        self._need(prm, "filename", "length")
        fid = self._next_id("F")
        self.files[fid] = {
            "id": fid,
            "name": prm["filename"],
            "length": int(prm["length"]),
            "alt_txt": prm.get("alt_txt"),
            "snippet_type": prm.get("snippet_type"),
            "content": None,
            "uploaded": False,
            "completed": False,
        }
        return {"ok": True, "upload_url": f"{self.url}/upload/v1/{fid}", "file_id": fid}

    def _files_complete_upload_external(self, call: Call) -> JsonDict:
        prm = call.params
        items = prm.get("files")
        if not isinstance(items, list) or not items:
            raise _ApiError("invalid_arguments")
        channel = prm.get("channel_id") or next(iter(_split_ids(prm.get("channels"))), None)
        cid = self._resolve_channel(channel, post=True) if channel else None
        out = []
        for item in items:
            f = self.files.get(str(item.get("id")))
            if f is None or not f["uploaded"]:
                raise _ApiError("file_not_found")
            f["completed"] = True
            f["title"] = item.get("title") or f["name"]
            f["channel"] = cid
            f["initial_comment"] = prm.get("initial_comment")
            out.append(
                {
                    "id": f["id"],
                    "name": f["name"],
                    "title": f["title"],
                    "size": len(f["content"] or b""),
                    "user": self.bot_user_id,
                    "created": 1700000000,
                    "permalink": f"https://{self.team_domain}.slack.com/files/{self.bot_user_id}/{f['id']}/{f['name']}",
                }
            )
        if cid is not None:
            msg: JsonDict = {
                "type": "message",
                "subtype": "file_share",
                "user": self.bot_user_id,
                "bot_id": self.bot_id,
                "text": prm.get("initial_comment") or "",
                "ts": self._next_ts(),
                "files": copy.deepcopy(out),
            }
            thread_ts = prm.get("thread_ts")
            self._store_message(cid, msg, str(thread_ts) if thread_ts else None)
        return {"ok": True, "files": out}

    def _reactions_add(self, call: Call) -> JsonDict:
        prm = call.params
        channel = self._resolve_channel(prm.get("channel"))
        name = str(prm.get("name") or "").strip(":")
        if not name:
            raise _ApiError("invalid_name")
        msg = self.find_message(channel, str(prm.get("timestamp") or ""))
        if msg is None:
            raise _ApiError("message_not_found")
        reactions = msg.setdefault("reactions", [])
        entry = next((r for r in reactions if r["name"] == name), None)
        if entry is None:
            entry = {"name": name, "users": [], "count": 0}
            reactions.append(entry)
        if self.bot_user_id in entry["users"]:
            raise _ApiError("already_reacted")
        entry["users"].append(self.bot_user_id)
        entry["count"] += 1
        self.reactions.append({"channel": channel, "timestamp": msg["ts"], "name": name})
        return {"ok": True}
