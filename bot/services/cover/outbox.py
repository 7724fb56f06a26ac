"""The messages a cover request owes, through the durable delivery outbox (keys ``cover:...``):

- ``cover:ID:post:CHANNEL``: the request's message in a team channel, rendered when it is sent
  from the request stored then;
- ``cover:ID:update:CHANNEL:EVENT``: ``chat.update`` of that message (a child of the post: it waits
  for its ts), rendered at send time, so an update sent late still shows the latest state;
- ``cover:ID:thread:CHANNEL:EVENT``: a line in its thread (a slot given back);
- ``cover:ID:dm:EVENT:PERSON``: a DM (a Take, a slot given back, the lead's notice, an expiry).

Each is written in the transaction that makes the change. ``deliver`` sends the ready ones: the
service kicks it after each action, and the scheduler's minute tick runs it (``tick``); the
scheduled work's own deliverer skips ``cover:`` keys.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.cover import CoverRequest
from bot.core.model import Directory
from bot.render.blocks import Message
from bot.render.cover import cover_message
from bot.services.deliveries import COVER_PREFIX, Deliverer, DeliveryConfig, Rendered, SlackPort
from bot.services.scheduled.config import replica_id
from bot.storage import scheduled as store
from bot.storage.bootstrap import Database
from bot.storage.cover import get_request
from bot.storage.seedstore import load_directory


def post_key(request_id: int, channel: str) -> str:
    return f"{COVER_PREFIX}{request_id}:post:{channel}"


def event_id() -> str:
    """A fresh name for one event of a request (a Take, an un-take): its rows are written once,
    by the transaction that made it."""
    return uuid.uuid4().hex[:12]


_row = store.owed_row


def channels_of(req: CoverRequest) -> list[str]:
    return list(dict.fromkeys(s.channel for s in req.slots if s.channel))


def post_rows(req: CoverRequest, now: datetime) -> list[dict[str, Any]]:
    """The request's message in each channel its slots are offered in."""
    return [_row(post_key(req.id, c), "post", c, f"cover request #{req.id} in {c}",
                 {"render": "cover_message", "kind": "cover", "request": req.id, "channel": c,
                  "meta": {"cover_request": req.id}}, now)
            for c in channels_of(req)]


def update_rows(req: CoverRequest, channels: Sequence[str | None], event: str, now: datetime) -> list[dict[str, Any]]:
    """An update of the request's message in each of ``channels``."""
    return [_row(f"{COVER_PREFIX}{req.id}:update:{c}:{event}", "update", c, f"cover request #{req.id}: update",
                 {"render": "cover_update", "kind": "cover_update", "request": req.id, "channel": c}, now,
                 parent_key=post_key(req.id, c))
            for c in dict.fromkeys(channels) if c]


def thread_row(req: CoverRequest, channel: str | None, event: str, text: str, now: datetime) -> list[dict[str, Any]]:
    if not channel:
        return []
    return [_row(f"{COVER_PREFIX}{req.id}:thread:{channel}:{event}", "post", channel,
                 f"cover request #{req.id}: thread", {"text": text, "kind": "cover_thread"}, now,
                 parent_key=post_key(req.id, channel))]


def dm_row(d: Directory, req_id: int, event: str, person: str | None, message: Message,
           now: datetime) -> list[dict[str, Any]]:
    p = d.people.get(person or "")
    if p is None or not p.slack_user_id:
        return []
    return [_row(f"{COVER_PREFIX}{req_id}:dm:{event}:{p.id}", "post", p.slack_user_id,
                 f"cover request #{req_id}: DM to {p.id}",
                 {"text": message.text, "blocks": message.blocks_json(), "kind": "cover_dm"}, now)]


class CoverRenderers:
    """Renders a request's message when it is sent, from the request stored then."""

    def __init__(self, directory: Directory | None = None) -> None:
        self.directory = directory

    def renderers(self) -> dict[str, Any]:
        return {"cover_message": self.message, "cover_update": self.update}

    async def _render(self, session: AsyncSession, row: store.DeliveryRow) -> tuple[Message, str] | None:
        req = await get_request(session, int(row.payload["request"]))
        if req is None:
            return None
        d = self.directory or await load_directory(session)
        from bot.core.calendar import CompanyCalendar

        tz = CompanyCalendar.from_spec(d.calendar).tz
        channel = str(row.payload.get("channel") or "")
        return cover_message(d, tz, req, channel or None), channel

    async def message(self, session: AsyncSession, row: store.DeliveryRow) -> Rendered | None:
        got = await self._render(session, row)
        return Rendered(got[0].text, got[0].blocks_json()) if got is not None else None

    async def update(self, session: AsyncSession, row: store.DeliveryRow) -> Rendered | None:
        got = await self._render(session, row)
        if got is None:
            return None
        found = await store.delivery_id(session, post_key(int(row.payload["request"]), got[1]))
        post = await store.delivery(session, found) if found is not None else None
        if post is None or not post.channel_id or not post.ts:
            return None
        return Rendered(got[0].text, got[0].blocks_json(), post.channel_id, post.ts)


async def deliver(db: Database, port: SlackPort, now: datetime, *, directory: Directory | None = None,
                  config: DeliveryConfig | None = None) -> int:
    """Send the cover messages ready at ``now``; how many were sent (or found already posted)."""
    deliverer = Deliverer(db, port, owner=replica_id(), config=config or DeliveryConfig.from_env(),
                          renderers=CoverRenderers(directory).renderers(), only=(COVER_PREFIX,))
    report = await deliverer.run(now)
    return report.sent + report.found
