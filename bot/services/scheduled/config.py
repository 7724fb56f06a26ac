"""The tick's settings (``ScheduleConfig``, from the environment), its report (``TickReport``) and replica ids."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.recurrence import DEFAULT_GRACE
from bot.services.deliveries import DeliveryConfig, DeliveryReport
from bot.services.deliveries.config import env_number


@dataclass
class ScheduleConfig:
    """``grace``: how late an announcement or invite may still go out (checklists: until due)."""

    grace: timedelta = DEFAULT_GRACE
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ScheduleConfig:
        """Defaults, overridden by ``ONCALL_SCHEDULE_GRACE_MINUTES`` (announcements and invites)
        and the outbox's variables (``DeliveryConfig.from_env``). A bad value raises
        ``ValueError`` naming the variable."""
        env = os.environ if env is None else env
        config = cls(delivery=DeliveryConfig.from_env(env))
        grace = env_number(env, "ONCALL_SCHEDULE_GRACE_MINUTES")
        if grace is not None:
            config.grace = timedelta(minutes=grace)
        return config


@dataclass
class TickReport:
    at: datetime
    claimed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    reminded: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)  # the channel-topic deliveries this tick queued
    deliveries: DeliveryReport = field(default_factory=DeliveryReport)
    seconds: float = 0.0

    def summary(self) -> str:
        d = self.deliveries
        parts = [
            f"claimed {len(self.claimed)}",
            f"skipped {len(self.skipped)}",
            f"reminded {len(self.reminded)}",
            f"escalated {len(self.escalated)}",
            f"sent {d.sent}",
        ]
        if self.topics:
            parts.append(f"topics {len(self.topics)}")
        if d.found:
            parts.append(f"found already posted {d.found}")
        if d.failed:
            parts.append(f"failed {d.failed} (retried later)")
        if d.expired:
            parts.append(f"expired {d.expired}")
        if d.rate_limited:
            parts.append(f"rate limited {d.rate_limited}×")
        return ", ".join(parts)


def replica_id() -> str:
    """Who holds a claim or a lease: host, pid and a random part."""
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
