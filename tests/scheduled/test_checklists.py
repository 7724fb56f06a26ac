"""Checklists end to end: ticking (who may, who did, when), completion, reminders, escalation; and
the onboarding invite's Accept/Decline, through signed Slack requests to the running bot."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from bot.services import scheduled as svc
from bot.services.deliveries import WebSlackPort
from bot.services.queries import load_snapshot
from bot.services.scheduled import Ticker
from bot.storage import scheduled as store
from bot.storage.bootstrap import Database
from tests.slack.harness import RunningBot
from tests.support.fake_slack import FakeSlack
from tests.support.payloads import block_action_payload
from tests.support.signing import payload_form_body

from .conftest import TickerFactory
from .helpers import DIRECTORY, VirtualTime, ny, seed_workspace

FIN2, ACC1, DANA, DEV, FAY, RISK1 = "U0FIN0002", "U0ACC0001", "U0DE00001", "U0DE00002", "U0FE00002", "U0RSK0001"
CLOSE = "profit-month-close/profit/2026-12"


def channel(slack: FakeSlack, name: str) -> str:
    return next(cid for cid, ch in slack.channels.items() if ch.get("name") == name.lstrip("#"))


async def close_checklist(db: Database) -> store.ChecklistRow:
    async with db.sessions() as session:
        row = await store.checklist_by_key(session, CLOSE)
    assert row is not None
    return row


async def test_ticking_permissions_progress_and_completion(db: Database, make_ticker: TickerFactory) -> None:
    await make_ticker().tick(ny(2026, 12, 1, 9))
    row = await close_checklist(db)
    assert row.assignees == ["fin2", "de1"] and row.status == "open"
    snap = await load_snapshot(db)
    at = ny(2026, 12, 1, 11)

    # an assignee ticks two items; the one who ticked and when are recorded
    got = await svc.set_checklist_items(db, snap, row.id, "fin2", [0, 1, 2, 3], [0, 1], at)
    assert got.allowed and got.changed == (0, 1) and got.view is not None
    assert got.view.done == 2 and got.view.items[0].ticked_by == "fin2" and got.view.items[0].ticked_at == at

    # their teammate (fin1, Finance) may tick; someone of another team (acc1) may not; nor risk1
    assert (await svc.set_checklist_items(db, snap, row.id, "fin1", [0, 1, 2, 3], [0, 1, 2], at)).allowed
    refused = await svc.set_checklist_items(db, snap, row.id, "acc1", [0, 1, 2, 3], [0, 1, 2, 3], at)
    assert not refused.allowed and refused.changed == ()
    assert not (await svc.set_checklist_items(db, snap, row.id, "risk1", [0, 1, 2, 3], [], at)).allowed
    assert not (await svc.set_checklist_items(db, snap, row.id, None, [0], [0], at)).allowed

    # unticking is recorded too; an admin (de1) completes it
    got = await svc.set_checklist_items(db, snap, row.id, "fin1", [0, 1, 2, 3], [0, 1], at)
    assert got.changed == (2,) and got.view is not None and got.view.done == 2
    done = await svc.set_checklist_items(db, snap, row.id, "de1", [0, 1, 2, 3], [0, 1, 2, 3], at + timedelta(hours=1))
    assert done.view is not None and done.view.complete and done.view.status == "complete"
    assert done.view.completed_at == at + timedelta(hours=1)
    async with db.sessions() as session:
        history = await store.tick_history(session, row.id)
    assert [(h.position, h.action, h.person) for h in history] == [
        (0, "tick", "fin2"), (1, "tick", "fin2"), (2, "tick", "fin1"), (2, "untick", "fin1"),
        (2, "tick", "de1"), (3, "tick", "de1"),
    ]  # fmt: skip

    # complete: no reminder, no escalation
    report = await make_ticker().tick(ny(2026, 12, 3, 17, 5))
    assert CLOSE not in report.reminded and CLOSE not in report.escalated


async def test_reminder_then_escalation_of_an_incomplete_checklist(
    db: Database, slack: FakeSlack, make_ticker: TickerFactory
) -> None:
    await make_ticker().tick(ny(2026, 12, 1, 9))
    profit = channel(slack, "#data-profit")
    [posted] = slack.messages_in(profit)

    # one business day before due (Wed 09:00): a reminder in the checklist's thread, once
    assert CLOSE not in (await make_ticker().tick(ny(2026, 12, 2, 8, 59))).reminded
    report = await make_ticker().tick(ny(2026, 12, 2, 9))
    assert CLOSE in report.reminded
    assert CLOSE not in (await make_ticker().tick(ny(2026, 12, 2, 9, 1))).reminded
    [reminder] = [m for m in slack.thread(profit, posted["ts"]) if m["ts"] != posted["ts"]]
    assert "Reminder" in reminder["text"] and "<@U0FIN0002>" in reminder["blocks"][0]["text"]["text"]

    # at due (Thu 17:00) still incomplete: overdue red line, thread note, owning teams' channels, DM
    report = await make_ticker().tick(ny(2026, 12, 3, 17))
    assert report.escalated == [CLOSE]
    row = await close_checklist(db)
    assert row.status == "overdue" and row.escalated_to == ["de1"]
    assert row.escalation_channels == ["#finance", "#risk"]
    updated = slack.find_message(profit, posted["ts"])
    assert updated is not None and "Overdue" in str(updated["blocks"])
    thread = slack.thread(profit, posted["ts"])
    assert any("is overdue" in m["text"] or "Overdue" in m["text"] for m in thread[1:])
    assert len(slack.messages_in(channel(slack, "#finance"))) == 1
    assert len(slack.messages_in(channel(slack, "#risk"))) == 1
    assert len(slack.messages_in(slack.dm_channel(DANA))) == 1
    again = await make_ticker().tick(ny(2026, 12, 3, 17, 1))
    assert again.escalated == [] and again.deliveries.sent == 0

    # finishing it late still completes it (and says it was overdue)
    snap = await load_snapshot(db)
    done = await svc.set_checklist_items(db, snap, row.id, "de1", [0, 1, 2, 3], [0, 1, 2, 3], ny(2026, 12, 3, 18))
    assert done.view is not None and done.view.status == "complete" and done.view.overdue


async def test_invite_answers(db: Database, make_ticker: TickerFactory) -> None:
    await make_ticker().tick(ny(2026, 11, 30, 9))
    async with db.sessions() as session:
        meeting = await store.meeting_by_key(session, "engagement-onboarding/engagement/2026-11-30")
    assert meeting is not None and meeting.attendees == ["de1", "de2", "fe2"]
    assert meeting.uid == "engagement-onboarding/engagement/2026-11-30@oncall-bot"
    snap = await load_snapshot(db)
    yes = await svc.answer_invite(db, snap, meeting.id, "de2", "accept", ny(2026, 11, 30, 9, 5))
    assert yes.allowed and yes.view is not None and yes.view.answers["de2"][0] == "accept"
    no = await svc.answer_invite(db, snap, meeting.id, "fe2", "decline", ny(2026, 11, 30, 9, 6))
    assert no.view is not None and set(no.view.answers) == {"de2", "fe2"}
    changed = await svc.answer_invite(db, snap, meeting.id, "fe2", "accept", ny(2026, 11, 30, 9, 7))
    assert changed.view is not None and changed.view.answers["fe2"][0] == "accept"
    stranger = await svc.answer_invite(db, snap, meeting.id, "acc1", "accept", ny(2026, 11, 30, 9, 8))
    assert not stranger.allowed and "Only the people invited" in stranger.reason


# -- through Slack ------------------------------------------------------------------------------


def checkbox_body(message: dict[str, Any], user: str, selected: list[str], channel_id: str) -> str:
    [el] = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    payload = block_action_payload(
        el["action_id"], action_type="checkboxes", user_id=user, channel=channel_id, message=copy.deepcopy(message)
    )
    payload["actions"][0]["selected_options"] = [o for o in el["options"] if o["value"] in selected]
    return payload_form_body(payload)


async def test_checkbox_clicks_update_the_message_in_place(bot: RunningBot) -> None:
    seed_workspace(bot.slack)
    vt = VirtualTime()
    ticker = Ticker(bot.deps.db, WebSlackPort(bot.deps.client), monotonic=vt, sleep=vt.sleep)
    await ticker.tick(ny(2026, 12, 1, 9))
    profit = channel(bot.slack, "#data-profit")
    [msg] = bot.slack.messages_in(profit)

    status, _ = await bot.sim.post(bot.events_url, checkbox_body(msg, FIN2, ["0", "1"], profit))
    assert status == 200
    await bot.settle()
    msg = bot.slack.find_message(profit, msg["ts"])
    assert msg is not None
    [el] = [e for b in msg["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [o["value"] for o in el["initial_options"]] == ["0", "1"]
    assert "<@U0FIN0002>" in el["options"][0]["description"]["text"]
    assert "2 of 4 done" in str(msg["blocks"])

    # someone who may not tick is told why; the message is redrawn without their tick
    status, _ = await bot.sim.post(bot.events_url, checkbox_body(msg, ACC1, ["0", "1", "2"], profit))
    await bot.settle()
    [note] = [e for e in bot.slack.ephemerals if e["user"] == ACC1]
    assert "You can't tick *Profit month close*" in note["text"]
    assert "Finance" in note["text"] and "Data Engineering" in note["text"]
    msg = bot.slack.find_message(profit, msg["ts"])
    assert msg is not None and "2 of 4 done" in str(msg["blocks"])

    # completing it collapses the message to a summary of who did what
    await bot.sim.post(bot.events_url, checkbox_body(msg, DANA, ["0", "1", "2", "3"], profit))
    await bot.settle()
    msg = bot.slack.find_message(profit, msg["ts"])
    assert msg is not None and not any(b["type"] == "actions" for b in msg["blocks"])
    assert "complete" in msg["text"] and "4 of 4 done" in str(msg["blocks"])


async def test_accept_decline_buttons_show_who_answered(bot: RunningBot) -> None:
    seed_workspace(bot.slack)
    vt = VirtualTime()  # the pacing (three posts in #data-investors) in virtual time
    await Ticker(bot.deps.db, WebSlackPort(bot.deps.client), monotonic=vt, sleep=vt.sleep).tick(ny(2026, 11, 30, 9))
    group = bot.slack._open_conversation([DANA, DEV, FAY])[0]
    invite = bot.slack.messages_in(group)[0]
    [accept, decline] = [e for b in invite["blocks"] if b["type"] == "actions" for e in b["elements"]]

    def press(button: dict[str, Any], user: str) -> str:
        payload = block_action_payload(
            button["action_id"], button["value"], user_id=user, channel=group, message=copy.deepcopy(invite)
        )
        return payload_form_body(payload)

    await bot.sim.post(bot.events_url, press(accept, DEV))
    await bot.sim.post(bot.events_url, press(decline, FAY))
    await bot.settle()
    now = bot.slack.find_message(group, invite["ts"])
    assert now is not None
    text = str(now["blocks"])
    assert "Accepted: <@U0DE00002>" in text and "Declined: <@U0FE00002>" in text
    assert "Waiting for: <@U0DE00001>" in text

    await bot.sim.post(bot.events_url, press(accept, RISK1))
    await bot.settle()
    assert any(e["user"] == RISK1 and "Only the people invited" in e["text"] for e in bot.slack.ephemerals)
    assert DIRECTORY.people["de2"].slack_user_id == DEV
