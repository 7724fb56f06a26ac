"""Slack listeners of the scheduled work: ticking checklists and answering onboarding invites.

Both ack at once and do the work in a background task (``deps.background``): record the change,
then update the message in place (``chat.update``) from the stored state, so every click shows who
did what. Someone who may not tick a checklist (or answer an invite not theirs) is told why in an
ephemeral note, and the message is redrawn so their click does not appear to have worked. The
service audits each click (``checklist.*``, ``meeting.*``) by the clicker's person id, or their
Slack user id when they are not in the directory.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.render.ids import Action
from bot.render.scheduled import checklist_message, meeting_message, not_allowed_text
from bot.services import records
from bot.services import scheduled as svc
from bot.slack.deps import SlackDeps

log = logging.getLogger(__name__)


def _pattern(action: Action) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(str(action))}(?::.*)?$")


def _user(body: dict[str, Any]) -> str | None:
    user = (body.get("user") or {}).get("id") or body.get("user_id")
    return str(user) if user else None


def _message_ref(body: dict[str, Any]) -> tuple[str | None, str | None]:
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    return (str(channel) if channel else None, str(ts) if ts else None)


def checklist_positions(action: dict[str, Any], body: dict[str, Any]) -> tuple[int, list[int], list[int]]:
    """``(checklist id, positions of this checkboxes element, selected positions)`` from a
    checkboxes action (action id ``checklist_tick:{id}:{chunk}``)."""
    parts = str(action.get("action_id", "")).split(":")
    checklist_id = int(parts[1])
    selected = [int(o["value"]) for o in action.get("selected_options") or []]
    positions: list[int] = []
    for block in (body.get("message") or {}).get("blocks") or []:
        for el in block.get("elements") or []:
            if el.get("action_id") == action.get("action_id"):
                positions = [int(o["value"]) for o in el.get("options") or []]
    if not positions:  # no message in the payload: the element's chunk of ten
        chunk = int(parts[2]) if len(parts) > 2 else 0
        positions = list(range(chunk * 10, chunk * 10 + 10))
    return checklist_id, positions, selected


def register(app: AsyncApp, deps: SlackDeps) -> None:
    """Listen for checklist checkboxes and invite Accept/Decline buttons."""
    from bot.slack.context import context_of

    ctx = context_of(app)
    locks: dict[int, asyncio.Lock] = {}
    meeting_locks: dict[int, asyncio.Lock] = {}

    async def ephemeral(body: dict[str, Any], text: str) -> None:
        channel, _ts = _message_ref(body)
        user = _user(body)
        if channel and user:
            await deps.client.chat_postEphemeral(channel=channel, user=user, text=text)

    async def redraw_checklist(checklist_id: int, body: dict[str, Any]) -> None:
        snap = await ctx.cache.get()
        lock = locks.setdefault(checklist_id, asyncio.Lock())
        async with lock:  # read the state inside the lock: the last update shows the last state
            found = await records.checklist(deps.db, checklist_id)
            if found is None:
                return
            row, items = found
            view = svc.checklist_view(row, items)
            channel, ts = row.channel_id, row.ts
            if not (channel and ts):
                channel, ts = _message_ref(body)
            if not (channel and ts):
                return
            msg = checklist_message(snap.directory, snap.calendar.tz, view)
            await deps.client.chat_update(channel=channel, ts=ts, text=msg.text, blocks=msg.blocks_json())

    @app.action(_pattern(Action.CHECKLIST_TICK))
    async def on_tick(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()

        async def work() -> None:
            try:
                checklist_id, positions, selected = checklist_positions(action, body)
            except (ValueError, IndexError, KeyError):
                await ephemeral(body, "This checklist message is from a version I no longer understand.")
                return
            snap = await ctx.cache.get()
            user = _user(body)
            actor = snap.person_by_slack_id(user or "")
            done = await svc.set_checklist_items(deps.db, snap, checklist_id, actor, positions, selected, deps.clock(),
                                                 slack_user=user)
            if not done.allowed:
                if done.view is not None:
                    await ephemeral(body, not_allowed_text(snap.directory, done.view, snap.admins))
                else:
                    await ephemeral(body, done.reason)
            await redraw_checklist(checklist_id, body)

        deps.background.spawn(_logged(work(), "checklist tick"), name="checklist:tick")

    def on_answer(answer: str) -> Any:
        async def listener(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
            await ack()

            async def work() -> None:
                try:
                    meeting_id = int(str(action.get("value") or ""))
                except ValueError:
                    await ephemeral(body, "This invite is from a version I no longer understand.")
                    return
                snap = await ctx.cache.get()
                user = _user(body)
                actor = snap.person_by_slack_id(user or "")
                got = await svc.answer_invite(deps.db, snap, meeting_id, actor, answer, deps.clock(), slack_user=user)
                if not got.allowed:
                    await ephemeral(body, got.reason)
                    return
                if got.view is None:
                    return
                channel, ts = got.channel_id, got.ts
                if not (channel and ts):
                    channel, ts = _message_ref(body)
                if not (channel and ts):
                    return
                # Two answers at once: each update re-reads the answers inside a lock, so the last
                # update Slack gets shows every answer (not the view of whichever task was slower).
                async with meeting_locks.setdefault(meeting_id, asyncio.Lock()):
                    found = await records.meeting(deps.db, meeting_id)
                    view = svc.meeting_view(found[0], found[1], snap.directory) if found else got.view
                    msg = meeting_message(snap.directory, snap.calendar.tz, view)
                    await deps.client.chat_update(channel=channel, ts=ts, text=msg.text, blocks=msg.blocks_json())

            deps.background.spawn(_logged(work(), f"meeting {answer}"), name=f"meeting:{answer}")

        return listener

    app.action(_pattern(Action.MEETING_ACCEPT))(on_answer("accept"))
    app.action(_pattern(Action.MEETING_DECLINE))(on_answer("decline"))


async def _logged(coro: Any, what: str) -> None:
    try:
        await coro
    except Exception:
        log.exception("%s failed", what)


__all__ = ["checklist_positions", "register"]
