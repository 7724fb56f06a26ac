"""Delivering the scheduled work's Slack calls: once, paced, retried, never dropped.

A *delivery* (``bot.storage.scheduled.DeliveryRow``) is one Slack call that an occurrence needs.
``Deliverer.run`` takes the ready ones, leases them (a conditional update: one replica wins each),
sends them through a ``SlackPort`` and records the outcome:

- pacing: one message a second per channel (each channel's deliveries go out in order from a
  worker of their own), an optional workspace-wide rate, and at most ``concurrency`` requests in
  flight. A 429 pauses every send for its ``Retry-After`` and the same delivery is tried again;
- exactly once: a delivery whose earlier attempt may have reached Slack (``look_first``: its
  replica died after the lease, or the request timed out) is first looked for in the channel by
  the key its message carries in metadata; found, it is recorded sent without posting again;
- failures: an attempt that fails is recorded ``failed`` with ``next_attempt_at`` (exponential
  backoff) and retried by a later tick, until sent or past ``expires_at`` (then ``expired``).

Every outcome is in the audit trail (``bot.storage.audit``, actor None), written with the
outcome itself: ``delivery.sent`` (in the batch that records the sends), ``delivery.failed`` (one
per failed attempt) and ``delivery.expired``; subject ``delivery:KEY``.

Without Slack credentials ``ConsolePort`` prints each call instead.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from bot.ops.logging import log_context
from bot.storage import audit
from bot.storage import scheduled as store
from bot.storage.bootstrap import Database

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.core.model import Directory

log = logging.getLogger(__name__)

FAULT_ENV = "ONCALL_TEST_FAULT"
"""Test hook: ``after_lease`` or ``after_post`` kills the process (SIGKILL) at that point of the
first delivery it sends, to prove that a dead replica's work is finished once by another."""


class SendError(Exception):
    """A Slack call failed. ``retry_after``: seconds (a 429). ``definite``: Slack answered, so
    nothing was posted; False when the outcome is unknown (timeout, connection lost)."""

    def __init__(self, message: str, *, retry_after: float | None = None, definite: bool = True) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.definite = definite


class SlackPort(Protocol):
    """What the deliveries need from Slack."""

    paced: bool

    async def conversation(self, target: str) -> str:
        """The conversation id of ``#name``, ``C…``/``G…``/``D…``, a user ``U…`` (their DM) or
        ``U1,U2,U3`` (a group DM)."""
        ...

    async def post(
        self,
        channel_id: str,
        text: str,
        blocks: list[dict[str, Any]] | None,
        metadata: dict[str, Any] | None,
        thread_ts: str | None,
    ) -> tuple[str, str]:
        """Post; ``(channel id, ts)``."""
        ...

    async def update(self, channel_id: str, ts: str, text: str, blocks: list[dict[str, Any]] | None) -> None: ...

    async def find_key(self, channel_id: str, key: str, oldest: datetime | None, thread_ts: str | None) -> str | None:
        """The ts of a message in the channel (or thread) whose metadata carries ``key``."""
        ...

    async def upload(
        self, channel_id: str, thread_ts: str | None, filename: str, content: bytes, title: str, comment: str | None
    ) -> None: ...

    async def find_file(self, channel_id: str, thread_ts: str | None, filename: str) -> bool: ...

    async def set_usergroup(self, handle: str, users: Sequence[str]) -> None: ...

    async def permalink(self, channel_id: str, ts: str) -> str | None: ...


# -- Slack over the Web API -----------------------------------------------------------------------


def _send_error(exc: BaseException) -> SendError:
    from slack_sdk.errors import SlackApiError

    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200)
        error = exc.response.get("error") if hasattr(exc.response, "get") else None
        if status == 429:
            headers = getattr(exc.response, "headers", {}) or {}
            raw = headers.get("Retry-After") or headers.get("retry-after") or "1"
            try:
                retry = float(raw)
            except (TypeError, ValueError):
                retry = 1.0
            return SendError(f"ratelimited (Retry-After {raw})", retry_after=max(retry, 0.0))
        return SendError(f"slack error {status}: {error}", definite=status < 500)
    if isinstance(exc, SendError):
        return exc
    return SendError(f"{type(exc).__name__}: {exc}", definite=False)


