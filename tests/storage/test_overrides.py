"""Overrides and the UTCDateTime column type, on both dialects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import StatementError

from bot.core.model import Override
from bot.storage.bootstrap import Database
from bot.storage.overrides import add_override, delete_override, get_override, overrides_between
from bot.storage.tables import OverrideRow
from bot.storage.types import UTCDateTime

NY = ZoneInfo("America/New_York")
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=NY)  # 14:00 UTC


async def test_an_override_comes_back_as_it_went_in(db: Database) -> None:
    async with db.sessions.begin() as session:
        added = await add_override(
            session, start=T0, end=T0 + timedelta(days=1), person="fin2", rotation="finance",
            created_at=datetime(2026, 11, 29, 12, 0, 0, 123456, tzinfo=UTC), reason="swap", created_by="de1",
        )
    assert added.id > 0
    assert added.start == T0 and added.start.tzinfo is UTC
    async with db.sessions() as session:
        (read,) = await overrides_between(session, T0, T0 + timedelta(hours=1))
        assert await get_override(session, added.id) == read
    assert read == added == Override(
        id=added.id, start=datetime(2026, 11, 30, 14, 0, tzinfo=UTC), end=datetime(2026, 12, 1, 14, 0, tzinfo=UTC),
        person="fin2", created_at=datetime(2026, 11, 29, 12, 0, 0, 123456, tzinfo=UTC), rotation="finance",
        reason="swap", created_by="de1",
    )
    for instant in (read.start, read.end, read.created_at):
        assert instant.tzinfo is UTC


async def test_overrides_between_is_overlap_with_half_open_ranges(db: Database) -> None:
    hour = timedelta(hours=1)
    async with db.sessions.begin() as session:
        a = await add_override(session, start=T0, end=T0 + 2 * hour, person="fe1", created_at=T0)
        b = await add_override(session, start=T0 + hour, end=T0 + 3 * hour, person="fe2", created_at=T0 - hour)
        c = await add_override(session, start=T0 + hour, end=T0 + 3 * hour, person="fe3", created_at=T0 - hour)
    async with db.sessions() as session:
        assert await overrides_between(session, T0 - hour, T0) == []  # ends where a starts
        assert await overrides_between(session, T0 + 3 * hour, T0 + 4 * hour) == []  # starts where b ends
        assert await overrides_between(session, T0, T0 + hour) == [a]
        assert await overrides_between(session, T0 + hour, T0 + hour + timedelta(minutes=1)) == [b, c, a]


async def test_delete_override(db: Database) -> None:
    async with db.sessions.begin() as session:
        added = await add_override(session, start=T0, end=T0 + timedelta(hours=1), person="ba1", created_at=T0)
    async with db.sessions.begin() as session:
        assert await delete_override(session, added.id)
        assert not await delete_override(session, added.id)
        assert await get_override(session, added.id) is None


async def test_overrides_refuse_naive_and_empty_ranges(db: Database) -> None:
    naive = datetime(2026, 11, 30, 9, 0)
    async with db.sessions() as session:
        with pytest.raises(ValueError, match="aware"):
            await add_override(session, start=naive, end=T0, person="x", created_at=T0)
        with pytest.raises(ValueError, match="before it starts"):
            await add_override(session, start=T0, end=T0, person="x", created_at=T0)
        with pytest.raises(ValueError, match="aware"):
            await overrides_between(session, naive, T0)


async def test_utc_datetime_round_trip_and_naive_values(db: Database) -> None:
    moments = [
        datetime(2026, 3, 8, 1, 59, 59, 999999, tzinfo=NY),  # just before the spring-forward gap
        datetime(2026, 11, 1, 1, 30, tzinfo=NY, fold=1),  # the second 01:30 (EST)
        datetime(1999, 12, 31, 23, 59, tzinfo=ZoneInfo("Asia/Kolkata")),
    ]
    table = OverrideRow.__table__
    async with db.sessions.begin() as session:
        for i, moment in enumerate(moments):
            await session.execute(insert(table).values(
                id=1000 + i, start=moment, end=moment + timedelta(hours=1), person="p", reason="",
                created_at=moment,
            ))
        with pytest.raises(StatementError) as caught:
            await session.execute(insert(table).values(
                id=2000, start=datetime(2026, 1, 1), end=T0, person="p", reason="", created_at=T0,
            ))
        assert isinstance(caught.value.orig, ValueError)
    async with db.sessions() as session:
        read = (await session.scalars(select(OverrideRow.start).order_by(OverrideRow.id))).all()
    # (compared in UTC: an ambiguous local time never equals an instant of another zone)
    assert read == [m.astimezone(UTC) for m in moments]
    assert read[1] == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert all(r.tzinfo is UTC for r in read)


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "postgresql"])
def test_utc_datetime_binds_utc(dialect: object) -> None:
    column = UTCDateTime()
    value = datetime(2026, 7, 1, 9, 0, tzinfo=NY)
    bound = column.process_bind_param(value, dialect)  # type: ignore[arg-type]
    utc = datetime(2026, 7, 1, 13, 0, tzinfo=UTC)
    assert bound == (utc.replace(tzinfo=None) if isinstance(dialect, sqlite.dialect) else utc)
    with pytest.raises(ValueError, match="naive"):
        column.process_bind_param(datetime(2026, 7, 1, 9, 0), dialect)  # type: ignore[arg-type]
    assert column.process_result_value(datetime(2026, 7, 1, 13, 0), dialect) == value  # type: ignore[arg-type]
