"""Signing, body builders and SlackClientSim, checked against slack_sdk and a real bolt AsyncApp."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import pytest
import pytest_asyncio
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.support import payloads as p
from tests.support.fake_slack import FakeSlack
from tests.support.signing import (
    TEST_SIGNING_SECRET,
    SlackClientSim,
    app_home_opened_body,
    app_mention_body,
    block_action_body,
    message_shortcut_body,
    retry_headers,
    sign,
    slash_command_body,
    view_submission_body,
)


def test_signature_verifies_with_slack_sdk() -> None:
    body = slash_command_body("/oncall", "engagement")
    headers = sign(body, "s3cret")
    verifier = SignatureVerifier("s3cret")
    assert verifier.is_valid_request(body, headers)
    assert headers["X-Slack-Signature"] == verifier.generate_signature(
        timestamp=headers["X-Slack-Request-Timestamp"], body=body
    )
    assert not verifier.is_valid_request(body.replace("engagement", "engagemenT"), headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)
    stale = sign(body, "s3cret", timestamp=int(time.time()) - 301)
    assert not verifier.is_valid_request(body, stale)


def test_builders() -> None:
    form = {k: v[0] for k, v in parse_qs(slash_command_body("/oncall", "who pipeline-x", user_id="U9")).items()}
    assert form["command"] == "/oncall" and form["text"] == "who pipeline-x" and form["user_id"] == "U9"
    assert form["team_id"] == p.TEAM_ID and form["trigger_id"]

    action = json.loads(parse_qs(block_action_body("ack", "page-1", message_ts="1.2"))["payload"][0])
    assert action["type"] == "block_actions"
    assert action["actions"][0] == action["actions"][0] | {"action_id": "ack", "value": "page-1"}
    assert action["container"]["message_ts"] == "1.2" and action["channel"]["id"] == p.CHANNEL_ID

    home_action = p.block_action_payload("refresh", view={"id": "V1", "type": "home"})
    assert home_action["container"] == {"type": "view", "view_id": "V1"} and "response_url" not in home_action

    shortcut = json.loads(parse_qs(message_shortcut_body("escalate", message_text="broken"))["payload"][0])
    assert shortcut["type"] == "message_action" and shortcut["message"]["text"] == "broken"

    values = {"why": {"text": {"type": "plain_text_input", "value": "late"}}}
    sub = json.loads(parse_qs(view_submission_body("engage", values, private_metadata="m"))["payload"][0])
    assert sub["view"]["state"]["values"] == values and sub["view"]["private_metadata"] == "m"

    mention = json.loads(app_mention_body(f"<@{p.BOT_USER_ID}> hi", event_id="Ev1"))
    assert mention["event_id"] == "Ev1" and mention["event"]["type"] == "app_mention"
    home = json.loads(app_home_opened_body("U9"))
    assert home["event"] == home["event"] | {"type": "app_home_opened", "user": "U9", "tab": "home"}
    assert home["event_id"].startswith("Ev")


@pytest_asyncio.fixture
async def bolt_http(fake_slack: FakeSlack) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A bolt AsyncApp in HTTP mode, served on 127.0.0.1, using the fake Web API."""
    seen: list[dict[str, Any]] = []
    app = AsyncApp(
        signing_secret=TEST_SIGNING_SECRET,
        client=AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url),
    )

    @app.command("/oncall")
    async def oncall(ack: Any, command: dict[str, Any], say: Any, respond: Any) -> None:
        await ack(f"looking up {command['text']}")
        seen.append(command)
        await say("posted by the listener")
        await respond("response via response_url")

    @app.action("ack")
    async def on_ack(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.chat_update(channel=body["channel"]["id"], ts=body["container"]["message_ts"], text="acked")

    @app.event("app_mention")
    async def mention(event: dict[str, Any], say: Any) -> None:
        await say(f"hi <@{event['user']}>")

    runner = web.AppRunner(app.web_app(path="/slack/events"), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/slack/events", seen
    finally:
        await runner.cleanup()


async def test_sim_against_bolt_http(
    fake_slack: FakeSlack, slack_sim: SlackClientSim, bolt_http: tuple[str, list[dict[str, Any]]]
) -> None:
    url, seen = bolt_http
    body = slash_command_body("/oncall", "pipeline-x", response_url=fake_slack.response_url("cmd"))
    res = await slack_sim.post(url, body)
    # bolt answers ack("text") in HTTP mode as a text/plain body (in Socket Mode: {"text": ...})
    assert (res.status, res.body) == (200, "looking up pipeline-x")
    assert res.headers["Content-Type"].startswith("text/plain")

    [say_call] = await fake_slack.wait_for("chat.postMessage")
    assert say_call.params["channel"] == p.CHANNEL_ID
    assert say_call.params["team_id"] == p.TEAM_ID  # bolt's per-request client adds team_id
    [resp] = await fake_slack.wait_for_responses("cmd")
    assert resp.body["text"] == "response via response_url"
    assert len(fake_slack.calls_to("auth.test")) == 1  # bolt calls it lazily, on the first request
    assert seen[0]["text"] == "pipeline-x"

    posted = fake_slack.messages_in(p.CHANNEL_ID)[0]
    status, _ = await slack_sim.post(url, block_action_body("ack", "x", message_ts=posted["ts"]))
    assert status == 200
    await fake_slack.wait_for("chat.update", ok_only=True)
    assert fake_slack.messages_in(p.CHANNEL_ID)[0]["text"] == "acked"

    status, _ = await slack_sim.post(url, app_mention_body(f"<@{p.BOT_USER_ID}> hello", user_id="U7"))
    assert status == 200
    calls = await fake_slack.wait_for("chat.postMessage", count=2)
    assert calls[1].params["text"] == "hi <@U7>"


async def test_bolt_refuses_bad_signatures(
    fake_slack: FakeSlack, slack_sim: SlackClientSim, bolt_http: tuple[str, list[dict[str, Any]]]
) -> None:
    url, seen = bolt_http
    body = slash_command_body("/oncall", "x", response_url=fake_slack.response_url("cmd"))
    headers = sign(body, TEST_SIGNING_SECRET)
    assert (await slack_sim.post(url, body + "&extra=1", headers)).status == 401
    assert (await slack_sim.post(url, body, signed=False)).status == 401
    stale = sign(body, TEST_SIGNING_SECRET, timestamp=int(time.time()) - 600)
    assert (await slack_sim.post(url, body, stale)).status == 401
    ok = await slack_sim.post(url, body, {**sign(body, TEST_SIGNING_SECRET), **retry_headers(1)})
    assert ok.status == 200 and ok.elapsed > 0
    assert len(seen) == 1


@pytest.mark.parametrize("path", ["relative"])
async def test_sim_needs_base_url_for_relative_paths(path: str) -> None:
    async with SlackClientSim() as sim:
        with pytest.raises(ValueError, match="base_url"):
            await sim.post(path, "a=b")
