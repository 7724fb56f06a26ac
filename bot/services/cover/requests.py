"""Cover requests, applied: ask (``request_cover``), take (``take_slots``), give back (``untake``),
list (``list_requests``). Load -> ``bot.core.cover`` -> write, one transaction each.

A Take holds ``CHANGES_LOCK_KEY`` (as every schedule change does), is decided by
``bot.core.cover.decide_take``, planned by ``bot.core.changes.plan_override_as`` and wins the
slot by a compare-and-set on its row (``bot.storage.cover.take_slot``): of two takers at once,
on any number of replicas, one gets it and the other is told who did. Its override is written by
the schedule changes' own ``write_plan`` (the change row, its audit entry, every cache reloads).
Refusals are audited (``cover.take_refused``, ``cover.untake_refused``) and answered privately.
The messages each step owes are written in its transaction (``bot.services.cover.outbox``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.calendar import CompanyCalendar
from bot.core.changes import MAX_RANGE, Refusal, RefusalKind, plan_cancel, plan_override_as
from bot.core.cover import CoverRequest, CoverSlot, RequestStatus, cover_slots, decide_take, may_untake
from bot.core.model import Directory
from bot.core.permissions import may_act_for
from bot.render.blocks import Message
from bot.render.changes import refusal_text
from bot.render.cover import taken_dm, untaken_text
from bot.render.plain import mrkdwn_to_text
from bot.services.changes.apply import admins_with, read_directory, write_cancel, write_plan
from bot.services.cover import outbox
from bot.storage import audit
from bot.storage import changes as change_store
from bot.storage import cover as store
from bot.storage import scheduled as delivery_store
from bot.storage.bootstrap import Database
from bot.storage.meta import lock
from bot.storage.overrides import overrides_between

_MARGIN = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class TakeOutcome:
    """What a Take (or Take all) did: the slots taken and the refusals, with the request after."""

    request: CoverRequest | None
    taken: tuple[CoverSlot, ...] = ()
    refused: tuple[tuple[CoverSlot, Refusal], ...] = ()
    problem: Refusal | None = None  # the request itself is wrong (unknown, closed)


def _slot_json(s: CoverSlot) -> dict[str, Any]:
    return {"n": s.n, "seat": str(s.seat), "start": s.start, "end": s.end, "status": s.status, "taker": s.taker,
            "duties": [{"pipeline": d.pipeline, "role": d.role, "window": d.window} for d in s.duties]}


def _refusal_after(d: Directory, cal: CompanyCalendar, r: Refusal) -> dict[str, Any]:
    return {"refusal": r.kind, "text": mrkdwn_to_text(refusal_text(d, cal.tz, r), d)}


async def _context(session: AsyncSession, start: datetime, end: datetime) -> tuple[Any, Any]:
    lo, hi = start - _MARGIN, end + _MARGIN
    return await overrides_between(session, lo, hi), await change_store.aways_between(session, lo, hi)


async def request_cover(
    db: Database, requester: str, start: datetime, end: datetime, reason: str, actor: str | None, now: datetime,
    *, extra_admins: Sequence[str] = (), source_key: str | None = None,
) -> CoverRequest | Refusal:
    """Ask for cover of ``requester``'s on-call slots in ``[start, end)`` (``actor``: themselves, their
    team lead or an admin); the request posted in each team channel concerned."""
    async with db.sessions() as session, session.begin():
        if source_key is not None:
            done = await store.request_by_source(session, source_key)
            if done is not None:
                return done
        directory, cal = await read_directory(session)
        refusal: Refusal | None = None
        perm = may_act_for(directory, admins_with(directory, extra_admins), actor, requester)
        if not perm:
            refusal = Refusal(RefusalKind.FORBIDDEN, perm.reason.replace("mark", "ask cover for").replace(" away", ""))
        elif end <= start:
            refusal = Refusal(RefusalKind.INVALID, "The end must be after the start.")
        elif end <= now:
            refusal = Refusal(RefusalKind.INVALID, "That time is already over: cover can only be asked from now on.")
        elif end - start > MAX_RANGE:
            refusal = Refusal(RefusalKind.INVALID, f"A request can span at most {MAX_RANGE.days} days.")
        slots: tuple[CoverSlot, ...] = ()
        if refusal is None:
            start = max(start, now)
            overrides, _ = await _context(session, start, end)
            slots = cover_slots(directory, cal, requester, start, end, overrides)
            if not slots:
                refusal = Refusal(RefusalKind.NO_CHANGE, f"{directory.name_of(requester)} is on call for nothing "
                                                         "then: nothing to cover.")
        if refusal is not None:
            await audit.record(session, at=now, actor=actor, action="cover.refused", subject=f"cover:{requester}",
                               after={"requester": requester, "start": start, "end": end, "reason": reason,
                                      **_refusal_after(directory, cal, refusal)})
            return refusal
        req = await store.add_request(session, requester=requester, created_by=actor, created_at=now, start=start,
                                      end=end, reason=reason, slots=slots, source_key=source_key)
        await delivery_store.add_deliveries(session, outbox.post_rows(req, now))
        await audit.record(session, at=now, actor=actor, action="cover.requested", subject=f"cover:{req.id}",
                           after={"requester": requester, "start": start, "end": end, "reason": reason,
                                  "slots": [_slot_json(s) for s in req.slots]})
    return req


async def take_slots(
    db: Database, request_id: int, taker: str | None, now: datetime, *, slots: Sequence[int] | None = None,
    channel: str | None = None, who: str | None = None,
) -> TakeOutcome:
    """``taker`` takes ``slots`` of the request (None: every slot open then, those of ``channel`` when
    given), each in a transaction of its own. ``who`` names an unknown taker in the audit trail."""
    async with db.sessions() as session:
        req = await store.get_request(session, request_id)
    if req is None:
        return TakeOutcome(None, problem=Refusal(RefusalKind.INVALID, f"There is no cover request #{request_id}."))
    if slots is None:
        wanted = [s.n for s in req.open_slots if channel is None or s.channel == channel]
        if not wanted:
            return TakeOutcome(req, problem=Refusal(RefusalKind.TAKEN, "No slot of it is open any more."))
    else:
        wanted = list(slots)
    taken: list[CoverSlot] = []
    refused: list[tuple[CoverSlot, Refusal]] = []
    for n in wanted:
        got = await _take_one(db, request_id, n, taker, now, who)
        if isinstance(got, CoverSlot):
            taken.append(got)
        elif got[0] is not None:
            refused.append((got[0], got[1]))
        else:
            return TakeOutcome(req, problem=got[1])
    async with db.sessions() as session:
        after = await store.get_request(session, request_id)
    return TakeOutcome(after, tuple(taken), tuple(refused))


async def _take_one(db: Database, request_id: int, n: int, taker: str | None, now: datetime,
                    who: str | None) -> CoverSlot | tuple[CoverSlot | None, Refusal]:
    async with db.sessions() as session, session.begin():
        await lock(session, change_store.CHANGES_LOCK_KEY)
        directory, cal = await read_directory(session)
        req = await store.get_request(session, request_id)
        slot = req.slot(n) if req is not None else None
        if req is None or slot is None:
            return None, Refusal(RefusalKind.INVALID, f"Cover request #{request_id} has no slot #{n}.")
        overrides, aways = await _context(session, slot.start, slot.end)
        decided = decide_take(directory, cal, req, slot, taker, overrides, aways, now)
        plan = (plan_override_as(directory, cal, decided.request, decided.permission, overrides, aways, now)
                if not isinstance(decided, Refusal) else decided)
        if not isinstance(plan, Refusal) and not await store.take_slot(session, request_id, n, str(taker), now):
            fresh = await store.get_request(session, request_id)
            winner = fresh.slot(n) if fresh is not None else None
            plan = Refusal(RefusalKind.TAKEN, f"{directory.name_of(winner.taker if winner else None)} took it first.")
        if isinstance(plan, Refusal):
            await audit.record(session, at=now, actor=taker or who, action="cover.take_refused",
                               subject=f"cover:{request_id}:{n}",
                               after={"slot": _slot_json(slot), **_refusal_after(directory, cal, plan)})
            return slot, plan
        record = await write_plan(session, directory, cal, plan, now,
                                  extra_audit={"cover": {"request": request_id, "slot": n}})
        await store.set_slot_change(session, request_id, n, record.id)
        after = await store.get_request(session, request_id)
        assert after is not None
        mine = after.slot(n)
        assert mine is not None
        if not after.open_slots and all(s.status == "taken" for s in after.slots):
            await store.set_request_status(session, request_id, RequestStatus.DONE, now)
        event = outbox.event_id()
        rows = outbox.update_rows(after, [mine.channel], event, now)
        rows += outbox.dm_row(directory, request_id, f"taken:{n}:{event}", after.requester,
                              taken_dm(directory, cal.tz, after, mine, to_taker=False), now)
        rows += outbox.dm_row(directory, request_id, f"taken:{n}:{event}", mine.taker,
                              taken_dm(directory, cal.tz, after, mine, to_taker=True), now)
        await delivery_store.add_deliveries(session, rows)
        await audit.record(session, at=now, actor=taker, action="cover.taken", subject=f"cover:{request_id}:{n}",
                           after={"slot": _slot_json(mine), "change": record.id, "permission": plan.permission})
    return mine


async def untake(db: Database, request_id: int, n: int, actor: str | None, now: datetime, *,
                 extra_admins: Sequence[str] = ()) -> CoverRequest | Refusal:
    """Give slot ``n`` back (its taker before it starts, the requester's team lead or an admin):
    the Take's change is cancelled from now on and the slot is open again."""
    async with db.sessions() as session, session.begin():
        await lock(session, change_store.CHANGES_LOCK_KEY)
        directory, cal = await read_directory(session)
        req = await store.get_request(session, request_id)
        slot = req.slot(n) if req is not None else None
        refusal: Refusal | None = None
        permission = ""
        if req is None or slot is None:
            refusal = Refusal(RefusalKind.INVALID, f"Cover request #{request_id} has no slot #{n}.")
        else:
            perm = may_untake(directory, admins_with(directory, extra_admins), req, slot, actor, now)
            permission = perm.reason
            if not perm:
                refusal = Refusal(RefusalKind.FORBIDDEN, perm.reason)
        record = None
        if refusal is None and slot is not None and slot.change_id is not None:
            record = await change_store.get_change(session, slot.change_id)
        if refusal is None and record is not None and record.active and record.end > now:
            overrides, aways = await _context(session, min(record.start, now), record.end)
            cancel = plan_cancel(directory, cal, (), record.created_by, record, overrides, aways, now)
            if isinstance(cancel, Refusal):
                refusal = cancel
            else:
                await write_cancel(session, cancel, actor, now, extra_audit={"cover": {"request": request_id,
                                                                                        "slot": n}})
        if refusal is not None or req is None or slot is None:
            assert refusal is not None
            await audit.record(session, at=now, actor=actor, action="cover.untake_refused",
                               subject=f"cover:{request_id}:{n}", after=_refusal_after(directory, cal, refusal))
            return refusal
        taker = str(slot.taker)
        await store.untake_slot(session, request_id, n, taker)
        await store.set_request_status(session, request_id, RequestStatus.OPEN, None)
        after = await store.get_request(session, request_id)
        assert after is not None
        event = outbox.event_id()
        line = untaken_text(directory, cal.tz, after, slot, taker, str(actor))
        rows = outbox.update_rows(after, [slot.channel], event, now)
        rows += outbox.thread_row(after, slot.channel, event, line, now)
        for person in dict.fromkeys((after.requester, taker)):
            if person != actor:
                rows += outbox.dm_row(directory, request_id, f"untaken:{n}:{event}", person,
                                      Message(line, (), ephemeral=False), now)
        await delivery_store.add_deliveries(session, rows)
        await audit.record(session, at=now, actor=actor, action="cover.untaken", subject=f"cover:{request_id}:{n}",
                           after={"slot": _slot_json(slot), "taker": taker, "permission": permission})
    return after


async def list_requests(db: Database, *, open_only: bool = False) -> tuple[Directory, list[CoverRequest]]:
    async with db.sessions() as session:
        directory, _ = await read_directory(session)
        return directory, await store.list_requests(session, open_only=open_only)

