"""``alert_inbox.accept`` on both dialects (on PostgreSQL it skips SQLAlchemy: one unnest INSERT on
a plain driver connection): rows come back as SQLAlchemy wrote them, ids in the rows' order, a
value too long for its column refused (never cut short), a naive instant refused, and a pooled
connection that died is replaced once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.storage import alert_inbox as inbox
from bot.storage.bootstrap import Database
from bot.storage.tables import AlertEventRow

AT = datetime(2026, 11, 30, 10, 35, tzinfo=UTC)


def row(dedup: str, **changes: Any) -> dict[str, Any]:
    values = {"integration_id": 7, "pipeline": "engagement", "action": "trigger", "dedup_key": dedup,
              "severity": "error", "summary": "Load failed", "source": "airflow", "details": {"n": [1, "ü"]},
              "links": [{"href": "https://x.test", "text": "log"}], "now": AT}
    values.update(changes)
    now = values.pop("now")
    return inbox.event_row(values.pop("integration_id"), values.pop("pipeline"), values.pop("action"),
                           values.pop("dedup_key"), values.pop("severity"), values.pop("summary"),
                           values.pop("source"), values.pop("details"), values.pop("links"), now)


async def stored(db: Database) -> list[tuple[Any, ...]]:
    async with db.sessions() as session:
        found = await session.execute(select(
            AlertEventRow.id, AlertEventRow.integration_id, AlertEventRow.dedup_key, AlertEventRow.severity,
            AlertEventRow.details, AlertEventRow.links, AlertEventRow.outcome, AlertEventRow.at,
        ).order_by(AlertEventRow.id))
        return [tuple(r) for r in found]


async def test_accepted_rows_read_back_as_written_with_ids_in_order(db: Database) -> None:
    one = await inbox.accept(db, [row("a")])
    many = await inbox.accept(db, [row(f"m{i}", at=None, now=AT + timedelta(seconds=i), details=None if i % 2 else i,
                                       links=None, integration_id=None if i == 3 else i) for i in range(5)])
    assert len(one) == 1 and len(many) == 5 and many == sorted(many) and one[0] < many[0]
    got = await stored(db)
    assert [r[0] for r in got] == one + many
    assert got[0][1:] == (7, "a", "error", {"n": [1, "ü"]}, [{"href": "https://x.test", "text": "log"}], "queued", AT)
    assert [r[2] for r in got[1:]] == [f"m{i}" for i in range(5)]  # each id is its own row's
    assert [r[4] for r in got[1:]] == [0, None, 2, None, 4]
    assert [r[1] for r in got[1:]] == [0, 1, 2, None, 4]
    assert [r[7] for r in got[1:]] == [AT + timedelta(seconds=i) for i in range(5)]
    async with db.sessions() as session:
        assert (await inbox.counts(session)).queued == 6


async def test_a_value_too_long_for_its_column_is_refused_not_cut(db: Database) -> None:
    if db.dialect == "sqlite":  # SQLite keeps any length: stored whole
        await inbox.accept(db, [row("x" * 256)])
        assert [r[2] for r in await stored(db)] == ["x" * 256]
        return
    with pytest.raises(Exception, match=r"(?i)too long"):
        await inbox.accept(db, [row("x" * 256)])  # dedup_key is varchar(255)
    assert await stored(db) == []


async def test_a_naive_instant_is_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        await inbox.accept(db, [row("a", now=AT.replace(tzinfo=None))])
    assert await stored(db) == []


async def test_a_pooled_connection_that_died_is_replaced_once(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite has no server connection to lose")
    await inbox.accept(db, [row("before")])
    async with db.driver().connection() as conn:  # the server ends the kept connection
        pid = conn.get_server_pid()
    async with db.engine.connect() as other:
        await other.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
    assert len(await inbox.accept(db, [row("after")])) == 1
    assert [r[2] for r in await stored(db)] == ["before", "after"]
