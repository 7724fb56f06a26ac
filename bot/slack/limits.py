"""A bolt middleware that refuses typed text the bot will not read (``bot.commands.limits``)
before any listener parses it: a slash command's text, a form's inputs, a mention's text. The
person is told why; nothing else happens."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.commands.limits import text_problem
from bot.commands.results import Problem
from bot.render.blocks import render_problem
from bot.slack.deps import SlackDeps
from bot.slack.errors import message_response
from bot.slack.metrics import Metrics

log = logging.getLogger("bot.slack")


def _form_inputs(view: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """``(block_id, typed text)`` of every text input of a submitted form."""
    values = ((view.get("state") or {}).get("values") or {})
    for block_id, actions in values.items():
        if not isinstance(actions, dict):
            continue
        for element in actions.values():
            if isinstance(element, dict) and isinstance(element.get("value"), str):
                yield str(block_id), element["value"]


class RefuseUnreadableText(AsyncMiddleware):
    """Too long or control characters: a slash command gets the reason as its answer, a form the
    reason under the offending field, a mention an ephemeral reply."""

    def __init__(self, deps: SlackDeps, metrics: Metrics) -> None:
        self.deps = deps
        self.metrics = metrics

    async def async_process(
        self, *, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        body = req.body
        if "command" in body:
            problem = text_problem(str(body.get("text") or ""), "your command")
            if problem is not None:
                self.metrics.count_command(str(body.get("command")), "user_error", 0.0)
                return message_response(render_problem(Problem(problem)))
        elif body.get("type") == "view_submission":
            errors = {}
            for block_id, typed in _form_inputs(body.get("view") or {}):
                problem = text_problem(typed, "this field")
                if problem is not None:
                    errors[block_id] = problem
            if errors:
                self.metrics.count_command(str((body.get("view") or {}).get("callback_id")), "user_error", 0.0)
                answer = {"response_action": "errors", "errors": errors}
                return BoltResponse(status=200, body=json.dumps(answer), headers={"content-type": "application/json"})
        elif body.get("type") == "event_callback" and (body.get("event") or {}).get("type") == "app_mention":
            event = body.get("event") or {}
            problem = text_problem(str(event.get("text") or ""), "your message")
            if problem is not None:
                self.metrics.count_command("app_mention", "user_error", 0.0)
                self.deps.background.spawn(self._tell(event, problem), name="app_mention")
                return BoltResponse(status=200, body="")
        await next()
        return resp

    async def _tell(self, event: dict[str, Any], problem: str) -> None:
        channel, user = event.get("channel"), event.get("user")
        if not channel or not user:
            return
        note = render_problem(Problem(problem))
        try:
            await self.deps.client.chat_postEphemeral(channel=str(channel), user=str(user), text=note.text,
                                                      blocks=note.blocks_json(),
                                                      thread_ts=event.get("thread_ts") or event.get("ts"))
        except Exception as exc:  # the log has the story; there is no one else to tell
            log.warning("could not tell %s their mention was refused: %s: %s", user, type(exc).__name__, exc)
