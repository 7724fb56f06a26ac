"""Fixtures for every test: databases on both dialects and the seed's Directory.

- ``db_url``: a new, empty database, once on SQLite (a file in tmp_path) and once on PostgreSQL
  (on the server of ONCALL_TEST_PG_URL, default postgresql+asyncpg://postgres@127.0.0.1:5432/test).
  When no server answers, scripts/ensure-postgres.sh is tried once; if still none, the PostgreSQL
  cases are skipped, or fail when CI is set.
- ``db``: ``db_url`` opened with ``open_database``: migrated, data/seed.yaml loaded.
- ``directory``: data/seed.yaml as a Directory, no database.

On PostgreSQL each test process keeps two databases, made once and reset before each test to the
state a new one would have (empty; migrated and seeded): tests/support/pg_databases.py. A test
that uses ``db`` gets the seeded one as ``db_url`` too.

A test that starts a bot process (``oncall-bot ...``, ``python -m bot ...``) must carry
``@pytest.mark.e2e``: .ci/run runs those a second time under a fake time of day (faketime), and
such a test pins the bot's clock (``tests.support.clock``) or does not depend on it. An unmarked
test that starts one fails (``_bot_processes_are_e2e``).

Engines are function-scoped, like pytest-asyncio's loops (an asyncpg engine cannot move between
loops).
"""

from __future__ import annotations

import functools
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.core.model import Directory
from bot.seed.validate import load_seed_file
from bot.storage.bootstrap import Database, open_database
from tests.support.e2e import refuse_bot_processes
from tests.support.pg_databases import TestDatabases, drop_leftovers, postgres_server

ROOT = Path(__file__).resolve().parent.parent
# Slack's one post a second per channel is the outbox's pacing; the fake Slack has no such limit,
# and tests that post several messages to one channel would wait seconds of wall time for it.
# Tests of the pacing build their DeliveryConfig with the default interval (1 s).
os.environ.setdefault("ONCALL_SLACK_CHANNEL_INTERVAL", "0.01")
# The 0.2 s answer to a refused (401) Slack request, a tarpit for junk senders, would add up over
# the hundreds of refusals the security tests send; tests of the tarpit set it themselves.
os.environ.setdefault("ONCALL_REFUSED_DELAY_SECONDS", "0")
# Alert events are applied in the test's own process (tests wait for and inspect that applier, or
# switch it off); tests/alerts/test_applier_process.py runs the child-process applier itself.
os.environ.setdefault("ONCALL_ALERT_APPLIER", "inline")
SEED_PATH = ROOT / "data" / "seed.yaml"

# Tests talk to 127.0.0.1 only; slack_sdk and aiohttp honour proxy variables but not NO_PROXY.
for _var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_var, None)


_databases: dict[str, TestDatabases] = {}


def _pg_databases() -> TestDatabases:
    """This process's PostgreSQL test databases (``postgres_server()`` must have answered)."""
    server, _ = postgres_server()
    assert server is not None
    key = server.render_as_string(hide_password=False)
    if key not in _databases:
        _databases[key] = TestDatabases(server)
    return _databases[key]


async def _migrate_and_seed(url: str) -> None:
    opened = await open_database(
        Settings(_env_file=None, database_url=url, seed_path=SEED_PATH),  # type: ignore[call-arg]
        say=lambda _line: None,
    )
    await opened.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A new, empty database's URL, on each dialect; for a test that also uses ``db``, the URL of
    that database (migrated and seeded)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'oncall.db'}"
        return
    server, why = postgres_server()
    if server is None:
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    await drop_leftovers(server)
    databases = _pg_databases()
    if "db" in request.fixturenames:
        yield await databases.seeded(_migrate_and_seed)
    else:
        yield await databases.empty()


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Settings for ``db_url`` and data/seed.yaml (no .env file)."""
    return Settings(_env_file=None, database_url=db_url, seed_path=SEED_PATH)  # type: ignore[call-arg]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop this process's PostgreSQL test databases."""
    if not _databases:
        return
    import asyncio

    async def drop() -> None:
        for databases in _databases.values():
            await databases.drop_all()

    asyncio.run(drop())


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    """An open database, migrated and loaded with data/seed.yaml."""
    database = await open_database(settings, say=lambda _line: None)
    try:
        yield database
    finally:
        await database.close()


SLOW_TEST_TIMEOUT_SECONDS = 1440


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` first (a stable sort: the order within each part is kept, so a
    module's tests stay together). With pytest-xdist the first tests go out first: the longest
    ones start at once instead of setting the run's end when they come last.

    A slow test gets three times the suite's per-test bound (pyproject's ``timeout``): a year of
    ticks takes 90 s on an idle machine and 7 minutes on a loaded one, and neither is a hang."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    for item in items:
        if item.get_closest_marker("slow") is not None and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(SLOW_TEST_TIMEOUT_SECONDS))


@pytest.fixture(autouse=True)
def _bot_processes_are_e2e(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail a test that starts a bot process without the ``e2e`` mark."""
    if request.node.get_closest_marker("e2e") is None:
        refuse_bot_processes(monkeypatch, request.node.nodeid)


@functools.cache
def _seed_directory() -> Directory:
    return load_seed_file(SEED_PATH)


@pytest.fixture
def directory() -> Directory:
    """data/seed.yaml as core values (shared: do not modify)."""
    return _seed_directory()
