"""The outbox's settings (``DeliveryConfig``, the retry ``backoff``), what a renderer gives back
(``Rendered``) and the hooks' types, and the outcome of a run (``DeliveryReport``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.storage import scheduled as store

OWED_PREFIXES = ("incident:", "change:")
"""Key prefixes of the messages owed to people about incidents and schedule changes: sent by their
own deliverer (kicked right after the change, and every minute), never by the scheduled tick's."""

COVER_PREFIX = "cover:"
"""Key prefix of the messages of cover requests (``bot.services.cover.outbox``): their own
deliverer sends them (kicked after each action, and by the minute tick)."""

SEPARATE_PREFIXES = (*OWED_PREFIXES, COVER_PREFIX)
"""What the scheduled tick's deliverer leaves to the deliverers of their own."""


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
    """What to post; for an update, also which message (``channel_id``, ``ts``); for a page
    beyond Slack (op ``notify``), its ``title`` (``text`` is the body)."""

    text: str
    blocks: list[dict[str, Any]] | None = None
    channel_id: str | None = None
    ts: str | None = None
    title: str | None = None


Renderer = Callable[[Any, store.DeliveryRow], Awaitable[Rendered | None]]


AfterSent = Callable[[Any, list[store.DeliveryRow]], Awaitable[None]]


Preload = Callable[[Any, Sequence[store.DeliveryRow]], Awaitable[None]]


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
