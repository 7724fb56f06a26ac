"""Block Kit as terminal text: what the console and ``oncall-bot ask`` print, so that they show
exactly what Slack shows. Mentions become names, date tokens their company-zone fallback."""

from __future__ import annotations

import re
from typing import Any

from bot.core.model import Directory
from bot.render.blocks import Message

_DATE = re.compile(r"<!date\^[^|>]*\|([^>]*)>")
_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_BARE_LINK = re.compile(r"<(https?://[^|>]+)>")
_FENCE = re.compile(r"\n?```\n?")


def mrkdwn_to_text(text: str, directory: Directory) -> str:
    """Slack mrkdwn as plain text: ``<@U1>`` → ``@Dana Diaz``, date tokens → their fallback."""
    by_slack = {p.slack_user_id: p.name for p in directory.people.values()}
    text = _DATE.sub(r"\1", text)
    text = _USER.sub(lambda m: "@" + by_slack.get(m.group(1), m.group(1)), text)
    text = _LINK.sub(lambda m: m.group(2) if m.group(2) == m.group(1) else f"{m.group(2)} ({m.group(1)})", text)
    text = _BARE_LINK.sub(r"\1", text)
    if "```" in text:  # a code block: its lines as they are, without the fences
        text = _FENCE.sub("\n", text).strip("\n")
    text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"\1", text)
    text = re.sub(r"(?<![\w_])_([^_\n]+)_(?![\w_])", r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(obj: dict[str, Any] | None) -> str:
    return str(obj.get("text", "")) if obj else ""


def message_to_text(message: Message, directory: Directory) -> str:
    """The terminal rendering of a Slack message."""
    out: list[str] = []
    for block in message.blocks_json():
        kind = block.get("type")
        if kind == "header":
            title = _text(block.get("text"))
            out += [title, "─" * min(len(title), 60)]
        elif kind == "section":
            if block.get("text"):
                out.append(_text(block["text"]))
            fields = [_text(f).replace("\n", ": ", 1) for f in block.get("fields", [])]
            if fields:
                out.append("   " + " · ".join(fields))
        elif kind == "context":
            out += [_text(e) for e in block.get("elements", []) if e.get("type") in ("mrkdwn", "plain_text")]
        elif kind == "actions":
            labels = [f"[{_text(e.get('text'))}]" for e in block.get("elements", []) if e.get("type") == "button"]
            if labels:
                out.append(" ".join(labels))
        elif kind == "divider":
            out.append("")
    if not out:
        out.append(message.text)
    return mrkdwn_to_text("\n".join(out), directory)
