"""Builders for the payloads Slack sends to an app (dicts), and Socket Mode envelopes.

The same payload dict serves both transports:

* HTTP mode: ``tests.support.signing`` encodes it (form body, ``payload=`` form field, or JSON) and
  signs it;
* Socket Mode: wrap it with :func:`slash_commands_envelope`, :func:`interactive_envelope` or
  :func:`events_api_envelope` and push it with ``FakeSlack.socket_send``.

The default identities (team, bot, app, a user, a channel) match ``FakeSlack``'s defaults, so a
payload built here looks like it came from the workspace the fake serves.
"""

from __future__ import annotations

import itertools
import secrets
import time
import uuid
from collections.abc import Mapping
from typing import Any

JsonDict = dict[str, Any]

TEAM_ID = "T0FAKE001"
TEAM_DOMAIN = "fake-team"
TEAM_NAME = "Fake Team"
APP_ID = "A0APP0001"
BOT_ID = "B0BOT0001"
BOT_USER_ID = "U0BOT0001"
BOT_NAME = "oncall"
USER_ID = "U0USER001"
USER_NAME = "alice"
CHANNEL_ID = "C0CHAN001"
CHANNEL_NAME = "data-eng"
VERIFICATION_TOKEN = "fake-verification-token"
# Loopback port 1: refused at once, never leaves the machine. Pass FakeSlack.response_url(name)
# to record what the app posts there.
DEFAULT_RESPONSE_URL = "http://127.0.0.1:1/commands/T0FAKE001/1/fake"

_ids = itertools.count(1)
_ts_micros = itertools.count(1_600_000_000_000_100, 100)


def new_message_ts() -> str:
    """A unique, increasing Slack-style message ts ("1600000000.000100") for user messages.

    It is below FakeSlack's own ts range (1700000000...), so the two never collide.
    """
    v = next(_ts_micros)
    return f"{v // 1_000_000}.{v % 1_000_000:06d}"


def new_trigger_id() -> str:
    """A Slack-shaped trigger_id. FakeSlack accepts any trigger_id unless it issued it itself
    (``FakeSlack.new_trigger_id``), in which case it enforces expiry."""
    return f"{next(_ids)}.1234567890.{secrets.token_hex(16)}"


def new_event_id() -> str:
    return f"Ev{next(_ids):010d}"


def new_envelope_id() -> str:
    return str(uuid.uuid4())


def _user(user_id: str, user_name: str, team_id: str) -> JsonDict:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id}


def _team(team_id: str, team_domain: str) -> JsonDict:
    return {"id": team_id, "domain": team_domain}


# --------------------------------------------------------------------------------------------
# Slash commands
# --------------------------------------------------------------------------------------------


def slash_command_payload(
    command: str = "/oncall",
    text: str = "",
    *,
    user_id: str = USER_ID,
    user_name: str = USER_NAME,
    channel_id: str = CHANNEL_ID,
    channel_name: str = CHANNEL_NAME,
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    response_url: str = DEFAULT_RESPONSE_URL,
    trigger_id: str | None = None,
    api_app_id: str = APP_ID,
    token: str = VERIFICATION_TOKEN,
) -> dict[str, str]:
    """The fields of a slash command. Every value is a string, in both transports (Slack sends
    ``"is_enterprise_install": "false"`` even in Socket Mode JSON)."""
    return {
        "token": token,
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or new_trigger_id(),
    }


# --------------------------------------------------------------------------------------------
# Interactivity
# --------------------------------------------------------------------------------------------


