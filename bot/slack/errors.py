"""One place where failures become messages: known ones are said to the user, unknown ones are
logged once with a short reference id that the user sees too."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from bot.commands.results import Problem
from bot.render.blocks import Message, error_message, render_problem, unavailable_message
from bot.services.database import is_unavailable
from bot.slack.metrics import Metrics

log = logging.getLogger("bot.slack")

Reply = Callable[[Message], Awaitable[None]]


class UserError(Exception):
    """A mistake of the user's (or a state they can fix): said to them ephemerally, not logged."""


def new_reference() -> str:
    """A short id (8 hex characters) that ties what the user saw to one log line."""
    return secrets.token_hex(4)


def request_kind(body: dict[str, Any]) -> str:
    """The metrics/log label of a request: ``/oncall``, ``share_in_channel`` (an action id's
    prefix), ``app_mention`` (an event type), a shortcut's or view's callback_id."""
    if "command" in body:
        return str(body.get("command"))
    kind = str(body.get("type", "unknown"))
    if kind == "event_callback":
        return str((body.get("event") or {}).get("type", "unknown"))
    if kind == "block_actions":
        actions = body.get("actions") or [{}]
        return str(actions[0].get("action_id", "")).split(":", 1)[0] or kind
    if kind in ("shortcut", "message_action"):
        return str(body.get("callback_id") or kind)
    if kind == "view_submission":
        return str((body.get("view") or {}).get("callback_id") or kind)
    return kind


def _user_of(body: dict[str, Any]) -> str | None:
    user = body.get("user_id") or (body.get("user") or {}).get("id") or (body.get("event") or {}).get("user")
    return str(user) if user else None


def failure_message(error: BaseException, body: dict[str, Any] | None = None, where: str = "") -> Message:
    """Log ``error`` once and return what the user is told: "try again" when the database is
    down (a warning, no traceback), otherwise the generic message with a reference."""
    if is_unavailable(error):
        reference = new_reference()
        log.warning("database unavailable ref=%s in %s: %s: %s", reference, where or request_kind(body or {}),
                    type(error).__name__, error, extra={"reference": reference})
        return unavailable_message(reference)
    return error_message(log_unexpected(error, body, where))


def log_unexpected(error: BaseException, body: dict[str, Any] | None = None, where: str = "") -> str:
    """Log ``error`` once, with its traceback and a new reference id; the reference."""
    reference = new_reference()
    body = body or {}
    log.error(
        "unexpected error ref=%s in %s (user %s): %s: %s",
        reference,
        where or request_kind(body),
        _user_of(body) or "-",
        type(error).__name__,
        error,
        exc_info=error,
        extra={"reference": reference},
    )
    return reference


def user_error_message(error: UserError) -> Message:
    """The ephemeral message for a known mistake (rendered like any command's ``Problem``)."""
    return render_problem(Problem(str(error)))


def message_response(message: Message, *, response_type: str = "ephemeral") -> BoltResponse:
    """An HTTP answer to a slash command that shows ``message`` (what ``ack(text, blocks)`` sends)."""
    body = {"response_type": response_type, "text": message.text, "blocks": message.blocks_json()}
    return BoltResponse(status=200, body=json.dumps(body), headers={"content-type": "application/json"})


async def guarded(work: Awaitable[Any], *, body: dict[str, Any], reply: Reply | None, metrics: Metrics) -> None:
    """Run background ``work``; a failure is logged with a reference and, when possible, told to the
    user through ``reply`` (never raised: a background task has no one to raise to)."""
    try:
        await work
    except UserError as exc:
        if reply is not None:
            await _quiet(reply(user_error_message(exc)))
    except Exception as exc:
        message = failure_message(exc, body)
        metrics.count_command(request_kind(body), "error", 0.0)
        if reply is not None:
            await _quiet(reply(message))


async def _quiet(sending: Awaitable[None]) -> None:
    """Send an error notice; if even that fails, the log already has the story."""
    try:
        await sending
    except Exception as exc:
        log.warning("could not tell the user about an error: %s: %s", type(exc).__name__, exc)


def register(app: AsyncApp, metrics: Metrics) -> None:
    """Install the app's one error handler."""

    async def on_error(error: Exception, body: dict[str, Any], respond: Any) -> BoltResponse:
        if isinstance(error, UserError):
            message = user_error_message(error)
        else:
            message = failure_message(error, body)
            metrics.count_command(request_kind(body), "error", 0.0)
        if "command" in body:  # a slash command: the answer to the request is the message
            return message_response(message)
        if body.get("response_url"):  # interactivity: say it where the click happened
            await _quiet(respond(text=message.text, blocks=message.blocks_json(), response_type="ephemeral",
                                 replace_original=False))
        return BoltResponse(status=200, body="")  # events: a non-200 would make Slack redeliver

    app.error(on_error)


__all__ = [
    "UserError", "failure_message", "guarded", "is_unavailable", "log_unexpected", "message_response",
    "new_reference", "register",
]
