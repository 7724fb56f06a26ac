"""What every Slack listener and job needs, wired once by the server and passed in (no globals)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.clock import Clock

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.config import Settings
    from bot.storage.bootstrap import Database


@dataclass
class BackgroundTasks:
    """Keeps references to background tasks (bolt does not) so they finish and can be drained."""

    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def drain(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 (a bound, not a cancel scope)
        """Wait for running tasks up to ``timeout`` seconds, then cancel the rest."""
        if not self.tasks:
            return
        _done, pending = await asyncio.wait(set(self.tasks), timeout=timeout)
        for t in pending:
            t.cancel()


@dataclass
class SlackDeps:
    settings: Settings
    db: Database
    client: AsyncWebClient
    clock: Clock
    background: BackgroundTasks = field(default_factory=BackgroundTasks)
