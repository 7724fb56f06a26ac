"""The quick read of a SQLite database (``bot.storage.quickread``, ``bot.services.quick``): the
same snapshot as the usual read, and None for every database that needs something done."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import JSON, Boolean, Date, DateTime, text

from bot.config import Settings
from bot.seed.convert import rule_dict, to_directory
from bot.seed.validate import read_seed_file
from bot.services.queries import load_snapshot
from bot.services.quick import quick_snapshot
from bot.services.snapshot import ALL_FROM, ALL_TO
from bot.storage.bootstrap import open_database
from bot.storage.db import create_engine
from bot.storage.migrate import upgrade
from bot.storage.overrides import add_override
from bot.storage.quickread import CONVERTERS, UTC_COLUMNS, quick_read, sqlite_file
from bot.storage.seedrows import READ_ORDER
from bot.storage.seedstore import export_seed
from bot.storage.tables import SEED_TABLES, OverrideRow, table_of
from bot.storage.types import UTCDateTime

ROOT = Path(__file__).resolve().parents[2]
SEEDS = [ROOT / "data" / "seed.yaml", ROOT / "data" / "examples" / "brauhaus-de.yaml"]
T0 = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)


def _settings(url: str, seed: Path) -> Settings:
    return Settings(_env_file=None, database_url=url, seed_path=seed)  # type: ignore[call-arg]


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.stem)
async def test_the_quick_snapshot_is_the_usual_one(tmp_path: Path, seed: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'q.db'}"
    db = await open_database(_settings(url, seed), say=lambda _line: None)
    try:
        async with db.sessions.begin() as session:
            person = (await export_seed(session)).people[0].id
            for i, (start, hours) in enumerate([(T0, 24), (T0 - timedelta(days=400), 2), (T0, 0.5)]):
                await add_override(session, start=start, end=start + timedelta(hours=hours), person=person,
                                   created_at=T0 - timedelta(seconds=i, microseconds=123457 * i),
                                   reason=f"r{i} ünï", created_by=None if i else person)
        usual = await load_snapshot(db, ("extra-admin",))
        async with db.sessions() as session:
            exported = await export_seed(session)
    finally:
        await db.close()
    quick = quick_snapshot(url, ("extra-admin",))
    assert quick is not None
    assert quick.directory == usual.directory
    assert quick.overrides == usual.overrides and len(quick.overrides) == 3
    assert quick.admins == usual.admins
    assert [o.start.tzinfo for o in quick.overrides] == [UTC] * 3
    read = quick_read(url, ALL_FROM, ALL_TO)
    assert read is not None
    # export_seed's models (model_construct) are the file validated; the quick read's records
    # (no pydantic) convert to the same directory.
    assert exported == read_seed_file(seed)
    assert exported.model_dump() == read_seed_file(seed).model_dump()
    assert to_directory(read.seed) == to_directory(exported) == usual.directory
    for r in exported.recurring:
        assert rule_dict(r.opens) == r.opens.model_dump(exclude_none=True)
        assert r.due is None or rule_dict(r.due) == r.due.model_dump(exclude_none=True)


async def test_a_database_that_needs_something_done_is_left_to_the_usual_way(tmp_path: Path) -> None:
    missing = f"sqlite+aiosqlite:///{tmp_path / 'missing.db'}"
    assert quick_snapshot(missing) is None
    assert not (tmp_path / "missing.db").exists()  # not created by the look
    bare = f"sqlite+aiosqlite:///{tmp_path / 'bare.db'}"
    engine = create_engine(bare)
    try:
        await upgrade(engine)  # at head, no seed
        assert quick_snapshot(bare) is None
    finally:
        await engine.dispose()
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    db = await open_database(_settings(url, SEEDS[0]), say=lambda _line: None)
    try:
        assert quick_snapshot(url) is not None
        async with db.engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '0001_initial'"))
    finally:
        await db.close()
    assert quick_snapshot(url) is None
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    assert quick_snapshot(f"sqlite:///{tmp_path / 'junk.db'}") is None


@pytest.mark.parametrize(("url", "path"), [
    ("sqlite+aiosqlite:////tmp/x.db", "/tmp/x.db"),
    ("sqlite:///rel/x.db", "rel/x.db"),
    ("sqlite+aiosqlite://", None),
    ("sqlite+aiosqlite:///:memory:", None),
    ("sqlite+aiosqlite:///~/x.db", None),
    ("sqlite+aiosqlite:////tmp/a%20b.db", None),
    ("sqlite+aiosqlite:////tmp/x.db?timeout=5", None),
    ("sqlite+pysqlite:////tmp/x.db", None),
    ("postgresql+asyncpg://u@h/db", None),
])
def test_only_plain_sqlite_files_are_read_quickly(url: str, path: str | None) -> None:
    assert sqlite_file(url) == path


def test_the_quick_read_knows_every_table_and_column_type() -> None:
    """``seedrows.READ_ORDER`` and ``quickread``'s conversions follow the tables' definitions."""
    expected = []
    for table in SEED_TABLES:
        order = ["position"] if "id" in table.c and "position" in table.c else [c.name for c in table.primary_key]
        expected.append((table.name, tuple(order)))
    assert list(READ_ORDER) == expected
    typed = {(t.name, c.name) for t in SEED_TABLES for c in t.c if isinstance(c.type, Date | DateTime | JSON | Boolean)}
    assert set(CONVERTERS) == typed
    overrides = table_of(OverrideRow)
    assert {(overrides.name, c.name) for c in overrides.c if isinstance(c.type, UTCDateTime)} == UTC_COLUMNS
