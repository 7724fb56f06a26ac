"""Alerts, routing keys and heartbeats: the repository functions the alert service uses.

The tables are in ``bot.storage.tables.alerts``. A trigger is an upsert on the alert's
``open_key`` (unique while the alert is not resolved): concurrent triggers of one key land on
one row, and on PostgreSQL the later ones wait for the first one's transaction, so they see the
incident it opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.alerts import AlertState
from bot.core.incident import Status
from bot.storage.sql import dialect_insert
from bot.storage.tables.alerts import AlertEventRow, AlertRow, HeartbeatRow, IntegrationRow
from bot.storage.tables.base import table_of
from bot.storage.tables.incidents import IncidentRow

ALERTS = table_of(AlertRow)
EVENTS = table_of(AlertEventRow)


@dataclass(frozen=True, slots=True)
class Integration:
    id: int
    pipeline: str
    name: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    integration_id: int | None
    pipeline: str
    dedup_key: str
    incident_id: int | None
    severity: str
    summary: str
    source: str | None
    details: Any
    links: list[Any]
    state: str
    count: int
    first_at: datetime
    last_at: datetime


@dataclass(frozen=True, slots=True)
class Triggered:
    """The alert a trigger landed on; ``new`` when the trigger created it."""

    alert: Alert
    new: bool


def _integration(r: IntegrationRow) -> Integration:
    return Integration(r.id, r.pipeline, r.name, r.created_at, r.revoked_at)


def to_alert(r: AlertRow) -> Alert:
    return Alert(r.id, r.integration_id, r.pipeline, r.dedup_key, r.incident_id, r.severity, r.summary, r.source,
                 r.details, list(r.links or []), r.state, r.count, r.first_at, r.last_at)


def open_key(integration_id: int | None, dedup_key: str) -> str:
    """The key that is unique among alerts not resolved: the routing key's id and the dedup key."""
    return f"{integration_id or 0}:{dedup_key}"


# -- routing keys ----------------------------------------------------------------------------------

async def add_integration(session: AsyncSession, pipeline: str, name: str, key_hash: str, now: datetime) -> int:
    row = IntegrationRow(pipeline=pipeline, name=name, key_hash=key_hash, created_at=now)
    session.add(row)
    await session.flush()
    return row.id


async def integrations(session: AsyncSession) -> list[Integration]:
    rows = await session.execute(select(IntegrationRow).order_by(IntegrationRow.id))
    return [_integration(r) for r in rows.scalars()]


async def revoke_integration(session: AsyncSession, integration_id: int, now: datetime) -> Integration | None:
    """Revoke it (once; a second revoke keeps the first time); None when there is no such key."""
    await session.execute(update(IntegrationRow).where(IntegrationRow.id == integration_id,
                                                       IntegrationRow.revoked_at.is_(None))
                          .values(revoked_at=now).execution_options(synchronize_session=False))
    row = await session.get(IntegrationRow, integration_id, populate_existing=True)
    return None if row is None else _integration(row)


async def integration_by_hash(session: AsyncSession, key_hash: str) -> tuple[Integration, str] | None:
    """The integration whose key hashes to ``key_hash`` and its stored hash (compared again by the
    caller in constant time); revoked ones too (the caller refuses them)."""
    stmt = select(IntegrationRow).where(IntegrationRow.key_hash == key_hash)
    row = (await session.execute(stmt)).scalar_one_or_none()
    return None if row is None else (_integration(row), row.key_hash)


# -- alerts ----------------------------------------------------------------------------------------

