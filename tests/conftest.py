"""Fixtures for every test: databases on both dialects and the seed's Directory.

- ``db_url``: a new, empty database, once on SQLite (a file in tmp_path) and once on PostgreSQL
  (a database of its own on the server of ONCALL_TEST_PG_URL, default
  postgresql+asyncpg://postgres@127.0.0.1:5432/test, named test_<pid>_<random> and dropped
  afterwards; ones left by killed test processes are dropped by the next run). When no server answers,
  scripts/ensure-postgres.sh is tried once; if still none, the PostgreSQL cases are skipped, or
  fail when CI is set.
- ``db``: ``db_url`` opened with ``open_database``: migrated, data/seed.yaml loaded.
- ``directory``: data/seed.yaml as a Directory, no database.

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
import re
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from bot.config import Settings
from bot.core.model import Directory
from bot.seed.validate import load_seed_file
from bot.storage.bootstrap import Database, open_database
from bot.storage.db import async_url
from tests.support.e2e import refuse_bot_processes

ROOT = Path(__file__).resolve().parent.parent
SEED_PATH = ROOT / "data" / "seed.yaml"
DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"

# Tests talk to 127.0.0.1 only; slack_sdk and aiohttp honour proxy variables but not NO_PROXY.
for _var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_var, None)


def _answers(url: URL) -> bool:
    try:
        with socket.create_connection((url.host or "127.0.0.1", url.port or 5432), timeout=2):
            return True
    except OSError:
        return False


@functools.cache
def postgres_server() -> tuple[URL | None, str]:
    """The PostgreSQL URL to create test databases on (its database name is the prefix), or None
    and why not."""
    url = async_url(os.environ.get("ONCALL_TEST_PG_URL", DEFAULT_PG_URL))
    if _answers(url):
        return url, ""
    script = ROOT / "scripts" / "ensure-postgres.sh"
    try:
        done = subprocess.run([str(script)], capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"PostgreSQL at {url.host}:{url.port} does not answer and {script.name} failed: {exc}"
    lines = done.stdout.strip().splitlines()
    if done.returncode == 0 and lines:
        started = make_url(lines[-1])
        url = url.set(host=started.host, port=started.port, username=started.username,
                      password=started.password)
        if _answers(url):
            return url, ""
    return None, (f"PostgreSQL at {url.host}:{url.port} does not answer and {script.name} "
                  f"could not start one:\n{done.stderr.strip()}")


_swept: set[str] = set()


async def _drop_leftovers(conn: AsyncConnection, prefix: str) -> None:
    """Once per run, drop test databases left by test processes of this machine that were killed
    before their teardown (the name carries the creating process id). Local servers only."""
    if prefix in _swept or conn.engine.url.host not in ("127.0.0.1", "localhost", "::1"):
        return
    _swept.add(prefix)
    pattern = re.compile(rf"{re.escape(prefix)}_(\d+)_(?:[0-9a-f]{{8}}|tmpl)")
    names = (await conn.exec_driver_sql("SELECT datname FROM pg_database")).scalars().all()
    for old in names:
        m = pattern.fullmatch(old)
        if m and not _alive(int(m.group(1))):
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)')


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process
    return True


async def _create_database(conn: AsyncConnection, name: str, template: str | None = None) -> None:
    """CREATE DATABASE, with ``synchronous_commit`` off in it: a commit does not wait for its WAL
    to reach the disk (no test here survives a server crash; the crash tests run a cluster of
    their own). On a machine whose disk other test runs keep busy, that wait dominated the
    tests that commit a lot (a year of ticks). Settings are per database: a copy of a template
    does not inherit them."""
    await conn.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    await conn.exec_driver_sql(f'ALTER DATABASE "{name}" SET synchronous_commit = off')


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A new, empty database's URL, on each dialect."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'oncall.db'}"
        return
    server, why = postgres_server()
    if server is None:
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    prefix = server.database or "test"
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(
        server.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        async with admin.connect() as conn:
            await _drop_leftovers(conn, prefix)
            await _create_database(conn, name)
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as conn:
                await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.dispose()


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Settings for ``db_url`` and data/seed.yaml (no .env file)."""
    return Settings(_env_file=None, database_url=db_url, seed_path=SEED_PATH)  # type: ignore[call-arg]


# PostgreSQL: migrating and loading the seed costs seconds per test; a template database made
# once per process (migrated, seeded) is copied instead. Its name carries the pid like the rest.
_templates: dict[str, str] = {}


async def _from_template(url_text: str) -> None:
    """Replace the empty PostgreSQL database of ``url_text`` by a copy of the seeded template."""
    url = make_url(url_text)
    name = url.database or ""
    prefix = name.rsplit("_", 2)[0]
    server = url.set(database="postgres")
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        template = _templates.get(prefix)
        if template is None:
            template = f"{prefix}_{os.getpid()}_tmpl"
            async with admin.connect() as conn:
                await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
                await _create_database(conn, template)
            seeded = await open_database(
                Settings(_env_file=None, database_url=url.set(database=template).render_as_string(  # type: ignore[call-arg]
                    hide_password=False), seed_path=SEED_PATH),
                say=lambda _line: None,
            )
            await seeded.close()
            _templates[prefix] = template
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await _create_database(conn, name, template)
    finally:
        await admin.dispose()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop this process's template databases."""
    if not _templates:
        return
    import asyncio

    async def drop() -> None:
        server, _ = postgres_server()
        if server is None:
            return
        admin = create_async_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            async with admin.connect() as conn:
                for template in _templates.values():
                    await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        finally:
            await admin.dispose()

    asyncio.run(drop())


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    """An open database, migrated and loaded with data/seed.yaml."""
    if settings.database_url.startswith("postgresql"):
        await _from_template(settings.database_url)
    database = await open_database(settings, say=lambda _line: None)
    try:
        yield database
    finally:
        await database.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` first (a stable sort: the order within each part is kept, so a
    module's tests stay together). With pytest-xdist the first tests go out first: the longest
    ones start at once instead of setting the run's end when they come last."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


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
