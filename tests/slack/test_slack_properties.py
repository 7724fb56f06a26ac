"""Whatever a user types or a button carries: never a 5xx, never an unexpected error."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.render.ids import Action
from tests.slack.harness import DEV, RunningBot
from tests.support import payloads as p
from tests.support.signing import app_mention_body, block_action_body, slash_command_body

PROPERTY = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Text as people type it (letters, digits, punctuation, spaces, emoji, Slack mentions and tokens).
WORDS = st.sampled_from(["engagement", "profit", "growth", "at", "me", "schedule", "help", "tomorrow", "10:00",
                         "saturday", "dec 25", "<@U0DE00002>", "<@U0NOBODY|x>", "<!here>", "--critical", "12"])
TYPED = st.one_of(
    st.text(max_size=300),
    st.lists(WORDS, max_size=8).map(" ".join),
    st.lists(st.one_of(WORDS, st.text(max_size=12)), max_size=6).map(" ".join),
)


class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def errors() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    logger = logging.getLogger("bot")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def no_errors(errors: ErrorLog) -> None:
    assert not errors.records, [r.getMessage() for r in errors.records]


@PROPERTY
@given(command=st.sampled_from(["/oncall", "/runbook", "/whoowns"]), text=TYPED,
       user=st.sampled_from([DEV, p.USER_ID]))
async def test_any_command_text(bot: RunningBot, errors: ErrorLog, command: str, text: str, user: str) -> None:
    response = await bot.sim.post(bot.events_url, slash_command_body(command, text, user_id=user))
    assert response.status == 200, response.text
    assert response.body["response_type"] == "ephemeral"
    assert response.body["text"]
    assert len(response.body["blocks"]) <= 50
    no_errors(errors)


@PROPERTY
@given(action=st.sampled_from(list(Action)), value=st.one_of(TYPED, st.text(max_size=2000)),
       on_home=st.booleans())
async def test_any_button_value(bot: RunningBot, errors: ErrorLog, action: Action, value: str, on_home: bool) -> None:
    where = {"view": {"id": "V0HOME001", "type": "home"}, "response_url": None} if on_home else {
        "response_url": bot.slack.response_url("prop")}
    body = block_action_body(f"{action}:{value}"[:255], value, user_id=DEV, **where)
    response = await bot.sim.post(bot.events_url, body)
    assert response.status == 200, response.text
    await bot.settle()
    no_errors(errors)
    assert not [c for c in bot.slack.calls if c.status is not None and c.status >= 500]


@PROPERTY
@given(text=TYPED, in_thread=st.booleans())
async def test_any_mention_text(bot: RunningBot, errors: ErrorLog, text: str, in_thread: bool) -> None:
    thread = p.new_message_ts() if in_thread else None
    response = await bot.sim.post(bot.events_url, app_mention_body(f"<@{p.BOT_USER_ID}> {text}", thread_ts=thread))
    assert response.status == 200, response.text
    await bot.settle()
    no_errors(errors)
    replies = [c for c in bot.slack.calls if c.method in ("chat.postMessage", "chat.postEphemeral")]
    assert replies and all(c.ok for c in replies), [(c.method, c.error) for c in replies]
