"""Issue 10 §4: bounded work per request. Over real HTTP: text over the cap and control
characters get a clear answer and change nothing (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.commands.limits import MAX_TEXT_CHARS
from bot.storage import audit
from tests.slack.harness import RunningBot
from tests.support import payloads as p
from tests.support.signing import app_mention_body, slash_command_body, view_submission_body

DE2, DE3 = "U0DE00002", "U0DE00003"


async def _slash(bot: RunningBot, command: str, text: str, user: str = DE2) -> dict[str, Any]:
    status, body = await bot.sim.post(bot.events_url, slash_command_body(command, text, user_id=user,
                                                                         response_url=bot.slack.response_url("c")))
    assert status == 200 and isinstance(body, dict), body
    return body


async def _nothing_written(bot: RunningBot) -> None:
    await bot.settle()
    async with bot.deps.db.sessions() as s:
        assert [e.action for e in await audit.entries(s)] == []
    assert [c.method for c in bot.slack.calls if c.method != "auth.test"] == []


@pytest.mark.parametrize("command, text", [
    ("/oncall", "e" * 200_000),
    ("/whoowns", "churn revenue clicks " * 10_000),
    ("/oncall", "away dec 21 dec 22 " + "x" * 5_000),
    ("/incident", "engagement " + "stale " * 1_000),
])
async def test_text_over_the_cap_is_refused_with_a_clear_message(bot: RunningBot, command: str, text: str) -> None:
    body = await _slash(bot, command, text)
    assert f"I read at most {MAX_TEXT_CHARS:,}" in body["text"]
    assert f"{len(text):,} characters" in body["text"]
    await _nothing_written(bot)


@pytest.mark.parametrize("command, text", [
    ("/oncall", "away dec 21 dec 22 flu\x00"),
    ("/oncall", "override finance <@U0FIN0003> dec 2 dec 3 \x1b[31mred"),
    ("/incident", "engagement clickstream\x00 stale"),
    ("/whoowns", "churn\x07"),
])
async def test_control_characters_are_refused_cleanly(bot: RunningBot, command: str, text: str) -> None:
    body = await _slash(bot, command, text)
    assert "control character" in body["text"] and "Something went wrong" not in body["text"]
    await _nothing_written(bot)


async def test_a_form_field_with_a_nul_is_refused_next_to_the_field(bot: RunningBot) -> None:
    values = {
        "who": {"who": {"type": "users_select", "selected_user": DE3}},
        "start": {"start": {"type": "datepicker", "selected_date": "2026-12-02"}},
        "end": {"end": {"type": "datepicker", "selected_date": "2026-12-02"}},
        "cover": {"cover": {"type": "users_select", "selected_user": None}},
        "reason": {"reason": {"type": "plain_text_input", "value": "flu\x00"}},
    }
    status, body = await bot.sim.post(bot.events_url, view_submission_body("change_away_modal", values, user_id=DE3))
    assert status == 200
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == ["reason"] and "U+0000" in body["errors"]["reason"]
    values["reason"]["reason"]["value"] = "y" * (MAX_TEXT_CHARS + 1)
    status, body = await bot.sim.post(bot.events_url, view_submission_body("change_away_modal", values, user_id=DE3))
    assert body["response_action"] == "errors" and "too long" in body["errors"]["reason"]
    await _nothing_written(bot)


async def test_a_long_mention_gets_an_ephemeral_reply(bot: RunningBot) -> None:
    text = f"<@{p.BOT_USER_ID}> who owns " + "clickstream " * 1_000
    status, _ = await bot.sim.post(bot.events_url, app_mention_body(text, user_id=DE2))
    assert status == 200
    await bot.settle()
    [call] = bot.slack.calls_to("chat.postEphemeral")
    assert "too long" in json.dumps(call.params) and call.params["user"] == DE2
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_text_at_the_cap_is_answered(bot: RunningBot) -> None:
    body = await _slash(bot, "/whoowns", ("churn " * MAX_TEXT_CHARS)[:MAX_TEXT_CHARS])
    assert "Growth" in json.dumps(body)
