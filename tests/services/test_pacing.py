"""The pacing limiter ends its waits on a clock that cannot move by a rounding error."""

from __future__ import annotations

import math

import pytest

from bot.services.deliveries.pacing import Limiter


class CoarseClock:
    """A clock read like the tests' virtual one: far from 0, so adding 1e-16 changes nothing."""

    def __init__(self, start: float = 1041.111111111111) -> None:
        self.now = start
        self.sleeps = 0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        if self.sleeps > 100:
            raise AssertionError("the limiter keeps sleeping: it would spin forever")
        self.now += seconds


async def test_a_token_short_by_a_rounding_error_is_no_wait() -> None:
    clock = CoarseClock()
    limiter = Limiter(workspace_per_second=0.9, clock=clock, sleep=clock.sleep)
    limiter.tokens = 0.9999999999999999  # what refills of fractions of a token leave behind
    assert clock.now + (1.0 - limiter.tokens) / 0.9 == clock.now  # the wait cannot move this clock
    await limiter.acquire("C1")
    assert clock.sleeps == 0


async def test_a_pause_ending_within_a_rounding_error_is_over() -> None:
    clock = CoarseClock()
    limiter = Limiter(clock=clock, sleep=clock.sleep)
    limiter.pause(1.0)
    clock.now = math.nextafter(clock.now + 1.0, 0.0)  # one float step before the end
    await limiter.wait_pause()
    assert clock.sleeps == 0


async def test_real_waits_are_still_waited() -> None:
    clock = CoarseClock()
    limiter = Limiter(interval=1.0, clock=clock, sleep=clock.sleep)
    await limiter.acquire("C1")
    await limiter.acquire("C1")  # the channel's next turn is a second away
    assert clock.sleeps == 1 and limiter.waited == pytest.approx(1.0)
