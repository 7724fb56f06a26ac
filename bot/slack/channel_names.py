"""The ``#name`` of a Slack channel id, for answers that depend on where they are asked.

A slash command's payload carries ``channel_name`` (used as it is, no call); an @-mention's
event carries only the id, which ``conversations.info`` names once (remembered for the process;
a failure means "unknown channel": the answer is then the one given anywhere)."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

# Names Slack puts in a slash command's ``channel_name`` for conversations that are not channels.
_NOT_CHANNELS = frozenset({"directmessage", "privategroup", "mpdm"})
_MAX_REMEMBERED = 10_000


class ChannelNames:
    """``#name`` of channel ids, from the payload's hint or ``conversations.info``, remembered."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._names: dict[str, str | None] = {}

    def remember(self, channel_id: str | None, name: str | None) -> str | None:
        """The ``#name`` of ``channel_id`` as the payload names it (None for DMs and unknown)."""
        if not name or name in _NOT_CHANNELS or name.startswith("mpdm-"):
            return self._names.get(channel_id or "")
        named = "#" + name.lstrip("#")
        if channel_id and len(self._names) < _MAX_REMEMBERED:
            self._names[channel_id] = named
        return named

    async def name(self, channel_id: str | None) -> str | None:
        """The ``#name`` of ``channel_id`` (None for a DM or when Slack does not say)."""
        if not channel_id or channel_id[:1] == "D":
            return None
        if channel_id in self._names:
            return self._names[channel_id]
        try:
            resp = await self.client.conversations_info(channel=channel_id)
            channel = resp.get("channel") or {}
            named = f"#{channel['name']}" if channel.get("name") and not channel.get("is_im") else None
        except Exception as exc:  # an unknown channel answers as anywhere: never fail the answer
            log.info("channel %s not named (%s): answering as anywhere", channel_id, exc)
            return None
        if len(self._names) < _MAX_REMEMBERED:
            self._names[channel_id] = named
        return named
