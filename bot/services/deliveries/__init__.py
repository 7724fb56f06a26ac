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

from typing import TYPE_CHECKING

from bot.lazy import exports

if TYPE_CHECKING:  # what the names are; at run time each is imported when first used (bot.lazy)
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

_EXPORTS = {
    "AfterSent": "config",
    "COVER_PREFIX": "config",
    "ConsolePort": "console_port",
    "Deliverer": "deliverer",
    "DeliveryConfig": "config",
    "DeliveryReport": "config",
    "FAULT_ENV": "deliverer",
    "Limiter": "pacing",
    "OWED_PREFIXES": "config",
    "Preload": "config",
    "Rendered": "config",
    "Renderer": "config",
    "SEPARATE_PREFIXES": "config",
    "SendError": "port",
    "SlackPort": "port",
    "WebSlackPort": "slack_port",
    "backoff": "config",
}
__getattr__, __dir__ = exports(__name__, _EXPORTS)

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