class WebSlackPort:
    """A ``SlackPort`` over ``AsyncWebClient``."""

    paced = True

    def __init__(self, client: AsyncWebClient, *, history_pages: int = 10) -> None:
        self.client = client
        self.history_pages = history_pages
        self._names: dict[str, str] = {}
        self._groups: dict[str, str] = {}

    async def _call(self, coro: Awaitable[Any]) -> Any:
        try:
            return await coro
        except Exception as exc:
            raise _send_error(exc) from exc

    async def conversation(self, target: str) -> str:
        if "," in target or target[:1] in ("U", "W"):
            resp = await self._call(self.client.conversations_open(users=target))
            return str(resp["channel"]["id"])
        if not target.startswith("#"):
            return target
        name = target[1:]
        if name in self._names:
            return self._names[name]
        cursor: str | None = None
        while True:
            resp = await self._call(
                self.client.conversations_list(
                    types="public_channel,private_channel", exclude_archived=True, limit=1000, cursor=cursor
                )
            )
            for ch in resp.get("channels", []):
                self._names[str(ch.get("name"))] = str(ch["id"])
            cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
            if name in self._names or not cursor:
                break
        if name not in self._names:
            raise SendError(f"channel {target} not found (invite the bot to it)")
        return self._names[name]

    async def post(
        self,
        channel_id: str,
        text: str,
        blocks: list[dict[str, Any]] | None,
        metadata: dict[str, Any] | None,
        thread_ts: str | None,
    ) -> tuple[str, str]:
        kwargs: dict[str, Any] = {"channel": channel_id, "text": text, "unfurl_links": False}
        if blocks:
            kwargs["blocks"] = blocks
        if metadata:
            kwargs["metadata"] = metadata
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        resp = await self._call(self.client.chat_postMessage(**kwargs))
        return str(resp["channel"]), str(resp["ts"])

    async def update(self, channel_id: str, ts: str, text: str, blocks: list[dict[str, Any]] | None) -> None:
        await self._call(self.client.chat_update(channel=channel_id, ts=ts, text=text, blocks=blocks or []))

    async def find_key(self, channel_id: str, key: str, oldest: datetime | None, thread_ts: str | None) -> str | None:
        cursor: str | None = None
        for _ in range(self.history_pages):  # newest first: a post we may have made is recent
            kwargs: dict[str, Any] = {"channel": channel_id, "include_all_metadata": True, "limit": 200}
            if cursor:
                kwargs["cursor"] = cursor
            if oldest is not None:
                kwargs["oldest"] = f"{oldest.timestamp():.6f}"
            if thread_ts:
                resp = await self._call(self.client.conversations_replies(ts=thread_ts, **kwargs))
            else:
                resp = await self._call(self.client.conversations_history(**kwargs))
            for m in resp.get("messages", []):
                payload = (m.get("metadata") or {}).get("event_payload") or {}
                if payload.get("key") == key:
                    return str(m["ts"])
            cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None
        return None

    async def upload(
        self, channel_id: str, thread_ts: str | None, filename: str, content: bytes, title: str, comment: str | None
    ) -> None:
        kwargs: dict[str, Any] = {
            "channel": channel_id,
            "filename": filename,
            "content": content,
            "title": title,
            "request_file_info": False,
        }
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        if comment:
            kwargs["initial_comment"] = comment
        await self._call(self.client.files_upload_v2(**kwargs))

    async def find_file(self, channel_id: str, thread_ts: str | None, filename: str) -> bool:
        kwargs: dict[str, Any] = {"channel": channel_id, "limit": 200}
        if thread_ts:
            resp = await self._call(self.client.conversations_replies(ts=thread_ts, **kwargs))
        else:
            resp = await self._call(self.client.conversations_history(**kwargs))
        return any(f.get("name") == filename for m in resp.get("messages", []) for f in (m.get("files") or []))

    async def set_usergroup(self, handle: str, users: Sequence[str]) -> None:
        handle = handle.lstrip("@")
        gid = self._groups.get(handle)
        if gid is None:
            resp = await self._call(self.client.usergroups_list())
            for g in resp.get("usergroups", []):
                self._groups[str(g.get("handle"))] = str(g["id"])
            gid = self._groups.get(handle)
        if gid is None:
            raise SendError(f"user group @{handle} not found")
        await self._call(self.client.usergroups_users_update(usergroup=gid, users=",".join(users)))

    async def permalink(self, channel_id: str, ts: str) -> str | None:
        try:
            resp = await self._call(self.client.chat_getPermalink(channel=channel_id, message_ts=ts))
        except SendError:
            return None
        link = resp.get("permalink")
        return str(link) if link else None


