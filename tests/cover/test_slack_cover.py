"""Cover requests over real HTTP, signed as Slack signs them, against the FakeSlack (SQLite and
PostgreSQL), with two bot replicas on one database where it matters. The clock is Tuesday
2026-12-01 10:00 in New York, week 4: DE R2 de2 (Engagement primary on business days), R3 de3,
R4 de4; Data Engineering's lead is de1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from bot.config import Settings
from bot.services import cover as svc
from bot.services.deliveries import WebSlackPort
from bot.storage import audit
from bot.storage.bootstrap import Database, open_database
from tests.changes.helpers import local
from tests.slack.harness import RunningBot, running_bot, slack_settings
from tests.support.fake_slack import FakeSlack
from tests.support.signing import block_action_body, slash_command_body

pytestmark = pytest.mark.e2e

LEAD, DEV, DORA, DE4, FIN2 = "U0DE00001", "U0DE00002", "U0DE00003", "U0DE00004", "U0FIN0002"


@asynccontextmanager
async def replica(settings: Settings, slack: FakeSlack) -> AsyncIterator[RunningBot]:
    """A second bot process's worth: its own database pool, app, HTTP server and client."""
    db = await open_database(settings, say=lambda _l: None)
    try:
        async with running_bot(slack_settings(settings, slack), db, slack) as running:
            yield running
    finally:
        await db.close()


async def ask(bot: RunningBot, text: str, user: str) -> dict[str, Any]:
    """The answer: in the ack, or (a slow machine) through the response_url after it."""
    body = slash_command_body("/oncall", text, user_id=user, response_url=bot.slack.response_url("cmd"))
    before = len(bot.slack.responses_to("cmd"))
    status, answer = await bot.sim.post(bot.events_url, body)
    assert status == 200 and isinstance(answer, dict), answer
    if answer.get("text") == "Working on it…":
        await bot.slack.wait_for_responses("cmd", before + 1, timeout=30)
        later = bot.slack.responses_to("cmd")[before].body
        assert isinstance(later, dict)
        return {**later, "response_type": later.get("response_type", "ephemeral")}
    return answer


async def press(bot: RunningBot, action: str, value: str, user: str, name: str) -> None:
    body = block_action_body(f"{action}:{value}", value, user_id=user, response_url=bot.slack.response_url(name))
    status, _ = await bot.sim.post(bot.events_url, body)
    assert status == 200


def said(bot: RunningBot, name: str) -> list[str]:
    return [json.dumps(r.body, ensure_ascii=False) for r in bot.slack.responses_to(name)]


def posts_to(bot: RunningBot, channel: str) -> list[str]:
    return [json.dumps(c.params, ensure_ascii=False) for c in bot.slack.calls_to("chat.postMessage")
            if c.params.get("channel") == channel]


async def actions(db: Database) -> list[str]:
    async with db.sessions() as s:
        return [e.action for e in await audit.entries(s)]


async def _asked(bot: RunningBot) -> None:
    bot.slack.add_channel(name="data-eng")
    answer = await ask(bot, "cover dec 2 dec 2 dentist <!channel> <https://evil.example|click>", DEV)
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith(":sos: Asked for cover (#1): 1 slot(s), posted in #data-eng.")
    await bot.settle()


async def test_cover_posts_in_the_team_channel_with_take_buttons_and_the_reason_escaped(bot: RunningBot) -> None:
    await _asked(bot)
    posted = posts_to(bot, "#data-eng")
    assert len(posted) == 1
    assert "cover_take:1:1" in posted[0] and "Engagement primary" in posted[0]
    assert "&lt;!channel&gt;" in posted[0] and "<!channel>" not in posted[0]
    assert "<https://evil" not in posted[0]


async def test_two_replicas_pressing_take_at_once_give_one_winner(bot: RunningBot, settings: Settings) -> None:
    await _asked(bot)
    async with replica(settings, bot.slack) as other:
        await asyncio.gather(press(bot, "cover_take", "1:1", DORA, "a"), press(other, "cover_take", "1:1", DE4, "b"))
        await bot.settle()
        await other.settle()
    answers = said(bot, "a") + said(bot, "b")
    assert len(answers) == 2
    assert sum("You cover" in a for a in answers) == 1
    assert sum("took it first" in a for a in answers) == 1
    assert all('"response_type": "ephemeral"' in a for a in answers)
    done = await actions(bot.deps.db)
    assert done.count("cover.taken") == 1 and done.count("change.override") == 1
    assert done.count("cover.take_refused") == 1
    updates = [json.dumps(c.params) for c in bot.slack.calls_to("chat.update")]
    assert any("Taken by" in u for u in updates)
    winner = DORA if any("You cover" in a for a in said(bot, "a")) else DE4
    assert any("You now cover" in m for m in posts_to(bot, winner))  # DMs to the taker and the requester
    assert any("covers you" in m for m in posts_to(bot, DEV))


