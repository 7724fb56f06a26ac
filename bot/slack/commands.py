"""Slash commands, @-mentions and the buttons that run commands (share, did-you-mean, runbook,
schedule). Listeners parse and render only: the answer is ``ask_snapshot`` on the cached
snapshot, rendered by ``bot.render.blocks``; nothing here holds a rule or a query."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject
from slack_sdk.models.views import View

from bot.commands.mention import mention_command
from bot.commands.results import NotFound, Problem
from bot.render.blocks import Message, render_not_understood, render_problem, render_result
from bot.render.ids import Action
from bot.services.queries import ask_snapshot
from bot.slack.context import BotContext
from bot.slack.errors import guarded

SLASH_COMMANDS = ("/oncall", "/runbook", "/whoowns")
MODAL_TITLE_LIMIT = 24
MODAL_BLOCK_LIMIT = 100
# chat.postMessage cannot reach the channel: answer through the response_url instead.
CHANNEL_UNREACHABLE = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})

Reply = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class Answer:
    message: Message
    outcome: str  # "ok" | "user_error"
    seconds: float
    blocks: list[dict[str, Any]]  # the message's blocks as validated JSON (shared: do not modify)


def action_pattern(action: Action) -> re.Pattern[str]:
    """Action ids are ``{action}:{value}`` (unique within a message): match on the prefix."""
    return re.compile(rf"^{re.escape(str(action))}(?::.*)?$", re.DOTALL)


def is_mistake(result: object) -> bool:
    return isinstance(result, Problem | NotFound)


async def answer(ctx: BotContext, line: str, slack_user: str | None, channel: str | None = None) -> Answer:
    """``line`` (e.g. ``/oncall engagement``) answered now for Slack user ``slack_user`` in
    ``channel`` (``#name``; None: answered as anywhere).

    The answer is the one at the current second (see ``bot.slack.memo.SecondMemo``): the same
    question asked again within that second, on the same data, is not computed again.
    """
    started = time.perf_counter()
    snapshot = await ctx.cache.get()
    second = ctx.deps.clock().replace(microsecond=0)
    key = (line, slack_user, channel)
    known: Answer | None = ctx.answers.get(snapshot, second, key)
    if known is not None:
        return replace(known, seconds=time.perf_counter() - started)
    user = ctx.cache.person_id(snapshot, slack_user)
    asked = ask_snapshot(snapshot, line, second, user, channel)
    message = render_result(snapshot.directory, snapshot.calendar.tz, asked.result, user)
    outcome = "user_error" if is_mistake(asked.result) else "ok"
    got = Answer(message, outcome, time.perf_counter() - started, ctx.blocks.blocks(message))
    ctx.answers.put(snapshot, second, key, got)
    return got


def _is_share(element: dict[str, Any]) -> bool:
    return str(element.get("action_id", "")).startswith(f"{Action.SHARE}:")


def blocks_for_channel(message: Message | list[dict[str, Any]], shared_by: str | None = None) -> list[dict[str, Any]]:
    """The message's blocks for everyone to see: no "Share in channel" button, and who shared it."""
    blocks: list[dict[str, Any]] = []
    for block in message.blocks_json() if isinstance(message, Message) else message:
        if block.get("type") == "actions":
            elements = [e for e in block.get("elements", []) if not _is_share(e)]
            if not elements:
                continue
            block = {**block, "elements": elements}
        blocks.append(block)
    if shared_by:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Shared by <@{shared_by}>")]).to_dict())
    return blocks[:50]


def modal_view(title: str, message: Message) -> dict[str, Any]:
    """A modal that shows ``message`` (for clicks that have no message to answer under)."""
    view = View(
        type="modal",
        title=title[:MODAL_TITLE_LIMIT],
        close="Close",
        blocks=blocks_for_channel(message)[:MODAL_BLOCK_LIMIT],
    )
    result: dict[str, Any] = view.to_dict()
    return result


def _slash_line(command: dict[str, Any]) -> str:
    name = str(command.get("command", "/oncall"))
    return f"{name} {command.get('text') or ''}".strip()


def _slash_channel(ctx: BotContext, command: dict[str, Any]) -> str | None:
    """The ``#name`` of the channel a slash command was typed in, as its payload names it (None:
    a DM, a private conversation Slack does not name, or no channel names in this context)."""
    if ctx.channels is None:
        return None
    return ctx.channels.remember(command.get("channel_id"), command.get("channel_name"))


def register(app: AsyncApp, ctx: BotContext) -> None:
    """The slash commands, the app_mention event and the command buttons."""
    metrics, background = ctx.metrics, ctx.deps.background

    @app.command(re.compile(r"^/(oncall|runbook|whoowns)$"))
    async def on_slash_command(ack: Any, command: dict[str, Any]) -> None:
        name = str(command.get("command"))
        with metrics.timed(name) as outcome:
            got = await answer(ctx, _slash_line(command), command.get("user_id"), _slash_channel(ctx, command))
            outcome["outcome"] = got.outcome
            await ack(response_type="ephemeral", text=got.message.text, blocks=got.blocks)

    @app.action(action_pattern(Action.RUN_COMMAND))
    async def on_run_command(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        await ack()
        line = str(action.get("value") or "")
        _spawn_answer(ctx, body, line, _reply_for(ctx, body, respond, replace=_is_ephemeral(body)), "run_command")

    @app.action(action_pattern(Action.RUNBOOK))
    async def on_runbook(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        await ack()
        line = f"/runbook {action.get('value') or ''}".strip()
        _spawn_answer(ctx, body, line, _reply_for(ctx, body, respond), "show_runbook")

    @app.action(action_pattern(Action.SCHEDULE))
    async def on_schedule(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        await ack()
        line = f"/oncall schedule {action.get('value') or ''}".strip()
        _spawn_answer(ctx, body, line, _reply_for(ctx, body, respond), "show_schedule")

    @app.action(action_pattern(Action.SHARE))
    async def on_share(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        await ack()
        line = str(action.get("value") or "")
        user = (body.get("user") or {}).get("id")
        channel = (body.get("channel") or {}).get("id")
        reply = _reply_for(ctx, body, respond)

        async def share() -> None:
            got = await answer(ctx, line, user)
            metrics.count_command("share_in_channel", got.outcome, got.seconds)
            if got.outcome != "ok" or not channel:  # nothing worth sharing: tell the clicker why
                await reply(got.message)
                return
            blocks = blocks_for_channel(got.blocks, shared_by=user)
            try:
                await ctx.deps.client.chat_postMessage(channel=channel, text=got.message.text, blocks=blocks)
            except SlackApiError as exc:
                if exc.response.get("error") not in CHANNEL_UNREACHABLE or not body.get("response_url"):
                    raise
                await respond(response_type="in_channel", replace_original=False, text=got.message.text,
                              blocks=blocks)

        background.spawn(guarded(share(), body=body, reply=reply, metrics=metrics), name="share")

    @app.event("app_mention")
    async def on_mention(body: dict[str, Any], event: dict[str, Any], context: Any) -> None:
        bot_user = context.get("bot_user_id") if context is not None else None
        channel = str(event.get("channel", ""))
        user = event.get("user")
        thread_ts = event.get("thread_ts") or event.get("ts")
        client = ctx.deps.client

        async def post(message: Message, ephemeral: bool) -> None:
            if ephemeral and user:
                await client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts,
                                                text=message.text, blocks=ctx.blocks.blocks(message))
            else:
                await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=message.text,
                                              blocks=blocks_for_channel(ctx.blocks.blocks(message)))

        async def reply_to_mention() -> None:
            line = mention_command(str(event.get("text", "")), bot_user)
            if line is None:
                metrics.count_command("app_mention", "user_error", 0.0)
                await post(not_understood(), ephemeral=True)
                return
            named = await ctx.channels.name(channel) if ctx.channels else None
            got = await answer(ctx, line, user, named)
            metrics.count_command("app_mention", got.outcome, got.seconds)
            await post(got.message, ephemeral=got.outcome != "ok")

        async def reply_error(message: Message) -> None:
            await post(message, ephemeral=True)

        background.spawn(guarded(reply_to_mention(), body=body, reply=reply_error, metrics=metrics), name="app_mention")


def not_understood() -> Message:
    """The answer to a mention that is not a question the bot knows, with the commands it knows."""
    return render_not_understood()


def _is_ephemeral(body: dict[str, Any]) -> bool:
    return bool((body.get("container") or {}).get("is_ephemeral"))


def _reply_for(ctx: BotContext, body: dict[str, Any], respond: Any, *, replace: bool = False) -> Reply:
    """Where the answer to a click goes: under the clicked message (response_url), or, for a
    click on the Home tab or in a modal (no response_url), in a modal opened (pushed) with the
    click's trigger_id."""
    client = ctx.deps.client
    trigger_id = body.get("trigger_id")
    user = (body.get("user") or {}).get("id")

    async def reply(message: Message) -> None:
        if body.get("response_url"):
            await respond(response_type="ephemeral", replace_original=replace, text=message.text,
                          blocks=ctx.blocks.blocks(message))
        elif trigger_id and (body.get("view") or {}).get("type") == "modal":  # a click inside a modal
            await client.views_push(trigger_id=trigger_id, view=modal_view("On-call bot", message))
        elif trigger_id:
            await client.views_open(trigger_id=trigger_id, view=modal_view("On-call bot", message))
        elif user:
            await client.chat_postMessage(channel=user, text=message.text, blocks=blocks_for_channel(message))

    return reply


def _spawn_answer(ctx: BotContext, body: dict[str, Any], line: str, reply: Reply, label: str) -> None:
    user = (body.get("user") or {}).get("id")

    async def run() -> None:
        got = await answer(ctx, line, user)
        ctx.metrics.count_command(label, got.outcome, got.seconds)
        await reply(got.message)

    ctx.deps.background.spawn(guarded(run(), body=body, reply=reply, metrics=ctx.metrics), name=label)


STALE_BUTTON = ("That button belongs to a message I can no longer act on (it may be from an older version "
                "of me). Type the command again, e.g. `/oncall help`.")


def register_fallbacks(app: AsyncApp, ctx: BotContext) -> None:
    """Clicks and shortcuts that no listener takes (old messages, unknown ids): acked, and the
    user is told, instead of Slack showing an error after a 404."""

    @app.action(re.compile(r".*", re.DOTALL))
    async def on_unknown_action(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        ctx.metrics.count_command("unknown_action", "user_error", 0.0)
        reply = _reply_for(ctx, body, respond)
        note = render_problem(Problem(STALE_BUTTON))
        ctx.deps.background.spawn(guarded(reply(note), body=body, reply=None, metrics=ctx.metrics),
                                  name="unknown_action")

    @app.command(re.compile(r".*", re.DOTALL))
    async def on_unknown_command(ack: Any) -> None:
        ctx.metrics.count_command("unknown_command", "user_error", 0.0)  # counted as one label
        note = render_problem(Problem(f"I answer {', '.join((*SLASH_COMMANDS, '/incident'))}: try `/oncall help`."))
        await ack(response_type="ephemeral", text=note.text, blocks=ctx.blocks.blocks(note))

    @app.shortcut(re.compile(r".*", re.DOTALL))
    async def on_unknown_shortcut(ack: Any) -> None:
        await ack()
        ctx.metrics.count_command("unknown_shortcut", "user_error", 0.0)
