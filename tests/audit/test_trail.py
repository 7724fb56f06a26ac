"""The rest of the audit trail, on SQLite and PostgreSQL: automatic escalations and queued pages,
checklist reminders and escalations, failed and expired deliveries, invite answers, clicks in
Slack; that an entry shares its action's transaction; that deliveries' entries are batched."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from bot.core.incident import Status
from bot.services import incidents as incidents_svc
from bot.services import scheduled as scheduled_svc
from bot.services.queries import load_snapshot
from bot.services.scheduled import Ticker
from bot.slack.deps import SlackDeps
from bot.storage import audit
from bot.storage import scheduled as store
from bot.storage.bootstrap import Database
from tests.scheduled.helpers import RecordingPort, VirtualTime, ny
from tests.support.fake_slack import FakeSlack

from .helpers import FIN2, REPORTER, at, ticker_for, trail

CLOSE = "profit-month-close/profit/2026-12"
ONBOARDING = "engagement-onboarding/engagement/2026-11-30"
DAILY = "aggregate-profit-growth-daily/aggregate-profit-growth/2026-11-30"


def channel(slack: FakeSlack, name: str) -> str:
    return next(cid for cid, ch in slack.channels.items() if ch.get("name") == name.lstrip("#"))


async def test_automatic_escalations_and_a_queued_page(db: Database, deps: SlackDeps, workspace: FakeSlack) -> None:
    night = at(22)  # Profit after hours, critical: DE R1 paged at once, then up the chain by itself
    opened = await incidents_svc.open_incident(deps, "profit", "Totals don't match", True, REPORTER, night)
    assert isinstance(opened, incidents_svc.Opened)
    assert (await incidents_svc.run_periodic(deps, night + timedelta(minutes=15))).escalated == 1

    # Growth on a Saturday: the page is queued until Monday 09:00; the first DM fails
    saturday = ny(2026, 11, 28, 11)
    queued = await incidents_svc.open_incident(deps, "growth", "Duplicate renewals", False, "U0DE00002", saturday)
    assert isinstance(queued, incidents_svc.Opened)
    # at 09:00 the page becomes an owed DM (the outbox's); its first try fails, the next tick sends it
    workspace.fail_next("chat.postMessage", 500)
    assert await incidents_svc.deliver_queued_pages(deps, ny(2026, 11, 30, 9)) == 1
    assert await incidents_svc.deliver_queued_pages(deps, ny(2026, 11, 30, 9, 1)) == 0
    await incidents_svc.run_periodic(deps, ny(2026, 11, 30, 9, 2))
    await incidents_svc.run_periodic(deps, ny(2026, 11, 30, 9, 5))
    tries = [c for c in workspace.calls_to("chat.postMessage") if "Duplicate renewals" in str(c.params.get("text"))]
    sent = [c for c in workspace.calls_to("chat.postMessage", ok_only=True) if c in tries]
    assert len(tries) >= 2 and len(sent) == len(tries) - 1  # the failed try, then once

    night_story = await trail(db, subject=f"incident:{opened.incident.id}")
    # each page DM is recorded delivered when Slack took it (the outbox's instant: a little after)
    assert [(e.actor, e.action) for e in night_story] == [
        (REPORTER, "incident.opened"), (None, "incident.page_delivered"),
        (None, "incident.auto_escalated"), (None, "incident.page_delivered"),
    ]
    assert [e.at for e in night_story[::2]] == [night, night + timedelta(minutes=15)]
    for action, delivered in zip(night_story[::2], night_story[1::2], strict=True):
        assert timedelta(0) <= delivered.at - action.at < timedelta(seconds=30)
    assert [(e.after["page"]["person"], e.after["page"]["level"], e.after["queued"]) for e in night_story[1::2]] == [
        ("de1", 1, False), ("fin2", 2, False)]
    auto = night_story[2]
    assert (auto.before["level"], auto.after["level"]) == (1, 2)
    assert (auto.before["page"]["person"], auto.after["page"]["person"]) == ("de1", "fin2")
    assert auto.after["next_auto_at"] == (night + timedelta(minutes=30)).isoformat()

    # the page is released once, when it became a page; delivered once, when its DM went out
    # (the retry after the failed first try, at 09:02), not when it was handed to the outbox
    weekend = await trail(db, subject=f"incident:{queued.incident.id}")
    assert [(e.actor, e.action) for e in weekend] == [
        ("de2", "incident.opened"), (None, "incident.page_released"), (None, "incident.page_delivered"),
    ]
    assert [e.at for e in weekend[:2]] == [saturday, ny(2026, 11, 30, 9)]
    assert ny(2026, 11, 30, 9, 2) <= weekend[2].at < ny(2026, 11, 30, 9, 3)
    assert weekend[0].after["page"]["kind"] == "queued"
    assert weekend[0].after["page"]["due"] == ny(2026, 11, 30, 9).isoformat()
    released, delivered = weekend[1], weekend[2]
    assert (released.before["page"]["kind"], released.after["page"]["kind"]) == ("queued", "person")
    assert released.after["page"]["person"] == "de1"
    assert delivered.after["page"]["person"] == "de1" and delivered.after["queued"] is True
    assert delivered.after["key"] == f"incident:{queued.incident.id}:page:1:de1" and delivered.after["ts"]
    assert delivered.after["attempts"] == 2


async def test_checklist_follow_ups_and_failed_and_expired_deliveries(
    db: Database, deps: SlackDeps, workspace: FakeSlack
) -> None:
    ticker = ticker_for(db, deps, "profit-month-close")
    await ticker.tick(ny(2026, 12, 1, 9))
    await ticker.tick(ny(2026, 12, 2, 9))  # one business day before due: the reminder
    risk = channel(workspace, "#risk")
    workspace.fail_next("chat.postMessage", 500, times=1000,
                        where=lambda call: call.params.get("channel") in ("#risk", risk))
    await ticker.tick(ny(2026, 12, 3, 17))  # due and incomplete: escalated; #risk fails
    await ticker.tick(ny(2026, 12, 11, 9))  # the escalation's notice expired after 7 days

    subject = f"checklist:{CLOSE}"
    assert [(e.at, e.actor, e.action) for e in await trail(db, "checklist.", subject=subject)] == [
        (ny(2026, 12, 1, 9), None, "checklist.opened"),
        (ny(2026, 12, 2, 9), None, "checklist.reminded"),
        (ny(2026, 12, 3, 17), None, "checklist.escalated"),
    ]
    [escalated] = await trail(db, "checklist.escalated")
    assert escalated.before == {"status": "open"}
    assert escalated.after["people"] == ["de1"] and escalated.after["channels"] == ["#finance", "#risk"]

    sent = await trail(db, "delivery.sent")
    assert {e.subject.removeprefix(f"delivery:{CLOSE}") for e in sent} == {
        "|post", "#reminder|thread", "#escalation|update", "#escalation|thread", "#escalation|team:#finance",
        "#escalation|dm:de1"}  # fmt: skip
    assert all(e.actor is None and e.after["ts"] for e in sent)
    # the post went to the channel, the reminder into its thread
    post = next(e for e in sent if e.subject.endswith("|post"))
    assert post.after["channel"] == channel(workspace, "#data-profit") and post.after["found"] is False

    notice = f"delivery:{CLOSE}#escalation|team:#risk"
    [failed] = await trail(db, "delivery.failed")
    assert (failed.at, failed.subject) == (ny(2026, 12, 3, 17), notice)
    assert failed.after["error"] == "slack error 500: internal_error" and failed.after["attempts"] == 1
    assert failed.after["retry_at"] == (ny(2026, 12, 3, 17) + timedelta(seconds=30)).isoformat()
    [expired] = await trail(db, "delivery.expired")
    assert (expired.at, expired.subject) == (ny(2026, 12, 11, 9), notice)
    assert expired.after["last_error"] == "slack error 500: internal_error"


async def test_invite_answers(db: Database, deps: SlackDeps) -> None:
    await ticker_for(db, deps, "engagement-onboarding").tick(ny(2026, 11, 30, 9))
    async with db.sessions() as session:
        meeting = await store.meeting_by_key(session, ONBOARDING)
    assert meeting is not None and meeting.attendees == ["de1", "de2", "fe2"]
    snap = await load_snapshot(db)

    async def answer(who: str | None, what: str, minute: int) -> bool:
        got = await scheduled_svc.answer_invite(db, snap, meeting.id, who, what, ny(2026, 11, 30, 9, minute),
                                                slack_user="U0NOBODY1" if who is None else None)
        return got.allowed

    assert await answer("de2", "accept", 5) and await answer("fe2", "decline", 6) and await answer("fe2", "accept", 7)
    assert not await answer("acc1", "accept", 8)
    assert not await answer(None, "decline", 9)  # someone outside the directory

    entries = await trail(db, "meeting.")
    assert [(e.actor, e.action, e.subject) for e in entries] == [
        ("de2", "meeting.accepted", f"meeting:{ONBOARDING}"),
        ("fe2", "meeting.declined", f"meeting:{ONBOARDING}"),
        ("fe2", "meeting.accepted", f"meeting:{ONBOARDING}"),
        ("acc1", "meeting.refused", f"meeting:{ONBOARDING}"),
        ("U0NOBODY1", "meeting.refused", f"meeting:{ONBOARDING}"),
    ]
    assert entries[0].before is None
    assert entries[2].before == {"answer": "decline", "at": ny(2026, 11, 30, 9, 6).isoformat()}
    assert entries[2].after == {"id": meeting.id, "answer": "accept", "at": ny(2026, 11, 30, 9, 7).isoformat()}
    assert entries[3].after["refusal"] == "Only the people invited can answer this invite."


# -- one transaction -----------------------------------------------------------------------------


def failing_after(original: Any, action: str) -> Any:
    """``original`` (``audit.record`` or ``audit.record_many``) that writes, then fails, when it
    writes ``action``: the transaction of the action must roll back with it."""

    async def wrapper(session: Any, *args: Any, **kwargs: Any) -> Any:
        result = await original(session, *args, **kwargs)
        actions = [kwargs.get("action")] + [r["action"] for a in args for r in a]
        if action in actions:
            raise RuntimeError("the audit write failed")
        return result

    return wrapper


async def test_an_action_and_its_entry_commit_or_roll_back_together(
    db: Database, deps: SlackDeps, workspace: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = await incidents_svc.open_incident(deps, "profit", "Totals don't match", False, REPORTER, at(10))
    assert isinstance(opened, incidents_svc.Opened)
    inc = opened.incident.id

    # an acknowledgement whose entry cannot be written is not applied
    with monkeypatch.context() as m:
        m.setattr(audit, "record", failing_after(audit.record, "incident.acknowledged"))
        with pytest.raises(RuntimeError):
            await incidents_svc.acknowledge(deps, inc, FIN2, at(10, 4))
    now = await incidents_svc.get_incident(db, inc)
    assert now is not None and now.status == Status.OPEN
    assert [e.kind for e in await incidents_svc.events_of(db, inc)] == ["opened"]
    assert [e.action for e in await trail(db, "incident.")] == ["incident.opened", "incident.page_delivered"]
    assert (await incidents_svc.acknowledge(deps, inc, FIN2, at(10, 5))).applied
    assert [e.action for e in await trail(db, "incident.")] == [
        "incident.opened", "incident.page_delivered", "incident.acknowledged"]

    # a checklist tick likewise
    ticker = ticker_for(db, deps, "profit-month-close")
    await ticker.tick(at(9))
    snap = await load_snapshot(db)
    async with db.sessions() as session:
        row = await store.checklist_by_key(session, CLOSE)
    assert row is not None
    with monkeypatch.context() as m:
        m.setattr(audit, "record_many", failing_after(audit.record_many, "checklist.ticked"))
        with pytest.raises(RuntimeError):
            await scheduled_svc.set_checklist_items(db, snap, row.id, "fin2", [0, 1, 2, 3], [0], at(11))
    async with db.sessions() as session:
        found = await store.checklist(session, row.id)
        assert found is not None and all(i.ticked_by is None for i in found[1])
        assert await store.tick_history(session, row.id) == []
    assert await trail(db, "checklist.ticked") == []

    # a batch of sends whose entries cannot be written stays unrecorded (leased, maybe posted);
    # the next replica finds the post in Slack and records it sent then, with its entry
    ticker = ticker_for(db, deps, "aggregate-profit-growth-daily")
    with monkeypatch.context() as m:
        m.setattr(audit, "record_many", failing_after(audit.record_many, "delivery.sent"))
        with pytest.raises(RuntimeError):
            await ticker.tick(ny(2026, 11, 30, 9))
    assert await trail(db, "delivery.sent", subject=f"delivery:{DAILY}|post") == []
    async with db.sessions() as session:
        [pending] = [d for d in await store.list_deliveries(session) if d.key == f"{DAILY}|post"]
    assert pending.status == "pending" and pending.maybe_posted
    later = ny(2026, 11, 30, 9, 6)  # after the five-minute lease
    report = await ticker_for(db, deps, "aggregate-profit-growth-daily").tick(later)
    assert report.deliveries.found == 1 and report.deliveries.sent == 0
    [entry] = await trail(db, "delivery.sent", subject=f"delivery:{DAILY}|post")
    assert entry.at == later and entry.after["found"] is True and entry.after["attempts"] == 2
    assert len(workspace.messages_in(channel(workspace, "#data-investors"))) == 1


# -- cheap writes --------------------------------------------------------------------------------


async def test_the_tick_writes_its_entries_in_batches(db: Database) -> None:
    """A Monday tick fans out to a dozen deliveries: their entries go in a few multi-row inserts
    (one per batch of sends recorded, one for the checklists opened), not one per message."""
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    vt = VirtualTime()
    ticker = Ticker(db, RecordingPort(), monotonic=vt, sleep=vt.sleep)
    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        report = await ticker.tick(ny(2026, 11, 30, 9))
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO AUDIT_LOG")]
    recorded = [s for s in statements if s.lstrip().upper().startswith("UPDATE SCHEDULED_DELIVERIES")
                and "sent_at" in s]
    entries = Counter(e.action for e in await trail(db))
    assert report.deliveries.sent == entries["delivery.sent"] >= 15
    assert entries["checklist.opened"] == 4
    assert len(recorded) >= 1
    # one insert per batch of sends (in the transaction of the batch's update), one for the
    # checklists opened and one for the occurrences skipped (a fresh database: last week's)
    assert entries["delivery.skipped"] >= 1
    assert len(inserts) == len(recorded) + 2 < entries["delivery.sent"]
