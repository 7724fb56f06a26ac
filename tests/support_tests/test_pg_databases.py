"""The PostgreSQL test databases (tests/support/pg_databases.py): after a reset, a kept database
holds exactly what it held when new (or just after seeding): rows, sequences, schema; what a reset
cannot undo gets the database made again; sessions a test left behind do not block a reset."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from bot.config import Settings
from bot.storage.bootstrap import load_seed_file_into, open_database
from tests.support.pg_databases import FINGERPRINT_SQL, TestDatabases, postgres_server

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "data" / "seed.yaml"
OTHER_SEED = ROOT / "data" / "examples" / "brauhaus-de.yaml"


@pytest.fixture
async def dbs() -> AsyncIterator[TestDatabases]:
    server, why = postgres_server()
    if server is None:
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    kept = TestDatabases(server, tag="selftest")
    try:
        yield kept
    finally:
        await kept.drop_all()


async def prepare(url: str) -> None:
    db = await open_database(Settings(_env_file=None, database_url=url, seed_path=SEED),  # type: ignore[call-arg]
                             say=lambda _l: None)
    await db.close()


async def connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))


async def state(url: str) -> dict[str, object]:
    """Every table's rows (sorted), every sequence's position, the schema's fingerprint."""
    conn = await connect(url)
    try:
        out: dict[str, object] = {"fingerprint": await conn.fetchval(FINGERPRINT_SQL)}
        for (table,) in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"):
            rows = await conn.fetch(f'SELECT t::text AS r FROM public."{table}" AS t ORDER BY 1')
            out[f"table {table}"] = [r["r"] for r in rows]
        for (seq,) in await conn.fetch("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"):
            out[f"sequence {seq}"] = tuple(await conn.fetchrow(f'SELECT last_value, is_called FROM public."{seq}"'))
        return out
    finally:
        await conn.close()


async def test_a_reset_seeded_database_holds_what_it_held_after_seeding(dbs: TestDatabases) -> None:
    url = await dbs.seeded(prepare)
    seeded = await state(url)
    assert len([k for k, v in seeded.items() if k.startswith("table ") and v]) > 10

    # A test's worth of changes: another company's seed, every sequence moved on, and a session
    # left open in a transaction that holds locks (a reset must not wait for it forever).
    db = await open_database(Settings(_env_file=None, database_url=url, seed_path=SEED),  # type: ignore[call-arg]
                             say=lambda _l: None)
    try:
        await load_seed_file_into(db, OTHER_SEED)
    finally:
        await db.close()
    lingering = await connect(url)
    await lingering.execute("SELECT nextval(c.oid) FROM pg_class c WHERE c.relkind = 'S'")
    await lingering.execute("BEGIN; LOCK TABLE people IN ACCESS SHARE MODE; SELECT pg_advisory_lock(42)")
    assert await state(url) != seeded

    assert await dbs.seeded(prepare) == url
    assert dbs.remade == 0
    assert await state(url) == seeded
    with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
        await lingering.fetchval("SELECT 1")  # its session was ended
    lingering.terminate()


async def test_a_changed_schema_gets_the_seeded_database_made_again(dbs: TestDatabases) -> None:
    url = await dbs.seeded(prepare)
    seeded = await state(url)
    conn = await connect(url)
    try:
        await conn.execute("ALTER TABLE people ADD COLUMN nickname text")
    finally:
        await conn.close()
    assert await dbs.seeded(prepare) == url
    assert dbs.remade == 1
    assert await state(url) == seeded


async def test_a_reset_empty_database_is_a_new_database(dbs: TestDatabases) -> None:
    url = await dbs.empty()
    new = await state(url)
    assert [k for k in new if k != "fingerprint"] == []
    conn = await connect(url)
    try:
        await prepare(url)  # migrated and seeded: tables, sequences, rows
        await conn.execute("CREATE SCHEMA other; CREATE TABLE other.t (x int); CREATE TEMP TABLE scratch (y int)")
    finally:
        await conn.close()
    assert await state(url) != new

    assert await dbs.empty() == url
    assert dbs.remade == 0
    assert await state(url) == new

    # What dropping schemas does not undo (a database setting): made again.
    conn = await connect(url)
    try:
        await conn.execute(f'ALTER DATABASE "{url.rsplit("/", 1)[1]}" SET work_mem = \'8MB\'')
    finally:
        await conn.close()
    assert await dbs.empty() == url
    assert dbs.remade == 1
    assert await state(url) == new
