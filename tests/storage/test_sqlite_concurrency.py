"""SQLite with several writers: read-then-write transactions wait for each other instead of failing."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from sqlalchemy import select

from bot.storage.db import create_engine, session_factory
from bot.storage.meta import get_meta, set_meta
from bot.storage.migrate import upgrade
from bot.storage.seedstore import apply_seed, load_directory
from bot.storage.tables import MetaRow

from .helpers import SEED_TEXT, seed_of


async def test_concurrent_read_then_write_transactions_all_succeed(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'busy.db'}")
    sessions = session_factory(engine)
    await upgrade(engine)
    async with sessions.begin() as session:
        await set_meta(session, "counter", "0")

    async def bump() -> None:
        async with sessions.begin() as session:
            value = int(await get_meta(session, "counter") or "0")  # read ...
            await asyncio.sleep(0)  # ... let the others run ...
            await set_meta(session, "counter", str(value + 1))  # ... then write

    try:
        await asyncio.gather(*(bump() for _ in range(10)))
        async with sessions() as session:
            assert await session.scalar(select(MetaRow.value).where(MetaRow.key == "counter")) == "10"
    finally:
        await engine.dispose()


async def test_concurrent_seed_loads_and_readers(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'busy.db'}")
    sessions = session_factory(engine)
    await upgrade(engine)
    seed = seed_of(SEED_TEXT)

    async def load() -> bool:
        async with sessions.begin() as session:
            return (await apply_seed(session, seed)).unchanged

    async def read() -> None:
        async with sessions() as session:
            with contextlib.suppress(LookupError):  # not loaded yet
                await load_directory(session)

    try:
        results = await asyncio.gather(*(load() for _ in range(5)), *(read() for _ in range(5)))
        assert results[:5].count(False) == 1  # one load wrote it, the others found it there
    finally:
        await engine.dispose()
