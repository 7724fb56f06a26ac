"""The in-process timer: APScheduler 3.x ``AsyncIOScheduler`` (explicit UTC) fires one tick a
minute. It is only a timer: no job store (the default in-memory one; APScheduler's job stores
must not be shared between processes), nothing pickled. The truth (what is due, claimed, sent)
lives in our tables, so any number of replicas can run this and a restart catches up.

Each tick reads the clock once and passes that instant down: the scheduled work
(``bot.services.scheduled.Ticker``), the alert events left queued by a process that stopped
(``bot.services.alerts.apply_queued``), the data-arrival check (``bot.services.alerts.check``),
``bot.services.incidents.run_periodic``, the before-shift DMs and the cover requests' lead
notices and expiries (``bot.services.cover.run_tick``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from slack_sdk.web.async_client import AsyncWebClient

from bot.services import alerts as alert_service
from bot.services import changes as change_service
from bot.services import cover as cover_service
from bot.services import incidents as incident_service
from bot.services.deliveries import SlackPort, WebSlackPort
from bot.services.scheduled import ScheduleConfig, Ticker
from bot.services.snapshot import Snapshot
from bot.slack.deps import SlackDeps

log = logging.getLogger(__name__)

JOB_ID = "scheduled-work"


STOP_WAIT_SECONDS = 30.0  # how long ``stop()`` waits for a tick in progress


class ScheduledJobs:
    """The running scheduler and what one tick does. ``stop()`` stops the timer and waits for a
    tick in progress (so a shutdown does not cut a delivery between its post and its record).

    A tick runs in a task of its own (``_running`` until it ends); APScheduler's job only awaits
    it, shielded. Shutting APScheduler down cancels that job: the job then returns quietly (the
    tick goes on, and ``stop()`` waits for it), so the cancellation is not logged as an error."""

    def __init__(
        self,
        deps: SlackDeps,
        ticker: Ticker,
        snapshots: Callable[[], Awaitable[Snapshot]] | None = None,
        close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.deps = deps
        self.ticker = ticker
        self.snapshots = snapshots
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self._close = close
        self._running: asyncio.Task[None] | None = None
        self.ticks = 0

    async def run_once(self, now: datetime | None = None) -> None:
        """One tick: the clock is read once, here, unless ``now`` is given."""
        at = now if now is not None else self.deps.clock()
        try:
            report = await self.ticker.tick(at)
            if report.claimed or report.skipped or report.deliveries.sent or report.deliveries.failed:
                log.info("tick %s: %s", at.isoformat(), report.summary())
        except Exception:
            log.exception("scheduled-work tick at %s failed", at.isoformat())
        # Each after the other, the freshness check before the incidents' periodic work (which
        # sends what a missed arrival owes); one failing does not stop the rest. First the alert
        # events a process accepted and did not apply (it stopped): nothing accepted is lost.
        steps: tuple[tuple[str, Callable[[], Awaitable[object]]], ...] = (
            ("alert inbox", lambda: alert_service.apply_queued(self.deps, snapshots=self.snapshots)),
            ("freshness check", lambda: alert_service.check(self.deps, at, snapshots=self.snapshots)),
            ("incident periodic work", lambda: incident_service.run_periodic(self.deps, at, snapshots=self.snapshots)),
            ("before-shift notices", lambda: change_service.before_shift_dms(self.deps, at)),
            ("cover requests", lambda: cover_service.run_tick(self.deps.db, at, getattr(self.ticker, "port", None))),
        )
        for what, step in steps:
            try:
                await step()
            except Exception:
                log.exception("%s at %s failed", what, at.isoformat())
        self.ticks += 1

    async def _job(self) -> None:
        task = asyncio.get_running_loop().create_task(self.run_once())
        self._running = task
        task.add_done_callback(self._tick_ended)
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            # APScheduler's shutdown cancels its job; the tick itself goes on and stop() waits
            # for it. Returning (not raising) keeps APScheduler from logging an ERROR.
            if not task.done():
                log.info("scheduler stopping: the tick in progress finishes on its own")

    def _tick_ended(self, task: asyncio.Task[None]) -> None:
        if self._running is task:
            self._running = None

    def start(self, *, run_now: bool = True) -> None:
        """Tick at second 0 of every minute (UTC); with ``run_now`` also once at once (catch-up
        after a restart)."""
        kwargs: dict[str, Any] = {}
        if run_now:
            kwargs["next_run_time"] = datetime.now(UTC)
        self.scheduler.add_job(
            self._job,
            CronTrigger(second=0, timezone=UTC),
            id=JOB_ID,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=50,
            replace_existing=True,
            **kwargs,
        )
        self.scheduler.start()

    async def stop(self, wait_at_most: float = STOP_WAIT_SECONDS) -> None:
        """Stop the timer, wait (at most ``wait_at_most`` seconds) for a tick in progress to finish,
        then close what the ticks used. A tick still running after that (or when ``stop`` itself
        is cancelled) is cancelled, with a warning."""
        if self.scheduler.running:
            # Paused first (at once), no new job starts; the shutdown runs on the loop after the
            # jobs already submitted have begun (so their cancellation finds them in ``_job``).
            self.scheduler.pause()
            self.scheduler.shutdown(wait=False)
            await asyncio.sleep(0)
        running = self._running
        try:
            if running is not None:
                done, _ = await asyncio.wait({running}, timeout=wait_at_most)
                if not done:
                    log.warning("scheduler stopping: the tick in progress did not finish within %.0f s: "
                                "cancelled", wait_at_most)
        except asyncio.CancelledError:  # the shutdown's time is up: stop the tick where it is
            if running is not None:
                running.cancel()
            raise
        finally:
            if running is not None and not running.done():
                running.cancel()
            if self._close is not None:
                await self._close()


def posting_client(client: AsyncWebClient) -> AsyncWebClient:
    """A client for the scheduled posts on ``client``'s session, token and URL, without automatic
    retries: a post retried blindly after a timeout or a 5xx may be a second post. The deliveries
    retry themselves (looking for the first post by its key) and honour 429s themselves."""
    return AsyncWebClient(
        token=client.token,
        base_url=client.base_url,
        session=client.session,
        timeout=client.timeout,
        proxy=client.proxy,
        retry_handlers=[],
    )


async def start(
    deps: SlackDeps,
    *,
    port: SlackPort | None = None,
    config: ScheduleConfig | None = None,
    run_now: bool = True,
) -> ScheduledJobs:
    """Start the minute tick for a running bot (``bot.slack.server.run_slack`` calls this)."""
    from bot.services.cache import SnapshotCache

    cache = SnapshotCache(deps.db, deps.settings.admin_ids)
    if port is None:
        port = WebSlackPort(posting_client(deps.client))
    ticker = Ticker(deps.db, port, snapshots=cache.get, config=config or ScheduleConfig.from_env())
    jobs = ScheduledJobs(deps, ticker, snapshots=cache.get, close=cache.close)
    jobs.start(run_now=run_now)
    log.info("scheduled work: ticking every minute as %s", ticker.owner)
    return jobs


__all__ = ["JOB_ID", "ScheduledJobs", "start"]
