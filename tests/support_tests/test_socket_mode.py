"""FakeSlack's Socket Mode endpoint with slack_sdk's aiohttp SocketModeClient and bolt."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from tests.support import payloads as p
from tests.support.fake_slack import FakeSlack


async def test_socket_mode_client_receives_envelope_and_acks(fake_slack: FakeSlack) -> None:
    web = AsyncWebClient(base_url=fake_slack.api_url)
    client = SocketModeClient(app_token="xapp-test", web_client=web, auto_reconnect_enabled=False)
    received: list[SocketModeRequest] = []

    async def listener(c: Any, req: SocketModeRequest) -> None:
        received.append(req)
        await c.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id, payload={"text": "ok"}))

    client.socket_mode_request_listeners.append(listener)
    try:
        await client.connect()  # type: ignore[no-untyped-call]
        await fake_slack.socket_wait_connected()
        [open_call] = fake_slack.calls_to("apps.connections.open")
        assert open_call.token == "xapp-test"
        assert (open_call.http_method, open_call.encoding) == ("POST", "none")

        envelope = p.slash_commands_envelope(p.slash_command_payload("/oncall", "engagement"))
        ack = await fake_slack.socket_request(envelope)
        assert ack.envelope_id == envelope["envelope_id"]
        assert ack.payload == {"text": "ok"}
        assert received[0].type == "slash_commands"
        assert received[0].payload["text"] == "engagement"
        assert fake_slack.socket_received == [ack]
    finally:
        await client.close()  # type: ignore[no-untyped-call]


async def test_disconnect_message_makes_client_reconnect(fake_slack: FakeSlack) -> None:
    client = SocketModeClient(app_token="xapp-test", web_client=AsyncWebClient(base_url=fake_slack.api_url))
    try:
        await client.connect()  # type: ignore[no-untyped-call]
        await fake_slack.socket_wait_connected()
        await fake_slack.socket_disconnect()
        await fake_slack.wait_for("apps.connections.open", count=2)
        await fake_slack.socket_wait_connected()
        eid = await fake_slack.socket_send(p.events_api_envelope(p.event_callback(p.app_home_opened_event())))
        assert eid
    finally:
        await client.close()  # type: ignore[no-untyped-call]


async def test_bolt_socket_mode_handler(fake_slack: FakeSlack) -> None:
    app = AsyncApp(client=AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url))
    done = asyncio.Event()

    @app.command("/oncall")
    async def oncall(ack: Any, say: Any, command: dict[str, Any]) -> None:
        await ack(f"on it: {command['text']}")
        await say("from socket mode")
        done.set()

    @app.action("ack")
    async def on_ack(ack: Any) -> None:
        await ack()

    handler = AsyncSocketModeHandler(app, app_token="xapp-test")
    try:
        await handler.connect_async()  # type: ignore[no-untyped-call]
        cmd = await fake_slack.socket_request(p.slash_commands_envelope(p.slash_command_payload("/oncall", "x")))
        assert cmd.payload == {"text": "on it: x"}
        await asyncio.wait_for(done.wait(), 5)
        [say_call] = await fake_slack.wait_for("chat.postMessage")
        assert say_call.params["channel"] == p.CHANNEL_ID

        action = await fake_slack.socket_request(p.interactive_envelope(p.block_action_payload("ack", "v")))
        assert action.payload is None  # empty ack: envelope_id only
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
