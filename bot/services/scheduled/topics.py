"""Keep channel topics naming who is on call (issue 14 §3), from the scheduler tick.

At each tick, for each channel whose topic the seed asks the bot to keep (``bot.core.topic``):

1. who holds its pipelines' seats now (pure; compared with what this process last saw queued,
   so a quiet tick reads nothing from the database);
2. when the people differ from the last topic delivery queued for the channel (any replica's),
   and fewer than the seed's ``max_changes_per_day`` were queued this local day, a ``topic``
   delivery is queued with key ``topic:#channel:N`` (N: the id of the previous one, 0 for the
   first): replicas that saw the same last delivery make the same key, so exactly one insert
   wins, and it is sent after the previous one (its parent) is sent or expired;
3. the deliverer sends it (``bot.services.deliveries.topics``).

A change past the day's cap waits: the first tick of the next local day sets the topic as the
people are then. The "until" in the text is computed when the delivery is queued.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.model import Pipeline
from bot.core.topic import (
    TopicState,
    channel_spec,
    our_texts,
    people_key,
    seats_at,
    topic_channels,
    topic_state,
)
from bot.services.snapshot import Snapshot
from bot.storage.bootstrap import Database
from bot.storage.scheduled.topics import last_topic, queue_topic, topic_key, topics_since
from bot.storage.tables.scheduled import DeliveryRow

EXPIRES = timedelta(hours=12)
"""A topic not set within this long is dropped (a later change of people queues a new one)."""


@dataclass(frozen=True)
class TopicDue:
    """A channel whose topic a tick at ``state.at`` would change: the people now, the bot's
    text in its forms (``texts``), the previous topic delivery (None: the first)."""

    channel: str
    state: TopicState
    texts: tuple[str, ...]
    separator: str
    last: DeliveryRow | None


async def topic_due(
    session: AsyncSession, snap: Snapshot, channel: str, pipelines: Sequence[Pipeline], now: datetime
) -> TopicDue | Literal["same", "capped"]:
    """Whether ``channel``'s topic is due a change at ``now`` (reads only): ``"same"`` when the
    last topic delivery queued names these people, ``"capped"`` when the day's cap is reached."""
    d, cal = snap.directory, snap.calendar
    key = people_key(seats_at(d, cal, pipelines, now, snap.overrides))
    last = await last_topic(session, channel)
    if last is not None and last.payload.get("people") == key:
        return "same"
    spec = channel_spec(pipelines)
    if await topics_since(session, channel, cal.day_start(cal.local_date(now))) >= spec.max_changes_per_day:
        return "capped"
    state = topic_state(d, cal, channel, pipelines, now, snap.overrides)
    return TopicDue(channel, state, our_texts(d, cal, state), spec.separator, last)


@dataclass
class TopicKeeper:
    """Queues topic deliveries; remembers per channel the people last seen queued and, when the
    day's cap is reached, until when to stay quiet (the database stays the truth)."""

    _seen: dict[str, str] = field(default_factory=dict)
    _capped_until: dict[str, datetime] = field(default_factory=dict)
    # channel -> (snapshot, since, until): on this snapshot its people stay the same in [since, until)
    _quiet: dict[str, tuple[Snapshot, datetime, datetime]] = field(default_factory=dict)

    async def run(self, db: Database, snap: Snapshot, now: datetime) -> list[str]:
        """Queue the topic changes due at ``now``; the keys this replica queued."""
        d, cal = snap.directory, snap.calendar
        queued: list[str] = []
        for channel, pipelines in topic_channels(d).items():
            quiet = self._quiet.get(channel)
            if quiet is not None and quiet[0] is snap and quiet[1] <= now < quiet[2]:
                continue  # the same data, and the same people as when last looked at
            key = people_key(seats_at(d, cal, pipelines, now, snap.overrides))
            if self._seen.get(channel) == key:
                self._rest(snap, channel, pipelines, now, None)
                continue
            if self._capped_until.get(channel, now) > now:
                continue
            async with db.sessions() as session, session.begin():
                due = await topic_due(session, snap, channel, pipelines, now)
                if due == "capped":
                    self._capped_until[channel] = cal.day_start(cal.local_date(now) + timedelta(days=1))
                    continue
                if isinstance(due, TopicDue) and await queue_topic(session, _row(due, key, now),
                                                                   due.last.id if due.last else None):
                    queued.append(_key(due))  # (audited when sent, expired or failed, as every delivery)
            self._seen[channel] = key
            self._rest(snap, channel, pipelines, now, due.state if isinstance(due, TopicDue) else None)
        return queued

    def _rest(
        self, snap: Snapshot, channel: str, pipelines: Sequence[Pipeline], now: datetime, state: TopicState | None
    ) -> None:
        """Remember that on ``snap`` the channel's people stay as they are until they next change."""
        state = state or topic_state(snap.directory, snap.calendar, channel, pipelines, now, snap.overrides)
        if state.until is not None:
            self._quiet[channel] = (snap, now, state.until)


def _key(due: TopicDue) -> str:
    return topic_key(due.channel, due.last.id if due.last is not None else 0)


def _row(due: TopicDue, people: str, now: datetime) -> dict[str, Any]:
    last = due.last
    return {
        "key": _key(due),
        "op": "topic",
        "target": due.channel,
        "label": f"topic of {due.channel}: {due.texts[0]}",
        "payload": {"people": people, "texts": list(due.texts), "separator": due.separator,
                    "previous": list((last.payload.get("texts") or []) if last is not None else [])},
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "expires_at": now + EXPIRES,
        "created_at": now,
    }