# -- the console ------------------------------------------------------------------------------------


class ConsolePort:
    """A ``SlackPort`` that prints what would be posted (no Slack credentials)."""

    paced = False

    def __init__(self, directory: Directory | None = None, out: TextIO | None = None) -> None:
        self.directory = directory
        self.out = out
        self._n = 0
        self.posts: list[tuple[str, str, dict[str, Any] | None]] = []

    def _print(self, text: str) -> None:
        print(text, file=self.out or sys.stdout)

    def _text(self, text: str, blocks: list[dict[str, Any]] | None) -> str:
        from bot.render.plain import mrkdwn_to_text

        lines: list[str] = []
        for b in blocks or []:
            kind = b.get("type")
            if kind == "header" or (kind == "section" and b.get("text")):
                lines.append(str(b["text"]["text"]))
            elif kind == "context":
                lines += [str(e.get("text", "")) for e in b.get("elements", [])]
            elif kind == "actions":
                for e in b.get("elements", []):
                    if e.get("type") == "button":
                        lines.append(f"[{e['text']['text']}]")
                    elif e.get("type") == "checkboxes":
                        chosen = {o["value"] for o in e.get("initial_options") or []}
                        for o in e.get("options", []):
                            mark = "[x]" if o["value"] in chosen else "[ ]"
                            desc = f"  ({o['description']['text']})" if o.get("description") else ""
                            lines.append(f"{mark} {o['text']['text']}{desc}")
            elif kind == "divider":
                lines.append("")
        body = "\n".join(lines) or text
        return mrkdwn_to_text(body, self.directory) if self.directory is not None else body

    async def conversation(self, target: str) -> str:
        return target

    async def post(
        self,
        channel_id: str,
        text: str,
        blocks: list[dict[str, Any]] | None,
        metadata: dict[str, Any] | None,
        thread_ts: str | None,
    ) -> tuple[str, str]:
        self._n += 1
        ts = f"{int(time.time())}.{self._n:06d}"
        where = channel_id + (" (thread)" if thread_ts else "")
        if channel_id[:1] in ("U", "W") or "," in channel_id:
            where = "DM " + self._names(channel_id)
        self._print(f"\n── to {where} " + "─" * max(0, 60 - len(where)))
        self._print(self._text(text, blocks))
        self.posts.append((channel_id, text, metadata))
        return channel_id, ts

    def _names(self, ids: str) -> str:
        if self.directory is None:
            return ids
        by_slack = {p.slack_user_id: p.name for p in self.directory.people.values()}
        return ", ".join(by_slack.get(i, i) for i in ids.split(","))

    async def update(self, channel_id: str, ts: str, text: str, blocks: list[dict[str, Any]] | None) -> None:
        self._print(f"\n── update in {channel_id} " + "─" * 40)
        self._print(self._text(text, blocks))

    async def find_key(self, channel_id: str, key: str, oldest: datetime | None, thread_ts: str | None) -> str | None:
        return None

    async def upload(
        self, channel_id: str, thread_ts: str | None, filename: str, content: bytes, title: str, comment: str | None
    ) -> None:
        self._print(f"   📎 {filename} ({len(content)} bytes) to {self._names(channel_id)}")

    async def find_file(self, channel_id: str, thread_ts: str | None, filename: str) -> bool:
        return False

    async def set_usergroup(self, handle: str, users: Sequence[str]) -> None:
        self._print(f"\n── user group @{handle.lstrip('@')} := {self._names(','.join(users))}")

    async def permalink(self, channel_id: str, ts: str) -> str | None:
        return None


