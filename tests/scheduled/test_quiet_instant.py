"""The instant the tests pin a running bot to (``tests.support.clock.QUIET``) is quiet: a whole
scheduler tick there (scheduled work, incidents, before-shift DMs) on a new database with the
bundled seed posts nothing. At a busy instant (Monday 05:35 in New York, the one the issue saw)
the same tick posts, which is why a test that counts posts must pin the clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.clock import fixed_clock
from bot.config import Settings
from bot.core.shifts import notices_due
from bot.jobs.scheduler import ScheduledJobs
from bot.services.cache import SnapshotCache
from bot.slack.deps import SlackDeps
from bot.storage.bootstrap import Database
from tests.support.clock import QUIET
from tests.support.fake_slack import FakeSlack
from tests.support.fixtures import web_client_for

from .conftest import TickerFactory
from .helpers import CAL, DIRECTORY, ny

BUSY = ny(2026, 11, 30, 5, 35)


async def one_tick(settings: Settings, db: Database, slack: FakeSlack, make_ticker: TickerFactory,
                   at: datetime) -> None:
    client = web_client_for(slack, retries=False)
    deps = SlackDeps(settings=settings, db=db, client=client, clock=fixed_clock(at))
    cache = SnapshotCache(db, settings.admin_ids)
    jobs = ScheduledJobs(deps, make_ticker(), snapshots=cache.get, close=cache.close)  # not started: no timer
    try:
        await jobs.run_once()
        assert jobs.ticks == 1
    finally:
        await jobs.stop()
        if client.session is not None:
            await client.session.close()


@pytest.mark.parametrize(("at", "quiet"), [(QUIET, True), (BUSY, False)], ids=["quiet", "busy"])
async def test_a_tick_at_the_pinned_instant_posts_nothing(
    settings: Settings, db: Database, slack: FakeSlack, make_ticker: TickerFactory, at: datetime, quiet: bool
) -> None:
    lead = timedelta(hours=settings.shift_notice_hours)
    assert (notices_due(DIRECTORY, CAL, at, lead) == []) is quiet
    await one_tick(settings, db, slack, make_ticker, at)
    posted = slack.calls_to("chat.postMessage") + slack.calls_to("files.completeUploadExternal")
    if quiet:
        assert posted == [], [c.params for c in posted]
    else:
        assert len(posted) > 1  # the failure: more than the one reply the shutdown test holds
