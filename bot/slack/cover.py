"""Cover requests and the pager in Slack: ``/oncall cover|take|give``, the form, and the buttons
(Take, Take all, Give back on the request's message; "Need cover?" on the before-shift DM).

Listeners hold no rules and no queries: they read what was typed or pressed, call
``bot.services.cover`` and answer privately (in the ack when the work is quick, else through the
response_url). After a write, the snapshot cache is invalidated and the outbox is kicked (the
cover messages; for the pager, the change DMs and incident threads).
"""

from __future__ import annotations

import asyncio
import logging
import re
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from bot.commands.cover import CoverCommandValue, CoverForm, CoverTakeCommand, parse_cover
from bot.commands.parse import UsageError
from bot.commands.results import Problem
from bot.render.blocks import Message, render_problem
from bot.render.cover import cover_modal, render_refusal, render_requested
from bot.render.ids import Callback, CoverAction
from bot.services import cover as svc
from bot.services.deliveries import WebSlackPort
from bot.services.incidents.outbox import kick as kick_owed
from bot.slack.context import BotContext, context_of
from bot.slack.deps import SlackDeps
from bot.slack.errors import failure_message, log_unexpected, message_response
from bot.slack.private_reply import reply_privately

log = logging.getLogger("bot.slack.cover")

INLINE_SECONDS = 2.0


def _pattern(action: CoverAction) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(str(action))}(?::.*)?$")


def _user(body: dict[str, Any]) -> str | None:
    return body.get("user_id") or (body.get("user") or {}).get("id")


class Cover:
    """The listeners' shared state: the dependencies and the bot's context."""

    def __init__(self, app: AsyncApp, deps: SlackDeps) -> None:
        self.app = app
        self.deps = deps

    @property
    def ctx(self) -> BotContext:
        return context_of(self.app)

    async def run(self, command: CoverCommandValue, body: dict[str, Any], source_key: str | None = None
                  ) -> tuple[Message, str]:
        """Answer ``command`` of the user in ``body``; kick what it owes."""
        now = self.deps.clock()
        snap = await self.ctx.cache.get()
        slack_user = _user(body)
        user = self.ctx.cache.person_id(snap, slack_user)
        answered = await svc.answer_cover(self.deps.db, snap, command, user, now,
                                          extra_admins=self.deps.settings.admin_ids, source_key=source_key,
                                          who=f"slack:{slack_user}" if slack_user else None)
        if answered.kick_cover or answered.kick_owed:
            self.ctx.cache.invalidate()
        if answered.kick_cover:
            self.deps.background.spawn(self._quiet(self._deliver(now), "cover messages"), name="cover_outbox")
        if answered.kick_owed:
            await kick_owed(self.deps, snap, now)
        return answered.message, answered.outcome

    async def _deliver(self, now: datetime) -> None:
        port = WebSlackPort(WebSlackPort.posting_client(self.deps.client))
        await svc.deliver(self.deps.db, port, now)

    async def _quiet(self, work: Awaitable[Any], what: str) -> None:
        try:
            await work
        except Exception as exc:
            log_unexpected(exc, None, what)

    async def answer_slash(self, body: dict[str, Any], command: CoverCommandValue) -> BoltResponse:
        trigger_id = body.get("trigger_id")
        key = f"command:{trigger_id}" if trigger_id else None
        task = self.deps.background.spawn(self.run(command, body, key), name="cover_command")
        done, _ = await asyncio.wait({task}, timeout=INLINE_SECONDS)
        if task in done:
            try:
                message, outcome = task.result()
            except Exception as exc:
                self.ctx.metrics.count_command("/oncall", "error", 0.0)
                return message_response(failure_message(exc, body))
            self.ctx.metrics.count_command("/oncall", outcome, 0.0)
            return message_response(message)
        self.deps.background.spawn(self._later(task, body), name="cover_command_later")
        return message_response(Message("Working on it…"))

    async def _later(self, task: asyncio.Task[tuple[Message, str]], body: dict[str, Any]) -> None:
        try:
            message, _ = await task
        except Exception as exc:
            message = failure_message(exc, body)
        await self.reply(body, message)

    async def reply(self, body: dict[str, Any], message: Message) -> None:
        await reply_privately(self.deps, body, message)

    async def open_form(self, trigger_id: str, start: datetime | None = None, end: datetime | None = None) -> None:
        snap = await self.ctx.cache.get()
        view = cover_modal(snap.calendar.tz, self.deps.clock(), start, end)
        await self.deps.client.views_open(trigger_id=trigger_id, view=view)

    async def submit(self, ack: Callable[..., Awaitable[Any]], body: dict[str, Any]) -> None:
        """The form: check the times, ask for cover; refusals stay in the form."""
        view = body.get("view") or {}
        values = view.get("state", {}).get("values", {})

        def pick(field: str) -> Any:
            return (values.get(field, {}).get(field) or {})

        start, end = _instant(pick("start").get("selected_date_time")), _instant(pick("end").get("selected_date_time"))
        if start is None or end is None or end <= start:
            await ack(response_action="errors", errors={"end": "Choose a start and an end after it."})
            return
        reason = str(pick("reason").get("value") or "").strip()
        snap = await self.ctx.cache.get()
        user = self.ctx.cache.person_id(snap, _user(body))
        if user is None:
            await ack(response_action="errors", errors={"start": "You are not in the on-call directory."})
            return
        now = self.deps.clock()
        made = await svc.request_cover(self.deps.db, user, start, end, reason, user, now,
                                       extra_admins=self.deps.settings.admin_ids,
                                       source_key=f"view:{view.get('id')}" if view.get("id") else None)
        d, tz = snap.directory, snap.calendar.tz
        if not isinstance(made, svc.CoverRequest):
            text = render_refusal(d, tz, made, "Not asked").text
            await ack(response_action="errors", errors={"start": text[:1900]})
            return
        await ack()
        self.deps.background.spawn(self._quiet(self._deliver(now), "cover messages"), name="cover_outbox")
        await self.reply(body, render_requested(d, tz, made))