async def test_outsider_ineligible_and_away_takes_are_refused_privately_and_audited(bot: RunningBot) -> None:
    await _asked(bot)
    away = await ask(bot, "away dec 2 dec 2", DE4)
    assert away["text"].startswith(":white_check_mark:"), away["text"]
    await press(bot, "cover_take", "1:1", "U0NOBODY", "outsider")
    await press(bot, "cover_take", "1:1", FIN2, "fin")
    await press(bot, "cover_take", "1:1", DE4, "away")
    await bot.settle()
    assert "not in the on-call directory" in said(bot, "outsider")[0]
    assert "Only members of" in said(bot, "fin")[0]
    assert "with nobody on call" in said(bot, "away")[0]
    async with bot.deps.db.sessions() as s:
        refused = [e for e in await audit.entries(s) if e.action == "cover.take_refused"]
    assert sorted((e.actor, e.after["refusal"]) for e in refused) == [
        ("de4", "nobody"), ("fin2", "forbidden"), ("slack:U0NOBODY", "forbidden")]


async def test_untake_restores_the_slot_and_the_message_says_so(bot: RunningBot) -> None:
    await _asked(bot)
    await press(bot, "cover_take", "1:1", DORA, "take")
    await bot.settle()
    answer = await ask(bot, "engagement at dec 2 10:00", DEV)
    assert "<@U0DE00003>" in answer["text"]
    await press(bot, "cover_untake", "1:1", DEV, "nope")  # the requester is not the taker nor the lead
    await bot.settle()  # each press is worked on after its ack: in order, or "back" may come first
    await press(bot, "cover_untake", "1:1", DORA, "back")
    await bot.settle()
    assert "Only whoever took it" in said(bot, "nope")[0]
    assert "open again" in said(bot, "back")[0]
    answer = await ask(bot, "engagement at dec 2 10:00", DEV)
    assert answer["text"].startswith("Engagement: <@U0DE00002>")
    updates = [json.dumps(c.params) for c in bot.slack.calls_to("chat.update")]
    assert "Open" in updates[-1] and "cover_take:1:1" in updates[-1]
    threads = [c.params for c in bot.slack.calls_to("chat.postMessage") if c.params.get("thread_ts")]
    assert any("no longer covers" in str(t.get("text")) for t in threads)
    assert (await actions(bot.deps.db)).count("cover.untaken") == 1


async def test_the_leads_dm_and_the_expiry_happen_once_across_replicas(bot: RunningBot, settings: Settings) -> None:
    await _asked(bot)
    start = local(2026, 12, 2, 8)
    async with replica(settings, bot.slack) as other:
        ports = [WebSlackPort(WebSlackPort.posting_client(b.deps.client)) for b in (bot, other)]
        for at in (local(2026, 12, 1, 8, 1), local(2026, 12, 1, 8, 2), start, local(2026, 12, 2, 8, 1)):
            await asyncio.gather(svc.run_tick(bot.deps.db, at, ports[0]), svc.run_tick(other.deps.db, at, ports[1]))
    lead_dms = [m for m in posts_to(bot, LEAD) if "Nobody has taken" in m]
    assert len(lead_dms) == 1
    expired = [m for m in posts_to(bot, DEV) if "it stays with you" in m]
    assert len(expired) == 1
    updates = [json.dumps(c.params) for c in bot.slack.calls_to("chat.update")]
    assert len(updates) == 1 and "stayed with" in updates[0] and "closed" in updates[0]
    done = await actions(bot.deps.db)
    assert done.count("cover.lead_notified") == 1 and done.count("cover.expired") == 1
    await press(bot, "cover_take", "1:1", DORA, "late")
    await bot.settle()
    assert "It has started" in said(bot, "late")[0]


async def test_take_the_pager_tells_the_relieved_and_the_backup(bot: RunningBot) -> None:
    answer = await ask(bot, "take engagement for 2h", DORA)
    assert answer["text"].startswith(":pager: <@U0DE00003> is primary for Engagement until"), answer["text"]
    await bot.settle()
    assert any("took the Engagement pager from you" in m for m in posts_to(bot, DEV))
    assert any("you stay the backup" in m for m in posts_to(bot, "U0FE00002"))
    now = await ask(bot, "engagement", DEV)
    assert now["text"].startswith("Engagement: <@U0DE00003>")
    refused = await ask(bot, "give engagement <@U0DE00004>", DEV)  # de2 no longer holds it
    assert refused["text"].startswith(":no_entry: Not handed over: Only whoever holds")
    assert "pager.refused" in await actions(bot.deps.db)


async def test_take_all_takes_every_open_slot_of_the_message(bot: RunningBot) -> None:
    bot.slack.add_channel(name="data-eng")
    answer = await ask(bot, "cover dec 2 dec 3", DEV)
    assert answer["text"].startswith(":sos: Asked for cover (#1): 2 slot(s)"), answer["text"]
    await bot.settle()
    assert "cover_take_all:1:#data-eng" in posts_to(bot, "#data-eng")[0]
    await press(bot, "cover_take_all", "1:#data-eng", DORA, "all")
    await bot.settle()
    assert said(bot, "all")[0].count(":white_check_mark: You cover") == 4  # text and block
    done = await actions(bot.deps.db)
    assert done.count("cover.taken") == 2
    updates = [json.dumps(c.params) for c in bot.slack.calls_to("chat.update")]
    assert "every slot was taken" in updates[-1]
