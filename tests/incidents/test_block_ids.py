"""Issue 10 §7: the incident message's actions block gets a new block_id on every update (Slack
asks for one, or clients may keep the old buttons' state). Over real HTTP: open, acknowledge,
escalate; each chat.update of the message carries an actions block id not seen before."""

from __future__ import annotations

from typing import Any

from bot.render.ids import Action
from tests.slack.harness import RunningBot

from .test_slack import FIN2, PROFIT, buttons, click, open_by_command


def _actions_id(message: dict[str, Any]) -> str | None:
    ids = [b.get("block_id") for b in message.get("blocks", []) if b["type"] == "actions"]
    return ids[0] if ids else None


async def test_every_update_has_a_new_actions_block_id(incident_bot: RunningBot) -> None:
    b = incident_bot
    message = await open_by_command(b, critical=True)
    seen = [_actions_id(message)]
    ack_id, ack_value = buttons(message)[Action.INCIDENT_ACK]
    await click(b, ack_id, ack_value, user=FIN2, ts=message["ts"])
    await b.settle()
    acknowledged = b.slack.find_message(PROFIT, message["ts"])
    seen.append(_actions_id(acknowledged))
    esc_id, esc_value = buttons(acknowledged)[Action.INCIDENT_ESCALATE]
    await click(b, esc_id, esc_value, user=FIN2, ts=message["ts"], name="esc")
    await b.settle()
    seen.append(_actions_id(b.slack.find_message(PROFIT, message["ts"])))
    assert all(s is not None and s.startswith("incident:") for s in seen)
    assert len(set(seen)) == 3, seen
    updates = [c for c in b.slack.calls_to("chat.update") if c.params.get("ts") == message["ts"]]
    assert len(updates) >= 2
