"""Pacing: one message a second per channel, an optional workspace-wide rate learned from 429s,
a bounded number of requests in flight, and a pause of every send on a 429's ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

# A wait shorter than this is no wait. Without it a wait of 1e-16 s (a token bucket at
# 0.9999999999999999 tokens) can be too small to move a clock that reads 1041.1 at all: the
# loop would sleep "0 s" forever with a coarse or virtual clock.
NEGLIGIBLE_SECONDS = 1e-6


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
            if wait <= NEGLIGIBLE_SECONDS:
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
            if self._paused_until - now <= NEGLIGIBLE_SECONDS:
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
