"""The incident repository on SQLite and PostgreSQL: compare-and-set, keys, conversions."""

from __future__ import annotations

from datetime import timedelta

from bot.core.escalation import escalation_chain
from bot.core.incident import Change, Incident, IncidentEvent, PageKind, Status, acknowledge, escalate, open_incident
from bot.core.model import Directory, SlotRef
from bot.services.snapshot import Snapshot
from bot.storage import incidents as repo
from bot.storage.bootstrap import Database

from .conftest import local

AT = local(2026, 12, 1, 22, 0)  # Profit after hours


def draft(directory: Directory, critical: bool = True) -> tuple[Incident, IncidentEvent, Snapshot]:
    snap = Snapshot.build(directory)
    out = open_incident("profit", "totals", critical, "U0ANA",
                        escalation_chain(directory, snap.calendar, "profit", AT, critical=critical), AT, 15)
    assert isinstance(out, tuple)
    return out[0], out[1], snap


async def stored(db: Database, inc: Incident, event: IncidentEvent, key: str | None = None) -> Incident:
    async with db.sessions() as s, s.begin():
        saved = await repo.add_incident(s, inc, key)
        assert saved is not None
        await repo.add_event(s, saved.id, event)
    return saved


async def test_round_trip(db: Database, directory: Directory) -> None:
    inc, event, _ = draft(directory)
    saved = await stored(db, inc, event)
    async with db.sessions() as s:
        again = await repo.get_incident(s, saved.id)
        events = await repo.events_of(s, saved.id)
    assert again == saved
    assert again.opened_at == AT and again.next_auto_at == AT + timedelta(minutes=15)
    assert events == [event]


async def test_a_source_key_opens_once(db: Database, directory: Directory) -> None:
    inc, event, _ = draft(directory)
    first = await stored(db, inc, event, key="T1")
    async with db.sessions() as s, s.begin():
        assert await repo.add_incident(s, inc, "T1") is None
        assert await repo.incident_by_source(s, "T1") == first


async def test_a_stale_change_writes_nothing(db: Database, directory: Directory) -> None:
    inc, event, snap = draft(directory)
    saved = await stored(db, inc, event)
    chain = escalation_chain(directory, snap.calendar, "profit", AT, critical=True)
    one = escalate(saved, chain, 1, "U0A", AT, 15)
    two = escalate(saved, chain, 1, "U0B", AT, 15)
    assert isinstance(one, Change) and isinstance(two, Change)
    async with db.sessions() as s, s.begin():
        assert await repo.apply_change(s, one)
    async with db.sessions() as s, s.begin():
        assert not await repo.apply_change(s, two)
    async with db.sessions() as s:
        kinds = [(e.kind, e.actor) for e in await repo.events_of(s, saved.id)]
    assert kinds == [("opened", "U0ANA"), ("escalated", "U0A")]


async def test_an_escalation_racing_an_acknowledgement_keeps_auto_escalation_off(
    db: Database, directory: Directory
) -> None:
    inc, event, snap = draft(directory)
    saved = await stored(db, inc, event)
    chain = escalation_chain(directory, snap.calendar, "profit", AT, critical=True)
    up = escalate(saved, chain, 1, "U0A", AT + timedelta(minutes=1), 15)  # computed before the ack landed
    ack = acknowledge(saved, "U0B", AT + timedelta(minutes=1))
    assert isinstance(up, Change) and isinstance(ack, Change)
    async with db.sessions() as s, s.begin():
        assert await repo.apply_change(s, ack)
    async with db.sessions() as s, s.begin():
        assert await repo.apply_change(s, up)
    async with db.sessions() as s:
        now = await repo.get_incident(s, saved.id)
        due = await repo.due_auto_escalations(s, AT + timedelta(hours=1))
    assert now is not None
    assert now.status == Status.ACKNOWLEDGED and now.level == 2 and now.next_auto_at is None
    assert due == []


async def test_queued_pages_are_claimed_once(db: Database, directory: Directory) -> None:
    snap = Snapshot.build(directory)
    saturday = local(2026, 11, 28, 11, 0)
    out = open_incident("growth", "dups", False, "U0ANA",
                        escalation_chain(directory, snap.calendar, "growth", saturday), saturday, 15)
    assert isinstance(out, tuple)
    saved = await stored(db, *out)
    async with db.sessions() as s:
        assert await repo.due_pages(s, local(2026, 11, 30, 8, 59)) == []
        [(event_id, incident_id, page)] = await repo.due_pages(s, local(2026, 11, 30, 9, 0))
    assert incident_id == saved.id and page.kind == PageKind.QUEUED and page.person == "de1"
    async with db.sessions() as s, s.begin():
        assert await repo.claim_page(s, event_id, local(2026, 11, 30, 9, 0))
    async with db.sessions() as s, s.begin():
        assert not await repo.claim_page(s, event_id, local(2026, 11, 30, 9, 0))
        await repo.release_page(s, event_id)
    async with db.sessions() as s:
        assert len(await repo.due_pages(s, local(2026, 11, 30, 9, 1))) == 1


def test_slot_text_round_trip() -> None:
    for slot in (SlotRef("finance"), SlotRef("data-eng", "R1"), SlotRef("analytics", None, 1),
                 SlotRef("data-eng", "R2", -1), SlotRef("@person", "fin1")):
        assert repo.parse_slot(repo.slot_text(slot)) == slot
    assert repo.parse_slot(None) is None
