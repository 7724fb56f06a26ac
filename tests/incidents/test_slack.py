"""Incidents over real HTTP: signed requests in, a fake Slack Web API out (tests/slack/harness.py).

The harness's clock is Tuesday 2026-12-01 10:00 New York: Profit is covered, fin2 is on call.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from bot.core.incident import PageKind
from bot.render import incident as render
from bot.render.ids import Action, Callback
from bot.services import incidents as svc
from bot.storage import scheduled as store
from tests.slack.harness import NOW, RunningBot
from tests.support import payloads as p
from tests.support.signing import (
    block_action_body,
    message_shortcut_body,
    retry_headers,
    slash_command_body,
    view_submission_body,
)

from .conftest import CHANNELS

PROFIT = CHANNELS["data-profit"]
FIN2, DE1, DE2 = "U0FIN0002", "U0DE00001", "U0DE00002"
ANA = p.USER_ID
SUMMARY = "Revenue totals don't match the filing"


def flat(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks", []), ensure_ascii=False)


def buttons(message: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Buttons by action name: (action_id, value)."""
    out = {}
    for block in message.get("blocks", []):
        if block["type"] == "actions":
            for e in block["elements"]:
                out[e["action_id"].split(":")[0]] = (e["action_id"], e.get("value", ""))
    return out


def dms(b: RunningBot, user: str) -> list[dict[str, Any]]:
    return b.slack.messages_in(b.slack.dm_channel(user))


async def open_by_command(b: RunningBot, text: str = SUMMARY, critical: bool = False) -> dict[str, Any]:
    """/incident profit ..., the ack's answer checked; the incident message once posted."""
    line = f"profit {text}" + (" --critical" if critical else "")
    status, body = await b.sim.post(b.events_url, slash_command_body(
        "/incident", line, response_url=b.slack.response_url("cmd")))
    assert status == 200
    assert body["response_type"] == "ephemeral"
    assert body["text"].startswith(f"Opening a {'critical ' if critical else ''}incident on Profit")
    await b.settle()
    [message] = b.slack.messages_in(PROFIT, include_replies=False)
    return message


async def click(b: RunningBot, action: str, value: str, *, user: str = DE2, ts: str, name: str = "click",
                headers: dict[str, str] | None = None, channel: str = PROFIT) -> None:
    """A click by ``user`` (default de2: Data Engineering, an incident responder in the seed) on
    the message at ``ts`` in ``channel``."""
    body = block_action_body(action, value, user_id=user, channel=channel, message_ts=ts,
                             response_url=b.slack.response_url(name))
    status, _ = await b.sim.post(b.events_url, body, headers)
    assert status == 200


async def test_incident_command_posts_to_the_channel_and_pages_the_primary(incident_bot: RunningBot) -> None:
    b = incident_bot
    message = await open_by_command(b, critical=True)
    text = flat(message)
    assert "CRITICAL" in message["text"]
    assert ":red_circle: CRITICAL · Profit*" in text and SUMMARY in text
    assert f"On call: <@{FIN2}> (paged) · Level 1 of 4" in text
    assert "SLA:" in text and "Investor reporting:" in text
    assert "Data mismatches with filings requiring accountant verification." in text
    assert list(buttons(message)) == [Action.INCIDENT_ACK, Action.INCIDENT_ESCALATE, Action.INCIDENT_RESOLVE]
    [dm] = dms(b, FIN2)
    assert dm["text"].startswith(":rotating_light: You are paged for a CRITICAL Profit incident")
    thread = b.slack.thread(PROFIT, message["ts"])
    assert thread[1]["text"] == f"Opened by <@{ANA}>; paged <@{FIN2}> (Finance on-call)."
    [confirm] = b.slack.responses_to("cmd")
    assert "Incident opened" in confirm.body["text"] and "Profit" in confirm.body["text"]


async def test_unknown_pipeline_gets_did_you_mean(incident_bot: RunningBot) -> None:
    b = incident_bot
    status, body = await b.sim.post(b.events_url, slash_command_body("/incident", "profitt totals are off"))
    assert status == 200 and "Did you mean `profit`" in body["text"]
    await b.settle()
    assert b.slack.messages_in(PROFIT) == []


