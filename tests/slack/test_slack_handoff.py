"""``/handoff NOTE`` over HTTP, signed like Slack (issue 12 §5): acknowledged at once, answered
privately through the response_url once stored; refused for someone not on call this week; the
same command in the console and the CLI."""

from __future__ import annotations

from typing import Any

import pytest

from bot.services.ask import ask_line
from bot.storage import audit
from tests.slack.harness import RunningBot
from tests.support.signing import slash_command_body

DEV = "U0DE00002"  # de2: DE R2 this week (Tuesday 2026-12-01)
FIN3 = "U0FIN0003"  # not on call this week, not a lead


async def handoff(bot: RunningBot, user: str, text: str, name: str) -> dict[str, Any]:
    url = bot.slack.response_url(name)
    status, body = await bot.sim.post(bot.events_url, slash_command_body("/handoff", text, user_id=user,
                                                                         response_url=url))
    assert status == 200 and body in ("", None, {}), body  # an empty ack: the answer follows privately
    [reply] = await bot.slack.wait_for_responses(name)
    await bot.settle()
    assert reply.body["response_type"] == "ephemeral"
    return dict(reply.body)


async def test_handoff_is_stored_for_someone_on_call_and_refused_otherwise(bot: RunningBot) -> None:
    saved = await handoff(bot, DEV, "Kafka lag on clickstream <!channel> *since* Tuesday", "ok")
    assert saved["text"].startswith("Noted.") and "Mon Dec 7 09:00 EST" in saved["text"]
    refused = await handoff(bot, FIN3, "not my week", "no")
    assert "Only someone on call this week" in refused["text"]
    async with bot.deps.db.sessions() as session:
        entries = await audit.entries(session, actions=["handoff."])
    assert [(e.action, e.actor) for e in entries] == [("handoff.note_added", "de2"), ("handoff.refused", "fin3")]
    assert entries[0].after["text"] == "Kafka lag on clickstream <!channel> *since* Tuesday"  # stored as typed


async def test_handoff_without_a_note_says_how(bot: RunningBot) -> None:
    reply = await handoff(bot, DEV, "", "empty")
    assert "Nothing to note" in reply["text"] and "/handoff NOTE" in reply["text"]


@pytest.mark.usefixtures("no_proxy_env")
async def test_console_uses_the_same_command(bot: RunningBot) -> None:
    settings, now = bot.deps.settings, bot.deps.clock()
    said = await ask_line(bot.deps.db, settings, "/handoff backfill runs nightly", now, "de2")
    assert not said.user_error and said.message.text.startswith("Noted.")
    said = await ask_line(bot.deps.db, settings, "/handoff backfill runs nightly", now, "fin3")
    assert said.user_error and "Only someone on call" in said.message.text
