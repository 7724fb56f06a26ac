"""Events over real HTTP: @-mentions answered in the thread, the Home tab, redelivered events."""

from __future__ import annotations

import json
from typing import Any

from bot.storage.scheduled import add_checklist, claim
from tests.slack.harness import DEV, NOW, RunningBot
from tests.support import payloads as p
from tests.support.signing import app_home_opened_body, app_mention_body, retry_headers

BOT = p.BOT_USER_ID


async def mention(bot: RunningBot, text: str, **kw: Any) -> str:
    ts = p.new_message_ts()
    status, _ = await bot.sim.post(bot.events_url, app_mention_body(f"<@{BOT}> {text}", ts=ts, **kw))
    assert status == 200
    return ts


async def test_mention_answers_in_the_thread(bot: RunningBot) -> None:
    ts = await mention(bot, "who is on call for growth?", user_id=DEV)
    [post] = await bot.slack.wait_for("chat.postMessage")
    assert post.params["channel"] == p.CHANNEL_ID
    assert post.params["thread_ts"] == ts
    assert post.params["text"].startswith("Growth: ")
    blocks = json.dumps(post.params["blocks"])
    assert "*Growth*" in blocks
    assert "share_in_channel" not in blocks  # already in the channel
    assert post.ok


async def test_mention_in_a_thread_stays_in_that_thread(bot: RunningBot) -> None:
    parent = p.new_message_ts()
    await mention(bot, "who owns clickstream?", thread_ts=parent)
    [post] = await bot.slack.wait_for("chat.postMessage")
    assert post.params["thread_ts"] == parent
    assert post.params["text"] == "Engagement is owned by Software Frontend Team (secondary: Data Engineering Team)"


async def test_mention_runbook_and_help(bot: RunningBot) -> None:
    await mention(bot, "runbook profit")
    await mention(bot, "help")
    posts = await bot.slack.wait_for("chat.postMessage", count=2)
    assert sorted(c.params["text"] for c in posts) == ["Here is what I answer:", "Runbook: Profit"]


async def test_mistakes_in_a_mention_are_said_only_to_the_asker(bot: RunningBot) -> None:
    ts = await mention(bot, "who is on call for growht?", user_id=DEV)
    [eph] = await bot.slack.wait_for("chat.postEphemeral")
    assert eph.params["user"] == DEV
    assert eph.params["thread_ts"] == ts
    assert eph.params["text"] == "I don't know a pipeline “growht”. Did you mean `growth`?"
    assert not bot.slack.calls_to("chat.postMessage")


async def test_a_mention_the_bot_does_not_understand(bot: RunningBot) -> None:
    await mention(bot, "what is for lunch?")
    [eph] = await bot.slack.wait_for("chat.postEphemeral")
    assert eph.params["text"].startswith("I did not catch that.")
    assert "/oncall PIPELINE" in json.dumps(eph.params["blocks"])


async def test_redelivered_events_are_answered_once(bot: RunningBot) -> None:
    body = app_mention_body(f"<@{BOT}> who is on call for profit", event_id="Ev0REDELIVER")
    first = await bot.sim.post(bot.events_url, body)
    again = await bot.sim.post(bot.events_url, body, retry_headers(1))
    third = await bot.sim.post(bot.events_url, body, retry_headers(2, "http_error"))
    assert (first.status, again.status, third.status) == (200, 200, 200)
    await bot.settle()
    posts = bot.slack.calls_to("chat.postMessage")
    assert len(posts) == 1 and posts[0].params["text"].startswith("Profit: ")


async def test_home_tab(bot: RunningBot) -> None:
    async with bot.deps.db.sessions.begin() as session:
        occurrence = await claim(session, {
            "key": "test:occurrence", "definition": "month-end-close", "kind": "checklist", "period": "2026-12",
            "opens_at": NOW, "due_at": NOW, "assignees": ["de2"], "status": "claimed", "claimed_by": "test",
            "claimed_at": NOW,
        })
        await add_checklist(session, {
            "occurrence_id": occurrence, "key": "test:checklist", "definition": "month-end-close",
            "title": "Month-end close", "pipeline": "profit", "channel": "#data-profit", "opens_at": NOW, "due_at": NOW,
            "assignees": ["de2"], "status": "open",
        }, ["Reconcile"])
    status, _ = await bot.sim.post(bot.events_url, app_home_opened_body(DEV))
    assert status == 200
    [call] = await bot.slack.wait_for("views.publish")
    assert call.ok, call.response
    assert call.params["user_id"] == DEV
    view = call.params["view"]
    assert view["type"] == "home"
    assert len(view["blocks"]) <= 100
    headers = [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"]
    assert headers == ["Your on-call", "Your pipelines", "Open incidents", "Checklists due"]
    text = json.dumps(view["blocks"], ensure_ascii=False)
    assert "You this week: DE R2" in text
    assert "*Engagement*: <@U0DE00002> is on call" in text  # Data Engineering owns Engagement (secondary)
    assert "*Month-end close*" in text
    actions = [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert actions == ["run_command:/oncall", "run_command:/oncall me", "run_command:help"]


async def test_home_tab_for_someone_not_in_the_directory(bot: RunningBot) -> None:
    await bot.sim.post(bot.events_url, app_home_opened_body("U0STRANGER"))
    [call] = await bot.slack.wait_for("views.publish")
    text = json.dumps(call.params["view"]["blocks"])
    assert "not in the on-call directory" in text


async def test_messages_tab_opened_publishes_nothing(bot: RunningBot) -> None:
    await bot.sim.post(bot.events_url, app_home_opened_body(DEV, tab="messages"))
    await bot.settle()
    assert not bot.slack.calls_to("views.publish")
