"""Group commit for triggers: the requests that arrive while a batch is being written go into
the next one, so at a few events a second each is its own transaction (no added wait) and at
hundreds a second one transaction carries many (one upsert, one insert of the events).

If a batch fails, its events are retried one by one, so that one bad event fails alone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.services.alerts.intake import AlertEvent, Received

log = logging.getLogger("bot.alerts")

MAX_BATCH = 200


@dataclass(frozen=True, slots=True)
class Pending:
    """A trigger waiting for its batch."""

    integration_id: int | None
    pipeline: str
    event: AlertEvent
    now: datetime


class Batcher:
    """``await batcher.submit(pending)``: its result, written with whatever else came meanwhile."""

    def __init__(self, apply: Callable[[list[Pending]], Awaitable[list[Received]]], max_batch: int = MAX_BATCH) -> None:
        self.apply = apply
        self.max_batch = max_batch
        self._queue: list[tuple[Pending, asyncio.Future[Received]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, pending: Pending) -> Received:
        future: asyncio.Future[Received] = asyncio.get_running_loop().create_future()
        self._queue.append((pending, future))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain(), name="alerts:batch")
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            started = time.perf_counter()
            try:
                results = await self.apply([p for p, _ in batch])
                log.debug("alert batch of %d in %.1f ms", len(batch), (time.perf_counter() - started) * 1000)
            except Exception as exc:
                if len(batch) > 1:
                    log.warning("a batch of %d alert events failed; applying them one by one", len(batch))
                    await self._one_by_one(batch)
                else:
                    _fail(batch[0][1], exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def _one_by_one(self, batch: list[tuple[Pending, asyncio.Future[Received]]]) -> None:
        for pending, future in batch:
            try:
                (result,) = await self.apply([pending])
            except Exception as exc:
                _fail(future, exc)
                continue
            if not future.done():
                future.set_result(result)


def _fail(future: asyncio.Future[Received], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