# -- pacing -------------------------------------------------------------------------------------------


class Limiter:
    """Pacing of posts: one message per ``interval`` seconds per channel, a workspace-wide token
    bucket, and a global pause after a 429. Times come from ``clock`` (monotonic seconds);
    ``sleep`` waits.

    The workspace bucket refills at ``workspace_per_second`` (holding up to ``burst_seconds`` of
    it) when that is configured. Either way a 429 teaches it: the first one sets the rate to 90 %
    of the posts that succeeded in the second before it, each later one takes 20 % off, and the
    bucket starts empty; so a workspace limit costs a few pauses rather than one per burst.
    """

    def __init__(
        self,
        interval: float = 1.0,
        workspace_per_second: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        burst_seconds: float = 1.0,
    ) -> None:
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self.burst_seconds = burst_seconds
        self.rate: float | None = workspace_per_second or None
        self.capacity = max(1.0, self.rate * burst_seconds) if self.rate else 0.0
        self.tokens = self.capacity
        self._last = clock()
        self._next: dict[str, float] = {}
        self._paused_until = 0.0
        self._pause_began = float("-inf")
        self._ok: deque[float] = deque()
        self.waited = 0.0
        self.pauses = 0

    def _refill(self, now: float) -> None:
        if self.rate:
            self.tokens = min(self.capacity, self.tokens + max(0.0, now - self._last) * self.rate)
        self._last = max(self._last, now)

    async def acquire(self, channel: str) -> None:
        """Wait for the channel's turn, the workspace's token and the end of a pause; take them."""
        while True:
            now = self.clock()
            self._refill(now)
            wait = max(self._next.get(channel, 0.0) - now, self._paused_until - now)
            if self.rate and self.tokens < 1.0:
                wait = max(wait, (1.0 - self.tokens) / self.rate)
            if wait <= 0:
                break
            self.waited += wait
            await self.sleep(wait)
        self._next[channel] = now + self.interval
        if self.rate:
            self.tokens -= 1.0

    async def wait_pause(self) -> None:
        """Wait out a 429 pause (calls that are not posts: no channel turn, no token)."""
        while True:
            now = self.clock()
            if self._paused_until <= now:
                return
            self.waited += self._paused_until - now
            await self.sleep(self._paused_until - now)

    def is_paused(self) -> bool:
        return self.clock() < self._paused_until

    def unsent(self, channel: str) -> None:
        """A turn taken by ``acquire`` was not used: the channel may go again at once."""
        self._next.pop(channel, None)

    def succeeded(self) -> None:
        """A post went through (the learned rate counts these)."""
        now = self.clock()
        self._ok.append(now)
        while self._ok and self._ok[0] < now - 1.0:
            self._ok.popleft()

    def pause(self, seconds: float, sent_at: float | None = None) -> None:
        """Honour a ``Retry-After``: nothing starts before ``seconds`` from now. A 429 to a request
        sent after the last pause began (``sent_at``) also slows the workspace rate (see the
        class docstring); one to a request already in flight then only extends the pause."""
        self.pauses += 1
        now = self.clock()
        self._paused_until = max(self._paused_until, now + seconds)
        if sent_at is not None and sent_at < self._pause_began:
            return
        self._pause_began = now
        while self._ok and self._ok[0] < now - 1.0:
            self._ok.popleft()
        learned = 0.9 * len(self._ok) if len(self._ok) >= 2 else None
        if self.rate is not None:  # still too fast: slow down further (multiplicative decrease)
            learned = min(self.rate * 0.8, learned) if learned is not None else self.rate * 0.8
        if learned is not None:
            self.rate = max(1.0, learned)
            self.capacity = max(1.0, self.rate * self.burst_seconds)
        self.tokens = 0.0
        self._last = now


