"""The applier's loop of one process: ``wake()`` after each accept; one task runs ``step`` (one
batch of queued events, one transaction) until a step finds nothing queued. Wakes while it runs
coalesce: the task takes one more step instead of starting another, so at a few events a second
each is applied on its own at once and at hundreds a second one transaction carries many.

Between steps the task yields to the event loop, so the answers to new events (the accepts) are
never held up by more than one step. A step that raises is logged and ends the task; the next
wake or the minute tick (``bot.services.alerts.apply_queued``) tries again, and nothing queued is
lost meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

log = logging.getLogger("bot.alerts")

Spawn = Callable[[Coroutine[Any, Any, Any]], "asyncio.Task[Any]"]


class Drainer:
    """Runs ``step`` (which returns how many events it applied) whenever woken, until it returns 0."""

    def __init__(self, step: Callable[[], Awaitable[int]], spawn: Spawn | None = None) -> None:
        self.step = step
        self.spawn = spawn
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
                log.exception("applying queued alert events failed; the next event or the minute tick retries")
                return
            if applied == 0 and not self._again:
                return
            await asyncio.sleep(0)  # the accepts waiting for the loop go first

    async def idle(self) -> None:
        """Wait until the task has nothing left to apply (it ends)."""
        while self._task is not None and not self._task.done():
            await asyncio.wait({self._task})
