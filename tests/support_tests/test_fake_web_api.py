"""FakeSlack against the real slack_sdk AsyncWebClient."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.models.blocks import Block, ButtonElement, SectionBlock
from slack_sdk.models.metadata import Metadata
from slack_sdk.web.async_client import AsyncWebClient

from tests.support.fake_slack import Call, FakeSlack, ManualClock
from tests.support.fixtures import FakeSlackFactory, web_client_for

FAST_RETRY = FixedValueRetryIntervalCalculator(0.01)


def client(slack: FakeSlack, **kwargs: object) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=slack.api_url, **kwargs)  # type: ignore[arg-type]


async def test_post_message_is_json_and_recorded(fake_slack: FakeSlack) -> None:
    web = client(fake_slack)
    blocks: list[dict[str, Any] | Block] = [
        SectionBlock(text="*Owner*: alice", accessory=ButtonElement(text="Ack", action_id="ack", value="p1")),
        {"type": "divider"},
    ]
    meta = Metadata(event_type="oncall_page", event_payload={"key": "page-1"})
    res = await web.chat_postMessage(channel="C0CHAN001", text="hello", blocks=blocks, metadata=meta)

    assert res["ok"] is True
    assert res["channel"] == "C0CHAN001"
    assert res["ts"] == "1700000000.000100"
    assert res["message"]["metadata"] == {"event_type": "oncall_page", "event_payload": {"key": "page-1"}}
    assert res["message"]["text"] == "hello"

    call = fake_slack.last_call("chat.postMessage")
    assert (call.http_method, call.encoding) == ("POST", "json")
    assert call.token == "xoxb-test"
    assert call.params["channel"] == "C0CHAN001"
    assert call.params["text"] == "hello"
    assert call.params["blocks"][0]["type"] == "section"
    assert call.params["blocks"][0]["accessory"]["action_id"] == "ack"
    assert call.params["metadata"]["event_payload"] == {"key": "page-1"}
    [stored] = fake_slack.messages_in("C0CHAN001")
    assert stored["ts"] == res["ts"]
    assert all("block_id" in b for b in stored["blocks"])  # Slack fills block_ids in


async def test_ts_unique_and_increasing_across_channels(fake_slack: FakeSlack) -> None:
    web = client(fake_slack)
    seen = [(await web.chat_postMessage(channel=ch, text="x"))["ts"] for ch in ("C1", "C2", "C1")]
    assert seen == sorted(seen, key=float)
    assert len(set(seen)) == 3


async def test_history_includes_metadata_only_when_asked(fake_slack: FakeSlack) -> None:
    web = client(fake_slack)
    meta = {"event_type": "oncall_page", "event_payload": {"key": "k1"}}
    first = await web.chat_postMessage(channel="C0CHAN001", text="one", metadata=meta)
    await web.chat_postMessage(channel="C0CHAN001", text="reply", thread_ts=first["ts"])
    await web.chat_postMessage(channel="C0CHAN001", text="two")

    plain = await web.conversations_history(channel="C0CHAN001")
    assert [m["text"] for m in plain["messages"]] == ["two", "one"]  # newest first, no thread replies
    assert all("metadata" not in m for m in plain["messages"])
    with_meta = await web.conversations_history(channel="C0CHAN001", include_all_metadata=True)
    assert with_meta["messages"][1]["metadata"] == meta
    assert with_meta["messages"][1]["reply_count"] == 1
    assert fake_slack.last_call("conversations.history").http_method == "GET"

    page = await web.conversations_history(channel="C0CHAN001", limit=1)
    assert page["has_more"] is True
    nxt = await web.conversations_history(channel="C0CHAN001", limit=1, cursor=page["response_metadata"]["next_cursor"])
    assert [m["text"] for m in nxt["messages"]] == ["one"]

    replies = await web.conversations_replies(channel="C0CHAN001", ts=first["ts"])
    assert [m["text"] for m in replies["messages"]] == ["one", "reply"]


async def test_users_lookup_by_email_is_get_with_query(fake_slack_factory: FakeSlackFactory) -> None:
    slack = await fake_slack_factory(users=[{"id": "U1", "name": "alice", "email": "alice@example.com"}])
    web = client(slack)
    res = await web.users_lookupByEmail(email="Alice@Example.com")
    assert res["user"]["id"] == "U1"
    call = slack.last_call("users.lookupByEmail")
    assert (call.http_method, call.encoding) == ("GET", "query")
    assert call.query == {"email": "Alice@Example.com"}

    with pytest.raises(SlackApiError) as err:
        await web.users_lookupByEmail(email="nobody@example.com")
    assert err.value.response["error"] == "users_not_found"

    info = await web.users_info(user="U1")
    assert info["user"]["profile"]["email"] == "alice@example.com"


async def test_usergroups_users_update_uses_query_params_and_replaces(
    fake_slack_factory: FakeSlackFactory,
) -> None:
    slack = await fake_slack_factory(usergroups=[{"id": "S1", "handle": "oncall", "users": ["U1", "U2"]}])
    web = client(slack)
    res = await web.usergroups_users_update(usergroup="S1", users=["U3", "U4"])
    assert res["usergroup"]["users"] == ["U3", "U4"]
    call = slack.last_call("usergroups.users.update")
    assert (call.http_method, call.encoding) == ("POST", "query")
    assert call.query["users"] == "U3,U4"
    assert slack.usergroup_members("S1") == ["U3", "U4"]

    await web.usergroups_users_update(usergroup="S1", users="U5")
    assert slack.usergroup_members("S1") == ["U5"]
    assert slack.usergroup_history["S1"] == [["U3", "U4"], ["U5"]]
    listed = await web.usergroups_list(include_users=True)
    assert listed["usergroups"][0]["users"] == ["U5"]
    with pytest.raises(SlackApiError) as err:
        await web.usergroups_users_update(usergroup="S404", users=["U1"])
    assert err.value.response["error"] == "no_such_subteam"


async def test_dm_update_delete_permalink_reaction(fake_slack: FakeSlack) -> None:
    web = client(fake_slack)
    opened = await web.conversations_open(users="U0USER001")
    dm = opened["channel"]["id"]
    assert dm.startswith("D")
    again = await web.conversations_open(users=["U0USER001"])
    assert again["channel"]["id"] == dm and again["already_open"] is True

    posted = await web.chat_postMessage(channel="U0USER001", text="psst")  # user id: goes to the DM
    assert posted["channel"] == dm
    updated = await web.chat_update(channel=dm, ts=posted["ts"], text="edited")
    assert updated["message"]["text"] == "edited"
    assert fake_slack.find_message(dm, posted["ts"])["text"] == "edited"  # type: ignore[index]

    link = await web.chat_getPermalink(channel=dm, message_ts=posted["ts"])
    assert link["permalink"].endswith(f"/archives/{dm}/p{posted['ts'].replace('.', '')}")
    await web.reactions_add(channel=dm, timestamp=posted["ts"], name="eyes")
    with pytest.raises(SlackApiError) as err:
        await web.reactions_add(channel=dm, timestamp=posted["ts"], name="eyes")
    assert err.value.response["error"] == "already_reacted"

    await web.chat_delete(channel=dm, ts=posted["ts"])
    assert fake_slack.messages_in(dm) == []
    with pytest.raises(SlackApiError) as err:
        await web.chat_update(channel=dm, ts=posted["ts"], text="gone")
    assert err.value.response["error"] == "message_not_found"

    eph = await web.chat_postEphemeral(channel="C0CHAN001", user="U0USER001", text="only you")
    assert fake_slack.ephemerals[0]["message_ts"] == eph["message_ts"]


async def test_channels_info_list_members(fake_slack_factory: FakeSlackFactory) -> None:
    slack = await fake_slack_factory(
        channels=[
            {"id": "C1", "name": "ops", "members": ["U1", "U2"]},
            {"id": "C2", "name": "old", "is_member": False},
        ],
        auto_create_channels=False,
    )
    web = client(slack)
    info = await web.conversations_info(channel="C1", include_num_members=True)
    assert info["channel"]["name"] == "ops" and info["channel"]["num_members"] == 3  # + the bot
    listed = await web.conversations_list()
    assert {c["id"] for c in listed["channels"]} == {"C1", "C2"}
    members = await web.conversations_members(channel="C1")
    assert members["members"] == ["U1", "U2", "U0BOT0001"]
    for channel, error in (("C2", "not_in_channel"), ("C404", "channel_not_found")):
        with pytest.raises(SlackApiError) as err:
            await web.chat_postMessage(channel=channel, text="x")
        assert err.value.response["error"] == error
    assert (await web.chat_postMessage(channel="#ops", text="by name"))["channel"] == "C1"


async def test_views_and_trigger_expiry() -> None:
    clock = ManualClock()
    async with FakeSlack(clock=clock) as slack:
        web = client(slack)
        modal = {
            "type": "modal",
            "callback_id": "engage",
            "title": {"type": "plain_text", "text": "Engage"},
            "submit": {"type": "plain_text", "text": "Send"},
            "blocks": [
                {
                    "type": "input",
                    "block_id": "why",
                    "label": {"type": "plain_text", "text": "Why"},
                    "element": {"type": "plain_text_input", "action_id": "text"},
                }
            ],
        }
        opened = await web.views_open(trigger_id="123.456.abc", view=modal)
        assert opened["view"]["id"].startswith("V")
        assert slack.last_call("views.open").encoding == "json"
        upd = await web.views_update(view_id=opened["view"]["id"], view=modal, hash=opened["view"]["hash"])
        assert upd["view"]["id"] == opened["view"]["id"]
        with pytest.raises(SlackApiError) as err:
            await web.views_update(view_id=opened["view"]["id"], view=modal, hash="stale")
        assert err.value.response["error"] == "hash_conflict"

        home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]}
        await web.views_publish(user_id="U0USER001", view=home)
        assert slack.home_views["U0USER001"]["blocks"][0]["text"]["text"] == "hi"

        trigger = slack.new_trigger_id()
        clock.advance(3.5)
        with pytest.raises(SlackApiError) as err:
            await web.views_open(trigger_id=trigger, view=modal)
        assert err.value.response["error"] == "expired_trigger_id"

        bad = dict(modal, title={"type": "plain_text", "text": "x" * 25})
        with pytest.raises(SlackApiError) as err:
            await web.views_open(trigger_id=slack.new_trigger_id(), view=bad)
        assert err.value.response["error"] == "invalid_arguments"


async def test_block_limits_that_slack_sdk_does_not_check(fake_slack: FakeSlack) -> None:
    web = client(fake_slack)
    blocks = [{"type": "divider"} for _ in range(51)]
    with pytest.raises(SlackApiError) as err:
        await web.chat_postMessage(channel="C0CHAN001", text="x", blocks=blocks)
    assert err.value.response["error"] == "invalid_blocks"
    assert "no more than 50 items" in err.value.response["response_metadata"]["messages"][0]
    with pytest.raises(SlackApiError) as err, pytest.warns(UserWarning, match="top-level `text`"):
        await web.chat_postMessage(channel="C0CHAN001")
    assert err.value.response["error"] == "no_text"


async def test_files_upload_v2_flow(fake_slack: FakeSlack) -> None:
    web = client(fake_slack)
    res = await web.files_upload_v2(
        channel="C0CHAN001", content="a,b\n1,2\n", filename="report.csv", title="Report", initial_comment="weekly"
    )
    assert res["file"]["title"] == "Report"
    [f] = fake_slack.files.values()
    assert f["content"] == b"a,b\n1,2\n" and f["completed"] is True
    assert [c.method for c in fake_slack.calls] == ["files.getUploadURLExternal", "files.completeUploadExternal"]
    [msg] = fake_slack.messages_in("C0CHAN001")
    assert msg["text"] == "weekly" and msg["files"][0]["id"] == f["id"]


async def test_unknown_method_and_token_check(fake_slack_factory: FakeSlackFactory) -> None:
    slack = await fake_slack_factory(check_tokens=True)
    with pytest.raises(SlackApiError) as err:
        await client(slack).api_call("no.such.method")
    assert err.value.response["error"] == "unknown_method"
    assert (await client(slack).auth_test())["user_id"] == "U0BOT0001"
    with pytest.raises(SlackApiError) as err:
        await AsyncWebClient(token="xoxb-wrong", base_url=slack.api_url).auth_test()
    assert err.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as err:
        await AsyncWebClient(base_url=slack.api_url).auth_test()
    assert err.value.response["error"] == "not_authed"


async def test_rate_limit_retry_handler_waits_retry_after(fake_slack: FakeSlack) -> None:
    """The one slow test: the real handler sleeps Retry-After (+ up to 1 s of jitter)."""
    web = client(fake_slack, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=1)
    res = await web.chat_postMessage(channel="C0CHAN001", text="eventually")
    assert res["ok"] is True
    first, second = fake_slack.calls_to("chat.postMessage")
    assert (first.status, first.error, second.status) == (429, "ratelimited", 200)
    assert second.at_monotonic - first.at_monotonic >= 1.0
    assert fake_slack.rate_limited == [first]


async def test_429_without_handler_raises(fake_slack: FakeSlack, slack_web_client: AsyncWebClient) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as err:
        await slack_web_client.chat_postMessage(channel="C0CHAN001", text="x")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "7"
    assert err.value.response["error"] == "ratelimited"


async def test_server_error_retry_handler(fake_slack: FakeSlack) -> None:
    web = client(fake_slack, retry_handlers=[AsyncServerErrorRetryHandler(interval_calculator=FAST_RETRY)])
    fake_slack.fail_next("chat.postMessage", status=500)
    res = await web.chat_postMessage(channel="C0CHAN001", text="after 500")
    assert res["ok"] is True
    assert [c.status for c in fake_slack.calls_to("chat.postMessage")] == [500, 200]


async def test_retry_handlers_share_one_attempt_counter(fake_slack: FakeSlack) -> None:
    """slack_sdk keeps one RetryState per request: after the server-error handler used the only
    retry (max_retry_count=1 each), a following 429 is not retried and raises."""
    web = client(
        fake_slack,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=1),
            AsyncServerErrorRetryHandler(interval_calculator=FAST_RETRY),
        ],
    )
    fake_slack.fail_next("chat.postMessage", status=500)
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=1)
    with pytest.raises(SlackApiError) as err:
        await web.chat_postMessage(channel="C0CHAN001", text="x")
    assert err.value.response.status_code == 429


async def test_rate_limit_mode_per_channel(fake_slack: FakeSlack, slack_web_client: AsyncWebClient) -> None:
    fake_slack.rate_limit("chat.postMessage", per_channel_per_second=1.0)
    await slack_web_client.chat_postMessage(channel="C0CHAN001", text="1")
    with pytest.raises(SlackApiError) as err:
        await slack_web_client.chat_postMessage(channel="C0CHAN001", text="2")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "1"
    await slack_web_client.chat_postMessage(channel="C0OTHER01", text="other channel is fine")
    assert len(fake_slack.rate_limited) == 1
    assert [m["text"] for m in fake_slack.messages_in("C0CHAN001")] == ["1"]


async def test_rate_limit_with_manual_clock_and_workspace_limit() -> None:
    clock = ManualClock()
    async with FakeSlack(clock=clock) as slack:
        web = client(slack)
        slack.rate_limit(per_channel_per_second=1.0, burst=2, workspace_per_second=3.0, workspace_burst=3)
        statuses = []
        for channel in ("C1", "C1", "C1", "C2", "C3"):
            try:
                await web.chat_postMessage(channel=channel, text="x")
                statuses.append(200)
            except SlackApiError as e:
                statuses.append(e.response.status_code)
        # burst 2 in C1, third refused; C2 ok; C3 hits the workspace bucket (3 sent)
        assert statuses == [200, 200, 429, 200, 429]
        clock.advance(1.0)
        await web.chat_postMessage(channel="C1", text="refilled")
        assert len(slack.rate_limited) == 2


async def test_fail_next_with_error_and_where(fake_slack: FakeSlack, slack_web_client: AsyncWebClient) -> None:
    fake_slack.fail_next(
        "chat.postMessage", status=200, error="channel_not_found", where=lambda c: c.params["channel"] == "C9"
    )
    await slack_web_client.chat_postMessage(channel="C1", text="unaffected")
    with pytest.raises(SlackApiError) as err:
        await slack_web_client.chat_postMessage(channel="C9", text="x")
    assert err.value.response["error"] == "channel_not_found"
    await slack_web_client.chat_postMessage(channel="C9", text="only once")


async def test_hold_and_wait_for(fake_slack: FakeSlack, slack_web_client: AsyncWebClient) -> None:
    gate = fake_slack.hold("chat.postMessage")
    task = asyncio.create_task(slack_web_client.chat_postMessage(channel="C1", text="held"))
    [held] = await fake_slack.wait_for("chat.postMessage", answered=False)
    for _ in range(20):  # let the loop run; the held reply must not go out
        await asyncio.sleep(0)
    assert not task.done() and held.answered is False
    gate.release()
    [call] = await fake_slack.wait_for("chat.postMessage")
    assert call.ok
    assert (await task)["ok"] is True
    with pytest.raises(AssertionError, match="timed out"):
        await fake_slack.wait_for("chat.update", timeout=0.05)


async def test_delay(fake_slack: FakeSlack, slack_web_client: AsyncWebClient) -> None:
    fake_slack.delay("auth.test", 0.05, times=1)
    await slack_web_client.auth_test()
    await slack_web_client.auth_test()
    slow, fast = fake_slack.calls_to("auth.test")
    assert slow.answered_at is not None and slow.answered_at - slow.at_monotonic >= 0.05
    assert fast.answered_at is not None and fast.answered_at - fast.at_monotonic < 0.05


async def test_response_url_recorded(fake_slack: FakeSlack) -> None:
    url = fake_slack.response_url("cmd")
    body = {"text": "done", "response_type": "ephemeral"}
    async with aiohttp.ClientSession(trust_env=False) as session, session.post(url, json=body) as res:
        assert res.status == 200
    [resp] = await fake_slack.wait_for_responses("cmd")
    assert resp.body == {"text": "done", "response_type": "ephemeral"}


async def test_web_client_for_has_retry_handlers(fake_slack: FakeSlack) -> None:
    web = web_client_for(fake_slack)
    assert {type(h).__name__ for h in web.retry_handlers} == {
        "AsyncConnectionErrorRetryHandler",
        "AsyncRateLimitErrorRetryHandler",
        "AsyncServerErrorRetryHandler",
    }


async def test_form_body_and_json_strings_are_decoded(fake_slack: FakeSlack) -> None:
    web = client(fake_slack)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*x*"}}]
    await web.api_call("chat.postMessage", data={"channel": "C1", "text": "form", "blocks": json.dumps(blocks)})
    call = fake_slack.last_call("chat.postMessage")
    assert (call.encoding, call.params["blocks"]) == ("form", blocks)
    assert call.body["blocks"] == json.dumps(blocks)  # the raw form field


async def test_register_custom_method_and_internal_errors(fake_slack: FakeSlack) -> None:
    web = client(fake_slack)
    fake_slack.register("team.info", lambda call: {"ok": True, "team": {"id": "T1"}})
    assert (await web.team_info())["team"]["id"] == "T1"

    def broken(call: Call) -> dict[str, Any]:
        raise RuntimeError("bug in a custom handler")

    fake_slack.register("bots.info", broken)
    with pytest.raises(SlackApiError):
        await web.bots_info(bot="B1")
    assert isinstance(fake_slack.internal_errors[0], RuntimeError)
