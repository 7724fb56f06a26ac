"""Schema at start-up: replicas migrate once under the advisory lock; a PostgreSQL database behind
the code is refused with the command to run; SQLite upgrades itself."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.config import Settings
from bot.ops.migrate_lock import MigrationError, migration_engine, upgrade_with_lock
from bot.storage.bootstrap import open_database
from bot.storage.db import create_engine
from bot.storage.migrate import MIGRATION_LOCK_KEY, alembic_config, current_revision, downgrade, head_revision
from tests.support.procs import finish

EXE = str(Path(sys.executable).with_name("oncall-bot"))
PG = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def env_for(url: str, home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONCALL_", "SLACK_"))}
    env.update(ONCALL_DATABASE_URL=url, HOME=str(home), **extra)
    return env


async def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``oncall-bot ARGS`` in a process of its own, without blocking the test's event loop."""
    return await asyncio.to_thread(subprocess.run, [EXE, *args], env=env, capture_output=True, text=True, timeout=60)


def previous_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config())
    down = script.get_revision(head_revision()).down_revision
    assert isinstance(down, str)
    return down


async def make_behind(settings: Settings) -> str:
    """A database with the seed loaded, then migrated one step down: what an old bot left."""
    db = await open_database(settings, say=lambda _l: None)
    try:
        behind = previous_revision()
        await downgrade(db.engine, behind)
        assert await current_revision(db.engine) == behind
    finally:
        await db.close()
    return behind


@pytest.mark.e2e
@PG
def test_replicas_starting_together_migrate_once(db_url: str, tmp_path: Path) -> None:
    procs = [
        subprocess.Popen([EXE, "db", "upgrade", "--lock", "--wait", "30"], env=env_for(db_url, tmp_path),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    try:
        outs = [finish(p, 120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    said = [out for out, _err in outs]
    assert sum("Database migrated from empty to" in s for s in said) == 1, said
    assert all("(head)" in s for s in said)
    current = subprocess.run([EXE, "db", "current"], env=env_for(db_url, tmp_path), capture_output=True, text=True,
                             timeout=60)
    assert current.returncode == 0 and f"current: {head_revision()}" in current.stdout


@PG
async def test_a_waiting_replica_says_so_and_its_wait_is_bounded(db_url: str) -> None:
    holder = create_engine(db_url)
    said: list[str] = []
    heard = asyncio.Event()

    def say(line: str) -> None:
        said.append(line)
        heard.set()

    try:
        async with holder.connect() as conn:
            tx = await conn.begin()
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})

            impatient = migration_engine(db_url, lock_timeout=0.3)
            try:
                with pytest.raises(MigrationError, match=r"waited more than 0.3s for a lock"):
                    await upgrade_with_lock(impatient, say=say, lock_timeout=0.3)
            finally:
                await impatient.dispose()
            assert said == ["Another replica is migrating the database; waiting for it (up to 0.3s)."]

            said.clear()
            heard.clear()
            patient = migration_engine(db_url, lock_timeout=60)
            waiting = asyncio.create_task(upgrade_with_lock(patient, say=say, lock_timeout=60))
            await asyncio.wait_for(heard.wait(), 30)
            await tx.commit()  # the other replica's migration ends
            outcome = await asyncio.wait_for(waiting, 60)
            await patient.dispose()
        assert outcome.waited and outcome.migrated and outcome.after == head_revision()
    finally:
        await holder.dispose()


async def test_sqlite_migrates_under_its_write_lock(tmp_path: Path) -> None:
    engine = migration_engine(f"sqlite+aiosqlite:///{tmp_path}/a.db")
    try:
        first = await upgrade_with_lock(engine, say=lambda _l: None)
        second = await upgrade_with_lock(engine, say=lambda _l: None)
    finally:
        await engine.dispose()
    assert first.migrated and first.before is None and first.after == head_revision()
    assert not second.migrated and second.describe().endswith("nothing to do.")


@pytest.mark.e2e
@PG
async def test_postgresql_behind_the_code_is_refused_with_the_command_to_run(
    db_url: str, settings: Settings, tmp_path: Path
) -> None:
    behind = await make_behind(settings)
    env = env_for(db_url, tmp_path, SLACK_BOT_TOKEN="xoxb-1-2-3", SLACK_SIGNING_SECRET="s" * 32)
    for argv in (["oncall", "growth"], ["run"]):
        refused = await cli(env, *argv)
        assert refused.returncode == 2, refused.stderr
        assert f"database is at revision {behind}, head is {head_revision()}" in refused.stderr
        assert "run `oncall-bot db upgrade`" in refused.stderr
    engine = create_engine(db_url)
    try:
        assert await current_revision(engine) == behind  # refusing changed nothing
    finally:
        await engine.dispose()

    fixed = await cli(env, "db", "upgrade", "--lock")
    assert fixed.returncode == 0 and f"migrated from {behind} to {head_revision()}" in fixed.stdout, fixed.stderr
    works = await cli(env, "oncall", "growth", "--json")
    assert works.returncode == 0 and '"pipeline": "growth"' in works.stdout, works.stderr


@pytest.mark.e2e
async def test_sqlite_behind_the_code_upgrades_itself(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/old.db"
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    behind = await make_behind(settings)
    done = await cli(env_for(url, tmp_path), "oncall", "growth", "--json")
    assert done.returncode == 0, done.stderr
    assert f"migrated from {behind} to {head_revision()}" in done.stderr
