"""The alert intake's inbox: ``alert_events`` rows with outcome ``queued``.

- ``accept``: store events as queued, one INSERT in a transaction of its own (PostgreSQL: on a
  plain asyncpg connection of ``Database.driver()``, the statement is the transaction, one
  round trip, prepared once per connection; SQLite: ``BEGIN IMMEDIATE``, the insert, ``COMMIT``).
  Committed as every transaction is (no durability trade-off): once it returns, the events
  survive the process;
- ``turn``: appliers of every process take turns (PostgreSQL: a session advisory lock on a
  constant, held for a whole step; SQLite: ``BEGIN IMMEDIATE`` already makes each transaction the
  only writer), so each queued event is applied once, in id order;
- ``queued``: the oldest queued events (the partial index ``ix_alert_events_queued``);
- ``set_outcomes``: what each applied event did, in the applier's transaction;
- ``outcomes``: an event's outcome, alert and that alert's incident (for the answers that wait);
- ``counts``: how many events wait (``queued``) and how many ``failed``, each count read
  from its partial index (``ix_alert_events_queued``, ``ix_alert_events_failed``).
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, func, insert, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.bootstrap import Database
from bot.storage.db import is_dead_connection
from bot.storage.tables.alerts import FAILED, QUEUED, AlertEventRow, AlertRow
from bot.storage.tables.base import table_of
from bot.storage.types import UTCDateTime

EVENTS = table_of(AlertEventRow)
ALERTS = table_of(AlertRow)
INBOX_LOCK = 0x616C_6572_7473  # "alerts": one constant, the appliers' turn (pg_advisory_lock)

_ACCEPT = insert(EVENTS).returning(EVENTS.c.id, sort_by_parameter_order=True)
# PostgreSQL: the rows as one array a column, unnested in order (one prepared statement whatever
# the number of rows); JSON values go as text, as SQLAlchemy's JSON type writes them (None: 'null')
_PG_COLUMNS = ("integration_id", "pipeline", "action", "dedup_key", "severity", "summary", "source", "details",
               "links", "outcome", "at")
_AT = UTCDateTime()


@functools.lru_cache(maxsize=4)
def _accept_pg(dialect: Dialect) -> str:
    """The INSERT of ``accept`` on PostgreSQL, its columns' types as ``dialect`` names them."""

    def array_of(column_type: Any) -> str:
        # text for every string type: a cast to varchar(n) would cut a longer value short,
        # where the column's own type refuses it
        return "TEXT[]" if isinstance(column_type, String) else f"{column_type.compile(dialect=dialect)}[]"

    return (f"INSERT INTO {EVENTS.name} ({', '.join(_PG_COLUMNS)}) SELECT {', '.join(_PG_COLUMNS)} FROM unnest("
            + ", ".join(f"${n}::{array_of(EVENTS.c[c].type)}" for n, c in enumerate(_PG_COLUMNS, 1))
            + f") WITH ORDINALITY AS e({', '.join(_PG_COLUMNS)}, n) ORDER BY n RETURNING id")


_QUEUED_COLUMNS = (EVENTS.c.id, EVENTS.c.integration_id, EVENTS.c.pipeline, EVENTS.c.action, EVENTS.c.dedup_key,
                   EVENTS.c.severity, EVENTS.c.summary, EVENTS.c.source, EVENTS.c.details, EVENTS.c.links,
                   EVENTS.c.at)
_SET_OUTCOME = (update(EVENTS).where(EVENTS.c.id == bindparam("b_id"))
                .values(outcome=bindparam("b_outcome"), alert_id=bindparam("b_alert")))


@dataclass(frozen=True, slots=True)
class Queued:
    """An event accepted and not applied yet."""

    id: int
    integration_id: int | None
    pipeline: str
    action: str
    dedup_key: str
    severity: str | None
    summary: str | None
    source: str | None
    details: Any
    links: list[Any] | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Counts:
    """The inbox at one instant: events accepted and not applied yet (``queued``), and events
    that could not be applied at all (``failed``: kept as they are, each named in the log)."""

    queued: int
    failed: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an event did (``queued`` while it waits), its alert and the alert's incident."""

    outcome: str
    alert_id: int | None
    incident_id: int | None


def event_row(integration_id: int | None, pipeline: str, action: str, dedup_key: str, severity: str | None,
              summary: str | None, source: str | None, details: Any, links: list[Any] | None,
              at: datetime) -> dict[str, Any]:
    """The values of one event to ``accept``."""
    return {"alert_id": None, "integration_id": integration_id, "pipeline": pipeline, "action": action,
            "dedup_key": dedup_key, "severity": severity, "summary": summary, "source": source,
            "details": details, "links": links, "outcome": QUEUED, "at": at}