# -- the deliverer ------------------------------------------------------------------------------------


@dataclass
class DeliveryConfig:
    per_channel_interval: float = 1.0
    concurrency: int = 8
    workspace_per_second: float | None = None
    lease: timedelta = timedelta(minutes=5)
    backoff_first: timedelta = timedelta(seconds=30)
    backoff_max: timedelta = timedelta(minutes=30)
    max_rate_limit_waits: int = 30
    max_batch: int = 5000
    record_batch: int = 100
    record_every: float = 0.5


@dataclass(frozen=True)
class Rendered:
    """What to post; for an update, also which message (``channel_id``, ``ts``)."""

    text: str
    blocks: list[dict[str, Any]] | None = None
    channel_id: str | None = None
    ts: str | None = None


Renderer = Callable[[Any, store.DeliveryRow], Awaitable[Rendered | None]]
"""``renderer(session, row)``: what to post for a delivery whose payload names a renderer."""
AfterSent = Callable[[Any, list[store.DeliveryRow]], Awaitable[None]]
"""``after_sent(session, rows)``: in the transaction that records ``rows`` sent (``channel_id`` and
``ts`` set on them)."""
Preload = Callable[[Any, Sequence[store.DeliveryRow]], Awaitable[None]]
"""``preload(session, rows)``: read what the renderers of ``rows`` need, in one go."""


@dataclass
class DeliveryReport:
    sent: int = 0
    found: int = 0  # recorded sent after finding the post in the channel (no second post)
    failed: int = 0
    expired: int = 0
    lost_lease: int = 0
    rate_limited: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.found += other.found
        self.failed += other.failed
        self.expired += other.expired
        self.lost_lease += other.lost_lease
        self.rate_limited += other.rate_limited
        self.errors += other.errors


def backoff(config: DeliveryConfig, attempts: int) -> timedelta:
    """``backoff_first`` doubled per earlier attempt, at most ``backoff_max``."""
    factor = 2 ** max(0, min(attempts - 1, 20))
    first: timedelta = config.backoff_first * factor
    return min(first, config.backoff_max)


def _fault(point: str) -> None:
    if os.environ.get(FAULT_ENV) == point:
        os.environ.pop(FAULT_ENV, None)
        os.kill(os.getpid(), signal.SIGKILL)


