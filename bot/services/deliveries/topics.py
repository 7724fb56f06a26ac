"""Send a channel-topic delivery (op ``topic``): read the topic, keep the team's part, set ours.

The payload (``bot.services.scheduled.topics``) carries our part in its forms from fullest to
shortest (``texts``), the ``separator`` and the forms the previous delivery carried
(``previous``). At send time the channel's topic is read (``conversations.info``): the team's
part (before the last separator) stays, ours follows in the fullest form that fits Slack's 250
characters (``bot.core.topic.compose``). A topic that already reads so is not set again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.core.topic import compose, split_topic
from bot.services.deliveries.port import SlackPort

# Slack's answers that no retry can change: the delivery is refused (expired), not retried.
REFUSALS: dict[str, str] = {
    "not_in_channel": "the bot is not in the channel (/invite it there)",
    "channel_not_found": "Slack does not know the channel",
    "is_archived": "the channel is archived",
    "missing_scope": "the token lacks the channels:write.topic scope",
    "method_not_supported_for_channel_type": "this kind of conversation has no topic",
    "user_is_restricted": "the bot may not set topics in this workspace",
    "restricted_action": "the workspace does not let the bot set topics",
}

Call = Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]]


def topic_to_set(current: str, payload: dict[str, Any]) -> str:
    """The topic to set when the channel's topic is ``current``."""
    texts = [str(t) for t in payload.get("texts") or []]
    separator = str(payload.get("separator") or " | ")
    previous = [str(t) for t in payload.get("previous") or []]
    human = split_topic(current, separator, previous)
    return compose(human, texts, separator)


async def send_topic(port: SlackPort, target: str, payload: dict[str, Any], call: Call) -> tuple[str, bool]:
    """Set ``target``'s topic as ``payload`` says; ``(channel id, whether setTopic was called)``."""
    cid: str = await call(lambda: port.conversation(target))
    current: str = await call(lambda: port.topic(cid))
    text = topic_to_set(current, payload)
    if text == current.strip():
        return cid, False
    await call(lambda: port.set_topic(cid, text))
    return cid, True
