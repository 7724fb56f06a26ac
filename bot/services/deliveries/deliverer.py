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
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.ops.logging import log_context
from bot.render.scheduled import metadata
from bot.services.deliveries.apprise_port import NotifyPort, send_notify
from bot.services.deliveries.config import (
    AfterSent,
    DeliveryConfig,
    DeliveryReport,
    Preload,
    Rendered,
    Renderer,
    backoff,
)
from bot.services.deliveries.pacing import Limiter
from bot.services.deliveries.port import SendError, SlackPort
from bot.services.deliveries.topics import REFUSALS as TOPIC_REFUSALS
from bot.services.deliveries.topics import send_topic
from bot.services.deliveries.usergroups import (
    FIX,
    group_refusal,
    remember_refusal,
    remembered_refusal,
    workspace_refusal,
)
from bot.storage import audit
from bot.storage import scheduled as store
from bot.storage.bootstrap import Database

log = logging.getLogger("bot.services.deliveries")  # the name it logged under before the split

FAULT_ENV = "ONCALL_TEST_FAULT"
"""Test hook: ``after_lease`` or ``after_post`` kills the process (SIGKILL) at that point of the
first delivery it sends, to prove that a dead replica's work is finished once by another."""
# (The hooks' types, ``Renderer``, ``AfterSent`` and ``Preload``, are described in ``config``.)


def _fault(point: str) -> None:
    if os.environ.get(FAULT_ENV) == point:
        os.environ.pop(FAULT_ENV, None)
        os.kill(os.getpid(), signal.SIGKILL)


class Deliverer:
    """Sends the ready deliveries of one tick. ``now`` is the tick's instant; elapsed monotonic
    time is added to it for leases and records, so a fixed clock (``--at``) works too. ``only`` /
    ``skip``: key prefixes of the deliveries this deliverer takes (all when both are empty)."""

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
        only: Sequence[str] = (),
        skip: Sequence[str] = (),
        notifier: NotifyPort | None = None,
    ) -> None:
        self.db = db
        self.notifier = notifier
        self.only, self.skip = tuple(only), tuple(skip)
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
                ids = await store.ready_ids(session, self.now(), self.config.max_batch, only=self.only, skip=self.skip)
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
        period = max(1.0, self.config.lease.total_seconds() / 3)
        while True:
            await asyncio.sleep(period)
            if not mine:
                continue
            async with self.db.sessions() as session, session.begin():
                await store.renew_leases(session, list(mine), self.owner, self.now() + self.config.lease)

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
        own_thread = row.payload.get("thread_ts")  # a reply in a thread of its own (it still waits for its parent)
        thread_ts: str | None
        if own_thread:
            thread_ts, channel_id = str(own_thread), row.channel_id
        else:
            thread_ts = parent.ts if parent is not None and parent.status == "sent" else None
            channel_id = row.channel_id or (parent.channel_id if parent is not None else None)
        try:
            if row.op == "usergroup":
                await self._usergroup(row, report)
                return
            if row.op == "topic":
                await self._topic(row, report)
                return
            if row.op == "notify":  # a page beyond Slack: not paced by Slack's limits (apprise_port)
                await send_notify(self.notifier, await self._render(row), row.payload)
                await self._sent(row, None, None, report)
                return
            if row.op in ("update_checklist", "update"):
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
            meta = metadata(row.key, str(row.payload.get("kind", row.op)))
            extra = row.payload.get("meta")  # more of the row's identity for readers of the message
            if isinstance(extra, dict):
                meta["event_payload"] = {**extra, **meta["event_payload"]}
            post = rendered
            posted_channel, ts = await self._slack(
                key, lambda: self.port.post(cid, post.text, post.blocks, meta, thread_ts), report
            )
            _fault("after_post")
            await self._sent(row, posted_channel, ts, report)
        except SendError as exc:
            await self._failed(row, exc, report, channel_id)

    async def _usergroup(self, row: store.DeliveryRow, report: DeliveryReport) -> None:
        """A user-group update, unless Slack refused them for the workspace before (said once)."""
        refused = await remembered_refusal(self.db)
        if refused is not None:
            await self._refused(row, f"not sent: {refused}", report)
            return
        users = [str(u) for u in row.payload.get("users", [])]
        try:
            await self._slack(None, lambda: self.port.set_usergroup(row.target, users), report)
        except SendError as exc:
            why = workspace_refusal(exc.error)
            if why is not None:
                if await remember_refusal(self.db, str(exc.error), self.now()):
                    log.warning("user group @%s not updated: %s (%s); %s", row.target.lstrip("@"), why, exc.error, FIX)
                await self._refused(row, f"{why} ({exc.error})", report)
                return
            why = group_refusal(exc.error)
            if why is None:
                raise
            log.warning("delivery %s: user group @%s not updated: %s (%s)", row.key, row.target.lstrip("@"), why,
                        exc.error)
            await self._refused(row, f"{why} ({exc.error})", report)
            return
        await self._sent(row, None, None, report)

    async def _topic(self, row: store.DeliveryRow, report: DeliveryReport) -> None:
        """A channel topic (``bot.services.deliveries.topics``); a refusal no retry can change expires it."""
        try:
            cid, _set = await send_topic(self.port, row.target, row.payload, lambda c: self._slack(None, c, report))
        except SendError as exc:
            if exc.error not in TOPIC_REFUSALS:
                raise
            log.warning("delivery %s: topic of %s not set: %s", row.key, row.target, TOPIC_REFUSALS[exc.error])
            await self._refused(row, f"{TOPIC_REFUSALS[exc.error]} ({exc.error})", report)
            return
        await self._sent(row, cid, None, report)

    async def _refused(self, row: store.DeliveryRow, why: str, report: DeliveryReport) -> None:
        """Slack refuses this delivery for good: ``expired`` now, not retried."""
        report.expired += 1
        at = self.now()
        async with self.db.sessions() as session, session.begin():
            if await store.record_refused(session, row.id, self.owner, why):
                await audit.record(session, at=at, actor=None, action="delivery.expired", subject=f"delivery:{row.key}",
                                   after={"key": row.key, "op": row.op, "target": row.target, "label": row.label,
                                          "error": why, "attempts": row.attempts, "refused": True})

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
                            row.channel_id, row.ts, row.sent_at = channel_id, ts, at
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
