"""Incidents and their events: the repository functions the incident service uses.

The tables (``incidents``, ``incident_events``) are in ``bot.storage.tables.incidents``. Every
change is a compare-and-set: ``apply_change`` updates the incident row only if it is still
in the state the change was computed from (the level for an escalation, the status for
acknowledge and resolve), so concurrent presses of one button, retried deliveries and several
bot replicas produce one change; the caller's transaction then records the event.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, and_, case, func, literal, null, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.core.incident import Change, EventKind, Incident, IncidentEvent, Page, PageKind, Status
from bot.core.model import SlotRef
from bot.storage.sql import dialect_insert
from bot.storage.tables.incidents import IncidentEventRow, IncidentRow
from bot.storage.types import UTCDateTime


def slot_text(slot: SlotRef | None) -> str | None:
    return None if slot is None else str(slot)


def parse_slot(text: str | None) -> SlotRef | None:
    """The ``SlotRef`` that ``str(slot)`` wrote: ``rotation[:role][+offset]``."""
    if not text:
        return None
    base, plus, offset = text.partition("+")
    rotation, _, role = base.partition(":")
    return SlotRef(rotation, role or None, int(offset) if plus else 0)


def _page_columns(page: Page) -> dict[str, Any]:
    return {
        "page_kind": page.kind.value,
        "page_label": page.label,
        "page_person": page.person,
        "page_slot": slot_text(page.slot),
        "page_channels": list(page.channels),
        "page_due": page.due,
    }


def _incident_columns(inc: Incident) -> dict[str, Any]:
    return {
        "pipeline": inc.pipeline,
        "summary": inc.summary,
        "critical": inc.critical,
        "status": inc.status.value,
        "reporter": inc.reporter,
        "opened_at": inc.opened_at,
        "level": inc.level,
        "chain_length": inc.chain_length,
        **_page_columns(inc.page),
        "reached": list(inc.reached),
        "last_escalated_at": inc.last_escalated_at,
        "next_auto_at": inc.next_auto_at,
        "acknowledged_at": inc.acknowledged_at,
        "acknowledged_by": inc.acknowledged_by,
        "resolved_at": inc.resolved_at,
        "resolved_by": inc.resolved_by,
        "channel": inc.channel,
        "ts": inc.ts,
        "permalink": inc.permalink,
        "fix_by": inc.fix_by,
        "fix_remind_at": inc.fix_remind_at,
        "source": inc.source,
        "severity": inc.severity,
    }


def _page(level: int, kind: str, label: str | None, person: str | None, slot: str | None,
          channels: Sequence[str] | None, due: datetime | None) -> Page:
    return Page(level, PageKind(kind), label or "", person, parse_slot(slot), tuple(channels or ()), due)


def to_incident(row: IncidentRow) -> Incident:
    return Incident(
        id=row.id,
        pipeline=row.pipeline,
        summary=row.summary,
        critical=row.critical,
        reporter=row.reporter,
        opened_at=row.opened_at,
        status=Status(row.status),
        level=row.level,
        chain_length=row.chain_length,
        page=_page(row.level, row.page_kind, row.page_label, row.page_person, row.page_slot,
                   row.page_channels, row.page_due),
        reached=tuple(row.reached),
        last_escalated_at=row.last_escalated_at,
        next_auto_at=row.next_auto_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        channel=row.channel,
        ts=row.ts,
        permalink=row.permalink,
        fix_by=row.fix_by,
        fix_remind_at=row.fix_remind_at,
        sla_escalated_at=row.sla_escalated_at,
        source=row.source or "slack",
        severity=row.severity,
    )


def to_event(row: IncidentEventRow) -> IncidentEvent:
    page = None
    if row.page_kind is not None:
        page = _page(row.level, row.page_kind, row.page_label, row.page_person, row.page_slot,
                     row.page_channels, row.page_due)
    return IncidentEvent(EventKind(row.kind), row.at, row.actor, row.level, page, row.auto)


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


async def add_incident(
    session: AsyncSession, inc: Incident, source_key: str | None = None
) -> Incident | None:
    """Insert ``inc`` (its ``id`` is ignored) and return it with its id.

    With ``source_key`` (e.g. the Slack trigger id of the request that opened it) an incident is
    opened once per key: None when an incident with that key exists already (see
    ``incident_by_source``). The caller records the opening event with ``add_event``.
    """
    values = {**_incident_columns(inc), "source_key": source_key}
    stmt = dialect_insert(session)(IncidentRow).values(**values)
    if source_key is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=["source_key"])
    new_id = (await session.execute(stmt.returning(IncidentRow.id))).scalar_one_or_none()
    if new_id is None:
        return None
    return replace(inc, id=int(new_id))


async def add_event(session: AsyncSession, incident_id: int, event: IncidentEvent) -> int:
    """Record ``event`` of incident ``incident_id``; a queued page starts ``pending``."""
    page = event.page
    row = IncidentEventRow(
        incident_id=incident_id,
        kind=event.kind.value,
        at=event.at,
        actor=event.actor,
        auto=event.auto,
        level=event.level,
        **(_page_columns(page) if page is not None else {}),
        delivery="pending" if page is not None and page.kind == PageKind.QUEUED else None,
    )
    session.add(row)
    await session.flush()
    return row.id


async def apply_change(session: AsyncSession, change: Change) -> bool:
    """Write ``change.after`` if the incident is still as the change expects; record its event.

    The guard is the action's precondition: an escalation needs the row at ``before.level`` and
    not resolved; an acknowledgement needs ``open``; a resolution anything but ``resolved``. Only
    the columns the action changes are written, so an acknowledgement and an escalation that race
    both land. False (and nothing written) when the guard fails: someone else acted first.
    A resolution cancels the incident's pending queued pages.
    """
    before, after, event = change.before, change.after, change.event
    stmt = update(IncidentRow).where(IncidentRow.id == before.id)
    if event.kind == EventKind.ESCALATED:
        stmt = stmt.where(IncidentRow.level == before.level, IncidentRow.status != Status.RESOLVED.value)
        values: dict[str, Any] = {
            "level": after.level,
            "chain_length": after.chain_length,
            **_page_columns(after.page),
            "reached": list(after.reached),
            "last_escalated_at": after.last_escalated_at,
            # an acknowledgement that landed first keeps auto-escalation off
            "next_auto_at": None if after.next_auto_at is None else _unless_acknowledged(after.next_auto_at),
        }
    elif event.kind == EventKind.ACKNOWLEDGED:
        stmt = stmt.where(IncidentRow.status == Status.OPEN.value)
        values = {"status": after.status.value, "acknowledged_at": after.acknowledged_at,
                  "acknowledged_by": after.acknowledged_by, "next_auto_at": None}
    elif event.kind == EventKind.RESOLVED:
        stmt = stmt.where(IncidentRow.status != Status.RESOLVED.value)
        values = {"status": after.status.value, "resolved_at": after.resolved_at,
                  "resolved_by": after.resolved_by, "next_auto_at": None}
    else:
        raise ValueError(f"not a change of an existing incident: {event.kind}")
    result = await session.execute(stmt.values(**values).execution_options(synchronize_session=False))
    if _rowcount(result) != 1:
        return False
    await add_event(session, before.id, event)
    if event.kind == EventKind.RESOLVED:
        await session.execute(
            update(IncidentEventRow)
            .where(IncidentEventRow.incident_id == before.id, IncidentEventRow.delivery == "pending")
            .values(delivery="cancelled")
            .execution_options(synchronize_session=False)
        )
    return True


def _unless_acknowledged(at: datetime) -> Any:
    value = literal(at, type_=UTCDateTime())  # typed, so UTCDateTime converts it to UTC
    return case((IncidentRow.status == Status.OPEN.value, value), else_=null())


async def set_message(
    session: AsyncSession, incident_id: int, channel: str, ts: str, permalink: str | None = None
) -> None:
    """Remember where the incident message was posted."""
    await session.execute(
        update(IncidentRow)
        .where(IncidentRow.id == incident_id)
        .values(channel=channel, ts=ts, permalink=permalink)
        .execution_options(synchronize_session=False)
    )


async def stop_auto(session: AsyncSession, incident_id: int, level: int) -> bool:
    """No more auto-escalation for an incident still at ``level`` (its chain has ended)."""
    result = await session.execute(
        update(IncidentRow)
        .where(IncidentRow.id == incident_id, IncidentRow.level == level)
        .values(next_auto_at=None)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def claim_page(session: AsyncSession, event_id: int, now: datetime) -> bool:
    """Take a pending queued page for delivery (True for exactly one of concurrent claimers)."""
    result = await session.execute(
        update(IncidentEventRow)
        .where(IncidentEventRow.id == event_id, IncidentEventRow.delivery == "pending")
        .values(delivery="sent", delivered_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def release_page(session: AsyncSession, event_id: int) -> None:
    """Put a claimed page back to pending (its delivery failed; the next tick retries)."""
    await session.execute(
        update(IncidentEventRow)
        .where(IncidentEventRow.id == event_id, IncidentEventRow.delivery == "sent")
        .values(delivery="pending", delivered_at=None)
        .execution_options(synchronize_session=False)
    )


async def mark_page_delivered(session: AsyncSession, incident_id: int, level: int) -> None:
    """The incident's current page, if it is the queued one of ``level``, is now a page."""
    await session.execute(
        update(IncidentRow)
        .where(IncidentRow.id == incident_id, IncidentRow.level == level,
               IncidentRow.page_kind == PageKind.QUEUED.value)
        .values(page_kind=PageKind.PERSON.value)
        .execution_options(synchronize_session=False)
    )


