"""A before-shift DM Slack refuses: one log line naming the notice (its delivery id), no traceback;
the notice is given back and sent by a later tick."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse

from bot.core.model import Directory
from bot.render.blocks import Message
from bot.services import changes as svc
from bot.storage.bootstrap import Database

from .helpers import local

SUNDAY = local(2026, 11, 8, 10, 0)  # Sunday: Monday 09:00 handoffs are within 24 h


class Refusing:
    """A ``Notify`` that Slack refuses (``user_not_found``, the whole response in the exception)."""

    def __init__(self) -> None:
        self.refuse = True
        self.sent: list[str] = []

    async def __call__(self, directory: Directory, person: str, message: Message) -> None:
        if self.refuse:
            data = {"ok": False, "error": "user_not_found", "detail": "x" * 4000}
            response = SlackResponse(client=None, http_verb="POST", api_url="https://slack.com/api/chat.postMessage",
                                     req_args={}, data=data, headers={}, status_code=200)
            raise SlackApiError("The request to the Slack API failed.", response)
        self.sent.append(person)


async def test_a_refused_dm_is_one_line_with_its_key_then_retried(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.services.changes")
    notify = Refusing()
    assert await svc.send_shift_notices(db, SUNDAY, timedelta(hours=24), notify) == []
    lines = [r for r in caplog.records if r.name == "bot.services.changes"]
    assert lines, "the Monday handoffs are within 24 h"
    for r in lines:
        text = r.getMessage()
        assert r.exc_info is None and "\n" not in text and len(text) < 300, text
        assert text.startswith("shift notice shift:") and text.endswith(
            "not sent: slack error 200: user_not_found; tried again next tick")
    notify.refuse = False
    sent = await svc.send_shift_notices(db, SUNDAY + timedelta(minutes=1), timedelta(hours=24), notify)
    assert len(sent) == len(lines) and sorted(notify.sent) == sorted(
        r.getMessage().split("(DM to ")[1].split(")")[0] for r in lines)
