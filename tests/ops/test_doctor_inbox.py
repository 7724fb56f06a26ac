"""``doctor``'s alert inbox check on both databases: OK when every event is applied or waits a
moment; FAIL when an accepted event has waited past two minutes (nobody is applying them, nobody
was paged); WARN for events that could not be applied."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.config import Settings
from bot.ops.doctor import Status, run_doctor
from bot.storage import alert_inbox as inbox
from bot.storage.bootstrap import Database

NOW = datetime(2026, 11, 30, 10, 35, tzinfo=UTC)


async def inbox_check(settings: Settings, now: datetime | None = NOW) -> tuple[Status, str]:
    report = await run_doctor(settings, today=NOW.date(), now=now)
    (found,) = [r for r in report.results if r.check == "alert inbox"]
    return found.status, found.line()


async def queue(db: Database, dedup: str, at: datetime) -> int:
    (event_id,) = await inbox.accept(db, [inbox.event_row(None, "engagement", "trigger", dedup, "error", "Load failed",
                                                          None, None, None, at)])
    return event_id


async def test_the_alert_inbox_check(settings: Settings, db: Database) -> None:
    assert await inbox_check(settings) == (Status.OK, "OK   alert inbox: every alert event received has been applied")
    await queue(db, "fresh", NOW - timedelta(seconds=10))
    status, line = await inbox_check(settings)
    assert status is Status.OK and "1 alert event waiting to be applied, the oldest for 10 s" in line
    stuck = await queue(db, "stuck", NOW - timedelta(minutes=5))
    status, line = await inbox_check(settings)
    assert status is Status.OK  # by id the older one is 'fresh' (accepted first): its age decides
    async with db.sessions() as session, session.begin():
        await inbox.set_outcomes(session, [(stuck - 1, "opened", None)])  # 'fresh' applied; 'stuck' waits
    status, line = await inbox_check(settings)
    assert status is Status.FAIL and "1 alert event accepted and not applied, the oldest for 5 min" in line
    assert "start the bot" in line
    assert (await inbox_check(settings, now=None))[0] is Status.OK  # no instant: ages are not judged
    async with db.sessions() as session, session.begin():
        await inbox.set_outcomes(session, [(stuck, "failed", None)])
    status, line = await inbox_check(settings)
    assert status is Status.WARN and "1 alert event could not be applied" in line and "could not be applied'" in line
