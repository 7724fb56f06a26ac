"""While the database is down: lookups answer from the last snapshot; failures say "try again"."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import OperationalError

from bot.services.cache import SnapshotCache
from bot.slack.errors import failure_message
from bot.storage.bootstrap import Database


def _down() -> OperationalError:
    return OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))


async def test_lookups_keep_answering_from_the_last_snapshot(
    db: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    cache = SnapshotCache(db)
    try:
        before = await cache.get()

        async def fail() -> tuple[object, ...]:
            raise _down()

        monkeypatch.setattr(cache._probe, "query", fail)
        with caplog.at_level(logging.WARNING):
            assert await cache.get() is before
            assert await cache.get() is before
        warnings = [r for r in caplog.records if "answering from the last snapshot" in r.getMessage()]
        assert len(warnings) == 1  # said once, not per request
    finally:
        await cache.close()


async def test_with_nothing_cached_the_outage_is_raised(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = SnapshotCache(db)

    async def fail() -> tuple[object, ...]:
        raise _down()

    monkeypatch.setattr(cache._probe, "query", fail)
    with pytest.raises(OperationalError):
        await cache.get()


def test_an_outage_is_try_again_without_a_traceback(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        message = failure_message(_down(), {"command": "/oncall"})
    assert "can't reach my database" in message.text and "Try again in a minute" in message.text
    [record] = [r for r in caplog.records if r.name == "bot.slack"]
    assert record.levelno == logging.WARNING and record.exc_info is None


def test_a_bug_is_logged_with_its_traceback_and_a_reference(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        message = failure_message(KeyError("boom"), {"command": "/oncall"})
    assert "Something went wrong" in message.text
    [record] = [r for r in caplog.records if r.name == "bot.slack"]
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert getattr(record, "reference", "") in message.text
