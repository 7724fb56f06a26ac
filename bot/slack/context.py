"""``BotContext``: what the Slack listeners share, and ``context_of(app)`` to find it.

Its own module so that the listener modules and ``bot.slack.app`` (which registers them) both
import it without importing each other.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.services.cache import SnapshotCache
from bot.slack.channel_names import ChannelNames
from bot.slack.deps import SlackDeps
from bot.slack.memo import BlockJson, SecondMemo
from bot.slack.metrics import Metrics


@dataclass
class BotContext:
    """What the listeners share: the dependencies, the snapshot cache, the metrics, the memo of
    validated Block Kit JSON (``ctx.blocks.blocks(message)`` instead of ``message.blocks_json()``)
    and the answers of the current second (``bot.slack.commands.answer``)."""

    deps: SlackDeps
    cache: SnapshotCache
    metrics: Metrics
    blocks: BlockJson = field(default_factory=BlockJson)
    answers: SecondMemo[Any] = field(default_factory=SecondMemo)
    channels: ChannelNames | None = None  # the #names of channel ids (``build_app`` sets it)


_contexts: weakref.WeakKeyDictionary[AsyncApp, BotContext] = weakref.WeakKeyDictionary()


def attach(app: AsyncApp, ctx: BotContext) -> None:
    """Make ``ctx`` the context of ``app`` (``bot.slack.app.build_app`` does, before registering)."""
    _contexts[app] = ctx


def context_of(app: AsyncApp) -> BotContext:
    """The ``BotContext`` an app made by ``build_app`` registered its listeners with."""
    return _contexts[app]
