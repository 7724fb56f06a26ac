"""Schedule changes in Slack: ``/oncall override|swap|away|changes|cancel|calendar|fairness``, the
forms (modals) with pickers, the Cancel buttons, and ``GET /calendar/TOKEN.ics``.

- ``register(app, deps)`` installs a global middleware that takes the ``/oncall`` texts
  ``bot.commands.changes.parse_change`` recognises (so it works whatever order the ``/oncall``
  listeners were registered in; every other request goes on untouched), the Cancel and "open
  form" buttons and the three forms' submissions.
- ``add_routes(web_app, deps)`` adds the calendar feeds to the bot's aiohttp server:
  ``/calendar/TOKEN.ics`` (the token's person) and ``/calendar/TOKEN/PIPELINE.ics``.

Work that touches the database runs as an owned background task; the answer goes back in the ack
when it is ready within ``INLINE_SECONDS``, else through the response_url. A form without
arguments is opened with ``views.open`` right after the ack (its trigger_id lasts about 3 s).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from bot.commands.changes import (
    Applied,
    CancelCommand,
    Cancelled,
    ChangeCommand,
    ChangeModal,
    Refused,
    parse_change,
)
from bot.commands.parse import UsageError
from bot.commands.results import Problem
from bot.core.changes import ChangeKind, ChangeRequest, RefusalKind, find_target, week_of
from bot.render.blocks import Message, render_problem
from bot.render.changes import (
    ChangeAction,
    ChangeView,
    Field,
    away_modal,
    override_modal,
    refusal_text,
    render_applied,
    render_refused,
    result_view,
    swap_modal,
)
from bot.render.plain import mrkdwn_to_text
from bot.services import changes as svc
from bot.services.snapshot import Snapshot
from bot.slack.context import BotContext, context_of
from bot.slack.deps import SlackDeps
from bot.slack.errors import failure_message, log_unexpected, message_response
from bot.slack.private_reply import reply_privately

log = logging.getLogger("bot.slack.changes")

INLINE_SECONDS = 2.0  # answer in the ack when the work is done by then (Slack waits 3 s)
FEED_CACHE_SECONDS = 300


def _pattern(action: ChangeAction) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(str(action))}(?::.*)?$")


class Changes:
    """The listeners' shared state: the dependencies and the bot's context (cache, metrics)."""

    def __init__(self, app: AsyncApp, deps: SlackDeps) -> None:
        self.app = app
        self.deps = deps

    @property
    def ctx(self) -> BotContext:
        return context_of(self.app)

    async def snapshot(self) -> Snapshot:
        return await self.ctx.cache.get()

    def person(self, snap: Snapshot, slack_user: str | None) -> str | None:
        return self.ctx.cache.person_id(snap, slack_user)

    @property
    def admins(self) -> tuple[str, ...]:
        return self.deps.settings.admin_ids

    def changed(self, snap: Snapshot, result: Applied | Cancelled, now: datetime) -> None:
        """After a change: the next answer reads the data again (it shows the change at once), and
        the people affected get their DMs (written to the outbox with the change) after the answer,
        not in the way of it."""
        self.ctx.cache.invalidate()
        work = svc.send_change_dms(self.deps, result.record.id, now)
        self.deps.background.spawn(self._quiet(work, "change DMs"), name="change_dms")

    async def _quiet(self, work: Awaitable[Any], what: str) -> None:
        try:
            await work
        except Exception as exc:
            log_unexpected(exc, None, what)

    # -- commands ---------------------------------------------------------------------------------

    async def run(self, command: ChangeCommand, slack_user: str | None,
                  source_key: str | None = None) -> tuple[Message, str]:
        """The answer to a change command and its outcome label; the DMs follow in the background.
        ``source_key`` (the request's trigger id) makes a replayed request apply once."""
        now = self.deps.clock()
        snap = await self.snapshot()
        answered = await svc.answer_change(self.deps.db, snap, command, self.person(snap, slack_user), now,
                                           extra_admins=self.admins,
                                           base_url=svc.public_base_url(self.deps.settings),
                                           source_key=source_key, queue_dms=True)
        if answered.done is not None:
            self.changed(snap, answered.done, now)
        return answered.message, answered.outcome

    async def answer_slash(self, body: dict[str, Any], command: ChangeCommand) -> BoltResponse:
        """Answer in the ack when the work is quick; else say so and answer via the response_url."""
        user = body.get("user_id")
        metrics = self.ctx.metrics
        started = time.perf_counter()
        trigger_id = body.get("trigger_id")
        key = f"command:{trigger_id}" if trigger_id else None
        task = self.deps.background.spawn(self.run(command, user, key), name="change_command")
        done, _ = await asyncio.wait({task}, timeout=INLINE_SECONDS)
        if task in done:
            try:
                message, outcome = task.result()
            except Exception as exc:
                metrics.count_command("/oncall", "error", time.perf_counter() - started)
                return message_response(failure_message(exc, body))
            metrics.count_command("/oncall", outcome, time.perf_counter() - started)
            return message_response(message)
        self.deps.background.spawn(self._later(task, body, started), name="change_command_later")
        return message_response(Message("Working on it…"))

    async def _later(self, task: asyncio.Task[tuple[Message, str]], body: dict[str, Any], started: float) -> None:
        try:
            message, outcome = await task
        except Exception as exc:
            message, outcome = failure_message(exc, body), "error"
        self.ctx.metrics.count_command("/oncall", outcome, time.perf_counter() - started)
        await self.reply(body, message)

    async def reply(self, body: dict[str, Any], message: Message) -> None:
        await reply_privately(self.deps, body, message)

    # -- forms --------------------------------------------------------------------------------------

    async def open_form(self, kind: ChangeKind, trigger_id: str, slack_user: str | None) -> None:
        snap = await self.snapshot()
        now = self.deps.clock()
        d, tz = snap.directory, snap.calendar.tz
        if kind == ChangeKind.OVERRIDE:
            view = override_modal(d, now)
        elif kind == ChangeKind.SWAP:
            view = swap_modal(d, tz, now, slack_user)
        else:
            view = away_modal(d, tz, now, slack_user)
        await self.deps.client.views_open(trigger_id=trigger_id, view=view)

    def read_form(self, kind: ChangeKind, view: dict[str, Any], snap: Snapshot, user: str | None
                  ) -> ChangeRequest | dict[str, str]:
        """The request a submitted form asks for, or errors by block id."""
        values = view.get("state", {}).get("values", {})

        def value(field: Field) -> dict[str, Any]:
            block: dict[str, Any] = values.get(str(field), {})
            found: dict[str, Any] = block.get(str(field), {})
            return found

        def person(field: Field) -> str | dict[str, str] | None:
            slack_id = value(field).get("selected_user")
            if not slack_id:
                return None
            pid = snap.person_by_slack_id(str(slack_id))
            if pid is None:
                return {str(field): "This person is not in the on-call directory."}
            return pid

        d, tz = snap.directory, snap.calendar.tz
        reason = str(value(Field.REASON).get("value") or "").strip()
        if kind == ChangeKind.OVERRIDE:
            option = value(Field.TARGET).get("selected_option") or {}
            target = find_target(d, str(option.get("value", "")))
            if target is None:
                return {str(Field.TARGET): "Choose what to cover."}
            who = person(Field.WHO)
            if not isinstance(who, str):
                return who or {str(Field.WHO): "Choose who covers."}
            start = _instant(value(Field.START).get("selected_date_time"))
            end = _instant(value(Field.END).get("selected_date_time"))
            if start is None or end is None:
                return {str(Field.START if start is None else Field.END): "Choose a date and time."}
            if end <= start:
                return {str(Field.END): "The end must be after the start."}
            return ChangeRequest(ChangeKind.OVERRIDE, user, start, end, who, target=target, reason=reason)
        if kind == ChangeKind.SWAP:
            a, b = person(Field.WHO), person(Field.OTHER)
            if not isinstance(a, str):
                return a or {str(Field.WHO): "Choose who swaps."}
            if not isinstance(b, str):
                return b or {str(Field.OTHER): "Choose with whom."}
            day = _date(value(Field.WEEK).get("selected_date"))
            if day is None:
                return {str(Field.WEEK): "Choose a day of that week."}
            week = week_of(d, tz, [a, b], datetime.combine(day, datetime.min.time().replace(hour=12), tzinfo=tz))
            if isinstance(week, str):
                return {str(Field.WEEK): week}
            return ChangeRequest(ChangeKind.SWAP, user, week[0], week[1], a, other=b, reason=reason)
        who = person(Field.WHO)
        if isinstance(who, dict):
            return who
        cover = person(Field.COVER)
        if isinstance(cover, dict):
            return cover
        first, last = _date(value(Field.START).get("selected_date")), _date(value(Field.END).get("selected_date"))
        if first is None or last is None:
            return {str(Field.START if first is None else Field.END): "Choose a day."}
        if last < first:
            return {str(Field.END): "The last day must not be before the first."}
        start = datetime.combine(first, datetime.min.time(), tzinfo=tz)
        end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=tz)
        return ChangeRequest(ChangeKind.AWAY, user, start.astimezone(UTC), end.astimezone(UTC), who or user or "",
                             other=cover, reason=reason)

    async def submit(self, kind: ChangeKind, ack: Callable[..., Awaitable[Any]], body: dict[str, Any]) -> None:
        """Check and apply a submitted form: field errors and refusals stay in the form; success
        shows in it; work slower than ``INLINE_SECONDS`` closes it and the result comes as a DM."""
        snap = await self.snapshot()
        d, tz = snap.directory, snap.calendar.tz
        slack_user = (body.get("user") or {}).get("id")
        user = self.person(snap, slack_user)
        read = self.read_form(kind, body.get("view") or {}, snap, user)
        if isinstance(read, dict):
            await ack(response_action="errors", errors=read)
            return
        now = self.deps.clock()
        view_id = (body.get("view") or {}).get("id")
        key = f"view:{view_id}" if view_id else None
        task = self.deps.background.spawn(svc.apply_change(self.deps.db, read, now, extra_admins=self.admins,
                                                           source_key=key, queue_dms=True), name="change_form")
        done, _ = await asyncio.wait({task}, timeout=INLINE_SECONDS)
        if task not in done:
            await ack()
            self.deps.background.spawn(self._form_later(task, snap, body, now), name="change_form_later")
            return
        try:
            got = task.result()
        except Exception as exc:  # e.g. the database is down: close the form, say what happened
            await ack()
            await self.reply(body, failure_message(exc, body))
            return
        if isinstance(got, Refused):
            field = _field_for(kind, got)
            await ack(response_action="errors",
                      errors={str(field): mrkdwn_to_text(refusal_text(d, tz, got.refusal), d)[:1900]})
            return
        await ack(response_action="update", view=result_view("Done", render_applied(d, tz, got)))
        if not got.replayed:
            self.changed(snap, got, now)

    async def _form_later(self, task: asyncio.Task[Applied | Refused], snap: Snapshot, body: dict[str, Any],
                          now: datetime) -> None:
        d, tz = snap.directory, snap.calendar.tz
        try:
            got = await task
        except Exception as exc:
            await self.reply(body, failure_message(exc, body))
            return
        if isinstance(got, Refused):
            await self.reply(body, render_refused(d, tz, got))
            return
        await self.reply(body, render_applied(d, tz, got))
        if not got.replayed:
            self.changed(snap, got, now)