async def test_incident_command_usage_and_help(incident_bot: RunningBot) -> None:
    b = incident_bot
    _, body = await b.sim.post(b.events_url, slash_command_body("/incident", "profit"))
    assert "Name the pipeline and say what is wrong" in body["text"]
    _, body = await b.sim.post(b.events_url, slash_command_body("/incident", "help"))
    assert "/incident PIPELINE SUMMARY" in json.dumps(body["blocks"])


async def test_escalate_click_posts_in_the_thread_and_pages_level_2(incident_bot: RunningBot) -> None:
    b = incident_bot
    message = await open_by_command(b)
    action_id, value = buttons(message)[Action.INCIDENT_ESCALATE]
    assert value.endswith(":1")
    await click(b, action_id, value, ts=message["ts"])
    await b.settle()
    thread = b.slack.thread(PROFIT, message["ts"])
    assert thread[-1]["text"] == f"<@{DE2}> escalated to <@{DE1}> (level 2, DE R1)"
    [page] = dms(b, DE1)
    assert "You are paged for a Profit incident" in page["text"]
    updated = b.slack.find_message(PROFIT, message["ts"])
    assert updated is not None and f"Paged: <@{DE1}> (DE R1) · Level 2 of 4" in flat(updated)
    assert buttons(updated)[Action.INCIDENT_ESCALATE][1].endswith(":2")
    assert b.slack.responses_to("click") == []  # nothing to say to the clicker: the thread says it


async def test_a_retried_click_does_not_escalate_twice(incident_bot: RunningBot) -> None:
    b = incident_bot
    message = await open_by_command(b)
    action_id, value = buttons(message)[Action.INCIDENT_ESCALATE]
    await click(b, action_id, value, ts=message["ts"])
    await b.settle()
    await click(b, action_id, value, ts=message["ts"], name="retry", headers=retry_headers(1))
    await b.settle()
    thread = b.slack.thread(PROFIT, message["ts"])
    assert sum("escalated" in m["text"] for m in thread) == 1
    assert len(dms(b, DE1)) == 1 and dms(b, DE2) == []
    assert b.slack.responses_to("retry") == []  # a retry stays silent
    inc = (await svc.open_incidents_for(b.deps.db, "de1"))[0]
    assert inc.level == 2


async def test_a_double_click_escalates_once_and_tells_the_second(incident_bot: RunningBot) -> None:
    b = incident_bot
    message = await open_by_command(b)
    action_id, value = buttons(message)[Action.INCIDENT_ESCALATE]
    await asyncio.gather(
        click(b, action_id, value, ts=message["ts"], name="first"),
        click(b, action_id, value, ts=message["ts"], name="second"),
    )
    await b.settle()
    thread = b.slack.thread(PROFIT, message["ts"])
    assert sum("escalated" in m["text"] for m in thread) == 1
    assert len(dms(b, DE1)) == 1 and dms(b, DE2) == []
    told = b.slack.responses_to("first") + b.slack.responses_to("second")
    assert len(told) == 1 and told[0].body["text"].startswith("Already escalated: the incident is at level 2")
    assert told[0].body["response_type"] == "ephemeral" and told[0].body["replace_original"] is False


async def test_acknowledge_and_resolve_buttons(incident_bot: RunningBot) -> None:
    b = incident_bot
    message = await open_by_command(b)
    ack_id, ack_value = buttons(message)[Action.INCIDENT_ACK]
    await click(b, ack_id, ack_value, user=FIN2, ts=message["ts"])
    await b.settle()
    updated = b.slack.find_message(PROFIT, message["ts"])
    assert updated is not None and list(buttons(updated)) == [Action.INCIDENT_ESCALATE, Action.INCIDENT_RESOLVE]
    assert b.slack.thread(PROFIT, message["ts"])[-1]["text"] == f"<@{FIN2}> acknowledged (0 s)"
    await click(b, ack_id, ack_value, user=FIN2, ts=message["ts"], name="again")
    await b.settle()
    [again] = b.slack.responses_to("again")
    assert again.body["text"] == f"Already acknowledged by <@{FIN2}>."
    res_id, res_value = buttons(updated)[Action.INCIDENT_RESOLVE]
    await click(b, res_id, res_value, user=DE1, ts=message["ts"])
    await b.settle()
    final = b.slack.find_message(PROFIT, message["ts"])
    assert final is not None and buttons(final) == {} and "RESOLVED" in flat(final)
    assert b.slack.thread(PROFIT, message["ts"])[-1]["text"].startswith(f"Resolved by <@{DE1}> after")


