"""``/handoff NOTE`` in Slack: acknowledged at once, answered privately when stored. Parses and
renders only: ``bot.services.handoff.answer_handoff`` checks who may (from the stored state),
stores the note and says what happened."""

from __future__ import annotations

import time
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.services.handoff import answer_handoff
from bot.slack.context import BotContext
from bot.slack.errors import guarded


def register(app: AsyncApp, ctx: BotContext) -> None:
    @app.command("/handoff")
    async def on_handoff(ack: Any, command: dict[str, Any], body: dict[str, Any], respond: Any) -> None:
        await ack()
        text, user = str(command.get("text") or ""), command.get("user_id")

        async def run() -> None:
            started = time.perf_counter()
            got = await answer_handoff(ctx.deps.db, str(user) if user else None, text, ctx.deps.clock(),
                                       ctx.deps.settings.admin_ids)
            ctx.metrics.count_command("/handoff", "user_error" if got.user_error else "ok",
                                      time.perf_counter() - started)
            await respond(response_type="ephemeral", text=got.message.text, blocks=ctx.blocks.blocks(got.message))

        ctx.deps.background.spawn(guarded(run(), body=body, reply=None, metrics=ctx.metrics), name="handoff")
