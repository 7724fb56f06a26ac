"""Stopping the minute scheduler while a tick runs: ``stop()`` waits for the tick (bounded; then
cancels it) and APScheduler's cancellation of its job is not logged as an error."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

import pytest

from bot.clock import fixed_clock
from bot.config import Settings
from bot.jobs.scheduler import ScheduledJobs
from bot.services.scheduled import TickReport
from bot.slack.deps import SlackDeps

from .helpers import ny

AT = ny(2026, 11, 30, 9)


class HeldTicker:
    """A ticker whose tick starts, then waits for ``release``."""

    owner = "held"

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.finished: list[datetime] = []

    async def tick(self, now: datetime) -> TickReport:
        self.started.set()
        await self.release.wait()
        self.finished.append(now)
        return TickReport(now)


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> tuple[ScheduledJobs, HeldTicker, list[str]]:
    import bot.services.alerts as alerts
    import bot.services.changes as changes
    import bot.services.cover as cover
    import bot.services.incidents as incidents

    async def run_periodic(d: Any, now: Any, *, snapshots: Any = None) -> None:
        return None

    async def before_shift_dms(d: Any, now: Any) -> list[str]:
        return []

    monkeypatch.setattr(incidents, "run_periodic", run_periodic)
    monkeypatch.setattr(alerts, "check", run_periodic)
    monkeypatch.setattr(alerts, "apply_queued", lambda d, *, snapshots=None: before_shift_dms(d, None))
    monkeypatch.setattr(changes, "before_shift_dms", before_shift_dms)
    monkeypatch.setattr(cover, "run_tick", lambda *a, **k: before_shift_dms(None, None))
    settings = Settings(_env_file=None, database_url="sqlite+aiosqlite:///unused.db")  # type: ignore[call-arg]
    deps = SlackDeps(settings=settings, db=None, client=None, clock=fixed_clock(AT))  # type: ignore[arg-type]
    ticker = HeldTicker()
    closed: list[str] = []

    async def close() -> None:
        closed.append("closed")

    return ScheduledJobs(deps, ticker, close=close), ticker, closed  # type: ignore[arg-type]


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]


async def test_stop_during_a_tick_waits_for_it_and_logs_no_error(
    held: tuple[ScheduledJobs, HeldTicker, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    jobs, ticker, closed = held
    caplog.set_level(logging.DEBUG)
    jobs.start(run_now=True)  # the first tick runs at once, through APScheduler's job
    await asyncio.wait_for(ticker.started.wait(), timeout=30)
    stopping = asyncio.create_task(jobs.stop())
    for _ in range(20):  # let the shutdown and APScheduler's cancellation of its job play out
        await asyncio.sleep(0)
    assert not jobs.scheduler.running
    assert not stopping.done() and ticker.finished == [] and closed == []  # still waiting for the tick
    ticker.release.set()
    await asyncio.wait_for(stopping, timeout=30)
    assert ticker.finished == [AT] and jobs.ticks == 1 and closed == ["closed"]
    assert _errors(caplog) == []


async def test_stop_gives_up_on_a_tick_that_does_not_finish(
    held: tuple[ScheduledJobs, HeldTicker, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    jobs, ticker, closed = held
    jobs.start(run_now=True)
    await asyncio.wait_for(ticker.started.wait(), timeout=30)
    running = jobs._running
    assert running is not None
    await asyncio.wait_for(jobs.stop(wait_at_most=0.01), timeout=30)  # bounded: returns without the tick
    assert closed == ["closed"]
    assert any("did not finish" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    ticker.release.set()
    await asyncio.wait({running}, timeout=30)
    assert running.cancelled() and ticker.finished == []  # given up on: cancelled, not left running
    assert _errors(caplog) == []