async def test_auto_escalation_with_a_fixed_clock(incident_bot: RunningBot) -> None:
    b = incident_bot
    message = await open_by_command(b, critical=True)
    assert (await svc.run_periodic(b.deps, NOW + timedelta(minutes=14))).escalated == 0
    assert (await svc.run_periodic(b.deps, NOW + timedelta(minutes=15))).escalated == 1
    thread = b.slack.thread(PROFIT, message["ts"])
    assert thread[-1]["text"] == f"Not acknowledged after 15 min: escalated to <@{DE1}> (level 2, DE R1)"
    [page] = dms(b, DE1)
    assert "CRITICAL" in page["text"]
    updated = b.slack.find_message(PROFIT, message["ts"])
    assert updated is not None and "Level 2 of 4" in flat(updated)


async def test_runbook_button_opens_the_modal_prefilled(incident_bot: RunningBot) -> None:
    b = incident_bot
    trigger = b.slack.new_trigger_id()
    body = block_action_body(f"{Action.OPEN_INCIDENT}:growth", "growth", trigger_id=trigger, user_id=DE1,
                             response_url=b.slack.response_url("rb"))
    status, _ = await b.sim.post(b.events_url, body)
    assert status == 200
    await b.settle()
    call = b.slack.last_call("views.open")
    assert call.ok and call.params["trigger_id"] == trigger
    view = call.params["view"]
    assert view["callback_id"] == Callback.OPEN_INCIDENT_MODAL
    select = view["blocks"][0]["element"]
    assert select["initial_option"]["value"] == "growth"


async def shortcut_and_submit(b: RunningBot) -> str:
    """The message shortcut on a message, then its form submitted as prefilled; the message's ts."""
    source_ts = b.slack.add_message(p.CHANNEL_ID, "kafka lag: clickstream events are delayed since 9am")
    trigger = b.slack.new_trigger_id()
    status, _ = await b.sim.post(b.events_url, message_shortcut_body(
        Callback.OPEN_INCIDENT_SHORTCUT, message_text="kafka lag: clickstream events are delayed since 9am",
        message_ts=source_ts, trigger_id=trigger, user_id=DE1))
    assert status == 200
    await b.settle()
    view = b.slack.last_call("views.open").params["view"]
    summary = view["blocks"][1]["element"]["initial_value"]
    assert summary.startswith("kafka lag")
    assert view["blocks"][0]["element"]["initial_option"]["value"] == "engagement"  # guessed from the text
    values = {
        render.PIPELINE_BLOCK: {render.PIPELINE_INPUT: {"type": "static_select",
                                                        "selected_option": {"value": "engagement"}}},
        render.SUMMARY_BLOCK: {render.SUMMARY_INPUT: {"type": "plain_text_input", "value": summary}},
        render.CRITICAL_BLOCK: {render.CRITICAL_INPUT: {"type": "checkboxes", "selected_options": []}},
    }
    status, answer = await b.sim.post(b.events_url, view_submission_body(
        Callback.OPEN_INCIDENT_MODAL, values, private_metadata=view["private_metadata"], user_id=DE1))
    assert status == 200 and not answer  # closes the modal
    await b.settle()
    return source_ts


async def test_message_shortcut_then_submission_opens_the_incident(incident_bot: RunningBot) -> None:
    b = incident_bot
    source_ts = await shortcut_and_submit(b)
    engagement = CHANNELS["data-engagement"]
    [message] = b.slack.messages_in(engagement, include_replies=False)
    assert "Engagement" in flat(message) and "Delayed or lost clickstream data due to Kafka outages." in flat(message)
    [dm] = dms(b, DE2)  # Engagement's weekday primary is DE R2
    assert "Engagement incident" in dm["text"]
    link = b.slack.thread(p.CHANNEL_ID, source_ts)[-1]
    assert link["text"].startswith("Incident opened: <https://")
    [note] = [e for e in b.slack.ephemerals if e["user"] == DE1]
    assert "Incident opened" in note["text"]