def block_action_payload(
    action_id: str,
    value: str | None = None,
    *,
    block_id: str = "actions",
    action_type: str = "button",
    action_text: str = "Button",
    selected_option: Mapping[str, Any] | None = None,
    user_id: str = USER_ID,
    user_name: str = USER_NAME,
    channel: str | None = CHANNEL_ID,
    channel_name: str = CHANNEL_NAME,
    message_ts: str | None = None,
    message: Mapping[str, Any] | None = None,
    view: Mapping[str, Any] | None = None,
    state_values: Mapping[str, Any] | None = None,
    response_url: str | None = DEFAULT_RESPONSE_URL,
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    api_app_id: str = APP_ID,
    token: str = VERIFICATION_TOKEN,
) -> JsonDict:
    """A ``block_actions`` payload for one action.

    Message container by default (button in a message at ``message_ts`` in ``channel``); pass
    ``view=`` (a view dict with at least ``id``) for an action in a modal or on App Home, where
    Slack sends no channel, message or response_url.
    """
    action: JsonDict = {
        "action_id": action_id,
        "block_id": block_id,
        "type": action_type,
        "action_ts": f"{time.time():.6f}",
    }
    if action_type == "button":
        action["text"] = {"type": "plain_text", "text": action_text, "emoji": True}
        if value is not None:
            action["value"] = value
    elif selected_option is not None:
        action["selected_option"] = dict(selected_option)
    elif value is not None:
        action["selected_option"] = {"text": {"type": "plain_text", "text": value}, "value": value}

    payload: JsonDict = {
        "type": "block_actions",
        "user": _user(user_id, user_name, team_id),
        "api_app_id": api_app_id,
        "token": token,
        "trigger_id": trigger_id or new_trigger_id(),
        "team": _team(team_id, team_domain),
        "enterprise": None,
        "is_enterprise_install": False,
        "state": {"values": dict(state_values or {})},
        "actions": [action],
    }
    if view is not None:
        view_d = dict(view)
        payload["container"] = {"type": "view", "view_id": view_d.get("id")}
        payload["view"] = view_d
        return payload
    ts = message_ts or (message or {}).get("ts") or new_message_ts()
    msg = (
        dict(message)
        if message is not None
        else {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "text": "",
            "ts": ts,
        }
    )
    msg.setdefault("ts", ts)
    payload["container"] = {
        "type": "message",
        "message_ts": ts,
        "channel_id": channel,
        "is_ephemeral": False,
    }
    payload["channel"] = {"id": channel, "name": channel_name}
    payload["message"] = msg
    if response_url is not None:
        payload["response_url"] = response_url
    return payload


def message_shortcut_payload(
    callback_id: str,
    *,
    message_text: str = "",
    message_ts: str | None = None,
    message_user: str = USER_ID,
    user_id: str = USER_ID,
    user_name: str = USER_NAME,
    channel_id: str = CHANNEL_ID,
    channel_name: str = CHANNEL_NAME,
    response_url: str = DEFAULT_RESPONSE_URL,
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    token: str = VERIFICATION_TOKEN,
) -> JsonDict:
    """A message shortcut (``"type": "message_action"``)."""
    ts = message_ts or new_message_ts()
    return {
        "type": "message_action",
        "token": token,
        "action_ts": f"{time.time():.6f}",
        "team": _team(team_id, team_domain),
        "user": _user(user_id, user_name, team_id),
        "channel": {"id": channel_id, "name": channel_name},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id or new_trigger_id(),
        "response_url": response_url,
        "message_ts": ts,
        "message": {"type": "message", "user": message_user, "ts": ts, "text": message_text},
    }


def global_shortcut_payload(
    callback_id: str,
    *,
    user_id: str = USER_ID,
    user_name: str = USER_NAME,
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    token: str = VERIFICATION_TOKEN,
) -> JsonDict:
    """A global shortcut (``"type": "shortcut"``): no channel, no response_url."""
    return {
        "type": "shortcut",
        "token": token,
        "action_ts": f"{time.time():.6f}",
        "team": _team(team_id, team_domain),
        "user": _user(user_id, user_name, team_id),
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id or new_trigger_id(),
    }


