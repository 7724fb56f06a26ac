"""The scheduled-work tests' virtual time: a sleep always moves the clock on, so the product's
pacing cannot spin on a wait shorter than the float resolution of the clock's reading."""

from __future__ import annotations

import asyncio

from bot.services.deliveries.pacing import Limiter
from tests.support.fake_slack import ManualClock

from .helpers import VirtualTime


async def test_a_sleep_shorter_than_the_clock_resolution_still_moves_the_clock() -> None:
    vt = VirtualTime(ManualClock(1041.111111111111))
    before = vt()
    await vt.sleep(2.5e-14)  # 1041.1 + 2.5e-14 == 1041.1 in floats
    assert vt() > before
    await vt.sleep(3.0)
    assert vt() >= before + 3.0


async def test_the_workspace_bucket_short_of_a_token_by_a_rounding_error_does_not_spin() -> None:
    """What hung `make test` at 99 % (tests/scheduled/test_tick.py's 429 storm, now and then): the
    bucket held 1 - 2e-14 tokens, the pacing asked for a 2.5e-14 s sleep, the clock did not move."""
    vt = VirtualTime(ManualClock(1041.111111111111))
    limiter = Limiter(interval=1.0, workspace_per_second=0.8, clock=vt, sleep=vt.sleep)
    limiter.tokens = 1.0 - 2e-14
    await asyncio.wait_for(limiter.acquire("C0CHAN001"), 10)
    assert limiter.tokens < 1.0
