"""The on-call week carries its incidents (issue 12 §5): the Monday announcement lists the open
incidents with their fix-by and the outgoing people's handoff notes; each incoming person's DM
carries the open incidents on their pipelines and the notes of the people they take over from.
``/handoff`` may be written only by someone on call that week (or a lead or an admin), checked on
the stored state. On SQLite and PostgreSQL, with the fake Slack over HTTP."""

from __future__ import annotations

from typing import Any

from bot.clock import fixed_clock
from bot.config import Settings
from bot.services import incidents as incidents_svc
from bot.services.handoff import answer_handoff
from bot.slack.deps import SlackDeps
from bot.storage import audit
from bot.storage.bootstrap import Database
from tests.support.fake_slack import FakeSlack
from tests.support.fixtures import web_client_for

from .conftest import TickerFactory
from .helpers import DIRECTORY, ny

OPENED = ny(2026, 12, 1, 10)  # Tuesday of week 4: DE R2 (Engagement primary) is de2
NOTE_AT = ny(2026, 12, 3, 15)
HANDOFF = ny(2026, 12, 7, 9)  # week 5: R2 goes to de3, R1 to de2
NOTE = "Kafka lag on clickstream since Tuesday; the backfill runs nightly at 02:00"


def text_of(message: dict[str, Any]) -> str:
    parts = [message.get("text", "")]
    for block in message.get("blocks", []):
        if isinstance(block.get("text"), dict):
            parts.append(block["text"]["text"])
    return "\n".join(parts)


def dm_texts(slack: FakeSlack, person: str) -> list[str]:
    return [text_of(m) for m in slack.messages_in(slack.dm_channel(DIRECTORY.people[person].slack_user_id))]


async def open_engagement(db: Database, settings: Settings, slack: FakeSlack) -> int:
    client = web_client_for(slack, retries=False)
    deps = SlackDeps(settings=settings, db=db, client=client, clock=fixed_clock(OPENED))
    opened = await incidents_svc.open_incident(deps, "engagement", "Clickstream data missing", False, None, OPENED)
    assert isinstance(opened, incidents_svc.Opened)
    await deps.background.drain()
    return opened.incident.id


async def test_only_someone_on_call_this_week_may_write_a_note(db: Database) -> None:
    saved = await answer_handoff(db, "de2", NOTE, NOTE_AT)
    assert not saved.user_error and "Noted" in saved.message.text and "Mon Dec 7 09:00 EST" in saved.message.text
    assert not (await answer_handoff(db, "fin1", "I held Finance last week", NOTE_AT)).user_error  # outgoing
    assert not (await answer_handoff(db, "fe1", "lead of Frontend", NOTE_AT)).user_error  # a team lead
    refused = await answer_handoff(db, "fin3", "not my week", NOTE_AT)
    assert refused.user_error and "Only someone on call this week" in refused.message.text
    assert (await answer_handoff(db, "U0FIN0003", "by Slack id", NOTE_AT)).user_error  # the same person
    assert (await answer_handoff(db, "nobody", "who?", NOTE_AT)).user_error
    assert (await answer_handoff(db, "de2", "   ", NOTE_AT)).user_error
    assert "/handoff NOTE" in (await answer_handoff(db, "de2", "help", NOTE_AT)).message.text
    async with db.sessions() as session:
        actions = [e.action for e in await audit.entries(session, actions=["handoff."])]
    assert actions.count("handoff.note_added") == 3 and actions.count("handoff.refused") == 3


async def test_monday_announcement_and_dms_carry_open_incidents_and_notes(
    db: Database, settings: Settings, slack: FakeSlack, make_ticker: TickerFactory
) -> None:
    incident = await open_engagement(db, settings, slack)
    assert not (await answer_handoff(db, "de2", NOTE, NOTE_AT)).user_error
    assert not (await answer_handoff(db, "fin1", "<!channel> watch the filings", NOTE_AT)).user_error
    assert not (await answer_handoff(db, "de2", "written after the handoff", HANDOFF.replace(minute=30))).user_error
    report = await make_ticker().tick(HANDOFF)
    assert report.deliveries.failed == 0
    oncall = next(cid for cid, ch in slack.channels.items() if ch.get("name") == "data-oncall")
    [announcement] = slack.messages_in(oncall)
    body = text_of(announcement)
    fix_by = int(ny(2026, 12, 8, 10).timestamp())
    assert "*Open incidents (1)*" in body and "Clickstream data missing" in body and f"#{incident}" in body
    assert f"fix by <!date^{fix_by}^" in body
    assert "*Handoff notes*" in body and NOTE in body and "<@U0DE00002>" in body
    assert "&lt;!channel&gt; watch the filings" in body and "<!channel>" not in body  # user text is escaped
    assert "written after the handoff" not in body  # written after the announcement: carried next week

    [de3] = dm_texts(slack, "de3")  # takes R2 (Engagement primary) from de2
    assert "Open incidents you take over (1)" in de3 and "Clickstream data missing" in de3 and NOTE in de3
    [de2] = dm_texts(slack, "de2")[-1:]  # takes R1 (Profit, Growth) from de1: no Engagement incident
    assert "Open incidents you take over" not in de2 and NOTE not in de2
