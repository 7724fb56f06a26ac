"""The DMs a change owes are written to the outbox in the change's own transaction (issue 10 §1,
§7): they commit with it or not at all, so no crash between the two can lose a DM (SQLite and
PostgreSQL)."""

from __future__ import annotations

import pytest

from bot.commands.changes import Applied, Cancelled
from bot.services import changes as svc
from bot.services.changes import apply as apply_module
from bot.services.changes import owed
from bot.services.queries import load_snapshot
from bot.storage import audit
from bot.storage import scheduled as store
from bot.storage.bootstrap import Database

from .helpers import local
from .test_service import MON, override


class Boom(RuntimeError):
    """A crash injected inside the change's transaction."""


async def _owed(db: Database) -> dict[str, str]:
    async with db.sessions() as session:
        return {r.key: r.status for r in await store.deliveries_with_prefix(session, "change:")}


async def _actions(db: Database) -> list[str]:
    async with db.sessions() as session:
        return [e.action for e in await audit.entries(session)]


async def test_the_dms_are_owed_as_soon_as_the_change_commits(db: Database) -> None:
    # nothing runs after the commit (as if the process died there): the DMs are already owed
    got = await svc.apply_change(db, override("fin2", "fin3", local(2026, 11, 3), local(2026, 11, 4)), MON,
                                 queue_dms=True)
    assert isinstance(got, Applied)
    cid = got.record.id
    assert await _owed(db) == {f"change:{cid}:notify:fin3": "pending", f"change:{cid}:notify:fin1": "pending"}
    async with db.sessions() as session:
        [row] = await store.deliveries_with_prefix(session, f"change:{cid}:notify:fin3")
        [notified] = await audit.entries(session, actions=["change.notified"])
    assert row.target == "U0FIN0003" and "You now cover Profit primary" in str(row.payload["blocks"])
    assert row.expires_at == MON + owed.EXPIRES
    assert notified.after == {"queued": ["fin3", "fin1"]} and notified.subject == f"change:{cid}"

    cancelled = await svc.cancel_change(db, cid, "fin3", local(2026, 11, 2, 12), queue_dms=True)
    assert isinstance(cancelled, Cancelled)
    assert (await _owed(db))[f"change:{cid}:cancel:fin1"] == "pending"


async def test_a_crash_after_the_change_is_written_loses_neither_or_both(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def crash(_session: object) -> None:  # the last write of the transaction, after the DMs
        raise Boom("the process died before the commit")

    monkeypatch.setattr(apply_module, "bump_version", crash)
    with pytest.raises(Boom):
        await svc.apply_change(db, override("fin2", "fin3", local(2026, 11, 3), local(2026, 11, 4)), MON,
                               queue_dms=True)
    assert (await load_snapshot(db)).overrides == ()
    assert await _owed(db) == {}
    assert await _actions(db) == []
    monkeypatch.undo()

    # and a crash while queueing the DMs undoes the change too
    got = await svc.apply_change(db, override("fin2", "fin3", local(2026, 11, 3), local(2026, 11, 4)), MON,
                                 queue_dms=True)
    assert isinstance(got, Applied)

    async def refuse(_session: object, _rows: object) -> list[int]:
        raise Boom("the outbox write failed")

    monkeypatch.setattr(owed.scheduled_store, "add_deliveries", refuse)
    with pytest.raises(Boom):
        await svc.cancel_change(db, got.record.id, "fin3", local(2026, 11, 2, 12), queue_dms=True)
    monkeypatch.undo()
    listing = await svc.list_changes(db, local(2026, 11, 2, 12), "fin3")
    assert [i.record.cancelled_at for i in listing.items] == [None]  # type: ignore[union-attr]
    assert "change.cancelled" not in await _actions(db)
    assert not [k for k in await _owed(db) if ":cancel:" in k]
