"""The intake's two batchings, each with no added wait: alone, an event goes at once.

- ``GroupInsert``: concurrent accepts share INSERTs. At most ``in_flight`` are in flight; the
  events that arrive meanwhile go together in the next one (one multi-row INSERT, one commit), so
  a burst (after a pause of the event loop, say) costs a few statements, not one per event and a
  queue for connections. A statement that fails for several requests is retried for each alone.
- ``Drainer``: the applier's loop of one process. ``wake()`` after each accept; one task runs
  ``step`` (one batch of queued events, one transaction) until a step finds nothing queued.
  Wakes while it runs coalesce: the task takes one more step instead of starting another, so at a
  few events a second each is applied on its own at once and at hundreds a second one
  transaction carries many. Between steps the task pauses (``pause``, a few milliseconds: what
  arrives meanwhile gathers into the next step, fewer and larger transactions under load) and
  yields to the event loop, so the answers to new events are never held up by more than one
  step. A step that raises is logged and ends the task; the next wake or the minute tick
  (``bot.services.alerts.apply_queued``) tries again, and nothing queued is lost meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

log = logging.getLogger("bot.alerts")

Spawn = Callable[[Coroutine[Any, Any, Any]], "asyncio.Task[Any]"]


Rows = list[dict[str, Any]]


class GroupInsert:
    """``await group(rows)``: ``insert(rows)``'s ids, the rows inserted with whatever else came meanwhile.

    While fewer than ``in_flight`` statements are in flight, a caller inserts its rows itself (no
    task, no future: the common case costs nothing more than the insert); otherwise its rows wait
    in a queue that a task drains, many callers' rows a statement."""

    def __init__(self, insert: Callable[[Rows], Awaitable[list[int]]], in_flight: int = 4,
                 max_rows: int = 500) -> None:
        self.insert = insert
        self.in_flight = in_flight
        self.max_rows = max_rows
        self._busy = 0  # statements in flight (callers' own and the drain task's)
        self._queue: list[tuple[Rows, asyncio.Future[list[int]]]] = []
        self._task: asyncio.Task[None] | None = None

    async def __call__(self, rows: Rows) -> list[int]:
        if self._busy < self.in_flight and not self._queue:
            self._busy += 1
            try:
                return await self.insert(rows)
            finally:
                self._busy -= 1
                self._start()
        future: asyncio.Future[list[int]] = asyncio.get_running_loop().create_future()
        self._queue.append((rows, future))
        self._start()
        # shielded: a request that goes away does not cancel the statement of the others
        return await asyncio.shield(future)

    def _start(self) -> None:
        """A task drains the queue, when there is one, no task yet, and room for a statement."""
        if self._queue and self._busy < self.in_flight and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._drain(), name="alerts:accept")

    async def _drain(self) -> None:
        self._busy += 1
        try:
            while self._queue:
                await self._one_statement()
        finally:
            self._busy -= 1

    async def _one_statement(self) -> None:
        batch: list[tuple[Rows, asyncio.Future[list[int]]]] = []
        count = 0
        while self._queue and (not batch or count + len(self._queue[0][0]) <= self.max_rows):
            item = self._queue.pop(0)
            batch.append(item)
            count += len(item[0])
        try:
            ids = await self.insert([row for rows, _ in batch for row in rows])
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc)
                return
            for rows, future in batch:  # one request's bad row fails that request only
                try:
                    _settle(future, await self.insert(rows))
                except Exception as alone:
                    _settle(future, alone)
            return
        start = 0
        for rows, future in batch:
            _settle(future, ids[start : start + len(rows)])
            start += len(rows)


def _settle(future: asyncio.Future[list[int]], result: list[int] | BaseException) -> None:
    if future.done():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)


class Drainer:
    """Runs ``step`` (which returns how much it did) whenever woken, until it returns 0 and was not
    woken meanwhile. The applier's loop, and the intake's outbox kicks (whose step returns 0: one
    run, and one more for the kicks that came during it).

    A step that raises is logged with ``failure``; the task then ends, or, with
    ``go_on_if_woken``, takes one more step if it was woken during the failed one."""

    def __init__(self, step: Callable[[], Awaitable[int]], spawn: Spawn | None = None, pause: float = 0.0, *,
                 failure: str = "applying queued alert events failed; the next event or the minute tick retries",
                 go_on_if_woken: bool = False) -> None:
        self.step = step
        self.spawn = spawn
        self.pause = pause  # between two steps: the events of that moment gather into one step
        self.failure = failure
        self.go_on_if_woken = go_on_if_woken
        self.enabled = True  # False: woken, it does nothing (tests: a process that dies before applying)
        self._task: asyncio.Task[Any] | None = None
        self._again = False

    def wake(self) -> None:
        self._again = True
        if not self.enabled or (self._task is not None and not self._task.done()):
            return
        coro = self._run()
        self._task = self.spawn(coro) if self.spawn is not None else asyncio.get_running_loop().create_task(coro)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        while True:
            self._again = False
            try:
                applied = await self.step()
            except Exception:
                log.exception(self.failure)
                if not (self.go_on_if_woken and self._again):
                    return
                applied = 0
            if applied == 0 and not self._again:
                return
            await asyncio.sleep(self.pause)  # the accepts waiting for the loop go first

    async def idle(self) -> None:
        """Wait until the task has nothing left to apply (it ends)."""
        while self._task is not None and not self._task.done():
            await asyncio.wait({self._task})
