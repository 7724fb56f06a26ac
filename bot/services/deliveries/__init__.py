"""The outbox: delivering the scheduled work's Slack calls once, paced, retried, never dropped.

- ``deliverer``: ``Deliverer.run(now)``: leases the ready deliveries, sends them, records outcomes;
- ``config``: ``DeliveryConfig``, ``backoff``, ``Rendered`` and the hook types, ``DeliveryReport``;
- ``pacing``: ``Limiter`` (per-channel and workspace rates, concurrency, 429 pauses);
- ``port``: the ``SlackPort`` protocol and ``SendError``;
- ``slack_port``: ``WebSlackPort`` over Slack's Web API; ``console_port``: ``ConsolePort``;
- ``usergroups``: a workspace's refusal of user-group updates, remembered and said once.

May import ``bot.core``, ``bot.storage`` and ``bot.ops.logging``; the scheduled-work services,
transports and jobs import this package. Modules here import their siblings directly, never this
``__init__``.
"""

from __future__ import annotations

from bot.services.deliveries.config import (
    COVER_PREFIX,
    OWED_PREFIXES,
    SEPARATE_PREFIXES,
    AfterSent,
    DeliveryConfig,
    DeliveryReport,
    Preload,
    Rendered,
    Renderer,
    backoff,
)
from bot.services.deliveries.console_port import ConsolePort
from bot.services.deliveries.deliverer import FAULT_ENV, Deliverer
from bot.services.deliveries.pacing import Limiter
from bot.services.deliveries.port import SendError, SlackPort
from bot.services.deliveries.slack_port import WebSlackPort

__all__ = [
    "COVER_PREFIX",
    "FAULT_ENV",
    "OWED_PREFIXES",
    "SEPARATE_PREFIXES",
    "AfterSent",
    "ConsolePort",
    "Deliverer",
    "DeliveryConfig",
    "DeliveryReport",
    "Limiter",
    "Preload",
    "Rendered",
    "Renderer",
    "SendError",
    "SlackPort",
    "WebSlackPort",
    "backoff",
]