def view_submission_payload(
    callback_id: str,
    values: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    private_metadata: str = "",
    view_id: str | None = None,
    external_id: str = "",
    title: str = "Modal",
    blocks: list[JsonDict] | None = None,
    user_id: str = USER_ID,
    user_name: str = USER_NAME,
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    api_app_id: str = APP_ID,
    token: str = VERIFICATION_TOKEN,
) -> JsonDict:
    """A ``view_submission`` payload. ``values`` is ``view.state.values``:
    ``{block_id: {action_id: {"type": "plain_text_input", "value": "..."}}}``. Each submission
    gets its own view id unless ``view_id`` is given (Slack's replay of one keeps it)."""
    view_id = view_id or f"V0VIEW{next(_ids):03d}"
    return {
        "type": "view_submission",
        "team": _team(team_id, team_domain),
        "user": _user(user_id, user_name, team_id),
        "api_app_id": api_app_id,
        "token": token,
        "trigger_id": trigger_id or new_trigger_id(),
        "view": {
            "id": view_id,
            "team_id": team_id,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "external_id": external_id,
            "title": {"type": "plain_text", "text": title},
            "blocks": list(blocks or []),
            "state": {"values": {k: dict(v) for k, v in (values or {}).items()}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "app_id": api_app_id,
            "bot_id": BOT_ID,
            "root_view_id": view_id,
            "previous_view_id": None,
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


# --------------------------------------------------------------------------------------------
# Events API
# --------------------------------------------------------------------------------------------


def event_callback(
    event: Mapping[str, Any],
    *,
    event_id: str | None = None,
    event_time: int | None = None,
    team_id: str = TEAM_ID,
    api_app_id: str = APP_ID,
    bot_user_id: str = BOT_USER_ID,
    token: str = VERIFICATION_TOKEN,
) -> JsonDict:
    """Wrap an event in the Events API outer body (``"type": "event_callback"``)."""
    return {
        "token": token,
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": dict(event),
        "type": "event_callback",
        "event_id": event_id or new_event_id(),
        "event_time": event_time if event_time is not None else int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-fake-{secrets.token_hex(6)}",
    }


def app_mention_event(
    text: str,
    *,
    user_id: str = USER_ID,
    channel_id: str = CHANNEL_ID,
    ts: str | None = None,
    thread_ts: str | None = None,
    team_id: str = TEAM_ID,
) -> JsonDict:
    """An ``app_mention`` event. Slack's text starts with the mention: pass e.g.
    ``f"<@{BOT_USER_ID}> who is on call"``."""
    ts = ts or new_message_ts()
    event: JsonDict = {
        "type": "app_mention",
        "user": user_id,
        "text": text,
        "ts": ts,
        "team": team_id,
        "channel": channel_id,
        "event_ts": ts,
        "client_msg_id": str(uuid.uuid4()),
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return event


def app_home_opened_event(
    user_id: str = USER_ID,
    *,
    channel_id: str = "D0USERDM1",
    tab: str = "home",
    view: Mapping[str, Any] | None = None,
) -> JsonDict:
    event: JsonDict = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": channel_id,
        "tab": tab,
        "event_ts": f"{time.time():.6f}",
    }
    if view is not None:
        event["view"] = dict(view)
    return event


def message_event(
    text: str,
    *,
    user_id: str = USER_ID,
    channel_id: str = CHANNEL_ID,
    channel_type: str = "channel",
    ts: str | None = None,
    thread_ts: str | None = None,
    team_id: str = TEAM_ID,
) -> JsonDict:
    """A ``message`` event (``channel_type`` "im" for a DM to the bot)."""
    ts = ts or new_message_ts()
    event: JsonDict = {
        "type": "message",
        "user": user_id,
        "text": text,
        "ts": ts,
        "team": team_id,
        "channel": channel_id,
        "event_ts": ts,
        "channel_type": channel_type,
        "client_msg_id": str(uuid.uuid4()),
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return event


def url_verification_payload(challenge: str = "fake-challenge", *, token: str = VERIFICATION_TOKEN) -> JsonDict:
    return {"token": token, "challenge": challenge, "type": "url_verification"}


# --------------------------------------------------------------------------------------------
# Socket Mode envelopes
# --------------------------------------------------------------------------------------------


def events_api_envelope(
    body: Mapping[str, Any],
    *,
    envelope_id: str | None = None,
    retry_attempt: int = 0,
    retry_reason: str = "",
) -> JsonDict:
    """``body`` is the full event_callback (see :func:`event_callback`)."""
    return {
        "envelope_id": envelope_id or new_envelope_id(),
        "payload": dict(body),
        "type": "events_api",
        "accepts_response_payload": False,
        "retry_attempt": retry_attempt,
        "retry_reason": retry_reason,
    }


def slash_commands_envelope(payload: Mapping[str, Any], *, envelope_id: str | None = None) -> JsonDict:
    return {
        "envelope_id": envelope_id or new_envelope_id(),
        "payload": dict(payload),
        "type": "slash_commands",
        "accepts_response_payload": True,
    }


def interactive_envelope(payload: Mapping[str, Any], *, envelope_id: str | None = None) -> JsonDict:
    """block_actions, shortcuts, view_submission... (``accepts_response_payload`` is true for the
    payload types whose ack may carry a body: view_submission, block_suggestion)."""
    accepts = payload.get("type") in ("view_submission", "block_suggestion")
    return {
        "envelope_id": envelope_id or new_envelope_id(),
        "payload": dict(payload),
        "type": "interactive",
        "accepts_response_payload": accepts,
    }
