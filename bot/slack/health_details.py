"""``GET /healthz?details=1``: the ``doctor`` report of the running bot (its database, seed, and
with a token its Slack set-up: people active, channels joined, user groups updatable), as JSON.
At most one run per ``CACHE_SECONDS`` (concurrent requests share it): it asks Slack about every
person and channel."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.slack.deps import SlackDeps

CACHE_SECONDS = 60.0


class HealthDetails:
    def __init__(self, deps: SlackDeps, seconds: float = CACHE_SECONDS) -> None:
        self.deps = deps
        self.seconds = seconds
        self._lock = asyncio.Lock()
        self._last: tuple[float, dict[str, Any]] | None = None

    async def get(self) -> dict[str, Any]:
        async with self._lock:
            if self._last is not None and time.monotonic() - self._last[0] < self.seconds:
                return self._last[1]
            from bot.ops.doctor import Status, run_doctor

            has_token = self.deps.settings.slack_bot_token is not None
            at = self.deps.clock()
            report = await run_doctor(self.deps.settings, today=at.date(), now=at,
                                      client=self.deps.client if has_token else None)
            body = {
                "ok": not report.failed,
                "summary": report.summary(),
                "checks": [{"check": r.check, "status": r.status.value, "detail": r.detail, "fix": r.fix}
                           for r in report.results if r.status is not Status.SKIP or not has_token],
            }
            self._last = (time.monotonic(), body)
            return body
