"""A private answer to a command or a click that came back later than Slack's 3 seconds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.render.blocks import Message
    from bot.slack.deps import SlackDeps


async def reply_privately(deps: SlackDeps, body: dict[str, Any], message: Message) -> None:
    """Ephemerally under the command or click (its ``response_url``), else as a DM to its user."""
    url = body.get("response_url")
    if url:
        from slack_sdk.webhook.async_client import AsyncWebhookClient

        client = AsyncWebhookClient(url, proxy=deps.client.proxy)
        await client.send(text=message.text, blocks=message.blocks_json(), response_type="ephemeral",
                          replace_original=False)
        return
    user = body.get("user_id") or (body.get("user") or {}).get("id")
    if user:
        await deps.client.chat_postMessage(channel=user, text=message.text, blocks=message.blocks_json())