class Deliverer:
    """Sends the ready deliveries of one tick. ``now`` is the tick's instant; elapsed monotonic
    time is added to it for leases and records, so a fixed clock (``--at``) works too."""

    def __init__(
        self,
        db: Database,
        port: SlackPort,
        *,
        owner: str,
        config: DeliveryConfig | None = None,
        renderers: Mapping[str, Renderer] | None = None,
        after_sent: AfterSent | None = None,
        preload: Preload | None = None,
        limiter: Limiter | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.db = db
        self.port = port
        self.owner = owner
        self.config = config or DeliveryConfig()
        self.renderers = dict(renderers or {})
        self.after_sent = after_sent
        self.preload = preload
        self.monotonic = monotonic
        self.limiter = limiter or Limiter(
            self.config.per_channel_interval, self.config.workspace_per_second, clock=monotonic, sleep=sleep
        )
        self._sem = asyncio.Semaphore(max(1, self.config.concurrency))
        self._t0 = monotonic()
        self._now0: datetime | None = None
        self._done: list[tuple[store.DeliveryRow, str | None, str | None, DeliveryReport, bool]] = []
        self._flush_lock = asyncio.Lock()
        self._flushed_at = monotonic()
        self._rendered: dict[int, Rendered | None] = {}

    def now(self) -> datetime:
        assert self._now0 is not None
        return self._now0 + timedelta(seconds=self.monotonic() - self._t0)

    async def run(self, now: datetime) -> DeliveryReport:
        """Expire what is too late, lease what is ready, send it; repeat while sends made children
        ready (a thread reply after its parent)."""
        self._now0, self._t0 = now, self.monotonic()
        report = DeliveryReport()
        for _ in range(4):
            async with self.db.sessions() as session, session.begin():
                at = self.now()
                expired = await store.expire_due_rows(session, at)
                report.expired += len(expired)
                await audit.record_many(session, [
                    audit.entry(at=at, actor=None, action="delivery.expired", subject=f"delivery:{e.key}",
                                after={"key": e.key, "op": e.op, "target": e.target, "label": e.label,
                                       "attempts": e.attempts, "last_error": e.last_error,
                                       "expires_at": e.expires_at})
                    for e in expired
                ])
                ids = await store.ready_ids(session, self.now(), self.config.max_batch)
            if not ids:
                break
            async with self.db.sessions() as session, session.begin():
                leased = await store.lease(session, ids, self.owner, self.now(), self.now() + self.config.lease)
            if not leased:
                break
            _fault("after_lease")
            report.add(await self._send_all(leased))
        return report

    async def _send_all(self, leased: list[tuple[store.DeliveryRow, bool]]) -> DeliveryReport:
        parents = await self._parents([r for r, _ in leased])
        await self._prerender([r for r, _ in leased])
        groups: dict[str, list[tuple[store.DeliveryRow, bool]]] = {}
        for row, look in leased:
            groups.setdefault(self._channel_key(row, parents), []).append((row, look))
        report = DeliveryReport()
        mine = {r.id for r, _ in leased}
        keeper = asyncio.get_running_loop().create_task(self._keep_leases(mine))
        try:
            results = await asyncio.gather(
                *(self._channel_worker(key, items, parents, mine) for key, items in groups.items())
            )
        finally:
            try:
                await self._flush()
            finally:  # a failed flush (its sends stay leased, maybe posted) still stops the renewals
                keeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keeper
        for r in results:
            report.add(r)
        return report

    @staticmethod
    def _channel_key(row: store.DeliveryRow, parents: Mapping[int, store.DeliveryRow]) -> str:
        """The channel a delivery posts to (a thread reply names its parent's target)."""
        return row.target

    async def _parents(self, rows: Sequence[store.DeliveryRow]) -> dict[int, store.DeliveryRow]:
        ids = {r.parent_id for r in rows if r.parent_id is not None}
        out: dict[int, store.DeliveryRow] = {}
        if not ids:
            return out
        async with self.db.sessions() as session:
            for pid in ids:
                row = await session.get(store.DeliveryRow, pid)
                if row is not None:
                    out[pid] = row
        return out

    async def _keep_leases(self, mine: set[int]) -> None:
        """Renew the leases of what this tick still has to send, every third of a lease."""
        from sqlalchemy import update

        period = max(1.0, self.config.lease.total_seconds() / 3)
        while True:
            await asyncio.sleep(period)
            if not mine:
                continue
            async with self.db.sessions() as session, session.begin():
                await session.execute(
                    update(store.DeliveryRow)
                    .where(
                        store.DeliveryRow.id.in_(list(mine)),
                        store.DeliveryRow.lease_owner == self.owner,
                        store.DeliveryRow.status.in_(store.READY),
                    )
                    .values(lease_until=self.now() + self.config.lease)
                )

    async def _channel_worker(
        self,
        key: str,
        items: list[tuple[store.DeliveryRow, bool]],
        parents: Mapping[int, store.DeliveryRow],
        mine: set[int],
    ) -> DeliveryReport:
        report = DeliveryReport()
        for row, look in items:
            try:
                with log_context(delivery_id=row.key):  # every line about this post names it
                    await self._deliver(key, row, look, parents, report)
            except Exception as exc:  # never lose a delivery to a bug: it stays failed, retried
                log.exception("delivery %s failed unexpectedly", row.key)
                await self._failed(row, SendError(f"{type(exc).__name__}: {exc}", definite=False), report)
            finally:
                mine.discard(row.id)
        return report

    async def _slack(self, key: str | None, call: Callable[[], Awaitable[Any]], report: DeliveryReport) -> Any:
        """One Slack call with 429s honoured (a pause for everyone) and retried in place; a post
        (``key``: its channel) also waits for its channel's turn."""
        waits = 0
        while waits < self.config.max_rate_limit_waits:
            if self.port.paced:
                if key is not None:
                    await self.limiter.acquire(key)
                else:
                    await self.limiter.wait_pause()
            async with self._sem:
                if self.port.paced and self.limiter.is_paused():
                    # a 429 arrived while this call queued for a slot: wait again, unsent
                    if key is not None:
                        self.limiter.unsent(key)
                    continue
                sent_at = self.limiter.clock()
                try:
                    result = await call()
                except SendError as exc:
                    if exc.retry_after is None:
                        raise
                    waits += 1
                    report.rate_limited += 1
                    self.limiter.pause(exc.retry_after, sent_at)
                    continue
            if key is not None:
                self.limiter.succeeded()
            return result
        raise SendError("still rate limited after many waits", retry_after=None)

    async def _deliver(
        self,
        key: str,
        row: store.DeliveryRow,
        look: bool,
        parents: Mapping[int, store.DeliveryRow],
        report: DeliveryReport,
    ) -> None:
        parent = parents.get(row.parent_id) if row.parent_id else None
        thread_ts = parent.ts if parent is not None and parent.status == "sent" else None
        channel_id = row.channel_id or (parent.channel_id if parent is not None else None)
        try:
            if row.op == "usergroup":
                users = [str(u) for u in row.payload.get("users", [])]
                await self._slack(None, lambda: self.port.set_usergroup(row.target, users), report)
                await self._sent(row, None, None, report)
                return
            if row.op == "update_checklist":
                rendered = await self._render(row)
                if rendered is None or rendered.channel_id is None or rendered.ts is None:
                    await self._sent(row, None, None, report)  # no message to update
                    return
                upd = rendered
                upd_channel, upd_ts = rendered.channel_id, rendered.ts
                await self._slack(None, lambda: self.port.update(upd_channel, upd_ts, upd.text, upd.blocks), report)
                await self._sent(row, upd_channel, upd_ts, report)
                return
            if channel_id is None and (look or "," in row.target or row.op == "file"):
                target = row.target
                channel_id = await self._slack(None, lambda: self.port.conversation(target), report)
            cid: str = channel_id or row.target  # a post may name a channel or a user directly
            if row.op == "file":
                await self._file(key, row, cid, thread_ts, look, report)
                return
            if look:
                # no ``oldest``: Slack's clock and ours (a fixed --at) need not agree
                found = await self._slack(None, lambda: self.port.find_key(cid, row.key, None, thread_ts), report)
                if found is not None:
                    report.found += 1
                    await self._sent(row, cid, str(found), report, counted=False)
                    return
            rendered = await self._render(row)
            if rendered is None:
                await self._sent(row, cid, None, report)
                return
            from bot.render.scheduled import metadata

            meta = metadata(row.key, str(row.payload.get("kind", row.op)))
            post = rendered
            posted_channel, ts = await self._slack(
                key, lambda: self.port.post(cid, post.text, post.blocks, meta, thread_ts), report
            )
            _fault("after_post")
            await self._sent(row, posted_channel, ts, report)
        except SendError as exc:
            await self._failed(row, exc, report, channel_id)

    async def _file(
        self,
        key: str,
        row: store.DeliveryRow,
        channel_id: str,
        thread_ts: str | None,
        look: bool,
        report: DeliveryReport,
    ) -> None:
        p = row.payload
        filename = str(p.get("filename", "file"))
        if look and await self._slack(None, lambda: self.port.find_file(channel_id, thread_ts, filename), report):
            report.found += 1
            await self._sent(row, channel_id, None, report, counted=False)
            return
        content = base64.b64decode(str(p.get("content_b64", "")))
        title = str(p.get("title", filename))
        comment = p.get("comment")
        await self._slack(
            key,
            lambda: self.port.upload(
                channel_id, thread_ts, filename, content, title, str(comment) if comment else None
            ),
            report,
        )
        await self._sent(row, channel_id, None, report)

    async def _prerender(self, rows: Sequence[store.DeliveryRow]) -> None:
        """Render every leased delivery that renders from the database, in one read (the channel
        workers then only talk to Slack)."""
        todo = [r for r in rows if r.payload.get("render")]
        if not todo:
            return
        async with self.db.sessions() as session:
            if self.preload is not None:
                await self.preload(session, todo)
            for row in todo:
                renderer = self.renderers.get(str(row.payload["render"]))
                if renderer is not None:
                    self._rendered[row.id] = await renderer(session, row)

    async def _render(self, row: store.DeliveryRow) -> Rendered | None:
        name = row.payload.get("render")
        if name:
            if row.id in self._rendered:
                return self._rendered.pop(row.id)
            renderer = self.renderers.get(str(name))
            if renderer is None:
                raise SendError(f"no renderer {name!r}", definite=True)
            async with self.db.sessions() as session:
                return await renderer(session, row)
        return Rendered(str(row.payload.get("text", "")), row.payload.get("blocks"))

    async def _sent(
        self,
        row: store.DeliveryRow,
        channel_id: str | None,
        ts: str | None,
        report: DeliveryReport,
        *,
        counted: bool = True,
    ) -> None:
        """Record a delivery sent. Records are written behind, in batches (``record_batch`` rows or
        every ``record_every`` seconds, and at the end of the tick): a replica that dies before
        its batch is written leaves leased rows marked ``maybe_posted``, which the next replica
        looks up in Slack before posting, so batching costs no duplicate."""
        self._done.append((row, channel_id, ts, report, counted))
        if len(self._done) >= self.config.record_batch or (
            self.monotonic() - self._flushed_at >= self.config.record_every
        ):
            await self._flush()

    async def _flush(self) -> None:
        async with self._flush_lock:
            done, self._done = self._done, []
            self._flushed_at = self.monotonic()
            if not done:
                return
            async with self.db.sessions() as session, session.begin():
                at = self.now()
                sent = [(r.id, c, t) for r, c, t, _rep, _n in done]
                won = await store.record_sent_many(session, sent, self.owner, at)
                await audit.record_many(session, [
                    audit.entry(at=at, actor=None, action="delivery.sent", subject=f"delivery:{r.key}",
                                after={"key": r.key, "op": r.op, "target": r.target, "label": r.label,
                                       "channel": c, "ts": t, "attempts": r.attempts, "found": not counted})
                    for r, c, t, _rep, counted in done if r.id in won
                ])
                if self.after_sent is not None:
                    mine = []
                    for row, channel_id, ts, _rep, _n in done:
                        if row.id in won:
                            row.channel_id, row.ts = channel_id, ts
                            mine.append(row)
                    await self.after_sent(session, mine)
            for row, _c, _t, report, counted in done:
                if row.id not in won:
                    report.lost_lease += 1
                elif counted:
                    report.sent += 1

    async def _failed(
        self, row: store.DeliveryRow, exc: SendError, report: DeliveryReport, channel_id: str | None = None
    ) -> None:
        report.failed += 1
        report.errors.append(f"{row.key}: {exc}")
        log.warning("delivery %s failed (attempt %s): %s", row.key, row.attempts, exc)
        at = self.now()
        retry_at = at + backoff(self.config, row.attempts)
        async with self.db.sessions() as session, session.begin():
            held = await store.record_failed(
                session,
                row.id,
                self.owner,
                str(exc),
                retry_at,
                maybe_posted=not exc.definite,
                channel_id=channel_id,
            )
            if held:
                await audit.record(
                    session,
                    at=at,
                    actor=None,
                    action="delivery.failed",
                    subject=f"delivery:{row.key}",
                    after={"key": row.key, "op": row.op, "target": row.target, "label": row.label,
                           "error": str(exc)[:2000], "attempts": row.attempts, "retry_at": retry_at,
                           "maybe_posted": not exc.definite},
                )
