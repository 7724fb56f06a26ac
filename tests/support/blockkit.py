"""A small Block Kit validator for the fake: the limits Slack enforces server-side.

slack_sdk validates only ``slack_sdk.models`` objects, and only on ``to_dict()``; plain dict blocks
and the 50-blocks-per-message limit are never checked on the client. Slack answers such a message
with ``invalid_blocks`` (views: ``invalid_arguments``) and ``response_metadata.messages`` like
``"[ERROR] no more than 50 items allowed [json-pointer:/blocks]"``. This module produces messages in
that shape. It covers the common limits, not the whole specification.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MESSAGE_BLOCKS_LIMIT = 50
VIEW_BLOCKS_LIMIT = 100

_KNOWN_BLOCKS = frozenset(
    {
        "section",
        "header",
        "context",
        "actions",
        "divider",
        "input",
        "image",
        "rich_text",
        "file",
        "video",
        "markdown",
        "call",
        "table",
        "context_actions",
    }
)


def _err(message: str, pointer: str) -> str:
    return f"[ERROR] {message} [json-pointer:{pointer}]"


def _text_obj(obj: Any, max_len: int, pointer: str, *, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, Mapping):
        return [_err("must be a text object", pointer)]
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    errors: list[str] = []
    if obj.get("type") not in allowed:
        errors.append(_err(f"must be one of {', '.join(allowed)}", f"{pointer}/type"))
    text = obj.get("text")
    if not isinstance(text, str):
        errors.append(_err("missing required field: text", f"{pointer}/text"))
    elif len(text) == 0:
        errors.append(_err("must be more than 0 characters", f"{pointer}/text"))
    elif len(text) > max_len:
        errors.append(_err(f"must be less than {max_len + 1} characters", f"{pointer}/text"))
    return errors


def _max_str(value: Any, max_len: int, pointer: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, str):
        return [_err("must be a string", pointer)]
    if len(value) > max_len:
        return [_err(f"must be less than {max_len + 1} characters", pointer)]
    return []


def _options(options: Any, pointer: str, *, max_items: int) -> list[str]:
    if not isinstance(options, list):
        return [_err("must provide an array", pointer)]
    errors: list[str] = []
    if len(options) > max_items:
        errors.append(_err(f"no more than {max_items} items allowed", pointer))
    for i, opt in enumerate(options):
        p = f"{pointer}/{i}"
        if not isinstance(opt, Mapping):
            errors.append(_err("must be an option object", p))
            continue
        errors += _text_obj(opt.get("text"), 75, f"{p}/text")
        errors += _max_str(opt.get("value"), 150, f"{p}/value")
    return errors


def _element(el: Any, pointer: str) -> list[str]:
    if not isinstance(el, Mapping) or not isinstance(el.get("type"), str):
        return [_err("missing required field: type", pointer)]
    errors = _max_str(el.get("action_id"), 255, f"{pointer}/action_id")
    kind = el["type"]
    if kind == "button":
        errors += _text_obj(el.get("text"), 75, f"{pointer}/text", plain_only=True)
        errors += _max_str(el.get("value"), 2000, f"{pointer}/value")
        errors += _max_str(el.get("url"), 3000, f"{pointer}/url")
        if "style" in el and el["style"] not in ("primary", "danger"):
            errors.append(_err("must be one of primary, danger", f"{pointer}/style"))
    elif kind in ("static_select", "multi_static_select"):
        if "options" in el:
            errors += _options(el["options"], f"{pointer}/options", max_items=100)
        elif "option_groups" not in el:
            errors.append(_err("must provide either options or option_groups", pointer))
    elif kind == "overflow":
        opts = el.get("options")
        errors += _options(opts, f"{pointer}/options", max_items=5)
        if isinstance(opts, list) and len(opts) < 1:
            errors.append(_err("must provide at least 1 items", f"{pointer}/options"))
    if "placeholder" in el:
        errors += _text_obj(el["placeholder"], 150, f"{pointer}/placeholder", plain_only=True)
    return errors


def validate_blocks(blocks: Any, *, limit: int = MESSAGE_BLOCKS_LIMIT, pointer: str = "/blocks") -> list[str]:
    """Return Slack-style error messages (empty when the blocks pass)."""
    if not isinstance(blocks, list):
        return [_err("must provide an array", pointer)]
    errors: list[str] = []
    if len(blocks) > limit:
        errors.append(_err(f"no more than {limit} items allowed", pointer))
    seen_block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        p = f"{pointer}/{i}"
        if not isinstance(block, Mapping) or not isinstance(block.get("type"), str):
            errors.append(_err("missing required field: type", p))
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            errors += _max_str(block_id, 255, f"{p}/block_id")
            if isinstance(block_id, str):
                if block_id in seen_block_ids:
                    errors.append(_err(f"duplicate block_id: {block_id}", f"{p}/block_id"))
                seen_block_ids.add(block_id)
        kind = block["type"]
        if kind not in _KNOWN_BLOCKS:
            errors.append(_err(f"unsupported type: {kind}", f"{p}/type"))
        elif kind == "section":
            text, fields = block.get("text"), block.get("fields")
            if text is None and not fields:
                errors.append(_err("must provide either text or fields", p))
            if text is not None:
                errors += _text_obj(text, 3000, f"{p}/text")
            if fields is not None:
                if not isinstance(fields, list) or len(fields) > 10:
                    errors.append(_err("no more than 10 items allowed", f"{p}/fields"))
                else:
                    for j, f in enumerate(fields):
                        errors += _text_obj(f, 2000, f"{p}/fields/{j}")
            if "accessory" in block:
                errors += _element(block["accessory"], f"{p}/accessory")
        elif kind == "header":
            errors += _text_obj(block.get("text"), 150, f"{p}/text", plain_only=True)
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                errors.append(_err("must provide between 1 and 10 items", f"{p}/elements"))
            else:
                for j, el in enumerate(elements):
                    if isinstance(el, Mapping) and el.get("type") in ("plain_text", "mrkdwn"):
                        errors += _text_obj(el, 3000, f"{p}/elements/{j}")
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
                errors.append(_err("must provide between 1 and 25 items", f"{p}/elements"))
            else:
                seen_actions: set[str] = set()
                for j, el in enumerate(elements):
                    errors += _element(el, f"{p}/elements/{j}")
                    action_id = el.get("action_id") if isinstance(el, Mapping) else None
                    if isinstance(action_id, str):
                        if action_id in seen_actions:
                            errors.append(_err(f"duplicate action_id: {action_id}", f"{p}/elements/{j}/action_id"))
                        seen_actions.add(action_id)
        elif kind == "input":
            errors += _text_obj(block.get("label"), 2000, f"{p}/label", plain_only=True)
            if "element" not in block:
                errors.append(_err("missing required field: element", f"{p}/element"))
            else:
                errors += _element(block["element"], f"{p}/element")
    return errors


def validate_view(view: Any, pointer: str = "/view") -> list[str]:
    """Validate a modal or App Home view (``views.open/push/update/publish``)."""
    if not isinstance(view, Mapping):
        return [_err("must provide an object", pointer)]
    errors: list[str] = []
    kind = view.get("type")
    if kind not in ("modal", "home"):
        errors.append(_err("must be one of modal, home", f"{pointer}/type"))
    blocks = view.get("blocks")
    if blocks is None:
        errors.append(_err("missing required field: blocks", f"{pointer}/blocks"))
    else:
        errors += validate_blocks(blocks, limit=VIEW_BLOCKS_LIMIT, pointer=f"{pointer}/blocks")
    if kind == "modal":
        if "title" not in view:
            errors.append(_err("missing required field: title", f"{pointer}/title"))
        else:
            errors += _text_obj(view["title"], 24, f"{pointer}/title", plain_only=True)
        for key in ("submit", "close"):
            if key in view:
                errors += _text_obj(view[key], 24, f"{pointer}/{key}", plain_only=True)
        has_input = isinstance(blocks, list) and any(
            isinstance(b, Mapping) and b.get("type") == "input" for b in blocks
        )
        if has_input and "submit" not in view:
            errors.append(_err("submit is required when an input block is present", f"{pointer}/submit"))
    errors += _max_str(view.get("callback_id"), 255, f"{pointer}/callback_id")
    errors += _max_str(view.get("private_metadata"), 3000, f"{pointer}/private_metadata")
    errors += _max_str(view.get("external_id"), 255, f"{pointer}/external_id")
    return errors
