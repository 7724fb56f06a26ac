"""Issue 10 §5 over real HTTP: a replayed signed change request applies once.

Slack's signature holds for 5 minutes, so the same signed ``/oncall away`` (or form submission)
posted again is a valid request: it must create no second change, answer as the first did and
send no DMs again. The clock is Tuesday 2026-12-01 10:00 New York (tests/slack/harness.py).
"""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.storage.tables.changes import ChangeRow
from tests.slack.harness import RunningBot
from tests.support.signing import block_action_body, slash_command_body, view_submission_body

from .test_slack import DE2, DE3, _away_values, dms_to, slash


async def _changes(bot: RunningBot) -> list[tuple[int, str | None]]:
    async with bot.deps.db.sessions() as session:
        rows = await session.execute(select(ChangeRow.id, ChangeRow.source_key).order_by(ChangeRow.id))
        return [(r.id, r.source_key) for r in rows]


async def test_a_replayed_away_command_applies_once_and_can_be_cancelled(bot: RunningBot) -> None:
    trigger = bot.slack.new_trigger_id()
    body = slash_command_body("/oncall", "away dec 21 dec 22", user_id=DE2, trigger_id=trigger,
                              response_url=bot.slack.response_url("cmd"))
    signed_at = int(time.time())  # one signature, sent three times (within Slack's 5 minutes)
    answers = []
    for _ in range(3):
        status, answer = await bot.sim.post(bot.events_url, body, timestamp=signed_at)
        assert status == 200 and isinstance(answer, dict), answer
        answers.append(answer)
        await bot.settle()
    assert await _changes(bot) == [(1, f"command:{trigger}")]
    first = answers[0]["text"]
    assert first.startswith(":white_check_mark: Done (#1): @Dev Desai is away from Mon Dec 21")
    assert [a["text"] for a in answers[1:]] == [first, first]  # answered as the first was
    assert "change_cancel:1" in json.dumps(answers[2]["blocks"])
    told = [m for m in dms_to(bot, DE3) if "Dev Desai" in m]
    assert len(told) == 1  # the cover heard once
    # the copies no longer block cancelling it
    status, _ = await bot.sim.post(bot.events_url, block_action_body(
        "change_cancel:1", "1", user_id=DE2, response_url=bot.slack.response_url("cancel")))
    assert status == 200
    await bot.settle()
    (reply,) = bot.slack.responses_to("cancel")
    assert reply.body["text"].startswith(":wastebasket: Cancelled #1")
    async with bot.deps.db.sessions() as session:
        cancelled = (await session.execute(select(ChangeRow.cancelled_at))).scalars().all()
    assert len(cancelled) == 1 and cancelled[0] is not None


async def test_a_replayed_form_submission_applies_once(bot: RunningBot) -> None:
    body = view_submission_body("change_away_modal", _away_values(DE3, "2026-12-02", "2026-12-02"),
                                user_id=DE3, view_id="V0AWAYFORM")
    signed_at = int(time.time())
    first = second = None
    for _ in range(2):
        status, answer = await bot.sim.post(bot.events_url, body, timestamp=signed_at)
        assert status == 200 and isinstance(answer, dict), answer
        first, second = (answer, None) if first is None else (first, answer)
        await bot.settle()
    assert first is not None and second is not None
    assert first["response_action"] == second["response_action"] == "update"
    assert "Done (#1)" in json.dumps(second["view"])
    assert await _changes(bot) == [(1, "view:V0AWAYFORM")]


async def test_different_requests_still_make_different_changes(bot: RunningBot) -> None:
    await slash(bot, "away dec 21 dec 22", DE2, trigger_id=bot.slack.new_trigger_id())
    await slash(bot, "away dec 28 dec 29", DE2, trigger_id=bot.slack.new_trigger_id())
    assert [i for i, _ in await _changes(bot)] == [1, 2]


async def test_a_change_during_a_database_outage_says_so(bot: RunningBot, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.services.changes import answers

    async def down(*_args: object, **_kw: object) -> None:
        raise OperationalError("INSERT", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(answers, "apply_change", down)
    body = await slash(bot, "away dec 21 dec 22", DE2, trigger_id=bot.slack.new_trigger_id())
    assert "I can't reach my database right now, so nothing was done" in body["text"]
    assert "Something went wrong" not in body["text"]
    assert await _changes(bot) == []