def _instant(epoch: Any) -> datetime | None:
    if epoch in (None, ""):
        return None
    return datetime.fromtimestamp(int(epoch), tz=UTC)


def _date(text: Any) -> date | None:
    try:
        return date.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def _field_for(kind: ChangeKind, refused: Refused) -> Field:
    """Where in the form a refusal is shown: next to what the user would change."""
    r = refused.refusal.kind
    if kind == ChangeKind.AWAY:
        return Field.COVER if r == RefusalKind.AWAY else Field.WHO
    if kind == ChangeKind.SWAP:
        return Field.WEEK if r == RefusalKind.NO_CHANGE else Field.WHO
    return Field.WHO if r == RefusalKind.AWAY else Field.TARGET


_registered: weakref.WeakSet[AsyncApp] = weakref.WeakSet()


def register(app: AsyncApp, deps: SlackDeps) -> None:
    """The change commands (a global middleware on ``/oncall``), buttons and forms. Registering
    twice on one app does nothing the second time."""
    if app in _registered:
        return
    _registered.add(app)
    changes = Changes(app, deps)

    async def change_commands(body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        if body.get("command") != "/oncall":
            await next()
            return None
        text = " ".join(str(body.get("text") or "").split())
        try:
            command = parse_change(text)
        except UsageError as exc:
            changes.ctx.metrics.count_command("/oncall", "user_error", 0.0)
            return message_response(render_problem(Problem(str(exc), exc.command)))
        if command is None:
            await next()
            return None
        if isinstance(command, ChangeModal):
            trigger_id = str(body.get("trigger_id") or "")
            _spawn(deps, changes.open_form(command.kind, trigger_id, body.get("user_id")), body, changes, "form")
            return BoltResponse(status=200, body="")
        return await changes.answer_slash(body, command)

    app.middleware(change_commands)

    @app.action(_pattern(ChangeAction.CANCEL))
    async def on_cancel(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        value = str(action.get("value") or "")
        if not value.isdigit():
            return

        async def run() -> None:
            message, _ = await changes.run(CancelCommand(int(value)), (body.get("user") or {}).get("id"))
            await changes.reply(body, message)

        _spawn(deps, run(), body, changes, "cancel")

    @app.action(_pattern(ChangeAction.OPEN_MODAL))
    async def on_open_form(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        value = str(action.get("value") or "")
        if value in {k.value for k in ChangeKind}:
            form = changes.open_form(ChangeKind(value), str(body.get("trigger_id") or ""),
                                     (body.get("user") or {}).get("id"))
            _spawn(deps, form, body, changes, "form")

    for kind, callback in ((ChangeKind.OVERRIDE, ChangeView.OVERRIDE), (ChangeKind.SWAP, ChangeView.SWAP),
                           (ChangeKind.AWAY, ChangeView.AWAY)):
        app.view(str(callback))(_submitter(changes, kind))


def _submitter(changes: Changes, kind: ChangeKind) -> Callable[..., Awaitable[None]]:
    async def on_submit(ack: Any, body: dict[str, Any]) -> None:
        await changes.submit(kind, ack, body)

    return on_submit


def _spawn(deps: SlackDeps, work: Coroutine[Any, Any, None], body: dict[str, Any], changes: Changes,
           name: str) -> None:
    async def guarded() -> None:
        try:
            await work
        except Exception as exc:
            message = failure_message(exc, body)
            try:
                await changes.reply(body, message)
            except Exception as again:
                log.warning("could not tell the user about an error: %s", again)

    deps.background.spawn(guarded(), name=f"change_{name}")


# --- calendar feeds over HTTP ------------------------------------------------------------------


def add_routes(web_app: web.Application, deps: SlackDeps) -> None:
    """``GET /calendar/TOKEN.ics`` and ``GET /calendar/TOKEN/PIPELINE.ics`` (text/calendar)."""

    async def serve(request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        pipeline = request.match_info.get("pipeline")
        body = await svc.feed(deps.db, token, pipeline, deps.clock())
        if body is None:
            return web.Response(status=404, text="No such calendar: the link is wrong or was reset.\n")
        name = f"{pipeline or 'oncall'}.ics"
        return web.Response(body=body, content_type="text/calendar", charset="utf-8", headers={
            "Cache-Control": f"private, max-age={FEED_CACHE_SECONDS}",
            "Content-Disposition": f'inline; filename="{name}"',
            "X-Robots-Tag": "noindex",
        })

    web_app.router.add_get("/calendar/{token}.ics", serve)
    web_app.router.add_get("/calendar/{token}/{pipeline}.ics", serve)