async def get_incident(session: AsyncSession, incident_id: int) -> Incident | None:
    row = await session.get(IncidentRow, incident_id, populate_existing=True)
    return None if row is None else to_incident(row)


async def incident_by_source(session: AsyncSession, source_key: str) -> Incident | None:
    stmt = select(IncidentRow).where(IncidentRow.source_key == source_key)
    row = (await session.execute(stmt)).scalar_one_or_none()
    return None if row is None else to_incident(row)


async def events_of(session: AsyncSession, incident_id: int) -> list[IncidentEvent]:
    """The incident's events, oldest first."""
    rows = await session.execute(
        select(IncidentEventRow)
        .where(IncidentEventRow.incident_id == incident_id)
        .order_by(IncidentEventRow.id)
    )
    return [to_event(r) for r in rows.scalars()]


async def due_auto_escalations(session: AsyncSession, now: datetime) -> list[Incident]:
    """Open incidents whose automatic escalation is due at ``now``, oldest due first."""
    rows = await session.execute(
        select(IncidentRow)
        .where(IncidentRow.status == Status.OPEN.value, IncidentRow.next_auto_at.is_not(None),
               IncidentRow.next_auto_at <= now.astimezone(UTC))
        .order_by(IncidentRow.next_auto_at, IncidentRow.id)
    )
    return [to_incident(r) for r in rows.scalars()]


