"""``WebSlackPort``: the ``SlackPort`` over Slack's Web API, with Slack's errors turned into ``SendError``."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.services.deliveries.port import SendError

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient


def _send_error(exc: BaseException) -> SendError:
    from slack_sdk.errors import SlackApiError

    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200)
        error = exc.response.get("error") if hasattr(exc.response, "get") else None
        if status == 429:
            headers = getattr(exc.response, "headers", {}) or {}
            raw = headers.get("Retry-After") or headers.get("retry-after") or "1"
            try:
                retry = float(raw)
            except (TypeError, ValueError):
                retry = 1.0
            return SendError(f"ratelimited (Retry-After {raw})", retry_after=max(retry, 0.0))
        return SendError(f"slack error {status}: {error}", definite=status < 500,
                         error=str(error) if error else None)
    if isinstance(exc, SendError):
        return exc
    return SendError(f"{type(exc).__name__}: {exc}", definite=False)


class WebSlackPort:
    """A ``SlackPort`` over ``AsyncWebClient``."""

    paced = True

    def __init__(self, client: AsyncWebClient, *, history_pages: int = 10) -> None:
        self.client = client
        self.history_pages = history_pages
        self._names: dict[str, str] = {}
        self._groups: dict[str, str] = {}

    @staticmethod
    def posting_client(client: AsyncWebClient) -> AsyncWebClient:
        """A client on ``client``'s session, token and URL without automatic retries: a post
        retried blindly after a time-out or a 5xx may be a second post. The deliveries retry
        themselves (looking for the first post by its key first) and honour 429s themselves."""
        from slack_sdk.web.async_client import AsyncWebClient

        return AsyncWebClient(token=client.token, base_url=client.base_url, session=client.session,
                              timeout=client.timeout, proxy=client.proxy, retry_handlers=[])

    async def _call(self, coro: Awaitable[Any]) -> Any:
        try:
            return await coro
        except Exception as exc:
            raise _send_error(exc) from exc

    async def conversation(self, target: str) -> str:
        if "," in target or target[:1] in ("U", "W"):
            resp = await self._call(self.client.conversations_open(users=target))
            return str(resp["channel"]["id"])
        if not target.startswith("#"):
            return target
        name = target[1:]
        if name in self._names:
            return self._names[name]
        cursor: str | None = None
        while True:
            resp = await self._call(
                self.client.conversations_list(
                    types="public_channel,private_channel", exclude_archived=True, limit=1000, cursor=cursor
                )
            )
            for ch in resp.get("channels", []):
                self._names[str(ch.get("name"))] = str(ch["id"])
            cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
            if name in self._names or not cursor:
                break
        if name not in self._names:
            raise SendError(f"channel {target} not found (invite the bot to it)")
        return self._names[name]

    async def post(
        self,
        channel_id: str,
        text: str,
        blocks: list[dict[str, Any]] | None,
        metadata: dict[str, Any] | None,
        thread_ts: str | None,
    ) -> tuple[str, str]:
        kwargs: dict[str, Any] = {"channel": channel_id, "text": text, "unfurl_links": False}
        if blocks:
            kwargs["blocks"] = blocks
        if metadata:
            kwargs["metadata"] = metadata
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        resp = await self._call(self.client.chat_postMessage(**kwargs))
        return str(resp["channel"]), str(resp["ts"])

    async def update(self, channel_id: str, ts: str, text: str, blocks: list[dict[str, Any]] | None) -> None:
        await self._call(self.client.chat_update(channel=channel_id, ts=ts, text=text, blocks=blocks or []))

    async def find_key(self, channel_id: str, key: str, oldest: datetime | None, thread_ts: str | None) -> str | None:
        cursor: str | None = None
        for _ in range(self.history_pages):  # newest first: a post we may have made is recent
            kwargs: dict[str, Any] = {"channel": channel_id, "include_all_metadata": True, "limit": 200}
            if cursor:
                kwargs["cursor"] = cursor
            if oldest is not None:
                kwargs["oldest"] = f"{oldest.timestamp():.6f}"
            if thread_ts:
                resp = await self._call(self.client.conversations_replies(ts=thread_ts, **kwargs))
            else:
                resp = await self._call(self.client.conversations_history(**kwargs))
            for m in resp.get("messages", []):
                payload = (m.get("metadata") or {}).get("event_payload") or {}
                if payload.get("key") == key:
                    return str(m["ts"])
            cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None
        return None

    async def upload(
        self, channel_id: str, thread_ts: str | None, filename: str, content: bytes, title: str, comment: str | None
    ) -> None:
        kwargs: dict[str, Any] = {
            "channel": channel_id,
            "filename": filename,
            "content": content,
            "title": title,
            "request_file_info": False,
        }
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        if comment:
            kwargs["initial_comment"] = comment
        await self._call(self.client.files_upload_v2(**kwargs))

    async def find_file(self, channel_id: str, thread_ts: str | None, filename: str) -> bool:
        kwargs: dict[str, Any] = {"channel": channel_id, "limit": 200}
        if thread_ts:
            resp = await self._call(self.client.conversations_replies(ts=thread_ts, **kwargs))
        else:
            resp = await self._call(self.client.conversations_history(**kwargs))
        return any(f.get("name") == filename for m in resp.get("messages", []) for f in (m.get("files") or []))

    async def set_usergroup(self, handle: str, users: Sequence[str]) -> None:
        handle = handle.lstrip("@")
        gid = self._groups.get(handle)
        if gid is None:
            resp = await self._call(self.client.usergroups_list())
            for g in resp.get("usergroups", []):
                self._groups[str(g.get("handle"))] = str(g["id"])
            gid = self._groups.get(handle)
        if gid is None:
            raise SendError(f"user group @{handle} not found", error="usergroup_not_found")
        await self._call(self.client.usergroups_users_update(usergroup=gid, users=",".join(users)))

    async def topic(self, channel_id: str) -> str:
        resp = await self._call(self.client.conversations_info(channel=channel_id))
        return str(((resp.get("channel") or {}).get("topic") or {}).get("value") or "")

    async def set_topic(self, channel_id: str, text: str) -> None:
        await self._call(self.client.conversations_setTopic(channel=channel_id, topic=text))

    async def permalink(self, channel_id: str, ts: str) -> str | None:
        try:
            resp = await self._call(self.client.chat_getPermalink(channel=channel_id, message_ts=ts))
        except SendError:
            return None
        link = resp.get("permalink")
        return str(link) if link else None
