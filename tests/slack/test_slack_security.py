"""Requests that Slack did not sign (or signed too long ago) are refused with 401 and do nothing."""

from __future__ import annotations

import time

import pytest
from slack_sdk.signature import SignatureVerifier

from tests.slack.harness import RunningBot
from tests.support import payloads as p
from tests.support.signing import (
    TEST_SIGNING_SECRET,
    app_mention_body,
    block_action_body,
    message_shortcut_body,
    sign,
    slash_command_body,
    url_verification_body,
)

BODIES = {
    "slash command": lambda: slash_command_body("/oncall", "engagement"),
    "button": lambda: block_action_body("share_in_channel:/oncall engagement", "/oncall engagement"),
    "mention": lambda: app_mention_body(f"<@{p.BOT_USER_ID}> who is on call for growth"),
    "shortcut": lambda: message_shortcut_body("open_incident_shortcut", message_text="profit numbers are off"),
}


def test_the_harness_signs_as_slack_does() -> None:
    body = slash_command_body("/oncall", "engagement")
    headers = sign(body, TEST_SIGNING_SECRET)
    verifier = SignatureVerifier(TEST_SIGNING_SECRET)
    assert verifier.is_valid_request(body, headers)
    assert not SignatureVerifier("another secret").is_valid_request(body, headers)


async def assert_refused(bot: RunningBot, status: int) -> None:
    assert status == 401
    await bot.settle()
    assert [c.method for c in bot.slack.calls if c.method != "auth.test"] == []
    assert bot.slack.responses == []


@pytest.mark.parametrize("kind", list(BODIES))
async def test_forged_signature(bot: RunningBot, kind: str) -> None:
    body = BODIES[kind]()
    forged = sign(body, "not-the-secret")
    response = await bot.sim.post(bot.events_url, body, forged)
    await assert_refused(bot, response.status)


@pytest.mark.parametrize("kind", list(BODIES))
async def test_stale_signature(bot: RunningBot, kind: str) -> None:
    """Correctly signed, but more than five minutes ago: a replay."""
    response = await bot.sim.post(bot.events_url, BODIES[kind](), timestamp=int(time.time()) - 5 * 60 - 30)
    await assert_refused(bot, response.status)


@pytest.mark.parametrize("kind", list(BODIES))
async def test_unsigned(bot: RunningBot, kind: str) -> None:
    response = await bot.sim.post(bot.events_url, BODIES[kind](), signed=False)
    await assert_refused(bot, response.status)


async def test_body_changed_after_signing(bot: RunningBot) -> None:
    body = slash_command_body("/oncall", "engagement")
    headers = sign(body, TEST_SIGNING_SECRET)
    response = await bot.sim.post(bot.events_url, body.replace("engagement", "profit"), headers)
    await assert_refused(bot, response.status)


async def test_signed_url_verification_is_answered(bot: RunningBot) -> None:
    status, body = await bot.sim.post(bot.events_url, url_verification_body("ch4llenge"))
    assert status == 200
    assert body == {"challenge": "ch4llenge"}