async def trigger(session: AsyncSession, integration_id: int | None, pipeline: str, dedup_key: str,
                  severity: str, summary: str, source: str | None, details: Any, links: list[Any],
                  at: datetime) -> Triggered:
    """Add a trigger to the open alert of (``integration_id``, ``dedup_key``), or create it."""
    values = {"integration_id": integration_id, "pipeline": pipeline, "dedup_key": dedup_key,
              "open_key": open_key(integration_id, dedup_key), "severity": severity, "summary": summary,
              "source": source, "details": details, "links": links, "state": AlertState.OPEN.value,
              "count": 1, "first_at": at, "last_at": at}
    ins = dialect_insert(session)(AlertRow).values(**values)
    stmt = ins.on_conflict_do_update(
        index_elements=["open_key"],
        set_={"count": AlertRow.count + 1, "last_at": ins.excluded.last_at, "summary": ins.excluded.summary,
              "details": ins.excluded.details, "links": ins.excluded.links, "source": ins.excluded.source},
    ).returning(AlertRow)
    row = (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one()
    return Triggered(to_alert(row), row.count == 1)


@dataclass(frozen=True, slots=True)
class Head:
    """What a batch of triggers needs back of each alert it landed on."""

    id: int
    pipeline: str
    severity: str
    summary: str
    incident_id: int | None
    count: int


async def trigger_many(session: AsyncSession, rows: list[dict[str, Any]]) -> dict[str, Head]:
    """Add triggers to open alerts in one statement, or create them. ``rows`` are ``AlertRow``
    values, one per distinct ``open_key``, ``count`` the triggers of that key in the batch; the
    latest summary, details, links and source win. An alert was created by this call when its
    ``count`` came back equal to the one sent. By ``open_key``."""
    if not rows:
        return {}
    t = ALERTS.c
    ins = dialect_insert(session)(ALERTS)
    stmt = ins.on_conflict_do_update(
        index_elements=["open_key"],
        set_={"count": t.count + ins.excluded.count, "last_at": ins.excluded.last_at,
              "summary": ins.excluded.summary, "details": ins.excluded.details, "links": ins.excluded.links,
              "source": ins.excluded.source},
    ).returning(t.open_key, t.id, t.pipeline, t.severity, t.summary, t.incident_id, t.count)
    # Core on the session's connection: the hot path skips the ORM's statement handling.
    conn = await session.connection()
    # executemany: compiled once and cached, sent as multi-row statements ("insertmanyvalues")
    return {str(key): Head(*rest) for key, *rest in await conn.execute(stmt, [_complete(r) for r in rows])}


def _complete(row: dict[str, Any]) -> dict[str, Any]:
    """Every column an executemany of alerts names (the ones a trigger never sets, None)."""
    return {"incident_id": None, "acknowledged_at": None, "resolved_at": None, **row}


async def set_incident(session: AsyncSession, alert_ids: list[int], incident_id: int) -> None:
    """The alerts ``alert_ids`` are part of incident ``incident_id``."""
    conn = await session.connection()
    await conn.execute(update(ALERTS).where(ALERTS.c.id.in_(alert_ids)).values(incident_id=incident_id))


async def open_alert(session: AsyncSession, integration_id: int | None, dedup_key: str) -> Alert | None:
    """The alert of that key not resolved, if any."""
    row = (await session.execute(select(AlertRow).where(AlertRow.open_key == open_key(integration_id, dedup_key))
                                 .execution_options(populate_existing=True))).scalar_one_or_none()
    return None if row is None else to_alert(row)


async def set_state(session: AsyncSession, alert: Alert, state: AlertState, at: datetime) -> bool:
    """Move an open alert to ``state`` (compare-and-set on its current state); a resolved alert
    frees its key. False when someone else changed it first."""
    values: dict[str, Any] = {"state": state.value, "last_at": at}
    if state == AlertState.ACKNOWLEDGED:
        values["acknowledged_at"] = at
    if state == AlertState.RESOLVED:
        values.update(resolved_at=at, open_key=None)
    result = await session.execute(update(AlertRow).where(AlertRow.id == alert.id, AlertRow.state == alert.state)
                                   .values(**values).execution_options(synchronize_session=False))
    return int(cast(CursorResult[Any], result).rowcount) == 1


async def add_event(session: AsyncSession, **values: Any) -> None:
    """Store one event received (``AlertEventRow``'s columns)."""
    await session.execute(dialect_insert(session)(AlertEventRow).values(**values))


async def add_events(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Store events received, in one statement."""
    if rows:
        conn = await session.connection()
        await conn.execute(dialect_insert(session)(EVENTS), rows)


async def alerts_of(session: AsyncSession, incident_id: int) -> list[Alert]:
    rows = await session.execute(select(AlertRow).where(AlertRow.incident_id == incident_id).order_by(AlertRow.id)
                                 .execution_options(populate_existing=True))
    return [to_alert(r) for r in rows.scalars()]


async def get_alert(session: AsyncSession, alert_id: int) -> Alert | None:
    row = await session.get(AlertRow, alert_id, populate_existing=True)
    return None if row is None else to_alert(row)


async def alert_counts(session: AsyncSession, incident_ids: list[int]) -> dict[int, tuple[int, list[str]]]:
    """For each incident: how many alerts and their dedup keys."""
    if not incident_ids:
        return {}
    rows = await session.execute(select(AlertRow.incident_id, AlertRow.dedup_key)
                                 .where(AlertRow.incident_id.in_(incident_ids)).order_by(AlertRow.id))
    out: dict[int, tuple[int, list[str]]] = {}
    for incident_id, key in rows:
        if incident_id is None:
            continue
        n, keys = out.get(incident_id, (0, []))
        out[incident_id] = (n + 1, [*keys, key])
    return out


async def event_count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(AlertEventRow))).scalar_one())


async def lock_pipeline(session: AsyncSession, pipeline: str) -> None:
    """Serialize the choice of an incident for new alerts of ``pipeline`` until the transaction
    ends (PostgreSQL: an advisory transaction lock; SQLite: transactions are serialized already)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"alerts:{pipeline}"})


