"""Scheduled work: tables and the repository functions of the tick and of the Slack actions.

- ``scheduled_occurrences``: one row per occurrence the bot has decided on (claimed to deliver, or
  skipped as too late), with the occurrence's deterministic ``key`` unique. A replica *claims* an
  occurrence by inserting its row with ``INSERT ... ON CONFLICT (key) DO NOTHING RETURNING id``:
  exactly one of many concurrent inserters gets the id back, on SQLite and PostgreSQL alike.
  Checklist reminders and escalations are occurrences too (``key#reminder``, ``key#escalation``).
- ``scheduled_deliveries``: each Slack call an occurrence needs (a post, a DM, a file, a user
  group update, a checklist message update), with its state (``pending`` → ``sent``; ``failed``
  = the last attempt failed and it will be retried at ``next_attempt_at``; ``expired`` = its time
  passed undelivered), attempts, the lease of the replica working on it, the Slack channel and
  ``ts``. ``maybe_posted`` marks an attempt whose outcome is unknown (the replica died or the
  request timed out): the next attempt looks in the channel for the key first.
- ``scheduled_checklists`` + ``_items`` + ``_ticks``: an opened checklist, its items (current
  state: who ticked it and when) and the history of ticks and unticks.
- ``scheduled_meetings`` + ``_answers``: an onboarding invite and who accepted or declined.

Like every operational table, people and pipelines are named by id, without foreign keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    and_,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, aliased, mapped_column

from bot.storage.models import ID, Base, _one_of
from bot.storage.types import UTCDateTime

KEY = String(255)
OCCURRENCE_KINDS = ("announcement", "meeting", "checklist", "reminder", "escalation")
OCCURRENCE_STATUSES = ("claimed", "skipped")
DELIVERY_OPS = ("post", "update_checklist", "file", "usergroup")
DELIVERY_STATUSES = ("pending", "sent", "failed", "expired")
CHECKLIST_STATUSES = ("open", "complete", "overdue")
TICK_ACTIONS = ("tick", "untick")
ANSWERS = ("accept", "decline")
READY = ("pending", "failed")


class OccurrenceRow(Base):
    __tablename__ = "scheduled_occurrences"
    __table_args__ = (
        CheckConstraint(_one_of("kind", OCCURRENCE_KINDS), name="kind"),
        CheckConstraint(_one_of("status", OCCURRENCE_STATUSES), name="status"),
        Index(None, "opens_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(KEY, unique=True)
    definition: Mapped[str] = mapped_column(ID)
    kind: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(32))
    pipeline: Mapped[str | None] = mapped_column(ID)
    channel: Mapped[str | None] = mapped_column(String(128))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    assignees: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(Text, default="")


class DeliveryRow(Base):
    __tablename__ = "scheduled_deliveries"
    __table_args__ = (
        CheckConstraint(_one_of("op", DELIVERY_OPS), name="op"),
        CheckConstraint(_one_of("status", DELIVERY_STATUSES), name="status"),
        Index(None, "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(KEY, unique=True)
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("scheduled_occurrences.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("scheduled_deliveries.id", ondelete="SET NULL"))
    op: Mapped[str] = mapped_column(String(24))
    target: Mapped[str] = mapped_column(String(255))  # #channel, C123, U123, "U1,U2,U3", @handle
    label: Mapped[str] = mapped_column(Text, default="")  # what it is, for `oncall-bot deliveries`
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    maybe_posted: Mapped[bool] = mapped_column(Boolean, default=False)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ChecklistRow(Base):
    __tablename__ = "scheduled_checklists"
    __table_args__ = (
        CheckConstraint(_one_of("status", CHECKLIST_STATUSES), name="status"),
        Index(None, "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("scheduled_occurrences.id", ondelete="CASCADE"), unique=True)
    key: Mapped[str] = mapped_column(KEY, unique=True)
    definition: Mapped[str] = mapped_column(ID)
    title: Mapped[str] = mapped_column(Text)
    pipeline: Mapped[str | None] = mapped_column(ID)
    channel: Mapped[str | None] = mapped_column(String(128))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    assignees: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_to: Mapped[list[str]] = mapped_column(JSON, default=list)  # person ids
    escalation_channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=0)


class ChecklistItemRow(Base):
    __tablename__ = "scheduled_checklist_items"

    checklist_id: Mapped[int] = mapped_column(
        ForeignKey("scheduled_checklists.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    text: Mapped[str] = mapped_column(Text)
    ticked_by: Mapped[str | None] = mapped_column(ID)
    ticked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ChecklistTickRow(Base):
    __tablename__ = "scheduled_checklist_ticks"
    __table_args__ = (CheckConstraint(_one_of("action", TICK_ACTIONS), name="action"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    checklist_id: Mapped[int] = mapped_column(ForeignKey("scheduled_checklists.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(8))
    person: Mapped[str] = mapped_column(ID)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class MeetingRow(Base):
    __tablename__ = "scheduled_meetings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("scheduled_occurrences.id", ondelete="CASCADE"), unique=True)
    key: Mapped[str] = mapped_column(KEY, unique=True)
    uid: Mapped[str] = mapped_column(String(255))
    definition: Mapped[str] = mapped_column(ID)
    title: Mapped[str] = mapped_column(Text)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attendees: Mapped[list[str]] = mapped_column(JSON)
    moved_because: Mapped[str | None] = mapped_column(Text)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))


class MeetingAnswerRow(Base):
    __tablename__ = "scheduled_meeting_answers"
    __table_args__ = (CheckConstraint(_one_of("answer", ANSWERS), name="answer"),)

    meeting_id: Mapped[int] = mapped_column(ForeignKey("scheduled_meetings.id", ondelete="CASCADE"), primary_key=True)
    person: Mapped[str] = mapped_column(ID, primary_key=True)
    answer: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


# --- repository ----------------------------------------------------------------------------------


class Expired(NamedTuple):
    """A delivery ``expire_due_rows`` marked expired."""

    id: int
    key: str
    op: str
    target: str
    label: str
    attempts: int
    last_error: str | None
    expires_at: datetime | None


def _insert(session: AsyncSession) -> Any:
    """The dialect's INSERT (both have ``on_conflict_do_nothing`` and ``returning``)."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def claim(session: AsyncSession, values: dict[str, Any]) -> int | None:
    """Insert an occurrence row unless its key exists; the new id, or None if another replica (or
    an earlier tick) has it. Exactly one of concurrent claimers gets an id."""
    ins = _insert(session)
    stmt = (
        ins(OccurrenceRow).values(**values).on_conflict_do_nothing(index_elements=["key"]).returning(OccurrenceRow.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def claim_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """``claim`` for many occurrence rows (multi-row inserts, in key order so that concurrent
    claimers lock in one order): the keys this call inserted, with their ids."""
    ins = _insert(session)
    won: dict[str, int] = {}
    ordered = sorted(rows, key=lambda r: str(r["key"]))
    for i in range(0, len(ordered), 500):
        chunk = ordered[i : i + 500]
        stmt = (
            ins(OccurrenceRow)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(OccurrenceRow.id, OccurrenceRow.key)
        )
        for new_id, key in await session.execute(stmt, chunk):
            won[key] = new_id
    return won


async def known_keys(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` already have an occurrence row."""
    found: set[str] = set()
    for i in range(0, len(keys), 500):
        chunk = list(keys[i : i + 500])
        rows = await session.execute(select(OccurrenceRow.key).where(OccurrenceRow.key.in_(chunk)))
        found.update(rows.scalars())
    return found


async def keys_since(session: AsyncSession, since: datetime) -> set[str]:
    """Keys of the occurrences opening at or after ``since``."""
    rows = await session.execute(select(OccurrenceRow.key).where(OccurrenceRow.opens_at >= since))
    return set(rows.scalars())


async def add_deliveries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert deliveries; existing keys are left alone. A row's ``parent_key`` names an earlier
    row's key and becomes its ``parent_id``. Their ids, in order (an existing key's id is looked
    up). Multi-row inserts: a fan-out of a thousand DMs is a few statements."""
    ins = _insert(session)
    ids: dict[str, int] = {}
    first = [dict(r) for r in rows if "parent_key" not in r]
    second = [dict(r) for r in rows if "parent_key" in r]
    for batch_rows in (first, second):
        for row in batch_rows:
            parent_key = row.pop("parent_key", None)
            if parent_key is not None:
                row["parent_id"] = ids.get(parent_key)
        for i in range(0, len(batch_rows), 500):
            chunk = batch_rows[i : i + 500]
            if not chunk:
                continue
            columns = sorted({k for r in chunk for k in r})
            values = [{c: r.get(c) for c in columns} for r in chunk]
            stmt = (
                ins(DeliveryRow)
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(DeliveryRow.id, DeliveryRow.key)
            )
            for new_id, key in await session.execute(stmt, values):  # executemany: "insertmanyvalues"
                ids[key] = new_id
            missing = [r["key"] for r in chunk if r["key"] not in ids]
            if missing:
                found = await session.execute(
                    select(DeliveryRow.id, DeliveryRow.key).where(DeliveryRow.key.in_(missing))
                )
                for old_id, key in found:
                    ids[key] = old_id
    return [ids[r["key"]] for r in rows]


def ready_condition(now: datetime) -> Any:
    """Deliveries a replica may take now: pending or failed, due for an attempt, not leased by a
    live replica, and with their parent (if any) no longer pending."""
    parent = aliased(DeliveryRow)
    parent_done = (
        select(parent.id).where(parent.id == DeliveryRow.parent_id, parent.status.in_(("sent", "expired"))).exists()
    )
    return and_(
        DeliveryRow.status.in_(READY),
        DeliveryRow.next_attempt_at <= now,
        or_(DeliveryRow.lease_until.is_(None), DeliveryRow.lease_until <= now),
        or_(DeliveryRow.parent_id.is_(None), parent_done),
    )


async def ready_ids(session: AsyncSession, now: datetime, limit: int = 5000) -> list[int]:
    rows = await session.execute(
        select(DeliveryRow.id).where(ready_condition(now)).order_by(DeliveryRow.id).limit(limit)
    )
    return list(rows.scalars())


async def lease(
    session: AsyncSession, ids: Sequence[int], owner: str, now: datetime, until: datetime
) -> list[tuple[DeliveryRow, bool]]:
    """Take the lease of those of ``ids`` that are still ready (a conditional update: one replica
    wins each). Returns ``(row, look_first)`` for the leased rows; ``look_first`` is True when an
    earlier attempt may have reached Slack (its replica died, or it timed out): look for the key in
    the channel before posting again."""
    out: list[tuple[DeliveryRow, bool]] = []
    for i in range(0, len(ids), 500):
        chunk = list(ids[i : i + 500])
        before = {
            r.id: (r.maybe_posted, r.attempts)
            for r in await session.execute(
                select(DeliveryRow.id, DeliveryRow.maybe_posted, DeliveryRow.attempts).where(DeliveryRow.id.in_(chunk))
            )
        }
        stmt = (
            update(DeliveryRow)
            .where(DeliveryRow.id.in_(chunk), ready_condition(now))
            .values(
                lease_owner=owner,
                lease_until=until,
                attempts=DeliveryRow.attempts + 1,
                maybe_posted=True,
            )
            .returning(DeliveryRow.id)
        )
        won = set((await session.execute(stmt)).scalars())
        if not won:
            continue
        rows = (
            await session.execute(
                select(DeliveryRow)
                .where(DeliveryRow.id.in_(won))
                .order_by(DeliveryRow.id)
                .execution_options(populate_existing=True)
            )
        ).scalars()
        for r in rows:
            was_maybe, was_attempts = before.get(r.id, (True, -1))
            look_first = was_maybe or r.attempts != was_attempts + 1
            session.expunge(r)
            out.append((r, look_first))
    return out


async def record_sent(
    session: AsyncSession, delivery_id: int, owner: str, now: datetime, channel_id: str | None, ts: str | None
) -> bool:
    """Mark a leased delivery sent (only while ``owner`` holds it, or nobody does)."""
    stmt = (
        update(DeliveryRow)
        .where(
            DeliveryRow.id == delivery_id,
            DeliveryRow.status.in_(READY),
            or_(DeliveryRow.lease_owner == owner, DeliveryRow.lease_owner.is_(None)),
        )
        .values(
            status="sent",
            sent_at=now,
            channel_id=channel_id,
            ts=ts,
            lease_owner=None,
            lease_until=None,
            maybe_posted=False,
            last_error=None,
        )
        .returning(DeliveryRow.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def record_sent_many(
    session: AsyncSession, sent: Sequence[tuple[int, str | None, str | None]], owner: str, now: datetime
) -> set[int]:
    """``record_sent`` for many ``(delivery id, channel id, ts)`` in two statements: the
    conditional status change (which ones this replica still held), then their channel and ts."""
    ids = [i for i, _c, _t in sent]
    won: set[int] = set()
    for i in range(0, len(ids), 500):
        stmt = (
            update(DeliveryRow)
            .where(
                DeliveryRow.id.in_(ids[i : i + 500]),
                DeliveryRow.status.in_(READY),
                or_(DeliveryRow.lease_owner == owner, DeliveryRow.lease_owner.is_(None)),
            )
            .values(status="sent", sent_at=now, lease_owner=None, lease_until=None, maybe_posted=False, last_error=None)
            .returning(DeliveryRow.id)
        )
        won |= set((await session.execute(stmt)).scalars())
    values = [{"id": i, "channel_id": c, "ts": t} for i, c, t in sent if i in won]
    if values:
        await session.execute(update(DeliveryRow), values)
    return won


async def record_failed(
    session: AsyncSession,
    delivery_id: int,
    owner: str,
    error: str,
    next_attempt_at: datetime,
    *,
    maybe_posted: bool,
    channel_id: str | None = None,
) -> bool:
    """Release a leased delivery after a failed attempt: ``failed``, retried at ``next_attempt_at``.
    False (nothing written) when ``owner`` no longer held it."""
    values: dict[str, Any] = {
        "status": "failed",
        "last_error": error[:2000],
        "next_attempt_at": next_attempt_at,
        "lease_owner": None,
        "lease_until": None,
        "maybe_posted": maybe_posted,
    }
    if channel_id is not None:
        values["channel_id"] = channel_id
    stmt = (
        update(DeliveryRow)
        .where(
            DeliveryRow.id == delivery_id,
            DeliveryRow.status.in_(READY),
            or_(DeliveryRow.lease_owner == owner, DeliveryRow.lease_owner.is_(None)),
        )
        .values(**values)
        .returning(DeliveryRow.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def expire_due(session: AsyncSession, now: datetime) -> int:
    """Mark ``expired`` the deliveries still waiting past their ``expires_at`` (and not leased by a
    live replica); how many."""
    return len(await expire_due_rows(session, now))


async def expire_due_rows(session: AsyncSession, now: datetime) -> list[Expired]:
    """``expire_due``, returning what expired (in id order)."""
    stmt = (
        update(DeliveryRow)
        .where(
            DeliveryRow.status.in_(READY),
            DeliveryRow.expires_at.is_not(None),
            DeliveryRow.expires_at < now,
            or_(DeliveryRow.lease_until.is_(None), DeliveryRow.lease_until <= now),
        )
        .values(status="expired", lease_owner=None, lease_until=None)
        .returning(DeliveryRow.id, DeliveryRow.key, DeliveryRow.op, DeliveryRow.target, DeliveryRow.label,
                   DeliveryRow.attempts, DeliveryRow.last_error, DeliveryRow.expires_at)
    )
    rows = [Expired(r.id, r.key, r.op, r.target, r.label, r.attempts, r.last_error, r.expires_at)
            for r in await session.execute(stmt)]
    return sorted(rows, key=lambda r: r.id)


async def delivery(session: AsyncSession, delivery_id: int) -> DeliveryRow | None:
    return await session.get(DeliveryRow, delivery_id)


async def list_deliveries(session: AsyncSession, *, failed_only: bool = False, limit: int = 200) -> list[DeliveryRow]:
    stmt = select(DeliveryRow)
    if failed_only:
        stmt = stmt.where(
            or_(
                DeliveryRow.status.in_(("failed", "expired")),
                and_(DeliveryRow.status == "pending", DeliveryRow.last_error.is_not(None)),
            )
        )
    stmt = stmt.order_by(DeliveryRow.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


# --- checklists ----------------------------------------------------------------------------------


async def add_checklist(session: AsyncSession, values: dict[str, Any], items: Sequence[str]) -> int:
    row = ChecklistRow(**values)
    session.add(row)
    await session.flush()
    for i, text in enumerate(items):
        session.add(ChecklistItemRow(checklist_id=row.id, position=i, text=text))
    await session.flush()
    return row.id


async def add_checklists(
    session: AsyncSession, values: Sequence[dict[str, Any]], items: dict[str, Sequence[str]]
) -> dict[str, int]:
    """Insert checklists (``items[key]`` are each one's items); their ids by key."""
    if not values:
        return {}
    ids: dict[str, int] = {}
    for i in range(0, len(values), 200):
        stmt = insert(ChecklistRow).values(list(values[i : i + 200])).returning(ChecklistRow.id, ChecklistRow.key)
        for new_id, key in await session.execute(stmt):
            ids[key] = new_id
    rows = [
        {"checklist_id": ids[key], "position": pos, "text": text}
        for key, texts in items.items()
        if key in ids
        for pos, text in enumerate(texts)
    ]
    for i in range(0, len(rows), 500):
        await session.execute(insert(ChecklistItemRow).values(rows[i : i + 500]))
    return ids


async def checklists_by_ids(
    session: AsyncSession, ids: Sequence[int]
) -> dict[int, tuple[ChecklistRow, list[ChecklistItemRow]]]:
    """Checklists with their items, by id (two queries)."""
    if not ids:
        return {}
    rows = (await session.execute(select(ChecklistRow).where(ChecklistRow.id.in_(list(ids))))).scalars()
    out: dict[int, tuple[ChecklistRow, list[ChecklistItemRow]]] = {r.id: (r, []) for r in rows}
    items = await session.execute(
        select(ChecklistItemRow)
        .where(ChecklistItemRow.checklist_id.in_(list(out)))
        .order_by(ChecklistItemRow.checklist_id, ChecklistItemRow.position)
    )
    for item in items.scalars():
        out[item.checklist_id][1].append(item)
    return out


async def set_checklist_messages(session: AsyncSession, refs: Sequence[tuple[int, str | None, str | None]]) -> None:
    """``(checklist id, channel id, ts)`` of many posted checklist messages."""
    if refs:
        await session.execute(update(ChecklistRow), [{"id": i, "channel_id": c, "ts": t} for i, c, t in refs])


async def checklist(session: AsyncSession, checklist_id: int) -> tuple[ChecklistRow, list[ChecklistItemRow]] | None:
    row = await session.get(ChecklistRow, checklist_id, populate_existing=True)
    if row is None:
        return None
    items = (
        await session.execute(
            select(ChecklistItemRow)
            .where(ChecklistItemRow.checklist_id == checklist_id)
            .order_by(ChecklistItemRow.position)
            .execution_options(populate_existing=True)
        )
    ).scalars()
    return row, list(items)


async def checklist_by_key(session: AsyncSession, key: str) -> ChecklistRow | None:
    return (await session.execute(select(ChecklistRow).where(ChecklistRow.key == key))).scalar_one_or_none()


async def checklists(session: AsyncSession, *, open_only: bool = False, limit: int = 200) -> list[ChecklistRow]:
    stmt = select(ChecklistRow)
    if open_only:
        stmt = stmt.where(ChecklistRow.status.in_(("open", "overdue")))
    stmt = stmt.order_by(ChecklistRow.opens_at.desc(), ChecklistRow.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def items_of(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[ChecklistItemRow]]:
    out: dict[int, list[ChecklistItemRow]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = await session.execute(
        select(ChecklistItemRow)
        .where(ChecklistItemRow.checklist_id.in_(list(ids)))
        .order_by(ChecklistItemRow.checklist_id, ChecklistItemRow.position)
    )
    for r in rows.scalars():
        out[r.checklist_id].append(r)
    return out


async def checklists_needing(session: AsyncSession, now: datetime) -> tuple[list[ChecklistRow], list[ChecklistRow]]:
    """Incomplete checklists whose reminder time has come (``reminder_at <= now < due``, not yet
    reminded) and those whose due time has passed and are not yet marked overdue."""
    remind = await session.execute(
        select(ChecklistRow).where(
            ChecklistRow.status == "open",
            ChecklistRow.reminded_at.is_(None),
            ChecklistRow.reminder_at.is_not(None),
            ChecklistRow.reminder_at <= now,
            ChecklistRow.due_at > now,
        )
    )
    overdue = await session.execute(
        select(ChecklistRow).where(ChecklistRow.status == "open", ChecklistRow.due_at <= now)
    )
    return list(remind.scalars()), list(overdue.scalars())


async def set_item(session: AsyncSession, checklist_id: int, position: int, person: str | None, at: datetime) -> bool:
    """Tick (``person``) or untick (None) one item; records the history. False if nothing changed."""
    item = await session.get(ChecklistItemRow, (checklist_id, position))
    if item is None:
        return False
    if person is None and item.ticked_by is None:
        return False
    if person is not None and item.ticked_by is not None:
        return False
    action = "untick" if person is None else "tick"
    who = person if person is not None else item.ticked_by or ""
    item.ticked_by = person
    item.ticked_at = at if person is not None else None
    session.add(ChecklistTickRow(checklist_id=checklist_id, position=position, action=action, person=who, at=at))
    await session.flush()
    return True


async def refresh_status(session: AsyncSession, checklist_id: int, at: datetime) -> str:
    """Recompute a checklist's status from its items: ``complete`` when all are ticked, else
    ``overdue`` if it was escalated, else ``open``. Bumps ``version``; returns the status."""
    found = await checklist(session, checklist_id)
    if found is None:
        return "open"
    row, items = found
    done = all(i.ticked_by is not None for i in items)
    if done:
        if row.status != "complete":
            row.completed_at = at
        row.status = "complete"
    else:
        row.completed_at = None
        row.status = "overdue" if row.overdue else "open"
    row.version += 1
    await session.flush()
    return row.status


async def mark_reminded(session: AsyncSession, checklist_id: int, at: datetime) -> None:
    await session.execute(
        update(ChecklistRow)
        .where(ChecklistRow.id == checklist_id, ChecklistRow.reminded_at.is_(None))
        .values(reminded_at=at)
    )


async def mark_overdue(
    session: AsyncSession, checklist_id: int, at: datetime, people: Sequence[str], channels: Sequence[str]
) -> bool:
    """An open checklist becomes ``overdue``, escalated to ``people`` and ``channels``; False if it
    was no longer open (completed meanwhile, or another replica got there first)."""
    stmt = (
        update(ChecklistRow)
        .where(ChecklistRow.id == checklist_id, ChecklistRow.status == "open")
        .values(
            status="overdue",
            overdue=True,
            escalated_at=at,
            escalated_to=list(people),
            escalation_channels=list(channels),
            version=ChecklistRow.version + 1,
        )
        .returning(ChecklistRow.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def set_checklist_message(session: AsyncSession, key: str, channel_id: str | None, ts: str | None) -> None:
    await session.execute(update(ChecklistRow).where(ChecklistRow.key == key).values(channel_id=channel_id, ts=ts))


async def tick_history(session: AsyncSession, checklist_id: int) -> list[ChecklistTickRow]:
    rows = await session.execute(
        select(ChecklistTickRow).where(ChecklistTickRow.checklist_id == checklist_id).order_by(ChecklistTickRow.id)
    )
    return list(rows.scalars())


# --- meetings ------------------------------------------------------------------------------------


async def add_meeting(session: AsyncSession, values: dict[str, Any]) -> int:
    row = MeetingRow(**values)
    session.add(row)
    await session.flush()
    return row.id


async def meeting(session: AsyncSession, meeting_id: int) -> tuple[MeetingRow, list[MeetingAnswerRow]] | None:
    row = await session.get(MeetingRow, meeting_id, populate_existing=True)
    if row is None:
        return None
    answers = (
        await session.execute(
            select(MeetingAnswerRow)
            .where(MeetingAnswerRow.meeting_id == meeting_id)
            .order_by(MeetingAnswerRow.at)
            .execution_options(populate_existing=True)
        )
    ).scalars()
    return row, list(answers)


async def meeting_by_key(session: AsyncSession, key: str) -> MeetingRow | None:
    return (await session.execute(select(MeetingRow).where(MeetingRow.key == key))).scalar_one_or_none()


async def set_meeting_message(session: AsyncSession, key: str, channel_id: str | None, ts: str | None) -> None:
    await session.execute(update(MeetingRow).where(MeetingRow.key == key).values(channel_id=channel_id, ts=ts))


async def answer_meeting(session: AsyncSession, meeting_id: int, person: str, answer: str, at: datetime) -> None:
    """Record (or replace) ``person``'s answer."""
    await session.execute(
        delete(MeetingAnswerRow).where(MeetingAnswerRow.meeting_id == meeting_id, MeetingAnswerRow.person == person)
    )
    session.add(MeetingAnswerRow(meeting_id=meeting_id, person=person, answer=answer, at=at))
    await session.flush()


async def occurrences_between(session: AsyncSession, start: datetime, end: datetime) -> list[OccurrenceRow]:
    rows = await session.execute(
        select(OccurrenceRow)
        .where(OccurrenceRow.opens_at >= start, OccurrenceRow.opens_at < end)
        .order_by(OccurrenceRow.opens_at, OccurrenceRow.key)
    )
    return list(rows.scalars())
