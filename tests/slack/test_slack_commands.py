"""Slash commands and command buttons over real HTTP, signed as Slack signs them.

Answers to commands come back in the ack (the HTTP response); button answers go to the
response_url, the channel (share) or a modal (clicks on the Home tab), all on the FakeSlack.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from typing import Any

import pytest

from bot.storage.overrides import add_override
from tests.slack.harness import DANA, DEV, NOW, RunningBot
from tests.support.signing import block_action_body, message_shortcut_body, slash_command_body


def buttons(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def all_text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


async def command(bot: RunningBot, name: str, text: str = "", **kw: Any) -> dict[str, Any]:
    status, body = await bot.sim.post(bot.events_url, slash_command_body(name, text, **kw))
    assert status == 200, body
    assert isinstance(body, dict), body
    return body


async def test_oncall_pipeline_answers_in_the_ack(bot: RunningBot) -> None:
    body = await command(bot, "/oncall", "engagement")
    assert body["response_type"] == "ephemeral"
    # Tuesday 10:00 ET: the weekday window, DE R2 (de2 this week) primary, Frontend backup.
    assert body["text"] == "Engagement: <@U0DE00002> is on call · until Tue Dec 1 18:00 EST"
    first = body["blocks"][0]["text"]["text"]
    assert first.startswith("*Engagement*: <@U0DE00002> is on call · until <!date^")
    assert "Backup: <@U0FE" in all_text(body["blocks"])
    assert buttons(body["blocks"]) == [
        "show_runbook:engagement",
        "open_incident:engagement",
        "show_schedule:engagement",
        "share_in_channel:/oncall engagement",
    ]
    # Nothing but the answer: no Web API call was needed beyond bolt's own auth.test.
    assert {c.method for c in bot.slack.calls} <= {"auth.test"}


async def test_oncall_all_pipelines(bot: RunningBot) -> None:
    body = await command(bot, "/oncall")
    assert body["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "text": "On call now", "emoji": True}}
    text = all_text(body["blocks"])
    for name in ("Profit", "Growth", "Engagement", "Aggregate Profit and Growth to Investors"):
        assert f"*{name}*" in text
    assert len(body["blocks"]) <= 50


async def test_oncall_me_knows_the_slack_user(bot: RunningBot) -> None:
    body = await command(bot, "/oncall", "me", user_id=DEV)
    assert body["text"].startswith("You this week: DE R2")


async def test_oncall_me_for_a_stranger_is_a_quiet_mistake(bot: RunningBot) -> None:
    body = await command(bot, "/oncall", "me", user_id="U0STRANGER")
    assert body["response_type"] == "ephemeral"
    assert "not in the seed's people" in body["text"]


async def test_unknown_pipeline_offers_buttons(bot: RunningBot) -> None:
    body = await command(bot, "/oncall", "growht")
    assert body["response_type"] == "ephemeral"
    assert body["text"] == "I don't know a pipeline “growht”. Did you mean `growth`?"
    assert buttons(body["blocks"]) == ["run_command:/oncall growth"]


async def test_runbook(bot: RunningBot) -> None:
    body = await command(bot, "/runbook", "profit")
    assert body["blocks"][0]["text"]["text"] == "Runbook: Profit"
    assert "*Common issues*" in all_text(body["blocks"])
    assert "open_incident:profit" in buttons(body["blocks"])


async def test_whoowns(bot: RunningBot) -> None:
    body = await command(bot, "/whoowns", "clickstream")
    assert body["text"] == "Engagement is owned by Software Frontend Team (secondary: Data Engineering Team)"


@pytest.mark.parametrize("name", ["/oncall", "/runbook", "/whoowns"])
async def test_help_on_every_command(bot: RunningBot, name: str) -> None:
    body = await command(bot, name, "help")
    assert body["text"] == f"How to use {name}:"
    assert f"`{name}" in body["blocks"][0]["text"]["text"]


async def test_bad_time_is_said_ephemerally(bot: RunningBot) -> None:
    body = await command(bot, "/oncall", "engagement at the twelfth of never")
    assert body["response_type"] == "ephemeral"
    assert body["blocks"][0]["text"]["text"].startswith(":warning:")


async def test_answers_follow_the_data(bot: RunningBot) -> None:
    """An override written by anyone (here straight into the database) shows in the answers once
    the cache checks again: at most a second later, or at once after ``invalidate()``."""
    before = await command(bot, "/oncall", "engagement")
    assert before["text"].startswith("Engagement: <@U0DE00002>")
    async with bot.deps.db.sessions.begin() as session:
        await add_override(session, start=NOW - timedelta(hours=1), end=NOW + timedelta(hours=2), person="de1",
                           rotation="data-eng", role="R2", created_at=NOW, reason="swap")
    bot.ctx.cache.invalidate()
    after = await command(bot, "/oncall", "engagement")
    assert after["text"].startswith(f"Engagement: <@{DANA}>"), after["text"]
    assert bot.ctx.cache.loads == 2


async def test_unexpected_error_gives_a_reference(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken() -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(bot.ctx.cache, "get", broken)
    with caplog.at_level(logging.ERROR, logger="bot.slack"):
        body = await command(bot, "/oncall", "engagement")
    assert body["response_type"] == "ephemeral"
    ref = re.search(r"reference `([0-9a-f]{8})`", body["text"])
    assert ref, body["text"]
    logged = [r for r in caplog.records if ref.group(1) in r.getMessage()]
    assert len(logged) == 1 and "database on fire" in logged[0].getMessage()
    assert 'oncall_commands_total{command="/oncall",outcome="error"} 1.0' in bot.ctx.metrics.render().decode()


# --- buttons ---------------------------------------------------------------------------------


async def test_did_you_mean_button_answers_via_response_url(bot: RunningBot) -> None:
    url = bot.slack.response_url("did-you-mean")
    status, _ = await bot.sim.post(bot.events_url, block_action_body(
        "run_command:/oncall growth", "/oncall growth", response_url=url))
    assert status == 200
    [reply] = await bot.slack.wait_for_responses("did-you-mean")
    assert reply.body["response_type"] == "ephemeral"
    assert reply.body["text"].startswith("Growth: ")
    assert reply.body["blocks"][0]["text"]["text"].startswith("*Growth*")


async def test_share_posts_the_answer_in_the_channel(bot: RunningBot) -> None:
    status, _ = await bot.sim.post(bot.events_url, block_action_body(
        "share_in_channel:/oncall engagement", "/oncall engagement", user_id=DEV, channel="C0SHARE01",
        response_url=bot.slack.response_url("share")))
    assert status == 200
    [post] = await bot.slack.wait_for("chat.postMessage")
    assert post.params["channel"] == "C0SHARE01"
    assert post.params["text"] == "Engagement: <@U0DE00002> is on call · until Tue Dec 1 18:00 EST"
    blocks = post.params["blocks"]
    assert not [b for b in buttons(blocks) if b.startswith("share_in_channel")]
    assert "show_runbook:engagement" in buttons(blocks)
    assert blocks[-1]["elements"][0]["text"] == f"Shared by <@{DEV}>"
    assert post.ok


async def test_share_falls_back_to_response_url_outside_the_channel(bot: RunningBot) -> None:
    bot.slack.fail_next("chat.postMessage", 200, error="not_in_channel")
    url = bot.slack.response_url("share")
    await bot.sim.post(bot.events_url, block_action_body(
        "share_in_channel:/runbook growth", "/runbook growth", response_url=url))
    [reply] = await bot.slack.wait_for_responses("share")
    assert reply.body["response_type"] == "in_channel"
    assert reply.body["replace_original"] is False
    assert reply.body["text"] == "Runbook: Growth"


async def test_runbook_and_schedule_buttons(bot: RunningBot) -> None:
    url = bot.slack.response_url("rb")
    await bot.sim.post(bot.events_url, block_action_body("show_runbook:growth", "growth", response_url=url))
    await bot.sim.post(bot.events_url, block_action_body("show_schedule:growth", "growth", response_url=url))
    replies = await bot.slack.wait_for_responses("rb", count=2)
    texts = sorted(r.body["text"] for r in replies)
    assert texts == ["Growth: schedule", "Runbook: Growth"]


async def test_a_click_on_the_home_tab_opens_a_modal(bot: RunningBot) -> None:
    trigger = bot.slack.new_trigger_id()
    await bot.sim.post(bot.events_url, block_action_body(
        "run_command:/oncall me", "/oncall me", user_id=DEV, view={"id": "V0HOME001", "type": "home"},
        response_url=None, trigger_id=trigger))
    [opened] = await bot.slack.wait_for("views.open")
    assert opened.ok, opened.response
    view = opened.params["view"]
    assert view["type"] == "modal"
    assert view["blocks"][0]["text"]["text"].startswith("You this week: DE R2")


async def test_a_click_in_a_modal_pushes_the_answer(bot: RunningBot) -> None:
    await bot.sim.post(bot.events_url, block_action_body(
        "show_runbook:growth", "growth", view={"id": "V0MODAL01", "type": "modal"}, response_url=None,
        trigger_id=bot.slack.new_trigger_id()))
    [pushed] = await bot.slack.wait_for("views.push")
    assert pushed.params["view"]["blocks"][0]["text"]["text"] == "Runbook: Growth"


async def test_a_failing_button_tells_the_user_with_a_reference(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    bot.slack.fail_next("chat.postMessage", 200, error="invalid_blocks")
    url = bot.slack.response_url("oops")
    with caplog.at_level(logging.ERROR, logger="bot.slack"):
        await bot.sim.post(bot.events_url, block_action_body(
            "share_in_channel:/oncall engagement", "/oncall engagement", response_url=url))
        [reply] = await bot.slack.wait_for_responses("oops")
    ref = re.search(r"reference `([0-9a-f]{8})`", reply.body["text"])
    assert ref
    assert [r for r in caplog.records if ref.group(1) in r.getMessage()]
    metrics = bot.ctx.metrics.render().decode()
    assert 'oncall_slack_api_errors_total{error="invalid_blocks",method="chat.postMessage"} 1.0' in metrics


async def test_a_button_no_listener_knows_is_acked_and_explained(bot: RunningBot) -> None:
    url = bot.slack.response_url("stale")
    status, _ = await bot.sim.post(bot.events_url, block_action_body("retired_button:42", "42", response_url=url))
    assert status == 200
    [reply] = await bot.slack.wait_for_responses("stale")
    assert reply.body["response_type"] == "ephemeral"
    assert "can no longer act on" in reply.body["text"]


async def test_the_open_incident_shortcut_opens_the_form(bot: RunningBot) -> None:
    """The message shortcut of the manifest reaches the incidents feature: a modal, right after the ack."""
    body = message_shortcut_body("open_incident_shortcut", message_text="Profit totals are off again",
                                 trigger_id=bot.slack.new_trigger_id(), response_url=bot.slack.response_url("sc"),
                                 user_id=DANA)  # a person in the directory (issue 10 §2)
    status, _ = await bot.sim.post(bot.events_url, body)
    assert status == 200
    [opened] = await bot.slack.wait_for("views.open")
    assert opened.ok, opened.response
    assert opened.params["view"]["callback_id"] == "open_incident_modal"
    assert "Profit totals are off again" in json.dumps(opened.params["view"])


async def test_an_unknown_shortcut_is_acked(bot: RunningBot) -> None:
    status, _ = await bot.sim.post(bot.events_url, message_shortcut_body(
        "retired_shortcut", response_url=bot.slack.response_url("sc")))
    assert status == 200