def _instant(epoch: Any) -> datetime | None:
    if epoch in (None, ""):
        return None
    return datetime.fromtimestamp(int(epoch), tz=UTC)


def _pair(value: str) -> tuple[int, str] | None:
    head, _, tail = value.partition(":")
    return (int(head), tail) if head.isdigit() else None


_registered: weakref.WeakSet[AsyncApp] = weakref.WeakSet()


def register(app: AsyncApp, deps: SlackDeps) -> None:
    """The cover and pager commands (a global middleware on ``/oncall``), the buttons and the form.
    Registering twice on one app does nothing the second time."""
    if app in _registered:
        return
    _registered.add(app)
    cover = Cover(app, deps)

    async def cover_commands(body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        if body.get("command") != "/oncall":
            await next()
            return None
        try:
            command = parse_cover(" ".join(str(body.get("text") or "").split()))
        except UsageError as exc:
            return message_response(render_problem(Problem(str(exc), exc.command)))
        if command is None:
            await next()
            return None
        if isinstance(command, CoverForm):
            _spawn(deps, cover.open_form(str(body.get("trigger_id") or "")), body, cover)
            return BoltResponse(status=200, body="")
        return await cover.answer_slash(body, command)

    app.middleware(cover_commands)

    def on_button(make: Callable[[str], CoverCommandValue | None]) -> Callable[..., Awaitable[None]]:
        async def listener(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
            await ack()
            command = make(str(action.get("value") or ""))
            if command is None:
                return

            async def run() -> None:
                message, _ = await cover.run(command, body)
                await cover.reply(body, message)

            _spawn(deps, run(), body, cover)

        return listener

    def take(value: str) -> CoverCommandValue | None:
        pair = _pair(value)
        return CoverTakeCommand(pair[0], int(pair[1])) if pair and pair[1].isdigit() else None

    def untake(value: str) -> CoverCommandValue | None:
        pair = _pair(value)
        return CoverTakeCommand(pair[0], int(pair[1]), untake=True) if pair and pair[1].isdigit() else None

    def take_all(value: str) -> CoverCommandValue | None:
        pair = _pair(value)
        return CoverTakeCommand(pair[0], None, channel=pair[1] or None) if pair else None

    app.action(_pattern(CoverAction.TAKE))(on_button(take))
    app.action(_pattern(CoverAction.UNTAKE))(on_button(untake))
    app.action(_pattern(CoverAction.TAKE_ALL))(on_button(take_all))

    @app.action(_pattern(CoverAction.NEED))
    async def on_need(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        start, _, end = str(action.get("value") or "").partition(":")
        form = cover.open_form(str(body.get("trigger_id") or ""), _instant(start or None), _instant(end or None))
        _spawn(deps, form, body, cover)

    @app.view(str(Callback.COVER_MODAL))
    async def on_submit(ack: Any, body: dict[str, Any]) -> None:
        await cover.submit(ack, body)


def _spawn(deps: SlackDeps, work: Coroutine[Any, Any, None], body: dict[str, Any], cover: Cover) -> None:
    async def guarded() -> None:
        try:
            await work
        except Exception as exc:
            try:
                await cover.reply(body, failure_message(exc, body))
            except Exception as again:
                log.warning("could not tell the user about an error: %s", again)

    deps.background.spawn(guarded(), name="cover_action")
