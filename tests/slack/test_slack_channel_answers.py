"""Answers that know where they are asked (issue 14 §4), over real HTTP with signed requests:
``/oncall`` and ``/runbook`` without a pipeline, and "@oncall who's on call?", typed in a
pipeline's channel or an owning team's channel, answer for that channel's pipelines and say so;
elsewhere they answer as before."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.seed.validate import load_seed_file
from tests.scheduled.helpers import SEED
from tests.slack.harness import RunningBot
from tests.support import payloads as p
from tests.support.signing import app_mention_body, slash_command_body

D = load_seed_file(SEED)
NAMES = {pid: pl.name for pid, pl in D.pipelines.items()}
AGGREGATES = ("aggregate-profit-growth", "aggregate-engagement")

# Every channel of the seed that is a pipeline's own or an owning team's, and its pipelines.
CHANNELS: dict[str, tuple[str, ...]] = {
    "#data-profit": ("profit",),
    "#data-growth": ("growth",),
    "#data-engagement": ("engagement",),
    "#data-investors": AGGREGATES,
    "#finance": ("profit",),
    "#risk": ("profit",),
    "#accounts": ("growth",),
    "#frontend": ("engagement",),
    "#analytics": AGGREGATES,
}
# Channels that are about no pipeline of their own: answered as anywhere (every pipeline).
ELSEWHERE = ("#data-eng", "#data-oncall", "#random")


def test_the_table_covers_every_pipeline_and_owning_team_channel_of_the_seed() -> None:
    own = {pl.channel for pl in D.pipelines.values() if pl.channel}
    owning = {D.teams[t].channel for pl in D.pipelines.values() for t in pl.primary_owners if D.teams[t].channel}
    assert set(CHANNELS) == own | owning
    assert {pid for ids in CHANNELS.values() for pid in ids} == set(D.pipelines)


def channel_id(name: str) -> str:
    return "C0" + name.lstrip("#").upper().replace("-", "")[:9]


async def command(bot: RunningBot, name: str, text: str, channel: str) -> dict[str, Any]:
    body = slash_command_body(name, text, channel_id=channel_id(channel), channel_name=channel.lstrip("#"))
    status, answer = await bot.sim.post(bot.events_url, body)
    assert status == 200 and isinstance(answer, dict), answer
    return answer


def scope_note(channel: str, pipelines: tuple[str, ...], hint: str = "`/oncall all` for everything") -> str:
    names = [NAMES[x] for x in pipelines]
    listed = names[0] if len(names) == 1 else f"{names[0]} and {names[1]}"
    what = "pipeline" if len(names) == 1 else "pipelines"
    return f"(for {channel}'s {what} {listed}; {hint})"


def pipelines_named(blocks: list[dict[str, Any]]) -> set[str]:
    text = json.dumps(blocks, ensure_ascii=False)
    return {pid for pid, name in NAMES.items() if f"*{name}*" in text}


@pytest.mark.parametrize("channel", sorted(CHANNELS))
async def test_oncall_without_a_pipeline_answers_for_the_channels_pipelines(bot: RunningBot, channel: str) -> None:
    expected = CHANNELS[channel]
    answer = await command(bot, "/oncall", "", channel)
    text = json.dumps(answer["blocks"], ensure_ascii=False)
    assert scope_note(channel, expected) in text.replace("\\u2019", "'")
    assert pipelines_named(answer["blocks"]) == set(expected)
    if len(expected) == 1:
        assert answer["text"].startswith(f"{NAMES[expected[0]]}")

    everything = await command(bot, "/oncall", "all", channel)
    assert pipelines_named(everything["blocks"]) == set(D.pipelines)
    assert "for everything" not in json.dumps(everything["blocks"])


@pytest.mark.parametrize("channel", sorted(CHANNELS))
async def test_runbook_without_a_pipeline_in_a_pipelines_channel(bot: RunningBot, channel: str) -> None:
    expected = CHANNELS[channel]
    answer = await command(bot, "/runbook", "", channel)
    if len(expected) == 1:
        assert answer["text"] == f"Runbook: {NAMES[expected[0]]}"
        assert scope_note(channel, expected, "`/runbook PIPELINE` for another") in json.dumps(
            answer["blocks"], ensure_ascii=False)
    else:  # a channel about two pipelines asks which one, naming both commands
        assert answer["text"].startswith(f"Which pipeline? {channel} is about several")
        assert all(f"/runbook {pid}" in answer["text"] for pid in expected)


@pytest.mark.parametrize("channel", ELSEWHERE)
async def test_elsewhere_the_answers_stay_as_before(bot: RunningBot, channel: str) -> None:
    answer = await command(bot, "/oncall", "", channel)
    assert pipelines_named(answer["blocks"]) == set(D.pipelines)
    assert "for everything" not in json.dumps(answer["blocks"])
    runbook = await command(bot, "/runbook", "", channel)
    assert runbook["text"] == "Which pipeline? Try `/runbook profit`."
    # a pipeline named explicitly is that pipeline, in any channel
    named = await command(bot, "/oncall", "growth", "#data-profit")
    assert named["text"].startswith("Growth: ") and "for everything" not in json.dumps(named["blocks"])


@pytest.mark.parametrize("channel", ["#data-profit", "#data-investors", "#data-eng"])
async def test_a_mention_in_a_channel_answers_for_its_pipelines(bot: RunningBot, channel: str) -> None:
    cid = bot.slack.add_channel(id=channel_id(channel), name=channel.lstrip("#"))
    status, _ = await bot.sim.post(bot.events_url, app_mention_body(
        f"<@{p.BOT_USER_ID}> who's on call?", channel_id=cid, ts=p.new_message_ts()))
    assert status == 200
    [post] = await bot.slack.wait_for("chat.postMessage")
    assert post.params["channel"] == cid
    expected = CHANNELS.get(channel, tuple(D.pipelines))
    assert pipelines_named(post.params["blocks"]) == set(expected)
    if channel in CHANNELS:
        assert scope_note(channel, expected) in json.dumps(post.params["blocks"], ensure_ascii=False)
    # the channel's name was asked of Slack once, then remembered
    await bot.sim.post(bot.events_url, app_mention_body(f"<@{p.BOT_USER_ID}> who's on call?", channel_id=cid,
                                                        ts=p.new_message_ts()))
    await bot.slack.wait_for("chat.postMessage", count=2)
    assert len(bot.slack.calls_to("conversations.info")) == 1