async def test_the_source_message_link_is_owed_through_the_outbox_and_sent_once(incident_bot: RunningBot) -> None:
    b = incident_bot
    # Slack fails the reply under the source message: it stays owed and goes out once, later
    b.slack.fail_next("chat.postMessage", 500, where=lambda c: c.params.get("channel") == p.CHANNEL_ID)
    source_ts = await shortcut_and_submit(b)
    assert b.slack.thread(p.CHANNEL_ID, source_ts)[1:] == []
    [engagement_post] = b.slack.messages_in(CHANNELS["data-engagement"], include_replies=False)
    async with b.deps.db.sessions() as session:
        [row] = await store.deliveries_with_prefix(session, "incident:1:source_link")
    assert (row.status, row.target, row.payload["thread_ts"]) == ("failed", p.CHANNEL_ID, source_ts)
    await svc.run_periodic(b.deps, NOW + timedelta(minutes=1))
    [link] = b.slack.thread(p.CHANNEL_ID, source_ts)[1:]
    permalink = (f"https://{b.slack.team_domain}.slack.com/archives/{CHANNELS['data-engagement']}"
                 f"/p{engagement_post['ts'].replace('.', '')}")
    assert link["text"] == f"Incident opened: <{permalink}|Engagement>"
    assert link["metadata"]["event_payload"]["key"] == "incident:1:source_link"
    for minutes in (2, 10, 60):
        await svc.run_periodic(b.deps, NOW + timedelta(minutes=minutes))
    assert len(b.slack.thread(p.CHANNEL_ID, source_ts)) == 2  # the message and one link


async def test_modal_errors_are_shown_in_the_modal(incident_bot: RunningBot) -> None:
    b = incident_bot
    values = {
        render.PIPELINE_BLOCK: {render.PIPELINE_INPUT: {"type": "plain_text_input", "value": "profitt"}},
        render.SUMMARY_BLOCK: {render.SUMMARY_INPUT: {"type": "plain_text_input", "value": "  "}},
    }
    status, answer = await b.sim.post(b.events_url, view_submission_body(Callback.OPEN_INCIDENT_MODAL, values))
    assert status == 200
    assert answer["response_action"] == "errors"
    assert "profit" in answer["errors"][render.PIPELINE_BLOCK]
    assert render.SUMMARY_BLOCK in answer["errors"]
    await b.settle()
    assert b.slack.messages_in(PROFIT) == []


async def test_growth_after_hours_from_slack_is_queued(incident_bot: RunningBot) -> None:
    b = incident_bot
    saturday = NOW - timedelta(days=3)  # Saturday 2026-11-28 10:00
    opened = await svc.open_incident(b.deps, "growth", "Duplicate renewals", False, ANA, saturday)
    assert isinstance(opened, svc.Opened) and opened.incident.page.kind == PageKind.QUEUED
    growth = CHANNELS["data-growth"]
    [message] = b.slack.messages_in(growth, include_replies=False)
    assert "No on-call now: page to <@U0DE00001> (DE R1) queued for <!date^" in flat(message)
    assert dms(b, DE1) == []
    assert (await svc.run_periodic(b.deps, NOW)).pages_sent == 1
    assert len(dms(b, DE1)) == 1


async def test_a_retried_incident_command_opens_once(incident_bot: RunningBot) -> None:
    b = incident_bot
    body = slash_command_body("/incident", f"profit {SUMMARY}", response_url=b.slack.response_url("cmd"))
    for headers in (None, retry_headers(1)):
        status, _ = await b.sim.post(b.events_url, body, headers)
        assert status == 200
        await b.settle()
    assert len(b.slack.messages_in(PROFIT, include_replies=False)) == 1
    assert len(dms(b, FIN2)) == 1


async def test_the_message_goes_where_it_was_reported_when_the_channel_refuses(incident_bot: RunningBot) -> None:
    b = incident_bot
    b.slack.channels[PROFIT]["is_archived"] = True
    here = "C0HERE001"
    b.slack.add_channel(id=here, name="somewhere")
    status, _ = await b.sim.post(b.events_url, slash_command_body(
        "/incident", f"profit {SUMMARY}", channel_id=here, response_url=b.slack.response_url("cmd")))
    assert status == 200
    await b.settle()
    [message] = b.slack.messages_in(here, include_replies=False)
    assert "Profit" in flat(message)
    assert len(dms(b, FIN2)) == 1
