"""The one clock: read once per request or tick and passed down as an explicit instant."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, as an aware UTC instant."""
    return datetime.now(UTC)


def fixed_clock(at: datetime) -> Clock:
    """A clock that always answers ``at`` (aware), for tests and ``--at``."""
    if at.tzinfo is None:
        raise ValueError("fixed_clock needs an aware datetime")
    return lambda: at


def running_clock(start: datetime, monotonic: Callable[[], float] = time.monotonic) -> Clock:
    """A clock that answers ``start`` (aware) at its creation and then advances with ``monotonic``
    (real elapsed time): the bot's clock pinned to an instant, for tests (``ONCALL_CLOCK_START``)."""
    if start.tzinfo is None:
        raise ValueError("running_clock needs an aware datetime")
    origin = monotonic()
    start = start.astimezone(UTC)
    return lambda: start + timedelta(seconds=monotonic() - origin)


def clock_from(start: datetime | None) -> Clock:
    """The bot's clock: the system's, or, given ``start`` (the ``clock_start`` setting), a
    :func:`running_clock` from that instant."""
    return system_clock if start is None else running_clock(start)
