"""What the incident service works with and gives back: ``Deps``, snapshot sources, ``Opened``, ``Acted``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from bot.core.incident import Change, Incident, Refusal
from bot.services.queries import load_snapshot
from bot.services.snapshot import Snapshot
from bot.storage.bootstrap import Database

if TYPE_CHECKING:  # aiohttp under it: 90 ms that a CLI command without Slack does not need
    from slack_sdk.web.async_client import AsyncWebClient


class Deps(Protocol):
    """What the incident service needs (``bot.slack.deps.SlackDeps`` has it)."""

    @property
    def db(self) -> Database: ...

    @property
    def client(self) -> AsyncWebClient: ...

    @property
    def settings(self) -> Any: ...


SnapshotSource = Callable[[], Awaitable[Snapshot]]


class NotFound(LookupError):
    """No incident with that id."""


@dataclass(frozen=True)
class Delivery:
    """Where an incident's messages stand: the post (its target, whether it was sent or its last
    attempt failed) and whether every page of it has been sent."""

    post_target: str | None = None
    posted: bool = False
    post_failed: bool = False
    paged: bool = True

    @property
    def failed_or_pending(self) -> bool:
        return not self.posted or not self.paged


@dataclass(frozen=True)
class Opened:
    """An incident opened (``duplicate``: the same request had opened it already); ``delivery``:
    where its messages stood when the action answered."""

    incident: Incident
    duplicate: bool = False
    delivery: Delivery = Delivery()


@dataclass(frozen=True)
class Acted:
    """The outcome of a button: ``change`` when it applied, else ``refusal`` (with ``reason``, the
    words of a permission refusal); ``incident`` as it is now."""

    incident: Incident
    change: Change | None = None
    refusal: Refusal | None = None
    reason: str | None = None
    delivery: Delivery = Delivery(posted=True)

    @property
    def applied(self) -> bool:
        return self.change is not None


def snapshot_source(deps: Deps, cache: Any = None) -> SnapshotSource:
    """Where snapshots come from: ``cache.get`` (a ``SnapshotCache``) or a fresh load."""
    if cache is not None:
        getter: SnapshotSource = cache.get
        return getter

    async def load() -> Snapshot:
        return await load_snapshot(deps.db, tuple(getattr(deps.settings, "admin_ids", ())))

    return load
