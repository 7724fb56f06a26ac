"""``/oncall notify`` over real HTTP: the form opens, adds a method (encrypted, never echoed),
tests it for real (a local ntfy server receives it), orders and removes methods, and refuses to
touch another person's methods."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from bot.config import Settings
from bot.render.ids import Action, Callback
from bot.services.paging import contacts
from bot.storage.bootstrap import Database
from tests.slack.harness import RunningBot, running_bot, slack_settings
from tests.support.fake_slack import FakeSlack
from tests.support.signing import (
    block_action_body,
    slash_command_body,
    view_submission_body,
)

from .conftest import DANA, SECRET, Received

DEV = "U0DE00002"


@pytest.fixture
async def notify_bot(settings: Settings, db: Database, fake_slack: FakeSlack) -> AsyncIterator[RunningBot]:
    async with running_bot(slack_settings(settings, fake_slack, secret_key=SECRET), db, fake_slack) as running:
        yield running


def _values(url: str, label: str = "", after: str = "") -> dict[str, dict[str, dict[str, str]]]:
    return {"notify_url": {"value": {"type": "plain_text_input", "value": url}},
            "notify_label": {"value": {"type": "plain_text_input", "value": label}},
            "notify_after": {"value": {"type": "number_input", "value": after}}}


async def test_the_notify_form(notify_bot: RunningBot, sink: tuple[Received, str]) -> None:
    b = notify_bot
    posts, host = sink
    status, _ = await b.sim.post(b.events_url, slash_command_body("/oncall", "notify", user_id=DANA))
    assert status == 200
    [opened] = await b.slack.wait_for("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == Callback.NOTIFY_MODAL and "Only Slack so far" in json.dumps(view)

    url = f"ntfy://{host}/dana-secret-topic"
    status, body = await b.sim.post(b.events_url, view_submission_body(
        Callback.NOTIFY_MODAL, _values(url, "phone", "2"), user_id=DANA))
    assert status == 200 and body["response_action"] == "update"
    shown = json.dumps(body["view"], ensure_ascii=False)
    assert "phone" in shown and "ntfy://••••" in shown and "dana-secret-topic" not in shown
    [method] = await contacts.list_methods(b.deps, "de1")
    assert (method.label, method.scheme, method.after_minutes) == ("phone", "ntfy", 2)

    status, body = await b.sim.post(b.events_url, view_submission_body(
        Callback.NOTIFY_MODAL, _values("not a url with secret-words"), user_id=DANA))
    assert body["response_action"] == "errors" and "secret-words" not in json.dumps(body)

    view_payload = {"id": "V0NOTIFY1", "callback_id": Callback.NOTIFY_MODAL, "type": "modal"}
    await b.sim.post(b.events_url, block_action_body(Action.NOTIFY_TEST, str(method.id), user_id=DANA,
                                                     channel=None, view=view_payload))
    [got] = await posts.wait_for(1)
    assert got["json"]["topic"] == "dana-secret-topic" and "test" in got["json"]["message"]
    [updated] = await b.slack.wait_for("views.update")
    assert "sent" in json.dumps(updated.params["view"])

    # Another person cannot test or remove de1's method.
    await b.sim.post(b.events_url, block_action_body(Action.NOTIFY_REMOVE, str(method.id), user_id=DEV,
                                                     channel=None, view=view_payload))
    await b.slack.wait_for("views.update", count=2)
    assert len(await contacts.list_methods(b.deps, "de1")) == 1

    await b.sim.post(b.events_url, block_action_body(Action.NOTIFY_REMOVE, str(method.id), user_id=DANA,
                                                     channel=None, view=view_payload))
    await b.slack.wait_for("views.update", count=3)
    assert await contacts.list_methods(b.deps, "de1") == []


async def test_someone_not_in_the_directory_is_told(notify_bot: RunningBot) -> None:
    status, body = await notify_bot.sim.post(notify_bot.events_url, slash_command_body("/oncall", "notify",
                                                                                        user_id="U0NOBODY1"))
    assert status == 200 and "not in the on-call directory" in body["text"]