async def due_pages(session: AsyncSession, now: datetime) -> list[tuple[int, int, Page]]:
    """Pending queued pages due at ``now``: ``(event id, incident id, page)``, oldest due first."""
    rows = await session.execute(
        select(IncidentEventRow)
        .where(IncidentEventRow.delivery == "pending", IncidentEventRow.page_due <= now.astimezone(UTC))
        .order_by(IncidentEventRow.page_due, IncidentEventRow.id)
    )
    out: list[tuple[int, int, Page]] = []
    for r in rows.scalars():
        event = to_event(r)
        assert event.page is not None
        out.append((r.id, r.incident_id, event.page))
    return out


async def open_incidents_for(
    session: AsyncSession, person_id: str, slack_user_id: str | None = None
) -> list[Incident]:
    """Incidents not resolved that paged (or queued a page for) ``person_id``, or that the Slack
    user ``slack_user_id`` reported or acknowledged; newest first."""
    paged = select(IncidentEventRow.incident_id).where(IncidentEventRow.page_person == person_id)
    who: list[ColumnElement[bool]] = [IncidentRow.id.in_(paged)]
    if slack_user_id:
        who += [IncidentRow.reporter == slack_user_id, IncidentRow.acknowledged_by == slack_user_id]
    rows = await session.execute(
        select(IncidentRow)
        .where(IncidentRow.status != Status.RESOLVED.value, or_(*who))
        .order_by(IncidentRow.opened_at.desc(), IncidentRow.id.desc())
    )
    return [to_incident(r) for r in rows.scalars()]


async def open_incidents(session: AsyncSession) -> list[Incident]:
    """Every incident not resolved, newest first."""
    rows = await session.execute(
        select(IncidentRow)
        .where(IncidentRow.status != Status.RESOLVED.value)
        .order_by(IncidentRow.opened_at.desc(), IncidentRow.id.desc())
    )
    return [to_incident(r) for r in rows.scalars()]


async def sla_due(session: AsyncSession, now: datetime) -> list[Incident]:
    """Incidents not resolved whose SLA reminder or fix-by escalation is due at ``now`` and has
    not been claimed yet; soonest deadline first."""
    at = now.astimezone(UTC)
    rows = await session.execute(
        select(IncidentRow)
        .where(IncidentRow.status != Status.RESOLVED.value, IncidentRow.fix_by.is_not(None),
               or_(and_(IncidentRow.fix_remind_at <= at, IncidentRow.sla_reminded_at.is_(None),
                        IncidentRow.sla_escalated_at.is_(None)),
                   and_(IncidentRow.fix_by <= at, IncidentRow.sla_escalated_at.is_(None))))
        .order_by(IncidentRow.fix_by, IncidentRow.id)
    )
    return [to_incident(r) for r in rows.scalars()]


async def mark_sla(session: AsyncSession, incident_id: int, stage: str, now: datetime) -> bool:
    """Record that the SLA ``stage`` (``reminded`` | ``escalated``) of the incident was done at
    ``now``, unless it was already (compare-and-set); whether this call recorded it."""
    column = IncidentRow.sla_reminded_at if stage == "reminded" else IncidentRow.sla_escalated_at
    values: dict[str, Any] = {column.key: now}
    if stage == "escalated":
        values["sla_reminded_at"] = func.coalesce(IncidentRow.sla_reminded_at, now)
    result = await session.execute(
        update(IncidentRow).where(IncidentRow.id == incident_id, column.is_(None)).values(**values)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def incidents_by_state(session: AsyncSession, states: Sequence[Status] | None = None) -> list[Incident]:
    """Incidents in ``states`` (every one when None), newest first."""
    stmt = select(IncidentRow)
    if states is not None:
        stmt = stmt.where(IncidentRow.status.in_([s.value for s in states]))
    rows = await session.execute(stmt.order_by(IncidentRow.opened_at.desc(), IncidentRow.id.desc()))
    return [to_incident(r) for r in rows.scalars()]