async def accept(db: Database, rows: list[dict[str, Any]]) -> list[int]:
    """Store ``rows`` (``event_row``) as queued, committed before this returns; their ids, in order."""
    if db.dialect != "postgresql":
        async with db.engine.begin() as conn:
            return [int(i) for i in (await conn.execute(_ACCEPT, rows if len(rows) > 1 else rows[0])).scalars()]
    # the hot path of the intake: straight on the driver, one statement for any number of rows
    args = [[row[c] for row in rows] for c in _PG_COLUMNS]
    args[_PG_COLUMNS.index("details")] = [json.dumps(row["details"]) for row in rows]
    args[_PG_COLUMNS.index("links")] = [json.dumps(row["links"]) for row in rows]
    dialect = db.engine.dialect
    args[_PG_COLUMNS.index("at")] = [_AT.process_bind_param(row["at"], dialect) for row in rows]  # aware, UTC
    for attempt in (1, 2):
        try:
            async with db.driver().connection() as conn:  # closed, not kept, if the statement fails
                found = await conn.fetch(_accept_pg(dialect), *args)
        except Exception as exc:  # a kept connection dead since the server ended it: once more, on a new one
            if attempt == 2 or not is_dead_connection(exc):
                raise
            continue
        # ids are drawn from the sequence in the order the rows are inserted (their order here)
        return sorted(int(r[0]) for r in found)
    raise AssertionError("unreachable")


@contextlib.asynccontextmanager
async def turn(db: Database) -> AsyncIterator[None]:
    """The appliers' turn: one applier at a time across processes, held for a whole step (its
    transaction and what follows the commit: an incident following its alerts), so that no other
    applier applies a later event in between. PostgreSQL: a session advisory lock on a driver
    connection (``Database.driver()``), unlocked at the end (a connection whose unlock did not
    happen is closed, which releases it: it is never kept holding the turn). SQLite: each applier
    transaction is the only writer already (``BEGIN IMMEDIATE``); what follows its commit is not
    covered (one SQLite bot process at a time is the supported deployment)."""
    if db.dialect != "postgresql":
        yield
        return
    async with db.driver().connection() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", INBOX_LOCK)
        unlocked = False
        try:
            yield
            unlocked = bool(await conn.fetchval("SELECT pg_advisory_unlock($1)", INBOX_LOCK))
        finally:
            if not unlocked:  # closing the connection ends its session, and the lock with it
                conn.terminate()


async def queued(session: AsyncSession, limit: int) -> list[Queued]:
    """The oldest ``limit`` queued events, in id (arrival) order."""
    conn = await session.connection()
    rows = await conn.execute(select(*_QUEUED_COLUMNS).where(EVENTS.c.outcome == QUEUED)
                              .order_by(EVENTS.c.id).limit(limit))
    return [Queued(*r) for r in rows]


async def set_outcomes(session: AsyncSession, done: list[tuple[int, str, int | None]]) -> None:
    """Record what the events did: ``(event id, outcome, alert id)``."""
    if done:
        conn = await session.connection()
        await conn.execute(_SET_OUTCOME, [{"b_id": i, "b_outcome": o, "b_alert": a} for i, o, a in done])


async def outcomes(session: AsyncSession, ids: list[int]) -> dict[int, Outcome]:
    """The outcome of each of the events ``ids`` (absent: no such event)."""
    if not ids:
        return {}
    rows = await session.execute(select(EVENTS.c.id, EVENTS.c.outcome, EVENTS.c.alert_id, ALERTS.c.incident_id)
                                 .outerjoin(ALERTS, ALERTS.c.id == EVENTS.c.alert_id).where(EVENTS.c.id.in_(ids)))
    return {int(i): Outcome(o, a, inc) for i, o, a, inc in rows}


async def oldest_queued_at(session: AsyncSession) -> datetime | None:
    """When the oldest event still queued was accepted (None: none is)."""
    found = await session.execute(select(EVENTS.c.at).where(EVENTS.c.outcome == QUEUED)
                                  .order_by(EVENTS.c.id).limit(1))
    return found.scalar_one_or_none()


def _count_of(outcome: str) -> Any:
    return select(func.count()).select_from(EVENTS).where(EVENTS.c.outcome == outcome).scalar_subquery()


async def counts(session: AsyncSession) -> Counts:
    """How many events are queued and how many failed, in one statement (one snapshot of both)."""
    queued_n, failed_n = (await session.execute(select(_count_of(QUEUED), _count_of(FAILED)))).one()
    return Counts(int(queued_n), int(failed_n))
