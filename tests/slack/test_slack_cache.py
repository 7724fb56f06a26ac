"""The snapshot cache (on both dialects) and the memos of the answer path."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, MarkdownTextObject, SectionBlock

from bot.render.blocks import Message
from bot.services.cache import SnapshotCache, bump_data_version, get_data_version
from bot.slack.memo import BlockJson, SecondMemo
from bot.storage.bootstrap import Database
from bot.storage.overrides import add_override, delete_override

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


class Ticks:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def override(db: Database) -> int:
    async with db.sessions.begin() as session:
        o = await add_override(session, start=NOW, end=NOW + timedelta(hours=1), person="de1",
                               rotation="data-eng", role="R2", created_at=NOW, reason="test")
    assert o.id is not None
    return o.id


async def test_loads_once_and_reloads_when_overrides_change(db: Database) -> None:
    cache = SnapshotCache(db)
    try:
        first = await cache.get()
        assert await cache.get() is first
        assert (cache.loads, cache.checks) == (1, 3)  # the load re-reads the fingerprint once
        oid = await override(db)
        added = await cache.get()
        assert added is not first and [o.person for o in added.overrides] == ["de1"]
        async with db.sessions.begin() as session:
            assert await delete_override(session, oid)
        removed = await cache.get()
        assert removed is not added and removed.overrides == ()
        assert cache.loads == 3
    finally:
        await cache.close()


async def test_bumping_the_data_version_reloads(db: Database) -> None:
    cache = SnapshotCache(db)
    try:
        first = await cache.get()
        async with db.sessions.begin() as session:
            assert await get_data_version(session) == 0
            assert await bump_data_version(session) == 1
            assert await bump_data_version(session) == 2
        assert await cache.get() is not first
    finally:
        await cache.close()


async def test_max_staleness_and_invalidate(db: Database) -> None:
    ticks = Ticks()
    cache = SnapshotCache(db, max_staleness=1.0, monotonic=ticks)
    try:
        first = await cache.get()
        checks = cache.checks
        await override(db)
        ticks.now += 0.5
        assert await cache.get() is first and cache.checks == checks  # within the second: no query
        ticks.now += 0.6
        assert await cache.get() is not first  # older than a second: checked, reloaded
        second = await cache.get()
        await override(db)
        cache.invalidate()
        assert await cache.get() is not second  # an in-process writer does not wait
    finally:
        await cache.close()


async def test_concurrent_callers_share_one_query(db: Database) -> None:
    cache = SnapshotCache(db)
    try:
        await cache.get()
        checks = cache.checks
        snapshots = await asyncio.gather(*(cache.get() for _ in range(50)))
        assert len({id(s) for s in snapshots}) == 1
        assert cache.checks - checks < 5
    finally:
        await cache.close()


async def test_a_closed_probe_connection_is_opened_again(db: Database) -> None:
    cache = SnapshotCache(db)
    try:
        first = await cache.get()
        await cache.close()
        assert await cache.get() is first
    finally:
        await cache.close()


def test_block_json_is_to_dict_validated_once_per_content() -> None:
    memo = BlockJson()

    def message(label: str) -> Message:
        return Message("t", (
            SectionBlock(text=MarkdownTextObject(text=f"*{label}*")),
            ActionsBlock(elements=[ButtonElement(text="Go", action_id=f"go:{label}", value=label)]),
        ))

    a = memo.blocks(message("a"))
    assert a == message("a").blocks_json()
    again = memo.blocks(message("a"))
    assert again == a and again[0] is a[0]
    assert (memo.hits, memo.misses) == (2, 2)
    b = memo.blocks(message("b"))
    assert b == message("b").blocks_json() and b != a


def test_second_memo_keeps_values_for_one_snapshot_and_second() -> None:
    memo: SecondMemo[str] = SecondMemo()
    snap_a, snap_b = object(), object()
    memo.put(snap_a, NOW, "k", "v")
    assert memo.get(snap_a, NOW, "k") == "v"
    assert memo.get(snap_a, NOW + timedelta(seconds=1), "k") is None  # the next second
    memo.put(snap_a, NOW, "k", "v")
    assert memo.get(snap_b, NOW, "k") is None  # new data
