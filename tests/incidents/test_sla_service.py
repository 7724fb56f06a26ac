"""SLA clocks on incidents (issue 12 §4) through the service, on SQLite and PostgreSQL with the
fake Slack over HTTP: fix-by stored at opening and shown, the reminder one business day before to
the assignee, and the escalation at the deadline to the secondary and the owning team's channel,
each exactly once when several replicas tick at the same instant."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.services import incidents as svc
from bot.slack.deps import SlackDeps
from bot.storage import audit
from tests.support.fake_slack import FakeSlack

from .conftest import CHANNELS, REPORTER, local
from .test_service import dms, text_of

ENGAGEMENT, FRONTEND = CHANNELS["data-engagement"], CHANNELS["frontend"]
DE2, FE3 = "U0DE00002", "U0FE00003"  # Engagement primary (DE R2) in week 4; frontend on-call in week 5
OPENED = local(2026, 12, 1, 10, 0)  # Tuesday
DUE = local(2026, 12, 8, 10, 0)  # fix_within: 7d
REMIND = local(2026, 12, 7, 10, 0)  # one business day before


async def open_engagement(deps: SlackDeps) -> svc.Opened:
    opened = await svc.open_incident(deps, "engagement", "Clickstream data missing since Monday", False,
                                     REPORTER, OPENED)
    assert isinstance(opened, svc.Opened)
    return opened


async def test_fix_by_is_stored_and_shown(deps: SlackDeps, workspace: FakeSlack) -> None:
    inc = (await open_engagement(deps)).incident
    assert inc.fix_by == DUE and inc.fix_remind_at == REMIND
    [message] = workspace.messages_in(ENGAGEMENT, include_replies=False)
    assert f"Fix by <!date^{int(DUE.timestamp())}^" in text_of(message)
    assert "(fix within 7 days)" in text_of(message)
    [page] = dms(workspace, DE2)
    assert "Fix by" in text_of(page)


async def test_no_fix_by_without_a_rule(deps: SlackDeps, workspace: FakeSlack) -> None:
    opened = await svc.open_incident(deps, "profit", "Totals off", False, REPORTER, OPENED)
    assert isinstance(opened, svc.Opened) and opened.incident.fix_by is None
    assert "Fix by" not in text_of(workspace.messages_in(CHANNELS["data-profit"], include_replies=False)[0])


async def test_reminder_then_escalation_each_once_across_replicas(deps: SlackDeps, workspace: FakeSlack) -> None:
    inc = (await open_engagement(deps)).incident
    before = len(dms(workspace, DE2))
    assert (await svc.run_periodic(deps, REMIND - timedelta(minutes=1))).sla_reminded == 0
    ticks = await asyncio.gather(*(svc.run_periodic(deps, REMIND) for _ in range(3)))
    assert sum(t.sla_reminded for t in ticks) == 1
    reminders = dms(workspace, DE2)[before:]
    assert len(reminders) == 1 and "Reminder" in reminders[0]["text"] and "Clickstream" in reminders[0]["text"]
    assert any("SLA reminder sent to <@U0DE00002>" in m["text"] for m in workspace.thread(ENGAGEMENT, inc.ts or ""))
    assert (await svc.run_periodic(deps, REMIND + timedelta(minutes=1))).sla_reminded == 0

    assert (await svc.run_periodic(deps, DUE - timedelta(minutes=1))).sla_escalated == 0
    ticks = await asyncio.gather(*(svc.run_periodic(deps, DUE) for _ in range(3)))
    assert sum(t.sla_escalated for t in ticks) == 1
    [dm] = dms(workspace, FE3)
    assert "passed its fix-by" in dm["text"]
    [post] = workspace.messages_in(FRONTEND)
    assert "passed its fix-by" in post["text"]
    thread = workspace.thread(ENGAGEMENT, inc.ts or "")
    assert any("Fix-by passed" in m["text"] and "<@U0FE00003>" in m["text"] for m in thread)
    [message] = workspace.messages_in(ENGAGEMENT, include_replies=False)
    assert "Past its fix-by" in text_of(message)
    assert (await svc.run_periodic(deps, DUE + timedelta(hours=1))).sla_escalated == 0
    async with deps.db.sessions() as session:
        actions = [e.action for e in await audit.entries(session, subject=f"incident:{inc.id}")]
    assert actions.count("incident.sla_reminded") == 1 and actions.count("incident.sla_escalated") == 1


async def test_resolved_incidents_are_not_followed_up(deps: SlackDeps, workspace: FakeSlack) -> None:
    inc = (await open_engagement(deps)).incident
    await svc.resolve(deps, inc.id, None, OPENED + timedelta(hours=1))
    tick = await svc.run_periodic(deps, DUE)
    assert (tick.sla_reminded, tick.sla_escalated) == (0, 0)
    assert workspace.messages_in(FRONTEND) == []
    [message] = workspace.messages_in(ENGAGEMENT, include_replies=False)
    assert "Fixed before its deadline" in text_of(message)


async def test_a_missed_reminder_gives_way_to_the_escalation(deps: SlackDeps, workspace: FakeSlack) -> None:
    await open_engagement(deps)
    before = len(dms(workspace, DE2))
    tick = await svc.run_periodic(deps, DUE + timedelta(hours=2))  # the bot was down over the reminder
    assert (tick.sla_reminded, tick.sla_escalated) == (0, 1)
    assert len(dms(workspace, DE2)) == before
