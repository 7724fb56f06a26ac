"""The schema: migrations from empty, no drift between tables and migrations, both dialects."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table, inspect
from sqlalchemy.engine import Connection

from bot.storage.db import create_engine
from bot.storage.migrate import current_revision, downgrade, head_revision, is_at_head, schema_diffs, upgrade
from bot.storage.tables import Base

from .helpers import ROOT


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


async def test_migrate_from_empty_then_no_drift(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        assert await current_revision(engine) is None
        assert not await is_at_head(engine)
        await upgrade(engine)
        assert await current_revision(engine) == head_revision()
        assert await is_at_head(engine)
        async with engine.connect() as conn:
            assert await conn.run_sync(_tables) == set(Base.metadata.tables) | {"alembic_version"}
        assert await schema_diffs(engine) == []
        await upgrade(engine)  # at head: nothing to do
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


async def test_the_drift_check_sees_drift(db_url: str) -> None:
    engine = create_engine(db_url)
    changed = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    Table("drift_probe", changed, Column("id", Integer, primary_key=True))
    changed.tables["teams"].append_column(Column("colour", Integer))

    def diffs(conn: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(conn), changed))

    try:
        await upgrade(engine)
        async with engine.connect() as conn:
            found = await conn.run_sync(diffs)
        assert [d[0] for d in found] == ["add_table", "add_column"]  # type: ignore[index]
    finally:
        await engine.dispose()


async def test_downgrade_to_base_and_back(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
        await downgrade(engine, "base")
        assert await current_revision(engine) is None
        async with engine.connect() as conn:
            assert await conn.run_sync(_tables) <= {"alembic_version"}
        await upgrade(engine)
        assert await schema_diffs(engine) == []
    finally:
        await engine.dispose()


@pytest.mark.slow  # five processes that import SQLAlchemy and the bot
def test_alembic_command_line_upgrade_and_check(db_url: str) -> None:
    env = {**os.environ, "ONCALL_DATABASE_URL": db_url}
    for args in (["upgrade", "head"], ["check"], ["current"]):
        done = subprocess.run([sys.executable, "-m", "alembic", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
    assert "No new upgrade operations detected" in subprocess.run(
        [sys.executable, "-m", "alembic", "-x", f"url={db_url}", "check"], cwd=ROOT, env={**os.environ},
        capture_output=True, text=True, timeout=120, check=False,
    ).stdout
    assert f"{head_revision()} (head)" in done.stdout
