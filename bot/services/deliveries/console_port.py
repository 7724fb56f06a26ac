"""``ConsolePort``: the ``SlackPort`` used without Slack credentials; it prints each call instead."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from bot.render.plain import mrkdwn_to_text

if TYPE_CHECKING:
    from bot.core.model import Directory


class ConsolePort:
    """A ``SlackPort`` that prints what would be posted (no Slack credentials)."""

    paced = False

    def __init__(self, directory: Directory | None = None, out: TextIO | None = None) -> None:
        self.directory = directory
        self.out = out
        self._n = 0
        self.posts: list[tuple[str, str, dict[str, Any] | None]] = []
        self._topics: dict[str, str] = {}

    def _print(self, text: str) -> None:
        print(text, file=self.out or sys.stdout)

    def _text(self, text: str, blocks: list[dict[str, Any]] | None) -> str:
        lines: list[str] = []
        for b in blocks or []:
            kind = b.get("type")
            if kind == "header" or (kind == "section" and b.get("text")):
                lines.append(str(b["text"]["text"]))
            elif kind == "context":
                lines += [str(e.get("text", "")) for e in b.get("elements", [])]
            elif kind == "actions":
                for e in b.get("elements", []):
                    if e.get("type") == "button":
                        lines.append(f"[{e['text']['text']}]")
                    elif e.get("type") == "checkboxes":
                        chosen = {o["value"] for o in e.get("initial_options") or []}
                        for o in e.get("options", []):
                            mark = "[x]" if o["value"] in chosen else "[ ]"
                            desc = f"  ({o['description']['text']})" if o.get("description") else ""
                            lines.append(f"{mark} {o['text']['text']}{desc}")
            elif kind == "divider":
                lines.append("")
        body = "\n".join(lines) or text
        return mrkdwn_to_text(body, self.directory) if self.directory is not None else body

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
        ts = f"{int(time.time())}.{self._n:06d}"
        where = channel_id + (" (thread)" if thread_ts else "")
        if channel_id[:1] in ("U", "W") or "," in channel_id:
            where = "DM " + self._names(channel_id)
        self._print(f"\n── to {where} " + "─" * max(0, 60 - len(where)))
        self._print(self._text(text, blocks))
        self.posts.append((channel_id, text, metadata))
        return channel_id, ts

    def _names(self, ids: str) -> str:
        if self.directory is None:
            return ids
        by_slack = {p.slack_user_id: p.name for p in self.directory.people.values()}
        return ", ".join(by_slack.get(i, i) for i in ids.split(","))

    async def update(self, channel_id: str, ts: str, text: str, blocks: list[dict[str, Any]] | None) -> None:
        self._print(f"\n── update in {channel_id} " + "─" * 40)
        self._print(self._text(text, blocks))

    async def find_key(self, channel_id: str, key: str, oldest: datetime | None, thread_ts: str | None) -> str | None:
        return None

    async def upload(
        self, channel_id: str, thread_ts: str | None, filename: str, content: bytes, title: str, comment: str | None
    ) -> None:
        self._print(f"   📎 {filename} ({len(content)} bytes) to {self._names(channel_id)}")

    async def find_file(self, channel_id: str, thread_ts: str | None, filename: str) -> bool:
        return False

    async def set_usergroup(self, handle: str, users: Sequence[str]) -> None:
        self._print(f"\n── user group @{handle.lstrip('@')} := {self._names(','.join(users))}")

    async def topic(self, channel_id: str) -> str:
        return self._topics.get(channel_id, "")

    async def set_topic(self, channel_id: str, text: str) -> None:
        self._topics[channel_id] = text
        self._print(f"\n── topic of {self._names(channel_id)} := {text}")

    async def permalink(self, channel_id: str, ts: str) -> str | None:
        return None
