"""Schedule changes over real HTTP, signed as Slack signs them, against the FakeSlack (SQLite and
PostgreSQL). The clock is Tuesday 2026-12-01 10:00 in New York: week 4 (Finance fin2, Frontend fe2,
DE R1 de1, R2 de2, R3 de3, R4 de4)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from bot.slack import changes as slack_changes
from bot.storage import audit
from tests.slack.harness import NOW, RunningBot
from tests.support.signing import block_action_body, slash_command_body, view_submission_body

FIN1, FIN2, FIN3 = "U0FIN0001", "U0FIN0002", "U0FIN0003"
ACC2, DE2, DE3 = "U0ACC0002", "U0DE00002", "U0DE00003"


async def slash(bot: RunningBot, text: str, user: str, **kw: Any) -> dict[str, Any]:
    kw.setdefault("response_url", bot.slack.response_url("cmd"))
    status, body = await bot.sim.post(bot.events_url, slash_command_body("/oncall", text, user_id=user, **kw))
    assert status == 200, body
    assert isinstance(body, dict), body
    return body


def text_of(body: dict[str, Any]) -> str:
    return json.dumps(body.get("blocks", []), ensure_ascii=False) + body.get("text", "")


def dms_to(bot: RunningBot, user: str) -> list[str]:
    return [json.dumps(c.params, ensure_ascii=False) for c in bot.slack.calls_to("chat.postMessage")
            if c.params.get("channel") == user]


def test_register_is_idempotent(bot: RunningBot) -> None:
    before = len(bot.app._async_middleware_list)
    slack_changes.register(bot.app, bot.deps)
    assert len(bot.app._async_middleware_list) == before


async def test_override_answers_in_the_ack_and_dms_the_people_affected(bot: RunningBot) -> None:
    body = await slash(bot, "override finance <@U0FIN0003|farah> dec 2 dec 3 quarter close", FIN1)
    assert body["response_type"] == "ephemeral"
    assert body["text"].startswith(":white_check_mark: Done (#1): @Farah Flores covers Finance on-call from "
                                   "Wed Dec 2 00:00 EST to Fri Dec 4 00:00 EST (quarter close).")
    assert "change_cancel:1" in text_of(body)
    await bot.settle()
    assert any("You now cover Profit primary" in m for m in dms_to(bot, FIN3))
    assert any("You no longer cover Profit primary" in m for m in dms_to(bot, FIN2))
    assert dms_to(bot, FIN1) == []  # who made it is told in the answer
    # every answer shows it at once
    answer = await slash(bot, "profit at dec 2 10:00", FIN1)
    assert "<@U0FIN0003>" in answer["text"]


async def test_a_refusal_says_why(bot: RunningBot) -> None:
    body = await slash(bot, "override finance <@U0FIN0003> dec 2 dec 3", ACC2)
    assert body["text"].startswith(":no_entry: Not changed: You can't change Finance on-call: only its members, "
                                   "the lead of Finance Team (lead: Fiona Finch) and admins can.")
    async with bot.deps.db.sessions() as s:
        assert [e.action for e in await audit.entries(s)] == ["change.refused"]


async def test_usage_errors_and_other_commands_are_untouched(bot: RunningBot) -> None:
    body = await slash(bot, "override finance dec 2 dec 3", FIN1)
    assert "Name who covers with an @mention" in body["text"]
    body = await slash(bot, "engagement", FIN1)
    assert body["text"].startswith("Engagement: <@U0DE00002> is on call")


async def test_away_swap_list_and_cancel(bot: RunningBot) -> None:
    body = await slash(bot, "away dec 2 dec 3 conference", DE2)
    assert body["text"].startswith(":white_check_mark: Done (#1): @Dev Desai is away from Wed Dec 2 00:00 EST")
    assert "→ <@U0DE00003>" in text_of(body)  # the next member, de3, takes DE R2
    nothing = await slash(bot, "swap <@U0FE00001> <@U0FE00002> next week", "U0FE00001")
    assert nothing["text"] == ":no_entry: Not changed: Neither of them holds a slot that week: nothing to swap."
    body = await slash(bot, "swap <@U0FE00003> <@U0FE00002> next week", "U0FE00003")  # fe3 holds week 5
    assert body["text"].startswith(":white_check_mark: Done (#2): @Finn Eaton and @Fay Ellis swap")
    listing = await slash(bot, "changes", DE2)
    assert listing["text"] == "Upcoming changes: 2"
    blocks = listing["blocks"]
    cancels = [b["accessory"]["action_id"] for b in blocks if b.get("accessory")]
    assert cancels == ["change_cancel:1"]  # de2 may cancel their absence, not the Frontend swap
    only = await slash(bot, "changes engagement", DE2)
    assert only["text"] == "Upcoming changes for Engagement: 2"
    # the Cancel button
    status, _ = await bot.sim.post(bot.events_url, block_action_body(
        "change_cancel:1", "1", user_id=DE2, response_url=bot.slack.response_url("cancel")))
    assert status == 200
    await bot.settle()
    (reply,) = bot.slack.responses_to("cancel")
    assert reply.body["text"].startswith(":wastebasket: Cancelled #1")
    assert any("@Dev Desai cancelled a change" in m for m in dms_to(bot, DE3))
    # by text, refused for an outsider
    body = await slash(bot, "cancel 2", ACC2)
    assert body["text"].startswith(":no_entry: Not cancelled:")


async def test_a_form_opens_right_after_the_ack(bot: RunningBot) -> None:
    trigger = bot.slack.new_trigger_id()
    status, body = await bot.sim.post(bot.events_url, slash_command_body("/oncall", "away", user_id=DE2,
                                                                         trigger_id=trigger))
    assert status == 200 and body in ("", {})
    await bot.settle()
    call = bot.slack.last_call("views.open")
    assert call.ok, call.error
    view = call.params["view"] if isinstance(call.params["view"], dict) else json.loads(call.params["view"])
    assert view["callback_id"] == "change_away_modal"
    assert [b["block_id"] for b in view["blocks"]] == ["who", "start", "end", "cover", "reason"]
    assert view["blocks"][0]["element"]["initial_user"] == DE2


def _away_values(who: str, first: str, last: str, cover: str | None = None) -> dict[str, Any]:
    return {
        "who": {"who": {"type": "users_select", "selected_user": who}},
        "start": {"start": {"type": "datepicker", "selected_date": first}},
        "end": {"end": {"type": "datepicker", "selected_date": last}},
        "cover": {"cover": {"type": "users_select", "selected_user": cover}},
        "reason": {"reason": {"type": "plain_text_input", "value": "flu"}},
    }


async def test_submitting_the_away_form(bot: RunningBot) -> None:
    async def submit(user: str, values: dict[str, Any]) -> dict[str, Any]:
        status, body = await bot.sim.post(bot.events_url, view_submission_body("change_away_modal", values,
                                                                               user_id=user))
        assert status == 200
        assert isinstance(body, dict), body
        return body

    body = await submit(DE3, _away_values(DE3, "2026-12-02", "2026-12-02"))
    assert body["response_action"] == "update"
    assert "is away from" in json.dumps(body["view"])
    # a refusal stays in the form, next to the field to change: de3 is away, so cannot cover
    body = await submit(DE2, _away_values(DE2, "2026-12-02", "2026-12-02", DE3))
    assert body["response_action"] == "errors"
    assert body["errors"]["cover"].startswith("@Dora Dunn is away from Wed Dec 2 00:00 EST")
    # without a cover: the next member who is not away (de4) takes DE R2
    body = await submit(DE2, _away_values(DE2, "2026-12-02", "2026-12-02"))
    assert body["response_action"] == "update"
    assert "<@U0DE00004>" in json.dumps(body["view"])
    # field errors
    body = await submit(DE2, _away_values(DE2, "2026-12-03", "2026-12-02"))
    assert body == {"response_action": "errors", "errors": {"end": "The last day must not be before the first."}}


async def test_submitting_the_override_form(bot: RunningBot) -> None:
    start = int(NOW.timestamp()) + 86400  # Wed 10:00
    values = {
        "target": {"target": {"type": "static_select", "selected_option": {"value": "data-eng:R1"}}},
        "who": {"who": {"type": "users_select", "selected_user": DE3}},
        "start": {"start": {"type": "datetimepicker", "selected_date_time": start}},
        "end": {"end": {"type": "datetimepicker", "selected_date_time": start + 4 * 3600}},
        "reason": {"reason": {"type": "plain_text_input", "value": None}},
    }
    status, body = await bot.sim.post(bot.events_url, view_submission_body("change_override_modal", values,
                                                                           user_id="U0DE00001"))
    assert status == 200
    assert body["response_action"] == "update", body
    view = json.dumps(body["view"])
    assert "DE R1" in view and "Profit backup" in view


async def test_calendar_link_and_feed(bot: RunningBot) -> None:
    body = await slash(bot, "calendar", DE2)
    url = next(u for u in json.dumps(body["blocks"]).split("<")[1:] if u.startswith("http"))
    link = url.split("|")[0]
    path = link.split("/calendar/")[1]
    async with aiohttp.ClientSession(trust_env=False) as http:
        async with http.get(f"{bot.url}/calendar/{path}") as res:
            assert res.status == 200
            assert res.content_type == "text/calendar"
            text = await res.text()
        assert "X-WR-CALNAME:On call: Dev Desai" in text and "TZID=America/New_York" in text
        token = path.removesuffix(".ics")
        async with http.get(f"{bot.url}/calendar/{token}/engagement.ics") as res:
            assert res.status == 200 and "X-WR-CALNAME:On call: Engagement" in await res.text()
        reset = await slash(bot, "calendar reset", DE2)
        assert reset["text"].startswith("Your new calendar link")
        async with http.get(f"{bot.url}/calendar/{path}") as res:
            assert res.status == 404
        async with http.get(f"{bot.url}/calendar/nonsense.ics") as res:
            assert res.status == 404


async def test_fairness(bot: RunningBot) -> None:
    body = await slash(bot, "fairness 2026-11-09 2026-11-15", FIN1)
    assert body["text"].startswith("Fairness: Mon Nov 9 00:00 EST to Mon Nov 16 00:00 EST")
    assert "Frank Fisher" in text_of(body)


async def test_a_change_dm_rate_limited_is_retried_from_the_outbox(bot: RunningBot) -> None:
    from datetime import timedelta

    from bot.services import incidents as incident_service
    from bot.storage import scheduled as store

    # Slack rate-limits the DMs to fin3 for longer than the first attempt waits (3 pauses)
    bot.slack.fail_next("chat.postMessage", 429, retry_after=0, times=4,
                        where=lambda c: c.params.get("channel") == FIN3)
    body = await slash(bot, "override finance <@U0FIN0003|farah> dec 2 dec 3 quarter close", FIN1)
    assert body["text"].startswith(":white_check_mark: Done (#1)")
    await bot.settle()
    assert dms_to(bot, FIN3) and not [c for c in bot.slack.calls_to("chat.postMessage", ok_only=True)
                                      if c.params.get("channel") == FIN3]
    assert any("You no longer cover Profit primary" in m for m in dms_to(bot, FIN2))
    async with bot.deps.db.sessions() as session:
        owed = {r.key: r.status for r in await store.deliveries_with_prefix(session, "change:1:")}
        failed = [r.key for r in await store.list_deliveries(session, failed_only=True)]
    assert owed == {"change:1:notify:fin2": "sent", "change:1:notify:fin3": "failed"}
    assert failed == ["change:1:notify:fin3"]  # what `oncall-bot deliveries --failed` lists
    # the minute tick retries it once its backoff has passed
    await incident_service.run_periodic(bot.deps, NOW + timedelta(minutes=1))
    sent = [c for c in bot.slack.calls_to("chat.postMessage", ok_only=True) if c.params.get("channel") == FIN3]
    assert len(sent) == 1 and "You now cover Profit primary" in json.dumps(sent[0].params, ensure_ascii=False)
    await incident_service.run_periodic(bot.deps, NOW + timedelta(minutes=10))
    assert len([c for c in bot.slack.calls_to("chat.postMessage", ok_only=True)
                if c.params.get("channel") == FIN3]) == 1
