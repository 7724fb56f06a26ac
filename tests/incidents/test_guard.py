"""Issue 10 §2 over real HTTP: only the incident's responders, and only on its own message.

Signed requests in, a fake Slack Web API out (tests/slack/harness.py); Tuesday 2026-12-01 10:00
New York: Profit (owners Finance, Risk; secondary Data Engineering) is covered, fin2 is paged.
"""

from __future__ import annotations

import json
from typing import Any

from bot.core.incident import Status
from bot.render import incident as render
from bot.render.ids import Action, Callback
from bot.services import incidents as svc
from bot.storage import audit
from tests.slack.harness import RunningBot
from tests.support import payloads as p
from tests.support.signing import block_action_body, message_shortcut_body, view_submission_body

from .conftest import CHANNELS
from .test_slack import ANA, DE1, FIN2, PROFIT, buttons, click, dms, open_by_command

FE1 = "U0FE00001"  # fe1, Frontend: in the directory, no part of Profit
RISK1 = "U0RSK0001"  # risk1, Risk: an owning team of Profit


async def _refusals(b: RunningBot) -> list[audit.AuditEntry]:
    async with b.deps.db.sessions() as session:
        return await audit.entries(session, actions=("incident.refused",))


async def _state(b: RunningBot, incident_id: int) -> tuple[Any, ...]:
    inc = await svc.get_incident(b.deps.db, incident_id)
    assert inc is not None
    return inc.status, inc.level, inc.acknowledged_by, inc.resolved_by, inc.reached


async def _opened(b: RunningBot) -> tuple[dict[str, Any], int]:
    message = await open_by_command(b)
    [inc] = await svc.open_incidents_for(b.deps.db, "nobody", ANA)
    return message, inc.id


def _sent(b: RunningBot) -> int:
    """Messages and DMs the bot has posted or updated so far."""
    return len(b.slack.calls_to("chat.postMessage")) + len(b.slack.calls_to("chat.update"))


async def test_an_outsider_clicking_from_another_channel_changes_nothing(incident_bot: RunningBot) -> None:
    b = incident_bot
    message, incident_id = await _opened(b)
    before, sent, pages = await _state(b, incident_id), _sent(b), len(dms(b, DE1))
    elsewhere = b.slack.add_message(p.CHANNEL_ID, "a message of theirs")
    for name, action in (("ack", Action.INCIDENT_ACK), ("esc", Action.INCIDENT_ESCALATE),
                         ("res", Action.INCIDENT_RESOLVE)):
        action_id, value = buttons(message)[action]
        await click(b, action_id, value, user=ANA, ts=elsewhere, channel=p.CHANNEL_ID, name=name)
    await b.settle()
    assert await _state(b, incident_id) == before
    assert _sent(b) == sent and len(dms(b, DE1)) == pages  # no update, no thread line, no page
    for name in ("ack", "esc", "res"):
        [told] = b.slack.responses_to(name)
        assert told.body["response_type"] == "ephemeral" and told.body["replace_original"] is False
        assert "incident's own message" in told.body["text"]
    refused = await _refusals(b)
    assert [(e.actor, e.subject, e.after["reason"]) for e in refused] == [
        (ANA, f"incident:{incident_id}", "wrong_message")] * 3


async def test_an_outsider_on_the_right_message_is_refused(incident_bot: RunningBot) -> None:
    b = incident_bot
    message, incident_id = await _opened(b)
    before = await _state(b, incident_id)
    action_id, value = buttons(message)[Action.INCIDENT_ESCALATE]
    await click(b, action_id, value, user=ANA, ts=message["ts"], name="esc")
    await b.settle()
    assert await _state(b, incident_id) == before
    [told] = b.slack.responses_to("esc")
    assert "Only people in the on-call directory" in told.body["text"]
    [entry] = await _refusals(b)
    assert entry.after["reason"] == "not_allowed" and entry.actor == ANA


