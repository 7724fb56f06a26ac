"""The incident service's Slack side effects, sent after the commit: ``SlackNotifier``."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.incident import Incident
from bot.render.blocks import Message

log = logging.getLogger("bot.incidents")




METADATA_EVENT = "oncall_incident"


class SlackNotifier:
    """The Web API calls incidents make. Each returns None/False on a Slack error (logged)."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def post(
        self, channel: str, message: Message, *, thread_ts: str | None = None, metadata: dict[str, Any] | None = None
    ) -> tuple[str, str] | None:
        """Post ``message``; ``(channel id, ts)`` or None."""
        try:
            kwargs: dict[str, Any] = {"channel": channel, "text": message.text}
            if message.blocks:
                kwargs["blocks"] = message.blocks_json()
            if thread_ts:
                kwargs["thread_ts"] = thread_ts
            if metadata:
                kwargs["metadata"] = metadata
            resp = await self.client.chat_postMessage(**kwargs)
            return str(resp["channel"]), str(resp["ts"])
        except (SlackApiError, SlackClientError) as exc:
            log.warning("chat.postMessage to %s failed: %s", channel, exc)
            return None

    async def update(self, channel: str, ts: str, message: Message) -> bool:
        try:
            await self.client.chat_update(channel=channel, ts=ts, text=message.text, blocks=message.blocks_json())
            return True
        except (SlackApiError, SlackClientError) as exc:
            log.warning("chat.update of %s/%s failed: %s", channel, ts, exc)
            return False

    async def dm(self, slack_user_id: str, message: Message, metadata: dict[str, Any] | None = None) -> bool:
        """A direct message: conversations.open, then chat.postMessage."""
        try:
            opened = await self.client.conversations_open(users=slack_user_id)
            channel = str(opened["channel"]["id"])
        except (SlackApiError, SlackClientError) as exc:
            log.warning("conversations.open with %s failed: %s", slack_user_id, exc)
            return False
        return await self.post(channel, message, metadata=metadata) is not None

    async def permalink(self, channel: str, ts: str) -> str | None:
        try:
            resp = await self.client.chat_getPermalink(channel=channel, message_ts=ts)
            link = resp.get("permalink")
            return str(link) if link else None
        except (SlackApiError, SlackClientError) as exc:
            log.warning("chat.getPermalink of %s/%s failed: %s", channel, ts, exc)
            return None


def message_metadata(inc: Incident, what: str) -> dict[str, Any]:
    """Our own idempotency key on what we post (chat.postMessage has none)."""
    return {"event_type": METADATA_EVENT, "event_payload": {"incident": inc.id, "level": inc.level, "what": what}}
