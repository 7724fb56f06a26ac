"""Shared pieces of the scheduled-work tests: the seed, its calendar, New York instants, a
recording Slack port and virtual time for the pacing (no wall-clock sleeping)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.calendar import CompanyCalendar
from bot.core.model import Directory
from bot.seed.validate import load_seed_file
from tests.support.fake_slack import FakeSlack, ManualClock

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "data" / "seed.yaml"
NY = ZoneInfo("America/New_York")

DIRECTORY: Directory = load_seed_file(SEED)
CAL: CompanyCalendar = CompanyCalendar.from_spec(DIRECTORY.calendar)


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A New York wall-clock instant, as UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=NY).astimezone(UTC)


def local(at: datetime | None) -> datetime:
    assert at is not None
    return at.astimezone(NY)


def d(text: str) -> date:
    return date.fromisoformat(text)


class VirtualTime:
    """A monotonic clock and a ``sleep`` that advances it at once: the product's pacing (1 message a
    second a channel, Retry-After) runs in virtual time. Shared with FakeSlack's rate limiter."""

    def __init__(self, clock: ManualClock | None = None) -> None:
        self.clock = clock or ManualClock()
        self.slept = 0.0

    def __call__(self) -> float:
        return self.clock()

    async def sleep(self, seconds: float) -> None:
        """Advance the clock by ``seconds``, and always to a later reading: a wait shorter than the
        clock's float resolution at this reading (the pacing asks for 2.5e-14 s at 1041.1 s when its
        token count rounds to just under 1) would otherwise leave it where it was, and a caller
        that waits until the clock reaches an instant would spin forever (the run that hung at 99 %).
        Real time always moves on while a real ``sleep`` waits."""
        if seconds > 0:
            before = self.clock()
            self.clock.advance(seconds)
            if self.clock() <= before:
                self.clock.advance(math.ulp(before))
            self.slept += seconds
        await asyncio.sleep(0)


class RecordingPort:
    """A SlackPort that records every call (channel, text, metadata key) and answers at once."""

    paced = False

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.files: list[dict[str, Any]] = []
        self.usergroups: list[tuple[str, list[str]]] = []
        self.topics: dict[str, str] = {}
        self.topic_calls: list[tuple[str, str]] = []
        self._n = 0

    async def conversation(self, target: str) -> str:
        return target

    async def post(
        self,
        channel_id: str,
        text: str,
        blocks: list[dict[str, Any]] | None,
        metadata: dict[str, Any] | None,
        thread_ts: str | None,
    ) -> tuple[str, str]:
        self._n += 1
        ts = f"1800000000.{self._n:06d}"
        key = (metadata or {}).get("event_payload", {}).get("key")
        self.posts.append(
            {"channel": channel_id, "text": text, "blocks": blocks, "key": key, "thread_ts": thread_ts, "ts": ts}
        )
        return channel_id, ts

    async def update(self, channel_id: str, ts: str, text: str, blocks: list[dict[str, Any]] | None) -> None:
        self.updates.append({"channel": channel_id, "ts": ts, "text": text, "blocks": blocks})

    async def find_key(self, channel_id: str, key: str, oldest: datetime | None, thread_ts: str | None) -> str | None:
        for p in self.posts:
            if p["key"] == key and p["channel"] == channel_id:
                return str(p["ts"])
        return None

    async def upload(
        self, channel_id: str, thread_ts: str | None, filename: str, content: bytes, title: str, comment: str | None
    ) -> None:
        self.files.append({"channel": channel_id, "thread_ts": thread_ts, "filename": filename, "content": content})

    async def find_file(self, channel_id: str, thread_ts: str | None, filename: str) -> bool:
        return any(f["filename"] == filename and f["channel"] == channel_id for f in self.files)

    async def set_usergroup(self, handle: str, users: Sequence[str]) -> None:
        self.usergroups.append((handle, list(users)))

    async def topic(self, channel_id: str) -> str:
        return self.topics.get(channel_id, "")

    async def set_topic(self, channel_id: str, text: str) -> None:
        self.topics[channel_id] = text
        self.topic_calls.append((channel_id, text))

    async def permalink(self, channel_id: str, ts: str) -> str | None:
        return f"https://example.slack.com/archives/{channel_id}/p{ts.replace('.', '')}"

    def post_keys(self) -> list[str]:
        return [str(p["key"]) for p in self.posts]


def seed_workspace(slack: FakeSlack, directory: Directory = DIRECTORY) -> dict[str, str]:
    """The seed's people, channels and user groups in the fake workspace; channel name -> id."""
    for p in directory.people.values():
        slack.add_user(id=p.slack_user_id, name=p.id, email=p.email, real_name=p.name)
    names = {directory.announcement_channel or ""}
    names |= {p.channel for p in directory.pipelines.values() if p.channel}
    names |= {t.channel for t in directory.teams.values() if t.channel}
    names |= {r.channel for r in directory.recurring.values() if r.channel}
    ids = {}
    for name in sorted(n for n in names if n):
        ids[name] = slack.add_channel(name=name.lstrip("#"))
    for pipeline in directory.pipelines.values():
        if pipeline.usergroup:
            slack.add_usergroup(handle=pipeline.usergroup)
    return ids


def posted_keys(slack: FakeSlack) -> list[str]:
    """The metadata keys of every message the bot posted, in every conversation."""
    out = []
    for msgs in slack.messages.values():
        for m in msgs:
            key = ((m.get("metadata") or {}).get("event_payload") or {}).get("key")
            if key:
                out.append(str(key))
    return out