async def test_a_directory_person_who_is_no_responder_is_refused(incident_bot: RunningBot) -> None:
    b = incident_bot
    message, incident_id = await _opened(b)
    before = await _state(b, incident_id)
    for name, action in (("ack", Action.INCIDENT_ACK), ("res", Action.INCIDENT_RESOLVE)):
        action_id, value = buttons(message)[action]
        await click(b, action_id, value, user=FE1, ts=message["ts"], name=name)
    await b.settle()
    assert await _state(b, incident_id) == before
    for name in ("ack", "res"):
        [told] = b.slack.responses_to(name)
        assert told.body["text"].startswith("Only the responders (Finance Team, Risk Team, Data Engineering")
    assert [(e.actor, e.after["reason"]) for e in await _refusals(b)] == [("fe1", "not_allowed")] * 2


async def test_a_click_on_a_forged_message_ts_is_refused(incident_bot: RunningBot) -> None:
    b = incident_bot
    message, incident_id = await _opened(b)
    before = await _state(b, incident_id)
    action_id, value = buttons(message)[Action.INCIDENT_ACK]
    forged = f"{float(message['ts']) + 1:.6f}"
    await click(b, action_id, value, user=FIN2, ts=forged, name="forged")  # the right channel, another ts
    await b.settle()
    assert await _state(b, incident_id) == before
    [told] = b.slack.responses_to("forged")
    assert "incident's own message" in told.body["text"]
    [entry] = await _refusals(b)
    assert entry.actor == "fin2" and entry.after["origin"] == [PROFIT, forged]


async def test_responders_paged_people_and_admins_may_act(incident_bot: RunningBot) -> None:
    b = incident_bot
    message, incident_id = await _opened(b)
    ack_id, ack_value = buttons(message)[Action.INCIDENT_ACK]
    await click(b, ack_id, ack_value, user=RISK1, ts=message["ts"])  # an owning team's member
    await b.settle()
    status, *_ = await _state(b, incident_id)
    assert status == Status.ACKNOWLEDGED
    updated = b.slack.find_message(PROFIT, message["ts"])
    assert updated is not None
    res_id, res_value = buttons(updated)[Action.INCIDENT_RESOLVE]
    await click(b, res_id, res_value, user=DE1, ts=message["ts"])  # an admin (and Data Engineering)
    await b.settle()
    status, *_ = await _state(b, incident_id)
    assert status == Status.RESOLVED and await _refusals(b) == []


async def test_opening_from_a_button_or_the_shortcut_needs_a_directory_person(incident_bot: RunningBot) -> None:
    b = incident_bot
    status, _ = await b.sim.post(b.events_url, block_action_body(
        f"{Action.OPEN_INCIDENT}:growth", "growth", trigger_id=b.slack.new_trigger_id(), user_id=ANA,
        response_url=b.slack.response_url("rb")))
    assert status == 200
    status, _ = await b.sim.post(b.events_url, message_shortcut_body(
        Callback.OPEN_INCIDENT_SHORTCUT, message_text="kafka lag", trigger_id=b.slack.new_trigger_id(),
        user_id=ANA, response_url=b.slack.response_url("sc")))
    assert status == 200
    await b.settle()
    assert b.slack.calls_to("views.open") == []
    for name in ("rb", "sc"):
        [told] = b.slack.responses_to(name)
        assert told.body["text"].startswith("Only people in the on-call directory can open incidents")
    # a form submitted anyway (e.g. a view opened before they left the seed) opens nothing
    values = {
        render.PIPELINE_BLOCK: {render.PIPELINE_INPUT: {"type": "static_select",
                                                        "selected_option": {"value": "engagement"}}},
        render.SUMMARY_BLOCK: {render.SUMMARY_INPUT: {"type": "plain_text_input", "value": "kafka lag"}},
        render.CRITICAL_BLOCK: {render.CRITICAL_INPUT: {"type": "checkboxes", "selected_options": []}},
    }
    status, _ = await b.sim.post(b.events_url, view_submission_body(
        Callback.OPEN_INCIDENT_MODAL, values, private_metadata=json.dumps({"channel": p.CHANNEL_ID}), user_id=ANA))
    assert status == 200
    await b.settle()
    assert b.slack.messages_in(CHANNELS["data-engagement"], include_replies=False) == []
    assert await svc.open_incidents_for(b.deps.db, "nobody", ANA) == []
    [entry] = await _refusals(b)
    assert entry.subject == "pipeline:engagement" and entry.actor == ANA