async def open_incidents_of(session: AsyncSession, pipeline: str) -> list[tuple[int, bool, str | None]]:
    """The pipeline's incidents not resolved, newest first: (id, critical, severity)."""
    rows = await session.execute(select(IncidentRow.id, IncidentRow.critical, IncidentRow.severity)
                                 .where(IncidentRow.pipeline == pipeline,
                                        IncidentRow.status != Status.RESOLVED.value)
                                 .order_by(IncidentRow.opened_at.desc(), IncidentRow.id.desc()))
    return [(int(i), bool(c), s) for i, c, s in rows]


async def incidents(session: AsyncSession, only_open: bool) -> list[IncidentRow]:
    stmt = select(IncidentRow).order_by(IncidentRow.opened_at.desc(), IncidentRow.id.desc())
    if only_open:
        stmt = stmt.where(IncidentRow.status != Status.RESOLVED.value)
    return list((await session.execute(stmt)).scalars())


# -- heartbeats ------------------------------------------------------------------------------------

async def record_arrival(session: AsyncSession, pipeline: str, at: datetime) -> None:
    """A data arrival of ``pipeline`` at ``at`` (the latest arrival wins)."""
    ins = dialect_insert(session)(HeartbeatRow).values(pipeline=pipeline, first_seen_at=at, last_arrival_at=at,
                                                       arrivals=1)
    await session.execute(ins.on_conflict_do_update(
        index_elements=["pipeline"],
        set_={"arrivals": HeartbeatRow.arrivals + 1,
              "last_arrival_at": func.coalesce(
                  func.max(HeartbeatRow.last_arrival_at, ins.excluded.last_arrival_at)
                  if session.get_bind().dialect.name == "sqlite"
                  else func.greatest(HeartbeatRow.last_arrival_at, ins.excluded.last_arrival_at),
                  ins.excluded.last_arrival_at)},
    ))


async def seen(session: AsyncSession, pipeline: str, at: datetime) -> None:
    """Start the freshness clock of a pipeline that never reported (no-op when it has a row)."""
    ins = dialect_insert(session)(HeartbeatRow).values(pipeline=pipeline, first_seen_at=at, arrivals=0)
    await session.execute(ins.on_conflict_do_nothing(index_elements=["pipeline"]))


async def heartbeats(session: AsyncSession) -> dict[str, tuple[datetime, datetime | None]]:
    """Each pipeline's (first seen, last arrival)."""
    rows = await session.execute(select(HeartbeatRow.pipeline, HeartbeatRow.first_seen_at,
                                        HeartbeatRow.last_arrival_at).execution_options(populate_existing=True))
    return {p: (f, last) for p, f, last in rows}


async def open_heartbeat_incidents(session: AsyncSession, pipeline: str) -> list[int]:
    rows = await session.execute(select(IncidentRow.id).where(
        IncidentRow.pipeline == pipeline, IncidentRow.source == "heartbeat",
        IncidentRow.status != Status.RESOLVED.value))
    return [int(i) for i in rows.scalars()]
