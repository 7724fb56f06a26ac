"""Memos of pure work on the answer path.

``BlockJson``: Block Kit JSON for messages, validated once per distinct content.

``slack_sdk.models`` validates a block every time ``to_dict()`` is called (~10 µs an object, the
largest single cost of an answer). The result is a pure function of the object's content, so it
is kept by content: the key is every instance attribute, recursively (``vars``), with the type, so
two blocks share a dict only if ``to_dict()`` would return equal dicts. The dicts handed out are
shared: callers must not modify them (build new ones, as ``{**block, ...}`` does).

``SecondMemo``: values computed for one instant, kept until the clock's second changes. Answers
are pure functions of (snapshot, command line, asker, instant); the bot computes them at the
current second (``now`` without its fraction), so everyone asking the same thing within that
second (an incident's burst of ``/oncall profit``) shares one computation, and an answer is never
more than a second behind the clock. A new snapshot (changed data) empties it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from slack_sdk.models.blocks import Block

from bot.render.blocks import Message

_SCALARS = (str, int, float, bool, type(None))


def content_key(value: Any) -> Hashable:
    """A hashable key of ``value``'s whole content (slack_sdk objects, lists, dicts, scalars)."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, list | tuple):
        return tuple(content_key(v) for v in value)
    if isinstance(value, dict):
        return ("dict", *((k, content_key(v)) for k, v in value.items()))
    return (type(value), *((k, content_key(v)) for k, v in vars(value).items()))


class BlockJson:
    """``blocks(message)``: the message's blocks as validated dicts, from memory when seen before."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._dicts: OrderedDict[Hashable, dict[str, Any]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def block(self, block: Block) -> dict[str, Any]:
        key = content_key(block)
        found = self._dicts.get(key)
        if found is not None:
            self.hits += 1
            self._dicts.move_to_end(key)
            return found
        self.misses += 1
        made: dict[str, Any] = block.to_dict()  # validates: SlackObjectFormationError if invalid
        self._dicts[key] = made
        if len(self._dicts) > self.size:
            self._dicts.popitem(last=False)
        return made

    def blocks(self, message: Message | Sequence[Block]) -> list[dict[str, Any]]:
        blocks = message.blocks if isinstance(message, Message) else message
        return [self.block(b) for b in blocks]


V = TypeVar("V")


class SecondMemo(Generic[V]):
    """Values by key for one (owner, second): ``get``/``put`` with the owner (a snapshot, compared
    by identity) and the second; another owner or second empties the memo first."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._owner: object | None = None
        self._second: datetime | None = None
        self._values: dict[Hashable, V] = {}
        self.hits = 0
        self.misses = 0

    def _scope(self, owner: object, second: datetime) -> None:
        if owner is not self._owner or second != self._second:
            self._owner, self._second = owner, second
            self._values = {}

    def get(self, owner: object, second: datetime, key: Hashable) -> V | None:
        self._scope(owner, second)
        found = self._values.get(key)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def put(self, owner: object, second: datetime, key: Hashable, value: V) -> None:
        self._scope(owner, second)
        if len(self._values) < self.size:
            self._values[key] = value
