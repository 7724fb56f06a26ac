"""Faults a deployment meets: PostgreSQL restarting under load, Slack failing or slow, a full disk
under SQLite. The bot keeps answering what it can, says "try again" for the rest, recovers by
itself (no restart) and loses no write it acknowledged.

PostgreSQL: a throwaway cluster of its own (tests/ops/pgcluster.py), stopped with
``pg_ctl stop -m fast`` while requests are in flight and started again. Full disk: a 2 MB tmpfs
when the tests run as root (mount works), and in every case SQLite's ``max_page_count``, which
makes SQLite fail exactly as on a full disk (SQLITE_FULL, "database or disk is full").
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from pydantic import SecretStr
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, OperationalError

from bot.config import Settings
from bot.services.cache import SnapshotCache
from bot.slack.server import PROBE_CACHE_SECONDS, run_slack
from bot.storage.bootstrap import Database, open_database
from bot.storage.meta import get_meta, set_meta
from tests.ops.pgcluster import Cluster, create_cluster
from tests.ops.workspace import SEED_PATH, ScopedFakeSlack, populate
from tests.support.clock import QUIET
from tests.support.signing import TEST_SIGNING_SECRET, SlackClientSim, app_mention_body

# One xdist worker for the module: the throwaway PostgreSQL `cluster` is made once.
pytestmark = pytest.mark.xdist_group("faults-pgcluster")

BOT_USER = "U0BOT0001"
# What a query raises while PostgreSQL is away: through SQLAlchemy, or straight from the driver
# (the snapshot cache's probe connection), or the socket.
DATABASE_DOWN = (DBAPIError, OSError, asyncpg.InterfaceError, asyncpg.PostgresError)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    try:
        made = create_cluster()
    except RuntimeError as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    try:
        yield made
    finally:
        made.destroy()


async def new_database(cluster: Cluster) -> str:
    name = f"faults_{uuid.uuid4().hex[:10]}"
    done = await asyncio.to_thread(
        subprocess.run,
        [str(cluster.bindir / "psql"), "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "-c",
         f'CREATE DATABASE "{name}"'],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return cluster.url(name)


@dataclass
class Bot:
    base: str
    sim: SlackClientSim
    slack: ScopedFakeSlack
    answers: list[tuple[int, str]] = field(default_factory=list)

    async def ask(self, line: str = "growth") -> tuple[int, str]:
        res = await asyncio.wait_for(self.sim.slash_command(f"{self.base}/slack/events", "/oncall", line), 15)
        body = res.body if isinstance(res.body, dict) else {"text": res.text}
        answer = (res.status, str(body.get("text", "")))
        self.answers.append(answer)
        return answer

    async def health(self) -> int:
        async with aiohttp.ClientSession(trust_env=False) as http, http.get(f"{self.base}/healthz") as res:
            return res.status


@contextlib.asynccontextmanager
async def running_bot(settings: Settings) -> AsyncIterator[Bot]:
    """``run_slack`` in this process (HTTP mode on a free port), against a populated FakeSlack."""
    async with ScopedFakeSlack() as slack:
        populate(slack)
        config = settings.model_copy(update={
            "slack_api_url": slack.api_url,
            "slack_bot_token": SecretStr(slack.bot_token),
            "slack_signing_secret": SecretStr(TEST_SIGNING_SECRET),
            "http_port": 0,
            "clock_start": QUIET,
        })
        stop = asyncio.Event()
        ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        def on_ready(host: str, port: int) -> None:
            ready.set_result(f"http://127.0.0.1:{port}")

        task = asyncio.create_task(run_slack(config, host="127.0.0.1", stop=stop, on_ready=on_ready, jobs=[]))
        try:
            done, _ = await asyncio.wait({task, ready}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                raise AssertionError(f"run_slack ended before it was ready: {task.result()!r}")
            async with SlackClientSim(signing_secret=TEST_SIGNING_SECRET) as sim:
                yield Bot(ready.result(), sim, slack)
        finally:
            stop.set()
            assert await asyncio.wait_for(task, 60) == 0


def is_try_again(answer: tuple[int, str]) -> bool:
    status, said = answer
    return status == 200 and "try again" in said.lower()


def is_growth(answer: tuple[int, str]) -> bool:
    status, said = answer
    return status == 200 and "Growth" in said and "try again" not in said.lower()


async def until(predicate: Any, what: str, attempts: int = 1500) -> None:
    """Poll ``predicate`` every 20 ms (at most ``attempts`` times) while the load runs."""
    for _ in range(attempts):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class Writer:
    """Writes numbered rows through the bot's storage (``meta``) in a loop; remembers which ones
    were acknowledged (the commit returned) and which failed."""

    def __init__(self, db: Database, prefix: str) -> None:
        self.db = db
        self.prefix = prefix
        self.acked: list[int] = []
        self.failed: list[BaseException] = []
        self.stopped = asyncio.Event()

    async def write(self, n: int, value: str = "x") -> None:
        async with self.db.sessions.begin() as session:
            await set_meta(session, f"{self.prefix}.{n}", value)

    async def run(self) -> None:
        n = 0
        while not self.stopped.is_set():
            n += 1
            try:
                await self.write(n)
            except (DBAPIError, OSError) as exc:
                self.failed.append(exc)
                await asyncio.sleep(0.02)
            else:
                self.acked.append(n)
                await asyncio.sleep(0)

    async def missing(self) -> list[int]:
        async with self.db.sessions() as session:
            return [n for n in self.acked if await get_meta(session, f"{self.prefix}.{n}") is None]


# --------------------------------------------------------------------------------------------
# PostgreSQL restarting under load
# --------------------------------------------------------------------------------------------


async def test_postgresql_restart_under_load(cluster: Cluster, tmp_path: Path, no_proxy_env: None) -> None:
    url = await new_database(cluster)
    settings = Settings(_env_file=None, database_url=url, seed_path=SEED_PATH)  # type: ignore[call-arg]
    writes = await open_database(settings, say=lambda _l: None)
    writer = Writer(writes, "restart")
    writing = asyncio.create_task(writer.run())
    try:
        async with running_bot(settings) as bot:
            assert await bot.health() == 200
            assert is_growth(await bot.ask())

            async def load(stop: asyncio.Event) -> None:
                while not stop.is_set():
                    await bot.ask()

            stop_load = asyncio.Event()
            clients = [asyncio.create_task(load(stop_load)) for _ in range(4)]
            await until(lambda: len(bot.answers) >= 20 and len(writer.acked) >= 5, "load and writes")
            acked_before = len(writer.acked)
            await asyncio.to_thread(cluster.stop, "fast")  # PostgreSQL goes away mid-request
            seen, failed_before = len(bot.answers), len(writer.failed)
            await until(lambda: len(writer.failed) > failed_before, "writes to meet the outage")
            await until(lambda: len(bot.answers) >= seen + 20, "lookups during the outage")
            # Lookups go on from the last snapshot while the database is down; /healthz says 503.
            assert all(is_growth(a) for a in bot.answers[seen + 5:]), bot.answers[seen + 5:][:3]
            health_down = 0
            for _ in range(100):
                health_down = await bot.health()
                if health_down == 503:
                    break
                await asyncio.sleep(0.05)
            await asyncio.to_thread(cluster.start)
            await until(lambda: len(writer.acked) > acked_before + 5, "writes to go on after the restart")
            stop_load.set()
            await asyncio.gather(*clients)

            # Every answer was either the answer or a clear "try again", never a 5xx or a hang.
            odd = [a for a in bot.answers if not (is_growth(a) or is_try_again(a))]
            assert not odd, odd[:3]
            assert health_down == 503

            # Recovered without a restart: a short settling, then every answer is right again.
            for _ in range(20):
                if is_growth(await bot.ask()):
                    break
            recent = [await bot.ask() for _ in range(10)]
            assert all(is_growth(a) for a in recent), recent
            # /healthz probes the database at most every PROBE_CACHE_SECONDS: a 503 seen during the
            # outage may stand that long after recovery, then 200
            for _ in range(int(PROBE_CACHE_SECONDS * 10) + 10):
                if await bot.health() == 200:
                    break
                await asyncio.sleep(0.1)
            assert await bot.health() == 200
    finally:
        writer.stopped.set()
        await writing
    try:
        assert acked_before > 0 and len(writer.acked) > acked_before, "writes went on after the restart"
        assert writer.failed, "some writes met the outage"
        assert await writer.missing() == [], "an acknowledged write was lost"
    finally:
        await writes.close()


async def test_snapshot_cache_says_try_again_then_recovers(cluster: Cluster) -> None:
    """The read path the Slack answers use, on its own: while the server is down lookups are
    answered from the last snapshot (nothing is raised; writes elsewhere say "try again"), and
    the same cache and engine see the database again once it is back."""
    url = await new_database(cluster)
    settings = Settings(_env_file=None, database_url=url, seed_path=SEED_PATH)  # type: ignore[call-arg]
    db = await open_database(settings, say=lambda _l: None)
    cache = SnapshotCache(db)
    try:
        first = await cache.get()
        await asyncio.to_thread(cluster.stop, "fast")
        for _ in range(3):
            cache.invalidate()  # force a check against the stopped server
            assert await asyncio.wait_for(cache.get(), 15) is first
        await asyncio.to_thread(cluster.start)
        recovered = None
        for _ in range(50):
            cache.invalidate()
            try:
                await cache.fingerprint()  # the database answers again
            except DATABASE_DOWN:
                await asyncio.sleep(0.2)
                continue
            recovered = await cache.get()
            break
        assert recovered is not None and recovered.directory == first.directory
        assert (await cache.get()).directory == first.directory
    finally:
        if not cluster.running():
            cluster.start()
        await cache.close()
        await db.close()


# --------------------------------------------------------------------------------------------
# Slack failing or slow
# --------------------------------------------------------------------------------------------


async def test_slack_errors_and_slowness(tmp_path: Path, no_proxy_env: None) -> None:
    settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path}/o.db",  # type: ignore[call-arg]
                        seed_path=SEED_PATH)
    async with running_bot(settings) as bot:
        slack = bot.slack
        # A 5xx may mean Slack posted it: a reply is never re-sent blindly (issue 10 §1), the
        # failure is logged once and the bot goes on.
        slack.fail_next("chat.postMessage", status=500, times=1)
        acked = await bot.sim.post(f"{bot.base}/slack/events", app_mention_body(f"<@{BOT_USER}> who owns churn?"))
        assert acked.status == 200
        await slack.wait_for("chat.postMessage", timeout=30)
        await bot.sim.post(f"{bot.base}/slack/events", app_mention_body(f"<@{BOT_USER}> who owns churn?"))
        await slack.wait_for("chat.postMessage", ok_only=True, timeout=30)
        assert [c.status for c in slack.calls_to("chat.postMessage")] == [500, 200]

        # Slack slow to take replies: commands are still answered (in the ack, no Slack call).
        gate = slack.hold("chat.postMessage")
        await bot.sim.post(f"{bot.base}/slack/events", app_mention_body(f"<@{BOT_USER}> runbook profit"))
        answers = await asyncio.gather(*(bot.ask(p) for p in ("growth", "profit", "engagement")))
        assert [a[0] for a in answers] == [200, 200, 200] and all("try again" not in a[1] for a in answers)
        gate.release()
        await slack.wait_for("chat.postMessage", count=2, ok_only=True, timeout=30)

        # Slack down for good for a reply: the failure is logged, the bot keeps serving.
        slack.fail_next("chat.postMessage", status=503, times=10)
        await bot.sim.post(f"{bot.base}/slack/events", app_mention_body(f"<@{BOT_USER}> who owns churn?"))
        await slack.wait_for("chat.postMessage", count=4, timeout=30)  # one try each: 500, 200, 200, 503
        assert is_growth(await bot.ask())


# --------------------------------------------------------------------------------------------
# SQLite on a full disk
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def tiny_tmpfs(size: str = "2M") -> Iterator[Path]:
    """A tmpfs of ``size`` (root only); skips the test where mounting is not allowed."""
    where = Path(tempfile.mkdtemp(prefix="oncall-full-"))
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); the max_page_count test covers SQLITE_FULL")
    # A mount that "succeeded" without giving a small file system (a sandbox's stand-in) would
    # let the test fill the machine's real disk: refuse to go on.
    fs = os.statvfs(where)
    if fs.f_blocks * fs.f_frsize > 64 * 1024 * 1024:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)
        with contextlib.suppress(OSError):
            where.rmdir()
        pytest.skip(f"the tmpfs at {where} is not small; the max_page_count test covers SQLITE_FULL")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)
        where.rmdir()


def _is_full(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) and "full" in str(exc).lower()


async def _fill_until_full(writer: Writer, start: int, blob: str) -> tuple[int, BaseException]:
    n = start
    while True:
        n += 1
        try:
            await writer.write(n, blob)
        except (DBAPIError, OSError) as exc:
            return n, exc
        writer.acked.append(n)
        assert n < start + 100_000, "never filled up"


async def test_sqlite_full_disk_keeps_reading_and_recovers(tmp_path: Path) -> None:
    with tiny_tmpfs("2M") as disk:
        settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{disk}/oncall.db",  # type: ignore[call-arg]
                            seed_path=SEED_PATH)
        db = await open_database(settings, say=lambda _l: None)
        cache = SnapshotCache(db)
        writer = Writer(db, "disk")
        try:
            before = await cache.get()
            for n in range(1, 6):  # acknowledged while there is room
                await writer.write(n)
                writer.acked.append(n)
            filler = disk / "filler"
            with filler.open("wb") as f, contextlib.suppress(OSError):  # the rest of the disk: taken
                for _ in range(1024):  # at most 64 MB: the tmpfs is 2 MB
                    f.write(b"\0" * 65536)
                    f.flush()
            failed_at, error = await _fill_until_full(writer, 5, "y" * 2000)
            assert _is_full(error), repr(error)
            # Reads go on: the answers come from what is there.
            cache.invalidate()
            assert (await cache.get()).directory == before.directory
            # Space comes back (an operator cleaned up): writes work again, same engine.
            filler.unlink()
            await writer.write(failed_at + 1)
            writer.acked.append(failed_at + 1)
            assert await writer.missing() == []
        finally:
            await cache.close()
            await db.close()
        # And after a restart of the bot every acknowledged write is still there.
        reopened = await open_database(settings, say=lambda _l: None)
        try:
            check = Writer(reopened, "disk")
            check.acked = list(writer.acked)
            assert len(check.acked) > 1 and await check.missing() == []
        finally:
            await reopened.close()


async def test_sqlite_full_database_file_is_sqlite_full(tmp_path: Path) -> None:
    """Without a tmpfs: ``max_page_count`` caps the file, and SQLite fails with SQLITE_FULL, the
    error of a full disk. Same expectations: reads go on, no acknowledged write is lost, and the
    bot recovers when room comes back."""
    settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path}/oncall.db",  # type: ignore[call-arg]
                        seed_path=SEED_PATH)
    db = await open_database(settings, say=lambda _l: None)
    cache = SnapshotCache(db)
    writer = Writer(db, "cap")
    limit: dict[str, int] = {}

    @event.listens_for(db.engine.sync_engine, "connect")
    def _cap(dbapi_connection: Any, _record: Any) -> None:
        if "pages" in limit:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA max_page_count = {limit['pages']}")
            cursor.close()

    async def set_cap(pages: int) -> None:
        limit["pages"] = pages
        await cache.close()
        await db.engine.dispose()  # every new connection gets the cap

    try:
        before = await cache.get()
        async with db.engine.connect() as conn:
            pages = (await conn.exec_driver_sql("PRAGMA page_count")).scalar_one()
        await set_cap(int(pages) + 3)
        failed_at, error = await _fill_until_full(writer, 0, "z" * 3000)
        assert _is_full(error), repr(error)
        cache.invalidate()
        assert (await cache.get()).directory == before.directory
        await set_cap(1_000_000_000)
        await writer.write(failed_at + 1)
        writer.acked.append(failed_at + 1)
        assert await writer.missing() == []
    finally:
        await cache.close()
        await db.close()
