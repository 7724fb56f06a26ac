"""The incident service on SQLite and PostgreSQL, talking to a fake Slack over HTTP."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from bot.config import Settings
from bot.core.incident import PageKind, Refusal, Refused, Status
from bot.render.ids import Action
from bot.services import incidents as svc
from bot.slack.deps import SlackDeps
from bot.storage.bootstrap import open_database
from tests.support.fake_slack import FakeSlack

from .conftest import CHANNELS, REPORTER, local

PROFIT = CHANNELS["data-profit"]
FIN2, DE1, DE2 = "U0FIN0002", "U0DE00001", "U0DE00002"
TUESDAY_10 = local(2026, 12, 1, 10, 0)


def action_ids(message: dict[str, Any]) -> list[str]:
    out = []
    for block in message.get("blocks", []):
        if block["type"] == "actions":
            out += [e["action_id"].split(":")[0] for e in block["elements"]]
    return out


def text_of(message: dict[str, Any]) -> str:
    """Every piece of mrkdwn text in a message's blocks, joined."""
    parts: list[str] = []
    for block in message.get("blocks", []):
        if "text" in block and isinstance(block["text"], dict):
            parts.append(block["text"]["text"])
        for e in block.get("elements", []):
            if isinstance(e, dict) and e.get("type") == "mrkdwn":
                parts.append(e["text"])
    return "\n".join(parts)


def dms(slack: FakeSlack, user: str) -> list[dict[str, Any]]:
    return slack.messages_in(slack.dm_channel(user))


async def open_profit(deps: SlackDeps, at=TUESDAY_10, critical: bool = False, **kw: Any) -> svc.Opened:  # type: ignore[no-untyped-def]
    opened = await svc.open_incident(deps, "profit", "Revenue totals don't match the filing", critical,
                                     REPORTER, at, **kw)
    assert isinstance(opened, svc.Opened)
    return opened


async def test_open_posts_the_message_pages_the_primary_and_starts_the_thread(
    deps: SlackDeps, workspace: FakeSlack
) -> None:
    opened = await open_profit(deps)
    inc = opened.incident
    assert inc.id > 0 and inc.channel == PROFIT and inc.ts and inc.permalink
    [message] = workspace.messages_in(PROFIT, include_replies=False)
    body = text_of(message)
    assert "Profit" in body and "Revenue totals don't match the filing" in body
    assert f"Reported by <@{REPORTER}>" in body
    assert f"On call: <@{FIN2}> (paged) · Level 1 of 4" in body
    assert "*SLA:* Monthly review of data by Finance and Accounts teams." in body
    assert "“Data mismatches with filings requiring accountant verification.”" in body
    assert action_ids(message) == [Action.INCIDENT_ACK, Action.INCIDENT_ESCALATE, Action.INCIDENT_RESOLVE]
    assert message["metadata"]["event_payload"]["incident"] == inc.id
    [dm] = dms(workspace, FIN2)
    assert "You are paged for a Profit incident" in dm["text"]
    assert inc.permalink in text_of(dm)
    thread = workspace.thread(PROFIT, inc.ts)
    assert thread[1]["text"] == f"Opened by <@{REPORTER}>; paged <@{FIN2}> (Finance on-call)."
    events = await svc.events_of(deps.db, inc.id)
    assert [e.kind for e in events] == ["opened"] and events[0].at == TUESDAY_10


async def test_escalate_posts_in_the_thread_updates_the_message_and_pages_level_2(
    deps: SlackDeps, workspace: FakeSlack
) -> None:
    inc = (await open_profit(deps)).incident
    at = TUESDAY_10 + timedelta(minutes=6)
    acted = await svc.escalate(deps, inc.id, 1, FIN2, at)
    assert acted.applied and acted.incident.level == 2
    assert acted.incident.page.person == "de1"
    assert inc.ts is not None
    thread = workspace.thread(PROFIT, inc.ts)
    assert thread[-1]["text"] == f"<@{FIN2}> escalated to <@{DE1}> (level 2, DE R1)"
    message = workspace.find_message(PROFIT, inc.ts)
    assert message is not None and "edited" in message
    assert f"Paged: <@{DE1}> (DE R1) · Level 2 of 4" in text_of(message)
    [page] = dms(workspace, DE1)
    assert "level 2 (DE R1)" in text_of(page)
    events = await svc.events_of(deps.db, inc.id)
    assert [(e.kind, e.level, e.actor) for e in events] == [
        ("opened", 1, REPORTER), ("escalated", 2, FIN2)]
    assert events[1].at == at


