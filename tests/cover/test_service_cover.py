"""Cover requests on a real database (SQLite and PostgreSQL): ask, take (first wins, also from two
replicas at once), refusals audited, give back, the lead's notice and the expiry exactly once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.config import Settings
from bot.core.changes import ChangeKind, ChangeRequest, Refusal, RefusalKind
from bot.core.cover import CoverRequest, RequestStatus, SlotStatus
from bot.services import changes as change_svc
from bot.services import cover as svc
from bot.storage import audit
from bot.storage import scheduled as delivery_store
from bot.storage.bootstrap import Database, open_database
from tests.changes.helpers import local

# Tuesday 2026-12-01 10:00 New York, week 4: Finance fin2, DE R1 de1, R2 de2, R3 de3, R4 de4.
NOW = local(2026, 12, 1, 10)
WED = (local(2026, 12, 2), local(2026, 12, 3))


async def _ask(db: Database) -> CoverRequest:
    req = await svc.request_cover(db, "de1", *WED, "dentist <!channel>", "de1", NOW)
    assert isinstance(req, CoverRequest), req
    return req


async def _actions(db: Database) -> list[str]:
    async with db.sessions() as s:
        return [e.action for e in await audit.entries(s)]


async def _keys(db: Database) -> list[str]:
    async with db.sessions() as s:
        return [r.key for r in await delivery_store.deliveries_with_prefix(s, "cover:")]


async def test_ask_posts_one_message_per_channel_with_the_slots(db: Database) -> None:
    req = await _ask(db)
    assert [(s.n, str(s.seat), s.start, s.end) for s in req.slots] == [
        (1, "data-eng:R1", local(2026, 12, 2, 8), local(2026, 12, 2, 18))]
    assert [d.pipeline for d in req.slots[0].duties] == ["profit", "growth"]
    assert await _keys(db) == [f"cover:{req.id}:post:#data-eng"]
    assert await _actions(db) == ["cover.requested"]
    nothing = await svc.request_cover(db, "risk1", *WED, "", "risk1", NOW)
    assert isinstance(nothing, Refusal) and nothing.kind == RefusalKind.NO_CHANGE
    other = await svc.request_cover(db, "de1", *WED, "", "fin2", NOW)
    assert isinstance(other, Refusal) and other.kind == RefusalKind.FORBIDDEN


async def test_take_is_an_override_and_a_second_take_is_refused(db: Database) -> None:
    req = await _ask(db)
    got = await svc.take_slots(db, req.id, "de3", NOW, slots=[1])
    assert [s.taker for s in got.taken] == ["de3"] and got.request is not None
    assert got.request.status == RequestStatus.DONE
    again = await svc.take_slots(db, req.id, "de2", NOW, slots=[1])
    assert [r.kind for _, r in again.refused] == [RefusalKind.TAKEN]
    from bot.core.coverage import oncall_at
    from bot.services.queries import load_snapshot

    snap = await load_snapshot(db)
    answer = oncall_at(snap.directory, snap.calendar, "profit", local(2026, 12, 2, 12), snap.overrides)
    assert answer.secondary is not None and answer.secondary.person == "de3"
    assert await _actions(db) == ["cover.requested", "change.override", "cover.taken", "cover.take_refused"]
    keys = await _keys(db)
    assert any(":dm:taken:1:" in k and k.endswith(":de1") for k in keys)
    assert any(":dm:taken:1:" in k and k.endswith(":de3") for k in keys)
    assert any(":update:#data-eng:" in k for k in keys)


async def test_outsider_ineligible_and_away_takers_are_refused_and_audited(db: Database) -> None:
    req = await _ask(db)
    away = await change_svc.apply_change(db, ChangeRequest(ChangeKind.AWAY, "de3", *WED, "de3", other="de4"), NOW)
    assert isinstance(away, change_svc.Applied)
    for taker, kind in ((None, RefusalKind.FORBIDDEN), ("fin2", RefusalKind.FORBIDDEN), ("de3", RefusalKind.NOBODY)):
        got = await svc.take_slots(db, req.id, taker, NOW, slots=[1], who="slack:U0NOBODY")
        assert [r.kind for _, r in got.refused] == [kind], taker
    assert (await _actions(db)).count("cover.take_refused") == 3


async def test_untake_by_the_taker_restores_and_the_lead_may_too(db: Database) -> None:
    req = await _ask(db)
    await svc.take_slots(db, req.id, "de3", NOW, slots=[1])
    refused = await svc.untake(db, req.id, 1, "de2", NOW)
    assert isinstance(refused, Refusal) and refused.kind == RefusalKind.FORBIDDEN
    back = await svc.untake(db, req.id, 1, "de3", NOW)
    assert isinstance(back, CoverRequest)
    assert back.status == RequestStatus.OPEN and back.slots[0].status == SlotStatus.OPEN
    from bot.core.coverage import oncall_at
    from bot.services.queries import load_snapshot

    snap = await load_snapshot(db)
    answer = oncall_at(snap.directory, snap.calendar, "profit", local(2026, 12, 2, 12), snap.overrides)
    assert answer.secondary is not None and answer.secondary.person == "de1"
    assert "cover.untaken" in await _actions(db)
    assert any(":thread:#data-eng:" in k for k in await _keys(db))


async def test_lead_notice_and_expiry_happen_once(db: Database, settings: Settings) -> None:
    req = await _ask(db)
    start = req.slots[0].start
    early = await svc.run_tick(db, start - timedelta(hours=25))
    assert early.lead_notices == [] and early.expired == []
    second = await open_database(settings, say=lambda _l: None)  # another replica
    try:
        at = start - timedelta(hours=23)
        a, b = await asyncio.gather(svc.run_tick(db, at), svc.run_tick(second, at))
        assert sorted(a.lead_notices + b.lead_notices) == [f"{req.id}:1"]
        assert (await svc.run_tick(db, at + timedelta(minutes=1))).lead_notices == []
        a, b = await asyncio.gather(svc.run_tick(db, start), svc.run_tick(second, start))
        assert sorted(a.expired + b.expired) == [f"{req.id}:1"]
    finally:
        await second.close()
    _, listed = await svc.list_requests(db)
    assert listed[0].status == RequestStatus.EXPIRED and listed[0].slots[0].status == SlotStatus.EXPIRED
    actions = await _actions(db)
    assert actions.count("cover.lead_notified") == 1 and actions.count("cover.expired") == 1
    keys = await _keys(db)
    lead_dms = [k for k in keys if ":dm:lead:" in k]
    assert len(lead_dms) == 1
    late = await svc.take_slots(db, req.id, "de3", start, slots=[1])
    assert [r.kind for _, r in late.refused] == [RefusalKind.TAKEN]


async def test_two_replicas_taking_at_once_give_one_winner(db: Database, settings: Settings) -> None:
    req = await _ask(db)
    second = await open_database(settings, say=lambda _l: None)
    try:
        a, b = await asyncio.gather(svc.take_slots(db, req.id, "de2", NOW, slots=[1]),
                                    svc.take_slots(second, req.id, "de3", NOW, slots=[1]))
    finally:
        await second.close()
    assert len(a.taken) + len(b.taken) == 1
    assert [r.kind for _, r in (*a.refused, *b.refused)] == [RefusalKind.TAKEN]
    actions = await _actions(db)
    assert actions.count("change.override") == 1 and actions.count("cover.taken") == 1


async def test_take_and_give_the_pager(db: Database) -> None:
    at = local(2026, 12, 1, 10)  # Profit: primary fin2, backup de1
    got = await svc.hand_pager(db, "profit", "fin3", "fin3", at)
    assert isinstance(got, svc.PagerTaken), got
    assert (got.span.holder, got.span.secondary, got.span.end) == ("fin2", "de1", local(2026, 12, 1, 18))
    async with db.sessions() as s:
        keys = [r.key for r in await delivery_store.deliveries_with_prefix(s, f"change:{got.record.id}:pager:")]
    assert sorted(keys) == [f"change:{got.record.id}:pager:de1", f"change:{got.record.id}:pager:fin2"]
    back = await svc.hand_pager(db, "profit", "fin3", "fin2", at + timedelta(minutes=5))
    assert isinstance(back, svc.PagerTaken)
    refused = await svc.hand_pager(db, "profit", "fin1", "acc1", at + timedelta(minutes=6))
    assert isinstance(refused, Refusal) and refused.kind == RefusalKind.FORBIDDEN
    assert "pager.refused" in await _actions(db)
