"""``doctor``'s alert inbox check: accepted alert events are being applied.

An event a monitor sent is stored (``queued``) before its 202 and applied moments later by a bot
process (its applier, or any process's minute tick). Queued for minutes means nothing applies
them: no bot process runs, or applying fails every time; the monitors were told "accepted" and
nobody has been paged. Events that could not be applied at all (``failed``) are a warning: each
is named in the bot's log.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.ops.doctor.database import DB_TIMEOUT, DbState
from bot.ops.doctor.report import Report, Status, with_timeout

STALE_AFTER = timedelta(minutes=2)  # the minute tick applies what a stopped process left: older is stuck
CHECK = "alert inbox"


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


async def check_alert_inbox(state: DbState, now: datetime | None, report: Report) -> None:
    """Add the ``alert inbox`` result: OK when nothing waits, or waits less than ``STALE_AFTER``
    at ``now`` (aware; None: ages are not judged); FAIL when an event has waited longer; WARN
    when events failed."""
    from bot.storage import alert_inbox as inbox
    from bot.storage.bootstrap import Database
    from bot.storage.db import session_factory

    if state.engine is None or not state.at_head:
        report.add(CHECK, Status.SKIP, "skipped: the database is not reachable or not at head")
        return
    db = Database(state.engine, session_factory(state.engine))

    async def read() -> tuple[inbox.Counts, datetime | None]:
        async with db.sessions() as session:
            return await inbox.counts(session), await inbox.oldest_queued_at(session)

    counts, oldest = await with_timeout(read(), DB_TIMEOUT)
    waiting = _plural(counts.queued, "alert event", "alert events")
    if counts.queued and oldest is not None and now is not None and now - oldest >= STALE_AFTER:
        minutes = int((now - oldest).total_seconds() // 60)
        report.add(CHECK, Status.FAIL, f"{waiting} accepted and not applied, the oldest for {minutes} min: "
                   "no bot process is applying them, and nobody has been paged for them",
                   "start the bot (any process's minute tick applies them); if it runs, its log says why "
                   "applying fails ('applying queued alert events failed')")
        return
    if counts.failed:
        report.add(CHECK, Status.WARN, f"{_plural(counts.failed, 'alert event', 'alert events')} could not be "
                   f"applied (outcome failed){f'; {waiting} waiting' if counts.queued else ''}",
                   "the bot's log names each and says why (search it for 'could not be applied')")
        return
    if counts.queued:
        age = f", the oldest for {int((now - oldest).total_seconds())} s" if now and oldest else ""
        report.add(CHECK, Status.OK, f"{waiting} waiting to be applied{age}")
        return
    report.add(CHECK, Status.OK, "every alert event received has been applied")
