"""The audit trail of a scripted day (issue 5 §3, §7), on SQLite and PostgreSQL: a change and its
cancellation, an incident opened, acknowledged, escalated and resolved, a checklist opened,
ticked and completed, its message delivered. Every action is recorded once, in order, with who
did it (the person id of a Slack user; their Slack user id when they are not in the directory;
None for the bot), and nothing is recorded for a press that changed nothing."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Settings
from bot.core.changes import ChangeKind, ChangeRequest, Target
from bot.core.model import Directory
from bot.render.blocks import Message
from bot.services import changes as changes_svc
from bot.services import incidents as incidents_svc
from bot.services import scheduled as scheduled_svc
from bot.services.queries import load_snapshot
from bot.slack.deps import SlackDeps
from bot.storage import audit
from bot.storage import scheduled as store
from bot.storage.bootstrap import Database
from tests.scheduled.helpers import SEED, ny

from .helpers import DE1, FIN2, REPORTER, at, ticker_for

CLOSE = "profit-month-close/profit/2026-12"  # opens Tue Dec 1 09:00 for fin2 and de1, four items


class Outbox:
    """A ``Notify`` that keeps whom it sent a DM."""

    def __init__(self) -> None:
        self.to: list[str] = []

    async def __call__(self, directory: Directory, person: str, message: Message) -> None:
        self.to.append(person)


@dataclass
class Day:
    change: int
    incident: int
    checklist: int


async def play_the_day(db: Database, deps: SlackDeps) -> Day:
    out = Outbox()
    # 08:00 fin2 has fin1 cover Finance next Tuesday (fin3's day); 08:10 fin1 cancels it
    week = (ny(2026, 12, 8), ny(2026, 12, 9))
    request = ChangeRequest(ChangeKind.OVERRIDE, "fin2", *week, "fin1", target=Target("finance"), reason="dentist")
    change = await changes_svc.apply_change(db, request, at(8), notify=out)
    assert isinstance(change, changes_svc.Applied)
    cancelled = await changes_svc.cancel_change(db, change.record.id, "fin1", at(8, 10), notify=out)
    assert isinstance(cancelled, changes_svc.Cancelled)
    assert out.to == ["fin1", "fin3", "fin3"]

    # 09:00 the tick opens the month-close checklist and posts it (a fresh database: the October
    # and November month closes are long past their due time, so they are skipped)
    ticker = ticker_for(db, deps, "profit-month-close")
    report = await ticker.tick(at(9))
    assert report.claimed == [CLOSE] and report.deliveries.sent == 1

    # 10:00 an incident on Profit: opened by someone outside the directory, acknowledged by fin2;
    # the reporter may not escalate (not in the directory: refused and audited), fin2 escalates to
    # de1 (a second press of the same button changes nothing), resolved by de1
    opened = await incidents_svc.open_incident(deps, "profit", "Totals don't match", False, REPORTER, at(10))
    assert isinstance(opened, incidents_svc.Opened)
    incident = opened.incident.id
    assert (await incidents_svc.acknowledge(deps, incident, FIN2, at(10, 4))).applied
    assert not (await incidents_svc.escalate(deps, incident, 1, REPORTER, at(10, 5))).applied
    assert (await incidents_svc.escalate(deps, incident, 1, FIN2, at(10, 6))).applied
    assert not (await incidents_svc.escalate(deps, incident, 1, FIN2, at(10, 7))).applied
    assert (await incidents_svc.resolve(deps, incident, DE1, at(10, 30))).applied

    # 11:00 fin2 ticks two items, acc1 (another team) may not tick, de1 ticks the other two
    snap = await load_snapshot(db)
    async with db.sessions() as session:
        row = await store.checklist_by_key(session, CLOSE)
    assert row is not None and row.assignees == ["fin2", "de1"]
    items = [0, 1, 2, 3]
    assert (await scheduled_svc.set_checklist_items(db, snap, row.id, "fin2", items, [0, 1], at(11))).allowed
    assert not (await scheduled_svc.set_checklist_items(db, snap, row.id, "acc1", items, items, at(11, 5))).allowed
    done = await scheduled_svc.set_checklist_items(db, snap, row.id, "de1", items, items, at(11, 10))
    assert done.view is not None and done.view.complete
    # the same selection again changes nothing
    assert (await scheduled_svc.set_checklist_items(db, snap, row.id, "de1", items, items, at(11, 15))).changed == ()

    # 12:00 the next tick: nothing due
    assert (await ticker.tick(at(12))).claimed == []
    return Day(change.record.id, incident, row.id)


async def test_the_audit_trail_of_a_scripted_day(db: Database, deps: SlackDeps) -> None:
    day = await play_the_day(db, deps)
    async with db.sessions() as session:
        everything = await audit.entries(session)
    # what an incident owes goes through the outbox, sent in the background (at the action's
    # instant plus the time sending took): listed apart, each sent once
    owed = [e for e in everything if e.subject.startswith("delivery:incident:")]
    sent = [e.subject.removeprefix("delivery:incident:") for e in owed if e.action == "delivery.sent"]
    assert len(owed) == len(sent) and sorted(sent) == [
        "1:page:1:fin2", "1:page:2:de1", "1:post", "1:thread:acknowledged:1", "1:thread:escalated:2",
        "1:thread:opened", "1:thread:resolved:2", "1:update:acknowledged:1", "1:update:escalated:2",
        "1:update:paged:de1", "1:update:paged:fin2", "1:update:resolved:2",
    ]  # fmt: skip
    # each page DM is recorded delivered when Slack took it (a little after its action)
    delivered = [e for e in everything if e.action == "incident.page_delivered"]
    assert [(e.actor, e.subject, e.after["page"]["person"], e.after["key"]) for e in delivered] == [
        (None, f"incident:{day.incident}", "fin2", "incident:1:page:1:fin2"),
        (None, f"incident:{day.incident}", "de1", "incident:1:page:2:de1")]
    for entry, action_at in zip(delivered, (at(10), at(10, 6)), strict=True):
        assert timedelta(0) <= entry.at - action_at < timedelta(seconds=30)
    entries = [e for e in everything if e not in owed and e not in delivered]
    change, inc, close = f"change:{day.change}", f"incident:{day.incident}", f"checklist:{CLOSE}"
    assert [(e.at, e.actor, e.action, e.subject) for e in entries] == [
        (at(8), "fin2", "change.override", change),
        (at(8), None, "change.notified", change),
        (at(8, 10), "fin1", "change.cancelled", change),
        (at(8, 10), None, "cancel.notified", change),
        (at(9), None, "delivery.skipped", "occurrence:profit-month-close/profit/2026-10"),
        (at(9), None, "delivery.skipped", "occurrence:profit-month-close/profit/2026-11"),
        (at(9), None, "checklist.opened", close),
        (at(9), None, "delivery.sent", f"delivery:{CLOSE}|post"),
        (at(10), REPORTER, "incident.opened", inc),
        (at(10, 4), "fin2", "incident.acknowledged", inc),
        (at(10, 5), REPORTER, "incident.refused", inc),
        (at(10, 6), "fin2", "incident.escalated", inc),
        (at(10, 30), "de1", "incident.resolved", inc),
        (at(11), "fin2", "checklist.ticked", close),
        (at(11), "fin2", "checklist.ticked", close),
        (at(11, 5), "acc1", "checklist.refused", close),
        (at(11, 10), "de1", "checklist.ticked", close),
        (at(11, 10), "de1", "checklist.ticked", close),
        (at(11, 10), "de1", "checklist.completed", close),
    ]  # fmt: skip
    by = {(e.action, e.before.get("item") if isinstance(e.before, dict) else None): e for e in entries}

    # what and before/after, as JSON
    sent = by[("delivery.sent", None)].after
    assert sent["key"] == f"{CLOSE}|post" and sent["channel"].startswith("C") and sent["ts"]
    assert by[("checklist.opened", None)].after["assignees"] == ["fin2", "de1"]
    assert by[("checklist.opened", None)].after["id"] == day.checklist
    opened = by[("incident.opened", None)].after
    assert opened["pipeline"] == "profit" and opened["page"]["person"] == "fin2" and opened["page"]["kind"] == "person"
    escalated = by[("incident.escalated", None)]
    assert escalated.before["level"] == 1 and escalated.before["page"]["person"] == "fin2"
    assert escalated.after["level"] == 2 and escalated.after["page"] == {
        "level": 2, "kind": "person", "label": "secondary", "person": "de1", "slot": "data-eng:R1",
        "channels": [], "due": None}  # fmt: skip
    assert escalated.after["reached"] == ["fin2", "de1"]
    assert by[("incident.acknowledged", None)].before["status"] == "open"
    assert by[("incident.resolved", None)].after["status"] == "resolved"
    ticked = by[("checklist.ticked", 0)]
    assert ticked.before == {"item": 0, "text": "Revenue checked", "ticked_by": None, "ticked_at": None}
    assert ticked.after == {"item": 0, "text": "Revenue checked", "ticked_by": "fin2",
                            "ticked_at": at(11).isoformat(), "permission": "assignee"}
    refused = by[("checklist.refused", None)]
    assert refused.after["refusal"] == "not an assignee, in an assignee's team or an admin"
    completed = by[("checklist.completed", None)]
    assert completed.before["status"] == "open" and completed.after["status"] == "complete"
    assert by[("delivery.skipped", None)].after["note"].startswith("not delivered:")

    # the trail by subject: one incident's story
    async with db.sessions() as session:
        story = await audit.entries(session, subject=f"incident:{day.incident}")
    assert [e.action for e in story] == ["incident.opened", "incident.page_delivered", "incident.acknowledged",
                                         "incident.refused", "incident.escalated", "incident.page_delivered",
                                         "incident.resolved"]


@pytest.fixture
def cli_env(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``oncall-bot`` aimed at the test database (no .env file, no Slack, no extra admins)."""
    for name in ("ONCALL_ADMINS", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ONCALL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ONCALL_SEED_PATH", str(SEED))
    monkeypatch.chdir(tmp_path)


async def audit_cli(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    """``oncall-bot audit --json ARGS`` (in a thread: it runs its own event loop); exit 0 for entries, 1 for none."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["audit", "--json", *args])
    data = json.loads(capsys.readouterr().out)
    assert isinstance(data, list)
    assert code == (0 if data else 1)  # "nothing found" exits 1, with the empty list still printed
    return data


async def test_the_audit_command_filters_by_person_and_time(
    db: Database, deps: SlackDeps, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    day = await play_the_day(db, deps)
    every = await audit_cli(capsys)
    assert len(every) == 19 + 12 + 2  # 12: the incident's owed messages, each sent once; 2 pages delivered
    # in time order (an owed message is recorded when the background send ends, so ids may interleave)
    assert [e["at"] for e in every] == sorted(str(e["at"]) for e in every)
    assert len({e["id"] for e in every}) == len(every)

    # fin2: the change, the acknowledgement, the escalation, two ticks; since 10:30 only the ticks
    fin2 = await audit_cli(capsys, "--who", "fin2")
    assert [(e["action"], e["subject"]) for e in fin2] == [
        ("change.override", f"change:{day.change}"),
        ("incident.acknowledged", f"incident:{day.incident}"),
        ("incident.escalated", f"incident:{day.incident}"),
        ("checklist.ticked", f"checklist:{CLOSE}"),
        ("checklist.ticked", f"checklist:{CLOSE}"),
    ]
    later = await audit_cli(capsys, "--who", "fin2", "--since", "2026-12-01T10:30")
    assert [(e["action"], e["at"]) for e in later] == [("checklist.ticked", at(11).isoformat())] * 2
    assert [e["after"]["item"] for e in later] == [0, 1]  # type: ignore[index]

    # someone outside the directory is found by their Slack user id
    reporter = await audit_cli(capsys, "--who", REPORTER, "--since", "2026-12-01T09:30")
    assert [e["action"] for e in reporter] == ["incident.opened", "incident.refused"]

    # --since is inclusive, in the company's zone
    last = await audit_cli(capsys, "--since", "2026-12-01T11:10")
    assert [e["action"] for e in last] == ["checklist.ticked", "checklist.ticked", "checklist.completed"]
    assert await audit_cli(capsys, "--who", "fin2", "--since", "2026-12-01T11:01") == []
    incidents = await audit_cli(capsys, "--action", "incident.", "--since", "2026-12-01T10:06")
    assert [e["action"] for e in incidents] == ["incident.escalated", "incident.page_delivered", "incident.resolved"]
