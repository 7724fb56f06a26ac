"""Issue 10 §6: user text is escaped wherever it is echoed. One hostile string goes through every
text input (commands, forms, shortcuts, mentions, the Home tab that shows it back) over real HTTP,
and nothing that left the bot (acks, response_url posts, Web API calls to the fake Slack) carries
a live ``<!channel>`` or a link; a Slack-encoded user mention stays a mention."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from bot.render.fmt import problem_text, user_text
from bot.render.ids import Callback
from bot.render.incident import (
    CRITICAL_BLOCK,
    CRITICAL_INPUT,
    PIPELINE_BLOCK,
    PIPELINE_INPUT,
    SUMMARY_BLOCK,
    SUMMARY_INPUT,
)
from tests.slack.harness import RunningBot
from tests.support import payloads as p
from tests.support.signing import (
    app_home_opened_body,
    app_mention_body,
    message_shortcut_body,
    slash_command_body,
    view_submission_body,
)

ATTACK = "<!channel> <https://x|y> & <@U1>"
# what Slack itself sends for the same typed text in a slash command or a message: it escapes
# &, < and > and encodes real mentions
ENCODED = "&lt;!channel&gt; &lt;https://x|y&gt; &amp; <@U0DE00001|dana>"
CHANNELS = {"data-profit": "C0DPROFIT", "data-engagement": "C0DENGAGE", "data-growth": "C0DGROWTH",
            "data-eng": "C0DATAENG", "data-oncall": "C0ONCALL0", "finance": "C0FINANCE"}
FIN1, FIN3, DE2, DE3 = "U0FIN0001", "U0FIN0003", "U0DE00002", "U0DE00003"
LIVE = re.compile(r"<!(channel|here|everyone)|<https?://x|<#C")
# Keys whose strings Slack never reads as mrkdwn (ids, plain inputs' values, metadata).
NOT_MRKDWN = {"action_id", "block_id", "callback_id", "value", "initial_value", "private_metadata", "url",
              "trigger_id", "response_url", "external_id", "metadata", "ts", "thread_ts", "channel", "user"}


def test_the_rule() -> None:
    assert user_text(ATTACK) == "&lt;!channel&gt; &lt;https://x|y&gt; &amp; <@U1>"
    assert user_text(ENCODED) == "&lt;!channel&gt; &lt;https://x|y&gt; &amp; <@U0DE00001>"
    assert user_text(user_text(ATTACK)) == user_text(ATTACK)
    assert user_text("<#C0DPROFIT> <!subteam^S1> <mailto:a@b|x> R&D") == \
        "&lt;#C0DPROFIT&gt; &lt;!subteam^S1&gt; &lt;mailto:a@b|x&gt; R&amp;D"
    assert user_text("<@U1|<!channel>>") == "&lt;@U1|&lt;!channel&gt;&gt;"
    # problems keep the bot's own link-less date tokens, not one with a link
    assert problem_text("<!date^1700000000^{time}|10:00>") == "<!date^1700000000^{time}|10:00>"
    assert LIVE.search(problem_text("<!date^1700000000^{time}^https://x|10:00>")) is None


def _mrkdwn_strings(value: Any, key: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        if value.get("type") == "plain_text":  # never read as markup
            return
        for k, v in value.items():
            if k not in NOT_MRKDWN:
                yield from _mrkdwn_strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _mrkdwn_strings(v, key)
    elif isinstance(value, str):
        if value[:1] in "{[":
            try:
                yield from _mrkdwn_strings(json.loads(value), key)
                return
            except ValueError:
                pass
        yield value


def _live(payload: Any) -> list[str]:
    return [s for s in _mrkdwn_strings(payload) if LIVE.search(s)]


async def test_hostile_text_through_every_input_is_never_live(bot: RunningBot) -> None:
    for name, cid in CHANNELS.items():
        bot.slack.add_channel(id=cid, name=name)
    acks: list[Any] = []

    async def post(body: str) -> None:
        response = await bot.sim.post(bot.events_url, body)
        assert response.status == 200, response.text
        acks.append(response.body)
        await bot.settle()

    def slash(command: str, text: str, user: str = DE2, **kw: Any) -> str:
        return slash_command_body(command, text, user_id=user, response_url=bot.slack.response_url("c"), **kw)

    for typed in (ATTACK, ENCODED):
        # lookups that quote what was asked
        await post(slash("/oncall", typed))
        await post(slash("/oncall", f"engagement at {typed}"))
        await post(slash("/oncall", f"schedule {typed}"))
        await post(slash("/runbook", typed))
        await post(slash("/whoowns", typed))
        await post(slash("/oncall", f"@{typed}"))
        # changes with a reason: the ack, the DMs to the people affected, the list
        await post(slash("/oncall", f"override finance <@{FIN3}> dec 2 dec 3 {typed}", user=FIN1))
        await post(slash("/oncall", f"away dec 21 dec 22 {typed}"))
        await post(slash("/oncall", "changes"))
        # incidents: the channel post, the page DMs, the thread, the reporter's note
        await post(slash("/incident", f"engagement {typed} --critical", channel_id="C0DENGAGE"))
        # mentions
        await post(app_mention_body(f"<@{p.BOT_USER_ID}> who owns {typed}", user_id=DE2))
        await post(app_mention_body(f"<@{p.BOT_USER_ID}> {typed}", user_id=DE2))
    # forms: the away form's reason, the incident modal's summary
    away = {
        "who": {"who": {"type": "users_select", "selected_user": DE3}},
        "start": {"start": {"type": "datepicker", "selected_date": "2026-12-14"}},
        "end": {"end": {"type": "datepicker", "selected_date": "2026-12-15"}},
        "cover": {"cover": {"type": "users_select", "selected_user": None}},
        "reason": {"reason": {"type": "plain_text_input", "value": ATTACK}},
    }
    await post(view_submission_body("change_away_modal", away, user_id=DE3))
    await post(slash("/oncall", "changes", user=DE3))
    # the message shortcut, then its modal submitted as Slack would
    source_ts = bot.slack.add_message(p.CHANNEL_ID, ATTACK)
    trigger = bot.slack.new_trigger_id()
    await post(message_shortcut_body(str(Callback.OPEN_INCIDENT_SHORTCUT), message_text=ATTACK,
                                     message_ts=source_ts, trigger_id=trigger, user_id=DE2))
    view = bot.slack.last_call("views.open").params["view"]
    values = {
        PIPELINE_BLOCK: {PIPELINE_INPUT: {"type": "static_select", "selected_option": {"value": "profit"}}},
        SUMMARY_BLOCK: {SUMMARY_INPUT: {"type": "plain_text_input", "value": ATTACK}},
        CRITICAL_BLOCK: {CRITICAL_INPUT: {"type": "checkboxes", "selected_options": []}},
    }
    await post(view_submission_body(str(Callback.OPEN_INCIDENT_MODAL), values,
                                    private_metadata=view["private_metadata"], user_id=DE2))
    # the Home tab of people who see those incidents
    for user in (DE2, DE3, FIN1):
        await post(app_home_opened_body(user))

    sent = [c.params for c in bot.slack.calls] + [r.body for r in bot.slack.responses] + acks
    assert _live(sent) == []
    # the text did reach people, escaped, and the encoded mention stayed a mention
    everything = json.dumps(sent, ensure_ascii=False)
    assert everything.count("&lt;!channel&gt;") >= 20
    assert "<@U0DE00001>" in everything
    methods = {c.method for c in bot.slack.calls}
    assert {"chat.postMessage", "views.publish", "views.open"} <= methods
    assert len(bot.slack.responses) > 0
    posts = bot.slack.calls_to("chat.postMessage")
    for channel in ("#data-engagement", FIN3):  # the incident post, a change DM
        assert any(c.params.get("channel") == channel and "&lt;!channel&gt;" in json.dumps(c.params) for c in posts)