async def test_concurrent_presses_escalate_once(deps: SlackDeps, workspace: FakeSlack) -> None:
    inc = (await open_profit(deps)).incident
    at = TUESDAY_10 + timedelta(minutes=1)
    results = await asyncio.gather(*(svc.escalate(deps, inc.id, 1, FIN2, at) for _ in range(4)))
    assert sum(r.applied for r in results) == 1
    assert {r.refusal for r in results if not r.applied} == {Refusal.STALE}
    assert all(r.incident.level == 2 for r in results)
    events = await svc.events_of(deps.db, inc.id)
    assert [e.kind for e in events].count("escalated") == 1
    assert len(dms(workspace, DE1)) == 1
    assert inc.ts is not None
    assert sum("escalated" in m["text"] for m in workspace.thread(PROFIT, inc.ts)) == 1


async def test_concurrent_acknowledge_and_resolve_act_once_each(deps: SlackDeps) -> None:
    inc = (await open_profit(deps)).incident
    at = TUESDAY_10 + timedelta(minutes=4)
    acks = await asyncio.gather(*(svc.acknowledge(deps, inc.id, FIN2, at) for _ in range(3)))
    assert sum(a.applied for a in acks) == 1
    assert {a.refusal for a in acks if not a.applied} == {Refusal.ALREADY_ACKNOWLEDGED}
    done = await asyncio.gather(*(svc.resolve(deps, inc.id, DE1, at + timedelta(hours=1)) for _ in range(3)))
    assert sum(r.applied for r in done) == 1
    final = await svc.get_incident(deps.db, inc.id)
    assert final is not None and final.status == Status.RESOLVED and final.resolved_by == DE1
    assert final.acknowledged_at == at
    kinds = [e.kind for e in await svc.events_of(deps.db, inc.id)]
    assert kinds == ["opened", "acknowledged", "resolved"]


async def test_ack_and_resolve_lines_and_buttons(deps: SlackDeps, workspace: FakeSlack) -> None:
    inc = (await open_profit(deps)).incident
    assert inc.ts is not None
    await svc.acknowledge(deps, inc.id, FIN2, TUESDAY_10 + timedelta(minutes=4))
    message = workspace.find_message(PROFIT, inc.ts)
    assert message is not None
    assert action_ids(message) == [Action.INCIDENT_ESCALATE, Action.INCIDENT_RESOLVE]
    assert workspace.thread(PROFIT, inc.ts)[-1]["text"] == f"<@{FIN2}> acknowledged (4 min)"
    await svc.resolve(deps, inc.id, DE1, TUESDAY_10 + timedelta(hours=1, minutes=12))
    message = workspace.find_message(PROFIT, inc.ts)
    assert message is not None and action_ids(message) == []
    assert "RESOLVED" in text_of(message)
    assert workspace.thread(PROFIT, inc.ts)[-1]["text"] == f"Resolved by <@{DE1}> after 1 h 12 min"
    again = await svc.escalate(deps, inc.id, 1, FIN2, TUESDAY_10 + timedelta(hours=2))
    assert again.refusal == Refusal.ALREADY_RESOLVED


async def test_chain_to_the_end_posts_to_the_owning_teams_channels(deps: SlackDeps, workspace: FakeSlack) -> None:
    inc = (await open_profit(deps)).incident
    for level in (1, 2, 3):
        acted = await svc.escalate(deps, inc.id, level, FIN2, TUESDAY_10 + timedelta(minutes=level))
        assert acted.applied
    final = acted.incident
    assert final.level == 4 and final.page.kind == PageKind.CHANNEL
    for channel in ("finance", "risk"):
        [post] = workspace.messages_in(CHANNELS[channel])
        assert "escalated to your team" in post["text"]
    assert inc.ts is not None
    message = workspace.find_message(PROFIT, inc.ts)
    assert message is not None
    assert action_ids(message) == [Action.INCIDENT_ACK, Action.INCIDENT_RESOLVE]  # no Escalate at the end
    end = await svc.escalate(deps, inc.id, 4, FIN2, TUESDAY_10 + timedelta(minutes=9))
    assert end.refusal == Refusal.END_OF_CHAIN


