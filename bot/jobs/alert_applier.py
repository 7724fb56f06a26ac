"""The alert applier's child process (``bot.services.alerts.child``): ``python -m bot.jobs.alert_applier``.

Reads its settings from the environment its parent gave it (never ``.env``), opens the database
(already migrated by the parent), and applies queued alert events as the in-process applier does
(``bot.services.alerts.Intake``: the same ``Applier`` and outbox kicks, the same Slack client).

Its standard input carries the parent's wakes (a number a line); after each pass that applied
everything queued it writes ``idle N`` (N: the last wake read before the pass began) to its
standard output. It applies what is queued when it starts, whoever accepted it. End of input (the
parent closing the pipe, or dying) makes it finish the pass in progress, let its outbox kicks
end, and exit. Logs go to standard error, as the parent's do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys

log = logging.getLogger("bot.alerts")

SNAPSHOT_MAX_STALENESS = 2.0  # as the parent's intake: the seed rarely changes during a storm
# Between two passes under load: what arrives meanwhile is applied by the next pass, in one
# transaction (here no 202 waits for the loop, so the pause only gathers: a storm costs fewer,
# larger transactions; an event alone is applied at once all the same)
PAUSE = 0.25
# Applying is background work: where it competes for a core with the intake (this process's
# parent) or the database, the kernel gives the core to those first
NICENESS = 10
STOP_WAIT = 4.0  # seconds to finish at the end: the parent kills it after 5


async def serve(reader: asyncio.StreamReader, report: asyncio.WriteTransport) -> int:
    """Apply on each wake read from ``reader``; ``idle N`` on ``report`` after each pass."""
    from bot.clock import clock_from
    from bot.config import Settings
    from bot.ops.logging import configure_logging
    from bot.services.alerts import Intake
    from bot.services.cache import SnapshotCache
    from bot.services.database import open_database
    from bot.services.incidents import snapshot_source
    from bot.slack.client import close_client, make_client
    from bot.slack.deps import SlackDeps

    settings = Settings(_env_file=None)
    configure_logging(settings)
    db = await open_database(settings, say=log.info)
    client = make_client(settings)
    deps = SlackDeps(settings=settings, db=db, client=client, clock=clock_from(settings.clock_start))
    cache = SnapshotCache(db, settings.admin_ids, max_staleness=SNAPSHOT_MAX_STALENESS)
    intake = Intake(deps, snapshot_source(deps, cache), pause=PAUSE)
    latest = 0  # the last wake read
    reported = 0
    passes: asyncio.Task[None] | None = None

    async def report_when_idle() -> None:
        nonlocal reported
        while reported < latest:  # the wakes read during a pass: one more wait, then their report
            target = latest
            await intake.applied()
            reported = target
            report.write(b"idle %d\n" % target)

    try:
        intake.loop.wake()  # what is queued already: a child that died before, a parent that stopped
        while line := await reader.readline():
            text = line.strip()
            if text.isdigit():
                latest = max(latest, int(text))
                intake.loop.wake()
                if passes is None or passes.done():
                    passes = asyncio.get_running_loop().create_task(report_when_idle())
        log.info("alert applier: its parent closed the pipe; finishing")
        deadline = asyncio.get_running_loop().time() + STOP_WAIT  # within the parent's wait before it kills
        try:
            async with asyncio.timeout_at(deadline):
                await intake.applied()
                await intake.kicker.wait()
        except TimeoutError:
            log.warning("alert applier: stopping with events not applied or messages not sent yet; they stay "
                        "queued and owed (the minute tick goes on with them)")
        if passes is not None:
            passes.cancel()
        await deps.background.drain(max(0.1, deadline - asyncio.get_running_loop().time()))
        return 0
    finally:
        await cache.close()
        await close_client(client)
        await db.close()


async def main() -> int:
    with contextlib.suppress(OSError):  # not allowed: it runs at the parent's priority
        os.nice(NICENESS)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    transport, _ = await loop.connect_write_pipe(asyncio.Protocol, sys.stdout)
    try:
        return await serve(reader, transport)
    finally:
        transport.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
