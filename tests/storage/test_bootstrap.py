"""open_database: migrate and seed a new database once, say so once, refuse what it must not touch."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.config import Settings
from bot.seed.validate import SeedError
from bot.storage.bootstrap import DatabaseNotReady, export_seed_text, open_database
from bot.storage.db import create_engine, display_url
from bot.storage.migrate import current_revision, head_revision, upgrade

from .helpers import ROOT


async def test_a_new_database_is_migrated_and_loaded_and_says_so_once(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    said: list[str] = []
    db = await open_database(settings, say=said.append)
    await db.close()
    assert said == [
        f"New database at {display_url(settings.database_url)}: migrated and loaded data/seed.yaml "
        "(5 pipelines, 15 people)."
    ]
    said.clear()
    db = await open_database(settings, say=said.append)
    try:
        assert said == []
        assert "pipelines:" in await export_seed_text(db)
    finally:
        await db.close()


async def test_concurrent_first_opens_migrate_and_load_once(settings: Settings) -> None:
    said: list[str] = []
    opened = await asyncio.gather(*(open_database(settings, say=said.append) for _ in range(3)))
    try:
        assert len(said) == 1 and said[0].startswith("New database at ")
    finally:
        for db in opened:
            await db.close()


async def test_a_migrated_database_without_a_seed_gets_one(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    await engine.dispose()
    said: list[str] = []
    db = await open_database(settings, say=said.append)
    await db.close()
    assert len(said) == 1
    assert said[0].startswith(f"Database at {display_url(settings.database_url)}: loaded ")


async def test_a_bad_seed_file_leaves_a_new_database_untouched(settings: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nteams: []\n", encoding="utf-8")
    with pytest.raises(SeedError, match="calendar"):
        await open_database(settings.model_copy(update={"seed_path": bad}), say=print)
    engine = create_engine(settings.database_url)
    try:
        assert await current_revision(engine) is None  # the migration went with the failed load
    finally:
        await engine.dispose()
    said: list[str] = []
    db = await open_database(settings, say=said.append)  # a good file later: a new database then
    await db.close()
    assert len(said) == 1 and said[0].startswith("New database at ")


async def _execute(url: str, *statements: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.exec_driver_sql(statement)
    finally:
        await engine.dispose()


async def test_an_unmigrated_database_with_tables(settings: Settings) -> None:
    """SQLite is migrated in place; a PostgreSQL server with tables is the operator's call."""
    await _execute(settings.database_url, "CREATE TABLE something_else (id INTEGER PRIMARY KEY)")
    if settings.database_url.startswith("sqlite"):
        db = await open_database(settings, say=lambda _line: None)
        await db.close()
        return
    with pytest.raises(DatabaseNotReady) as caught:
        await open_database(settings, say=print)
    assert str(caught.value) == (
        f"database is at revision (none), head is {head_revision()}: run `oncall-bot db upgrade`"
    )


async def test_a_database_from_a_newer_bot_is_refused(settings: Settings) -> None:
    db = await open_database(settings, say=lambda _line: None)
    await db.close()
    await _execute(settings.database_url, "UPDATE alembic_version SET version_num = '9999_future'")
    with pytest.raises(DatabaseNotReady, match="9999_future, which this version of the bot does not know"):
        await open_database(settings, say=print)


async def test_the_engine_has_the_sqlite_pragmas(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'new' / 'dir' / 'oncall.db'}")  # makes the directory
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 30000
    finally:
        await engine.dispose()
