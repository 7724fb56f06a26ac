"""Clicks through Slack (signed requests to the running bot, tests/slack/harness.py) are audited
by the person id of the Slack user who clicked, or their Slack user id when they are not in the
directory. On SQLite and PostgreSQL."""

from __future__ import annotations

import copy
from typing import Any

from bot.render.ids import Action
from bot.services import incidents as incidents_svc
from tests.scheduled.helpers import ny, seed_workspace
from tests.slack.harness import RunningBot
from tests.support.fake_slack import FakeSlack
from tests.support.payloads import block_action_payload
from tests.support.signing import block_action_body, payload_form_body, slash_command_body

from .helpers import FIN2, REPORTER, ticker_for, trail

STRANGER = "U0NOBODY1"


def channel(slack: FakeSlack, name: str) -> str:
    return next(cid for cid, ch in slack.channels.items() if ch.get("name") == name.lstrip("#"))


def checkbox_body(message: dict[str, Any], user: str, selected: list[str], channel_id: str) -> str:
    [el] = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    payload = block_action_payload(
        el["action_id"], action_type="checkboxes", user_id=user, channel=channel_id, message=copy.deepcopy(message)
    )
    payload["actions"][0]["selected_options"] = [o for o in el["options"] if o["value"] in selected]
    return payload_form_body(payload)


async def post(bot: RunningBot, body: str) -> None:
    status, _ = await bot.sim.post(bot.events_url, body)
    assert status == 200
    await bot.settle()


async def test_clicks_are_audited_by_who_clicked(bot: RunningBot) -> None:
    seed_workspace(bot.slack)
    db = bot.deps.db
    await ticker_for(db, bot.deps, "profit-month-close").tick(ny(2026, 12, 1, 9))
    profit = channel(bot.slack, "#data-profit")
    [checklist] = bot.slack.messages_in(profit)

    # /incident by someone outside the directory; fin2 acknowledges it from the message
    await post(bot, slash_command_body("/incident", "profit Totals don't match", user_id=REPORTER,
                                       response_url=bot.slack.response_url("cmd")))
    [incident] = [m for m in bot.slack.messages_in(profit, include_replies=False) if m["ts"] != checklist["ts"]]
    inc = int(incident["metadata"]["event_payload"]["incident"])
    await post(bot, block_action_body(f"{Action.INCIDENT_ACK}:{inc}", str(inc), user_id=FIN2, channel=profit,
                                      message_ts=incident["ts"], response_url=bot.slack.response_url("ack")))
    acked = await incidents_svc.get_incident(db, inc)
    assert acked is not None and acked.acknowledged_by == FIN2

    # fin2 ticks an item; someone outside the directory may not
    await post(bot, checkbox_body(checklist, FIN2, ["0"], profit))
    await post(bot, checkbox_body(checklist, STRANGER, ["0", "1"], profit))

    # fin2's page DM is recorded delivered when Slack took it (the harness's clock stands still:
    # the outbox's instant is that plus the time it took, so it sorts after the clicks)
    [delivered] = await trail(db, "incident.page_delivered")
    assert (delivered.actor, delivered.subject, delivered.after["page"]["person"]) == (None, f"incident:{inc}", "fin2")
    entries = [e for e in await trail(db, "incident.", "checklist.") if e.action != "incident.page_delivered"]
    assert [(e.actor, e.action) for e in entries] == [
        (None, "checklist.opened"),
        (REPORTER, "incident.opened"),
        ("fin2", "incident.acknowledged"),
        ("fin2", "checklist.ticked"),
        (STRANGER, "checklist.refused"),
    ]
    assert entries[1].subject == entries[2].subject == f"incident:{inc}"
    assert entries[4].after["selected"] == [0, 1]
