"""Incidents when Slack is slow or down (issue 10 §1), over real HTTP: signed requests into the
running bot, its Web API calls out to the fake Slack, which hangs, answers 500 or 429.

The incident is stored once, the reporter is told what actually happened, and every message it
owes (the post, its thread, the page) arrives exactly once when Slack recovers (the outbox:
``bot.services.incidents.outbox``), even when a post that timed out had reached Slack.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.clock import fixed_clock
from bot.config import Settings
from bot.render import incident as render
from bot.services import incidents as svc
from bot.slack.app import build_app
from bot.slack.client import NOT_IDEMPOTENT, close_client, make_client, retry_handlers
from bot.slack.context import context_of
from bot.slack.deps import SlackDeps
from bot.slack.server import EVENTS_PATH, build_web_app
from bot.storage import audit
from bot.storage import scheduled as store
from bot.storage.bootstrap import Database
from bot.storage.db import is_unavailable
from bot.storage.tables.incidents import IncidentRow
from tests.slack.harness import NOW, RunningBot, serve, slack_settings
from tests.support.fake_slack import FakeSlack
from tests.support.signing import TEST_SIGNING_SECRET, SlackClientSim, block_action_body, slash_command_body

from .conftest import CHANNELS, add_channels

PROFIT = CHANNELS["data-profit"]
FIN2 = "U0FIN0002"
SUMMARY = "Revenue totals don't match the filing"


@pytest.fixture
async def slow_bot(settings: Settings, db: Database, fake_slack: FakeSlack) -> AsyncIterator[RunningBot]:
    """The running bot with a 1 s Slack time-out and a 3 s wait for the outbox before answering."""
    config = slack_settings(settings, fake_slack, slack_timeout_seconds=1.0, outbox_kick_wait=3.0)
    client = make_client(config)
    deps = SlackDeps(settings=config, db=db, client=client, clock=fixed_clock(NOW))
    app = build_app(deps)
    runner, url = await serve(build_web_app(deps, app))
    sim = SlackClientSim(signing_secret=TEST_SIGNING_SECRET)
    add_channels(fake_slack)
    try:
        yield RunningBot(url, url + EVENTS_PATH, fake_slack, sim, deps, app)
    finally:
        await sim.close()
        await runner.cleanup()
        await deps.background.drain(timeout=5)
        await context_of(app).cache.close()
        await close_client(client)


async def report_incident(b: RunningBot, critical: bool = True) -> None:
    line = f"profit {SUMMARY}" + (" --critical" if critical else "")
    status, body = await b.sim.post(b.events_url, slash_command_body(
        "/incident", line, response_url=b.slack.response_url("cmd")))
    assert status == 200 and body["text"].startswith("Opening a")
    await b.settle()


def reply_text(b: RunningBot, name: str = "cmd") -> str:
    [reply] = b.slack.responses_to(name)
    return str(reply.body["text"])


async def incident_count(db: Database) -> int:
    async with db.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(IncidentRow))).scalar_one())


def top_level(b: RunningBot) -> list[dict[str, Any]]:
    return b.slack.messages_in(PROFIT, include_replies=False)


def dms(b: RunningBot, user: str) -> list[dict[str, Any]]:
    return b.slack.messages_in(b.slack.dm_channel(user))


async def statuses(db: Database, incident_id: int) -> dict[str, str]:
    async with db.sessions() as session:
        rows = await store.deliveries_with_prefix(session, f"incident:{incident_id}:")
    return {r.key: r.status for r in rows}


async def test_slack_hanging_the_incident_is_stored_once_and_everything_arrives_once(slow_bot: RunningBot) -> None:
    b = slow_bot
    gate = b.slack.hold("chat.postMessage")
    await report_incident(b)
    text = reply_text(b)
    assert "database" not in text
    assert text.startswith("Incident #1 (Profit) is recorded; posting to #data-profit")
    assert "I keep trying" in text and f"Paging <@{FIN2}> (pending)." in text
    assert "was notified" not in text
    assert await incident_count(b.deps.db) == 1
    assert top_level(b) == [] and dms(b, FIN2) == []
    assert (await statuses(b.deps.db, 1))["incident:1:post"] == "failed"
    # Slack answers the held posts after the bot gave up on them: they did reach Slack.
    gate.release()
    await b.slack.wait_for("chat.postMessage", count=2, where=lambda c: c.answered)
    assert len(top_level(b)) == 1 and len(dms(b, FIN2)) == 1
    tick = await svc.run_periodic(b.deps, NOW + timedelta(seconds=45))
    assert tick.escalated == 0
    [message] = top_level(b)  # found by its key in the channel's history: not posted again
    [page] = dms(b, FIN2)
    assert "You are paged for a CRITICAL Profit incident" in page["text"]
    [_parent, opened] = b.slack.thread(PROFIT, message["ts"])
    assert opened["text"].startswith("Opened by")
    assert set((await statuses(b.deps.db, 1)).values()) == {"sent"}
    inc = await svc.get_incident(b.deps.db, 1)
    assert inc is not None and inc.ts == message["ts"] and inc.channel == PROFIT
    assert await incident_count(b.deps.db) == 1


async def test_slack_answering_500_then_429_the_reply_is_truthful_and_the_post_comes_later(
    slow_bot: RunningBot,
) -> None:
    b = slow_bot
    b.slack.fail_next("chat.postMessage", 500, times=2)  # the post and the page
    await report_incident(b)
    text = reply_text(b)
    assert text.startswith("Incident #1 (Profit) is recorded; posting to #data-profit failed, I keep trying.")
    assert f"Paging <@{FIN2}> (pending)." in text
    # the listeners' client did not retry the posts itself: one attempt each
    assert len(b.slack.calls_to("chat.postMessage")) == 2
    assert top_level(b) == [] and dms(b, FIN2) == []
    b.slack.fail_next("chat.postMessage", 429, retry_after=1)  # honoured, then sent
    await svc.run_periodic(b.deps, NOW + timedelta(seconds=45))
    [message] = top_level(b)
    assert f"On call: <@{FIN2}>" in str(message["blocks"])
    assert len(dms(b, FIN2)) == 1
    assert len(b.slack.thread(PROFIT, message["ts"])) == 2
    assert b.slack.rate_limited
    # nothing left to send: another tick posts nothing more
    posts = len(b.slack.calls_to("chat.postMessage"))
    await svc.run_periodic(b.deps, NOW + timedelta(minutes=5))
    assert len(b.slack.calls_to("chat.postMessage")) == posts
    assert await incident_count(b.deps.db) == 1


async def test_the_message_says_paged_only_once_the_page_was_sent(slow_bot: RunningBot) -> None:
    b = slow_bot
    b.slack.fail_next("chat.postMessage", 200, error="fatal_error", where=lambda c: c.params.get("channel") == FIN2)
    await report_incident(b)
    assert f"Paging <@{FIN2}> (pending)." in reply_text(b) or f"paging <@{FIN2}> (pending)." in reply_text(b)
    [message] = top_level(b)
    assert f"On call: <@{FIN2}> (page pending)" in str(message["blocks"])
    await svc.run_periodic(b.deps, NOW + timedelta(seconds=45))
    assert len(dms(b, FIN2)) == 1
    [message] = top_level(b)  # updated in place once the DM went out
    assert f"On call: <@{FIN2}> (paged)" in str(message["blocks"])


async def test_acknowledge_while_slack_hangs_says_so_and_the_thread_catches_up(slow_bot: RunningBot) -> None:
    b = slow_bot
    await report_incident(b, critical=False)
    [message] = top_level(b)
    assert reply_text(b).startswith("Incident opened")
    gate = b.slack.hold("chat.update")
    body = block_action_body("incident_ack:1", "1", user_id=FIN2, channel=PROFIT, message_ts=message["ts"],
                             response_url=b.slack.response_url("click"))
    status, _ = await b.sim.post(b.events_url, body)
    assert status == 200
    await b.settle()
    assert reply_text(b, "click") == "Acknowledged; the incident thread will update when Slack answers."
    inc = await svc.get_incident(b.deps.db, 1)
    assert inc is not None and inc.acknowledged_by == FIN2
    gate.release()
    await svc.run_periodic(b.deps, NOW + timedelta(minutes=1))
    [message] = top_level(b)
    assert f"Acknowledged by <@{FIN2}>" in str(message["blocks"])
    ack_lines = [m for m in b.slack.thread(PROFIT, message["ts"]) if "acknowledged" in m["text"]]
    assert len(ack_lines) == 1


async def test_a_critical_incident_whose_first_page_fails_pages_level_2_within_a_minute(slow_bot: RunningBot) -> None:
    b = slow_bot
    b.slack.fail_next("chat.postMessage", 200, error="cannot_dm_user", times=50,
                      where=lambda c: c.params.get("channel") == FIN2)
    await report_incident(b)
    inc = await svc.get_incident(b.deps.db, 1)
    assert inc is not None and inc.level == 1
    before = {c.params.get("channel") for c in b.slack.calls_to("chat.postMessage", ok_only=True)}
    assert (await svc.run_periodic(b.deps, NOW + timedelta(seconds=59))).escalated == 0
    tick = await svc.run_periodic(b.deps, NOW + timedelta(seconds=60))
    assert tick.escalated == 1
    inc = await svc.get_incident(b.deps.db, 1)
    assert inc is not None and inc.level == 2 and inc.page.person is not None
    after = {c.params.get("channel") for c in b.slack.calls_to("chat.postMessage", ok_only=True)}
    [paged] = [u for u in after - before if str(u).startswith("U")]
    assert paged != FIN2
    assert len(dms(b, str(paged))) == 1


async def test_slack_time_outs_are_no_database_outage(fake_slack: FakeSlack, settings: Settings) -> None:
    config = slack_settings(settings, fake_slack, slack_timeout_seconds=1.0)
    client = make_client(config)
    gate = fake_slack.hold("chat.postMessage")
    try:
        with pytest.raises(Exception) as raised:
            await client.chat_postMessage(channel="C1", text="hello")
        assert not is_unavailable(raised.value)
        assert len(fake_slack.calls_to("chat.postMessage")) == 1  # no blind retry of a post
    finally:
        gate.release()
        await close_client(client)
    assert "chat.postMessage" in NOT_IDEMPOTENT and len(retry_handlers()) == 3


async def test_a_database_that_refuses_connections_is_an_outage() -> None:
    from bot.storage.db import create_engine

    engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nothing")
    try:
        with pytest.raises(Exception) as raised:
            async with engine.connect():
                pass
        assert is_unavailable(raised.value)
    finally:
        await engine.dispose()


async def test_the_page_is_recorded_delivered_when_slack_took_the_dm_not_when_it_was_queued(
    slow_bot: RunningBot,
) -> None:
    async def delivered() -> list[audit.AuditEntry]:
        async with b.deps.db.sessions() as session:
            return await audit.entries(session, actions=["incident.page_delivered"])

    b = slow_bot
    # the post goes out; every try of the page DM fails until Slack recovers
    to_fin2 = (FIN2, b.slack.dm_channel(FIN2))
    fault = b.slack.fail_next("chat.postMessage", 500, times=1000, where=lambda c: c.params.get("channel") in to_fin2)
    await report_incident(b, critical=False)
    text = reply_text(b)
    assert text.startswith("Incident opened") and f"paging <@{FIN2}> (pending)." in text
    assert "was notified" not in text
    assert await delivered() == []  # queued in the outbox is not delivered
    assert (await statuses(b.deps.db, 1))["incident:1:page:1:fin2"] == "failed"
    [message] = top_level(b)
    assert f"On call: <@{FIN2}> (page pending)" in str(message["blocks"])
    state = await svc.delivery_state(b.deps.db, 1, level=1)
    assert state.posted and not state.paged

    await svc.run_periodic(b.deps, NOW + timedelta(minutes=1))  # Slack still down: still not delivered
    assert await delivered() == [] and dms(b, FIN2) == []

    fault.times = 0  # Slack recovers
    await svc.run_periodic(b.deps, NOW + timedelta(minutes=5))
    [page] = dms(b, FIN2)
    [entry] = await delivered()
    assert entry.subject == "incident:1" and entry.actor is None
    assert NOW + timedelta(minutes=5) <= entry.at < NOW + timedelta(minutes=6)  # when it was sent
    assert entry.after["page"]["person"] == "fin2" and entry.after["ts"] == page["ts"]
    assert entry.after["attempts"] >= 3 and entry.after["queued"] is False
    state = await svc.delivery_state(b.deps.db, 1, level=1)
    assert state.paged  # what the reporter's "was notified" rests on, now true
    inc = await svc.get_incident(b.deps.db, 1)
    assert inc is not None
    snap = await context_of(b.app).cache.get()
    assert f"<@{FIN2}> was notified." in render.opened_reply(snap.directory, inc, paged=state.paged)
    updated = b.slack.find_message(PROFIT, message["ts"])  # the message no longer says pending
    assert updated is not None and f"On call: <@{FIN2}> (paged)" in str(updated["blocks"])
    await svc.run_periodic(b.deps, NOW + timedelta(minutes=30))
    assert len(dms(b, FIN2)) == 1 and len(await delivered()) == 1  # once
