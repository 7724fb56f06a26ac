"""Pinning the clock of a bot the tests start, so that what it does does not depend on the day the
tests run.

A bot process reads ``ONCALL_CLOCK_START`` (``Settings.clock_start``): its clock starts at that
instant and advances with real time. In-process, pass ``clock_start`` in the settings, or a
``fixed_clock`` in ``SlackDeps``.

``QUIET`` is an instant at which a bot on a new database with the bundled seed has nothing of its
own to say: its first tick claims no scheduled work and no shift starts within the 24 h of the
before-shift DMs (``tests/scheduled/test_quiet_instant.py`` checks it). A test that counts what
the bot posts pins the bot there; one that needs a busy instant pins it there explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

# Sunday 2026-12-13 03:00 in New York (the seed's zone).
QUIET = datetime(2026, 12, 13, 8, 0, tzinfo=UTC)
CLOCK_ENV = "ONCALL_CLOCK_START"


def pinned(env: Mapping[str, str], at: datetime = QUIET) -> dict[str, str]:
    """``env`` plus ``ONCALL_CLOCK_START=at`` for a bot process."""
    if at.tzinfo is None:
        raise ValueError("pin the clock to an aware instant")
    return {**env, CLOCK_ENV: at.isoformat()}
