"""The outbox's settings (``DeliveryConfig``, the retry ``backoff``), what a renderer gives back
(``Rendered``) and the hooks' types, and the outcome of a run (``DeliveryReport``).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
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

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DeliveryConfig:
        """Defaults, overridden by ``ONCALL_SLACK_CHANNEL_INTERVAL`` (seconds between two posts to
        one channel; Slack allows about one a second), ``ONCALL_SLACK_WORKSPACE_RATE`` (posts a
        second, workspace-wide; unset: learned from 429s) and ``ONCALL_SLACK_CONCURRENCY``
        (requests in flight). A bad value raises ``ValueError`` naming the variable."""
        env = os.environ if env is None else env
        config = cls()
        interval = env_number(env, "ONCALL_SLACK_CHANNEL_INTERVAL", zero_ok=True)
        if interval is not None:
            config.per_channel_interval = interval
        config.workspace_per_second = env_number(env, "ONCALL_SLACK_WORKSPACE_RATE")
        concurrency = env_number(env, "ONCALL_SLACK_CONCURRENCY")
        if concurrency is not None:
            config.concurrency = max(1, int(concurrency))
        return config


def env_number(env: Mapping[str, str], name: str, *, zero_ok: bool = False) -> float | None:
    """The number in variable ``name`` (None: unset or empty); ``ValueError`` naming it when it is
    not a number, negative, or zero where zero is no answer."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    if value < 0 or (value == 0 and not zero_ok) or value != value:
        raise ValueError(f"{name} must be {'zero or more' if zero_ok else 'positive'}, got {raw!r}")
    return value


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