async def test_opening_twice_with_the_same_key_opens_once(deps: SlackDeps, workspace: FakeSlack) -> None:
    first = await open_profit(deps, source_key="trigger-1")
    second = await open_profit(deps, source_key="trigger-1")
    assert second.duplicate and second.incident.id == first.incident.id
    assert len(workspace.messages_in(PROFIT, include_replies=False)) == 1
    assert len(dms(workspace, FIN2)) == 1


async def test_growth_on_a_saturday_queues_the_page_until_monday(deps: SlackDeps, workspace: FakeSlack) -> None:
    saturday = local(2026, 11, 28, 11, 0)
    opened = await svc.open_incident(deps, "growth", "Duplicate renewals", False, REPORTER, saturday)
    assert isinstance(opened, svc.Opened)
    inc = opened.incident
    assert inc.page.kind == PageKind.QUEUED and inc.page.due == local(2026, 11, 30, 9, 0)
    assert inc.ts is not None
    growth = CHANNELS["data-growth"]
    assert dms(workspace, DE1) == []
    opened_line = workspace.thread(growth, inc.ts)[1]["text"]
    assert "Growth has no on-call now, so the page goes out" in opened_line and f"<@{DE1}>" in opened_line
    assert await svc.deliver_queued_pages(deps, local(2026, 11, 30, 8, 59)) == 0
    assert await svc.deliver_queued_pages(deps, local(2026, 11, 30, 9, 0)) == 1
    assert await svc.deliver_queued_pages(deps, local(2026, 11, 30, 9, 1)) == 0
    [page] = dms(workspace, DE1)
    assert "Growth incident" in page["text"]
    assert workspace.thread(growth, inc.ts)[-1]["text"] == f"Queued page sent: <@{DE1}> paged (level 1, DE R1)"
    now = await svc.get_incident(deps.db, inc.id)
    assert now is not None and now.page.kind == PageKind.PERSON


async def test_resolving_cancels_a_queued_page(deps: SlackDeps, workspace: FakeSlack) -> None:
    saturday = local(2026, 11, 28, 11, 0)
    opened = await svc.open_incident(deps, "growth", "Duplicate renewals", False, REPORTER, saturday)
    assert isinstance(opened, svc.Opened)
    await svc.resolve(deps, opened.incident.id, DE1, saturday + timedelta(hours=1))
    assert await svc.deliver_queued_pages(deps, local(2026, 11, 30, 9, 0)) == 0
    assert dms(workspace, DE1) == []


async def test_a_failed_queued_page_is_retried(deps: SlackDeps, workspace: FakeSlack) -> None:
    saturday = local(2026, 11, 28, 11, 0)
    opened = await svc.open_incident(deps, "growth", "Duplicate renewals", False, REPORTER, saturday)
    assert isinstance(opened, svc.Opened)
    workspace.fail_next("chat.postMessage", 200, error="fatal_error",
                        where=lambda c: c.params.get("channel") == DE1)
    assert await svc.deliver_queued_pages(deps, local(2026, 11, 30, 9, 0)) == 1  # handed to the outbox
    assert dms(workspace, DE1) == []  # the DM failed: retried with backoff, not dropped
    growth, ts = CHANNELS["data-growth"], opened.incident.ts
    assert ts is not None
    # the thread does not say the page went out before it did
    assert not any("Queued page sent" in m["text"] for m in workspace.thread(growth, ts))
    assert await svc.deliver_queued_pages(deps, local(2026, 11, 30, 9, 1)) == 0  # claimed once
    await svc.run_periodic(deps, local(2026, 11, 30, 9, 1))
    assert len(dms(workspace, DE1)) == 1
    assert workspace.thread(growth, ts)[-1]["text"] == f"Queued page sent: <@{DE1}> paged (level 1, DE R1)"


