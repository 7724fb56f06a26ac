"""The delivery outbox (``scheduled_deliveries``): queueing, leasing, recording outcomes and expiry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.storage.sql import dialect_insert
from bot.storage.tables.scheduled import DeliveryRow

READY = ("pending", "failed")

# The parent row in ``ready_condition``: made once (an alias copies every column of the table;
# making one per call was most of the CPU of a quiet tick's delivery pass).
_PARENT = aliased(DeliveryRow, name="parent")


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


# A message the bot owes a person (about an incident, a change, a cover request, a page step) is
# retried until sent or this long has passed; then it expires and is listed, never dropped silently.
OWED_FOR = timedelta(days=1)


def owed_row(key: str, op: str, target: str, label: str, payload: dict[str, Any], now: datetime,
             parent_key: str | None = None) -> dict[str, Any]:
    """The outbox row of an owed message (no occurrence behind it), due at ``now``; ``parent_key``:
    sent only after that row (e.g. a thread reply after its message)."""
    row: dict[str, Any] = {
        "key": key, "occurrence_id": None, "op": op, "target": target, "label": label, "payload": payload,
        "status": "pending", "attempts": 0, "next_attempt_at": now, "expires_at": now + OWED_FOR,
        "maybe_posted": False, "created_at": now,
    }
    if parent_key is not None:
        row["parent_key"] = parent_key
    return row


async def add_deliveries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert deliveries; existing keys are left alone. A row's ``parent_key`` names an earlier
    row's key (of this call, or queued before) and becomes its ``parent_id``. Their ids, in
    order (an existing key's id is looked up). Multi-row inserts: a fan-out of a thousand DMs is
    a few statements."""
    ins = dialect_insert(session)
    ids: dict[str, int] = {}
    first = [dict(r) for r in rows if "parent_key" not in r]
    second = [dict(r) for r in rows if "parent_key" in r]
    for batch_rows in (first, second):
        for row in batch_rows:
            parent_key = row.pop("parent_key", None)
            if parent_key is not None:
                if parent_key not in ids:  # a parent queued by an earlier transaction
                    found_id = await delivery_id(session, parent_key)
                    if found_id is not None:
                        ids[parent_key] = found_id
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
    parent = _PARENT
    parent_done = (
        select(parent.id).where(parent.id == DeliveryRow.parent_id, parent.status.in_(("sent", "expired"))).exists()
    )
    return and_(
        DeliveryRow.status.in_(READY),
        DeliveryRow.next_attempt_at <= now,
        or_(DeliveryRow.lease_until.is_(None), DeliveryRow.lease_until <= now),
        or_(DeliveryRow.parent_id.is_(None), parent_done),
    )


def held_or_free(owner: str) -> Any:
    """The condition "still ready, and leased by ``owner`` or by nobody": who may record an outcome."""
    return and_(DeliveryRow.status.in_(READY), or_(DeliveryRow.lease_owner == owner, DeliveryRow.lease_owner.is_(None)))


def key_scope(only: Sequence[str] = (), skip: Sequence[str] = ()) -> Any:
    """Deliveries whose key starts with one of ``only`` (any key when empty) and with none of ``skip``."""
    conditions: list[Any] = []
    if only:
        conditions.append(or_(*(DeliveryRow.key.startswith(p, autoescape=True) for p in only)))
    conditions += [~DeliveryRow.key.startswith(p, autoescape=True) for p in skip]
    return and_(true(), *conditions)


async def ready_ids(
    session: AsyncSession, now: datetime, limit: int = 5000, *, only: Sequence[str] = (), skip: Sequence[str] = ()
) -> list[int]:
    """The ready deliveries (``ready_condition``) in ``key_scope(only, skip)``, oldest first."""
    rows = await session.execute(
        select(DeliveryRow.id)
        .where(ready_condition(now), key_scope(only, skip))
        .order_by(DeliveryRow.id)
        .limit(limit)
    )
    return list(rows.scalars())


async def deliveries_with_prefix(session: AsyncSession, prefix: str) -> list[DeliveryRow]:
    """The deliveries whose key starts with ``prefix`` (e.g. ``incident:6:``), oldest first."""
    stmt = select(DeliveryRow).where(key_scope((prefix,))).order_by(DeliveryRow.id)
    return list((await session.execute(stmt.execution_options(populate_existing=True))).scalars())


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


async def renew_leases(session: AsyncSession, ids: Sequence[int], owner: str, until: datetime) -> None:
    """Extend to ``until`` the leases ``owner`` holds on those of ``ids`` that are still ready."""
    await session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id.in_(list(ids)), DeliveryRow.lease_owner == owner, DeliveryRow.status.in_(READY))
        .values(lease_until=until)
    )


async def record_sent(
    session: AsyncSession, delivery_id: int, owner: str, now: datetime, channel_id: str | None, ts: str | None
) -> bool:
    """Mark a leased delivery sent (only while ``owner`` holds it, or nobody does)."""
    stmt = (
        update(DeliveryRow)
        .where(DeliveryRow.id == delivery_id, held_or_free(owner))
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
            .where(DeliveryRow.id.in_(ids[i : i + 500]), held_or_free(owner))
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
        .where(DeliveryRow.id == delivery_id, held_or_free(owner))
        .values(**values)
        .returning(DeliveryRow.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def record_refused(session: AsyncSession, delivery_id: int, owner: str, error: str) -> bool:
    """Release a leased delivery that Slack refuses for good (no retry can succeed): ``expired``
    now, with ``error``. False (nothing written) when ``owner`` no longer held it."""
    stmt = (
        update(DeliveryRow)
        .where(DeliveryRow.id == delivery_id, held_or_free(owner))
        .values(status="expired", last_error=error[:2000], lease_owner=None, lease_until=None, maybe_posted=False)
        .returning(DeliveryRow.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def retarget(
    session: AsyncSession, delivery_id: int, target: str, payload: dict[str, Any], now: datetime
) -> bool:
    """Send a failed delivery (one Slack refused, so nothing was posted) to ``target`` instead,
    with ``payload``, at once. False when it is no longer a failed, surely unposted delivery."""
    stmt = (
        update(DeliveryRow)
        .where(DeliveryRow.id == delivery_id, DeliveryRow.status == "failed", DeliveryRow.maybe_posted.is_(False))
        .values(target=target, payload=payload, channel_id=None, next_attempt_at=now)
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


async def delivery_id(session: AsyncSession, key: str) -> int | None:
    """The id of the delivery with ``key``, or None."""
    row = await session.execute(select(DeliveryRow.id).where(DeliveryRow.key == key))
    return row.scalar_one_or_none()


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


async def ready_rows(session: AsyncSession, now: datetime, limit: int = 5000) -> list[DeliveryRow]:
    """The deliveries a tick at ``now`` would take (``ready_condition``), oldest first. Reads only."""
    rows = await session.execute(select(DeliveryRow).where(ready_condition(now)).order_by(DeliveryRow.id).limit(limit))
    return list(rows.scalars())
