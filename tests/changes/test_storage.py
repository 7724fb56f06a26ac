"""The change, audit, calendar-token and notice tables, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.core.changes import Away, ChangeKind, Target
from bot.storage import audit, calendar_tokens
from bot.storage import changes as store
from bot.storage.bootstrap import Database

from .helpers import NOW, local


async def test_audit_is_appended_and_queried(db: Database) -> None:
    async with db.sessions() as s, s.begin():
        first = await audit.record(s, at=NOW, actor="fin2", action="change.override", subject="change:1",
                                   before=None, after={"start": local(2026, 11, 3), "kind": ChangeKind.OVERRIDE})
        await audit.record(s, at=NOW + timedelta(minutes=1), actor="acc2", action="change.refused",
                           subject="override finance", after={"reason": "You can't"})
        await audit.record(s, at=NOW + timedelta(minutes=2), actor=None, action="shift_notice.sent",
                           subject="fin3", after=["a", ("b", 1)])
    async with db.sessions() as s:
        every = await audit.entries(s)
        assert [e.action for e in every] == ["change.override", "change.refused", "shift_notice.sent"]
        assert every[0].id == first
        assert every[0].at == NOW
        assert every[0].after == {"start": "2026-11-03T05:00:00+00:00", "kind": "override"}
        assert every[2].after == ["a", ["b", 1]] and every[2].actor is None
        assert [e.actor for e in await audit.entries(s, actor="acc2")] == ["acc2"]
        assert len(await audit.entries(s, since=NOW + timedelta(minutes=1))) == 2
        assert len(await audit.entries(s, until=NOW + timedelta(minutes=1))) == 1
        assert [e.action for e in await audit.entries(s, actions=["change."])] == ["change.override", "change.refused"]
        assert [e.action for e in await audit.entries(s, actions=["shift_notice.sent"])] == ["shift_notice.sent"]


def test_audit_has_no_update_or_delete_path() -> None:
    public = {name for name in dir(audit) if not name.startswith("_")}
    assert not {n for n in public if any(w in n.lower() for w in ("update", "delete", "remove", "edit", "purge"))}


async def test_audit_refuses_naive_instants(db: Database) -> None:
    async with db.sessions() as s, s.begin():
        with pytest.raises(ValueError):
            await audit.record(s, at=NOW.replace(tzinfo=None), actor=None, action="x", subject="y")


async def test_calendar_tokens(db: Database) -> None:
    async with db.sessions() as s, s.begin():
        token, created = await calendar_tokens.token_for(s, "fin2", NOW)
        assert created and len(token) >= 32
        again, created = await calendar_tokens.token_for(s, "fin2", NOW)
        assert (again, created) == (token, False)
        other, _ = await calendar_tokens.token_for(s, "fin3", NOW)
        assert other != token
    async with db.sessions() as s, s.begin():
        assert await calendar_tokens.person_for_token(s, token) == "fin2"
        new = await calendar_tokens.reset_token(s, "fin2", NOW)
    async with db.sessions() as s:
        assert new != token
        assert await calendar_tokens.person_for_token(s, token) is None
        assert await calendar_tokens.person_for_token(s, new) == "fin2"
        assert await calendar_tokens.person_for_token(s, "") is None
        assert await calendar_tokens.person_for_token(s, "x" * 500) is None


async def test_changes_are_recorded_listed_and_cancelled(db: Database) -> None:
    async with db.sessions() as s, s.begin():
        o = await store.add_change(s, kind=ChangeKind.OVERRIDE, created_by="fin2", created_at=NOW,
                                   start=local(2026, 11, 3), end=local(2026, 11, 4), person="fin3", other=None,
                                   target=Target("data-eng", "R1"), reason="dentist", override_ids=[4, 5])
        a = await store.add_change(s, kind=ChangeKind.AWAY, created_by="de2", created_at=NOW,
                                   start=local(2026, 11, 5), end=local(2026, 11, 9), person="de2", other=None,
                                   target=None, reason="", override_ids=[])
    assert o.target == Target("data-eng", "R1") and o.override_ids == (4, 5) and o.active
    assert a.target is None
    async with db.sessions() as s:
        assert await store.get_change(s, o.id) == o
        assert [c.id for c in await store.changes_ending_after(s, local(2026, 11, 3, 12))] == [o.id, a.id]
        assert [c.id for c in await store.changes_ending_after(s, local(2026, 11, 4))] == [a.id]
        assert await store.aways_between(s, local(2026, 11, 1), local(2026, 11, 6)) == [
            Away("de2", local(2026, 11, 5), local(2026, 11, 9), a.id)]
        assert await store.aways_between(s, local(2026, 11, 1), local(2026, 11, 5)) == []
    async with db.sessions() as s, s.begin():
        assert await store.mark_cancelled(s, a.id, at=NOW, by="de1", override_ids=[])
        assert not await store.mark_cancelled(s, a.id, at=NOW, by="de1", override_ids=[])
    async with db.sessions() as s:
        got = await store.get_change(s, a.id)
        assert got is not None and got.cancelled_at == NOW and got.cancelled_by == "de1" and not got.active
        assert await store.aways_between(s, local(2026, 11, 1), local(2026, 11, 30)) == []
        assert [c.id for c in await store.changes_ending_after(s, NOW)] == [o.id]
        assert [c.id for c in await store.changes_ending_after(s, NOW, include_cancelled=True)] == [o.id, a.id]


async def test_a_notice_is_claimed_once_among_concurrent_claimers(db: Database) -> None:
    async def claim() -> bool:
        async with db.sessions() as s, s.begin():
            return await store.claim_notice(s, key="fin3@2026-11-03T13:00Z", person="fin3",
                                            starts_at=local(2026, 11, 3, 8), now=NOW)

    results = await asyncio.gather(*(claim() for _ in range(8)))
    assert results.count(True) == 1
    async with db.sessions() as s, s.begin():
        await store.release_notice(s, "fin3@2026-11-03T13:00Z")
    assert await claim()
    async with db.sessions() as s, s.begin():
        await store.mark_notice_sent(s, "fin3@2026-11-03T13:00Z", NOW)
        await store.release_notice(s, "fin3@2026-11-03T13:00Z")  # a sent notice stays claimed
    assert not await claim()
    async with db.sessions() as s:
        assert await store.notice_keys(s, local(2026, 11, 1)) == {"fin3@2026-11-03T13:00Z"}