async def test_critical_incident_auto_escalates_to_the_end(deps: SlackDeps, workspace: FakeSlack) -> None:
    at = local(2026, 12, 1, 22, 0)  # Profit after hours, critical: DE R1 paged at once
    inc = (await open_profit(deps, at=at, critical=True)).incident
    assert inc.page.person == "de1" and inc.next_auto_at == at + timedelta(minutes=15)
    assert (await svc.run_periodic(deps, at + timedelta(minutes=14))).escalated == 0
    tick = await svc.run_periodic(deps, at + timedelta(minutes=15))
    assert tick.escalated == 1
    assert inc.ts is not None
    assert workspace.thread(PROFIT, inc.ts)[-1]["text"] == (
        f"Not acknowledged after 15 min: escalated to <@{FIN2}> (level 2, Finance on-call)")
    assert (await svc.run_periodic(deps, at + timedelta(minutes=29))).escalated == 0
    assert (await svc.run_periodic(deps, at + timedelta(minutes=30))).escalated == 1
    assert (await svc.run_periodic(deps, at + timedelta(minutes=45))).escalated == 1
    final = await svc.get_incident(deps.db, inc.id)
    assert final is not None and final.level == 4 and final.page.kind == PageKind.CHANNEL
    assert final.next_auto_at is None
    assert (await svc.run_periodic(deps, at + timedelta(hours=2))).escalated == 0
    assert [e.auto for e in await svc.events_of(deps.db, inc.id)] == [False, True, True, True]


async def test_acknowledging_stops_auto_escalation(deps: SlackDeps) -> None:
    at = local(2026, 12, 1, 22, 0)
    inc = (await open_profit(deps, at=at, critical=True)).incident
    await svc.acknowledge(deps, inc.id, DE1, at + timedelta(minutes=3))
    assert (await svc.run_periodic(deps, at + timedelta(minutes=15))).escalated == 0
    assert (await svc.get_incident(deps.db, inc.id)).level == 1  # type: ignore[union-attr]


async def test_concurrent_ticks_auto_escalate_once(deps: SlackDeps) -> None:
    at = local(2026, 12, 1, 22, 0)
    inc = (await open_profit(deps, at=at, critical=True)).incident
    ticks = await asyncio.gather(*(svc.run_periodic(deps, at + timedelta(minutes=15)) for _ in range(3)))
    assert sum(t.escalated for t in ticks) == 1
    assert (await svc.get_incident(deps.db, inc.id)).level == 2  # type: ignore[union-attr]


async def test_open_incidents_for_a_person(deps: SlackDeps) -> None:
    first = (await open_profit(deps)).incident
    second = (await open_profit(deps, at=TUESDAY_10 + timedelta(minutes=1))).incident
    await svc.escalate(deps, first.id, 1, FIN2, TUESDAY_10 + timedelta(minutes=2))
    await svc.resolve(deps, second.id, FIN2, TUESDAY_10 + timedelta(minutes=3))
    assert [i.id for i in await svc.open_incidents_for(deps.db, "fin2")] == [first.id]
    assert [i.id for i in await svc.open_incidents_for(deps.db, "de1")] == [first.id]
    assert await svc.open_incidents_for(deps.db, "de2") == []
    assert [i.id for i in await svc.open_incidents_for(deps.db, "nobody", REPORTER)] == [first.id]


async def test_incidents_survive_a_restart(deps: SlackDeps, settings: Settings) -> None:
    inc = (await open_profit(deps, critical=True)).incident
    await svc.escalate(deps, inc.id, 1, FIN2, TUESDAY_10 + timedelta(minutes=2))
    again = await open_database(settings, say=lambda _line: None)
    try:
        stored = await svc.get_incident(again, inc.id)
        assert stored is not None
        assert (stored.level, stored.page.person, stored.critical, stored.opened_at) == (2, "de1", True, TUESDAY_10)
        assert stored.next_auto_at == TUESDAY_10 + timedelta(minutes=17)
        assert [e.kind for e in await svc.events_of(again, inc.id)] == ["opened", "escalated"]
    finally:
        await again.close()


async def test_unknown_pipeline_is_refused(deps: SlackDeps) -> None:
    out = await svc.open_incident(deps, "nope", "x", False, REPORTER, TUESDAY_10)
    assert isinstance(out, Refused) and out.reason == Refusal.NO_CHAIN
