"""The port the deliveries send through: ``SlackPort`` (what they need from Slack) and ``SendError``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol


class SendError(Exception):
    """A Slack call failed. ``retry_after``: seconds (a 429). ``definite``: Slack answered, so
    nothing was posted; False when the outcome is unknown (timeout, connection lost). ``error``:
    Slack's error code when it answered one (``plan_upgrade_required``)."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, definite: bool = True, error: str | None = None
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.definite = definite
        self.error = error


class SlackPort(Protocol):
    """What the deliveries need from Slack."""

    paced: bool

    async def conversation(self, target: str) -> str:
        """The conversation id of ``#name``, ``C…``/``G…``/``D…``, a user ``U…`` (their DM) or
        ``U1,U2,U3`` (a group DM)."""
        ...

    async def post(
        self,
        channel_id: str,
        text: str,
        blocks: list[dict[str, Any]] | None,
        metadata: dict[str, Any] | None,
        thread_ts: str | None,
    ) -> tuple[str, str]:
        """Post; ``(channel id, ts)``."""
        ...

    async def update(self, channel_id: str, ts: str, text: str, blocks: list[dict[str, Any]] | None) -> None: ...

    async def find_key(self, channel_id: str, key: str, oldest: datetime | None, thread_ts: str | None) -> str | None:
        """The ts of a message in the channel (or thread) whose metadata carries ``key``."""
        ...

    async def upload(
        self, channel_id: str, thread_ts: str | None, filename: str, content: bytes, title: str, comment: str | None
    ) -> None: ...

    async def find_file(self, channel_id: str, thread_ts: str | None, filename: str) -> bool: ...

    async def set_usergroup(self, handle: str, users: Sequence[str]) -> None: ...

    async def topic(self, channel_id: str) -> str:
        """The channel's topic now (``conversations.info``)."""
        ...

    async def set_topic(self, channel_id: str, text: str) -> None:
        """Set the channel's topic (``conversations.setTopic``: plain text, at most 250 characters)."""
        ...

    async def permalink(self, channel_id: str, ts: str) -> str | None: ...
