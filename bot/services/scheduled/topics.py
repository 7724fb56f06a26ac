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

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.core.topic import channel_spec, our_texts, people_key, seats_at, topic_channels, topic_state
from bot.services.snapshot import Snapshot
from bot.storage import audit
from bot.storage.bootstrap import Database
from bot.storage.scheduled.topics import last_topic, queue_topic, topic_key, topics_since

EXPIRES = timedelta(hours=12)
"""A topic not set within this long is dropped (a later change of people queues a new one)."""


@dataclass
class TopicKeeper:
    """Queues topic deliveries; remembers per channel the people last seen queued and, when the
    day's cap is reached, until when to stay quiet (the database stays the truth)."""

    _seen: dict[str, str] = field(default_factory=dict)
    _capped_until: dict[str, datetime] = field(default_factory=dict)

    async def run(self, db: Database, snap: Snapshot, now: datetime) -> list[str]:
        """Queue the topic changes due at ``now``; the keys this replica queued."""
        d, cal = snap.directory, snap.calendar
        queued: list[str] = []
        for channel, pipelines in topic_channels(d).items():
            seats = seats_at(d, cal, pipelines, now, snap.overrides)
            key = people_key(seats)
            if self._seen.get(channel) == key or self._capped_until.get(channel, now) > now:
                continue
            spec = channel_spec(pipelines)
            day = cal.local_date(now)
            async with db.sessions() as session, session.begin():
                last = await last_topic(session, channel)
                if last is not None and last.payload.get("people") == key:
                    self._seen[channel] = key
                    continue
                if await topics_since(session, channel, cal.day_start(day)) >= spec.max_changes_per_day:
                    self._capped_until[channel] = cal.day_start(day + timedelta(days=1))
                    continue
                state = topic_state(d, cal, channel, pipelines, now, snap.overrides)
                texts = our_texts(d, cal, state)
                row: dict[str, Any] = {
                    "key": topic_key(channel, last.id if last is not None else 0),
                    "op": "topic",
                    "target": channel,
                    "label": f"topic of {channel}: {texts[0]}",
                    "payload": {"people": key, "texts": list(texts), "separator": spec.separator,
                                "previous": list((last.payload.get("texts") or []) if last is not None else [])},
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "expires_at": now + EXPIRES,
                    "created_at": now,
                }
                if await queue_topic(session, row, last.id if last is not None else None):
                    await audit.record(session, at=now, actor=None, action="topic.queued",
                                       subject=f"delivery:{row['key']}",
                                       after={"channel": channel, "people": key, "text": texts[0],
                                              "until": state.until})
                    queued.append(str(row["key"]))
            self._seen[channel] = key
        return queued
