"""Incident listeners: ``/incident``, the "Open incident" buttons and message shortcut, the modal,
and the Acknowledge / Escalate / Resolve buttons.

Listeners parse and render only; ``bot.services.incidents`` does the work after the ack (in a
task owned by ``deps.background``). A click acts once: the Escalate button carries the level it
escalates from and the service applies it with a compare-and-set, so a double click or a retried
delivery (``X-Slack-Retry-Num``) is refused; a refused retry says nothing (the first delivery
already answered), a refused double click tells the clicker what happened instead.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from bot.commands.answer import resolve_pipeline
from bot.commands.parse import Help, OpenIncident, UsageError, parse_command
from bot.commands.results import NotFound, Problem
from bot.core.incident import Refused
from bot.core.search import find_owners
from bot.render import incident as render
from bot.render.blocks import Message, render_help, render_not_found, render_problem
from bot.render.ids import Action, Callback
from bot.services import incidents as svc
from bot.services.snapshot import Snapshot
from bot.slack.context import BotContext, context_of
from bot.slack.deps import SlackDeps
from bot.slack.errors import UserError, guarded

log = logging.getLogger("bot.slack.incidents")

Reply = Callable[[Message], Awaitable[None]]
RETRY_HEADER = "x-slack-retry-num"


def _pattern(action: Action) -> re.Pattern[str]:
    """Action ids are ``{action}:{incident id}``: match on the prefix."""
    return re.compile(rf"^{re.escape(str(action))}(?::.*)?$")


def _ids(value: str) -> tuple[int, int | None]:
    """``"12"`` -> (12, None); ``"12:2"`` -> (12, 2). ``UserError`` for anything else."""
    head, _, level = value.partition(":")
    try:
        return int(head), (int(level) if level else None)
    except ValueError:
        raise UserError("This button belongs to a message I no longer understand.") from None


def is_retry(request: Any) -> bool:
    """Whether Slack marked this delivery as a retry (``X-Slack-Retry-Num``)."""
    headers = getattr(request, "headers", None) or {}
    for name, value in headers.items():
        if name.lower() == RETRY_HEADER:
            first = value[0] if isinstance(value, list | tuple) and value else value
            return str(first) not in ("", "0")
    return False


def _user_id(body: dict[str, Any]) -> str | None:
    user = (body.get("user") or {}).get("id") or body.get("user_id")
    return str(user) if user else None


def _channel_id(body: dict[str, Any]) -> str | None:
    channel = (body.get("channel") or {}).get("id") or body.get("channel_id")
    return str(channel) if channel else None


def _origin(body: dict[str, Any]) -> svc.Origin:
    """The (channel id, message ts) a button was clicked on, as Slack says."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or _channel_id(body)
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    return (str(channel) if channel else None, str(ts) if ts else None)


def _ephemeral_reply(ctx: BotContext, body: dict[str, Any], respond: Any) -> Reply:
    """Say something to the user who acted only: under the clicked message (response_url), else
    as an ephemeral in the channel, else in a DM."""
    client = ctx.deps.client
    user, channel = _user_id(body), _channel_id(body)

    async def reply(message: Message) -> None:
        if body.get("response_url"):
            await respond(response_type="ephemeral", replace_original=False, text=message.text,
                          blocks=message.blocks_json())
        elif channel and user:
            await client.chat_postEphemeral(channel=channel, user=user, text=message.text,
                                            blocks=message.blocks_json())
        elif user:
            await client.chat_postMessage(channel=user, text=message.text, blocks=message.blocks_json())

    return reply


def _note(text: str) -> Message:
    """A plain ephemeral note (no warning sign: nothing went wrong)."""
    return Message(text, (SectionBlock(text=MarkdownTextObject(text=text[:3000])),))


# --- opening ------------------------------------------------------------------------------------


def start_incident(
    ctx: BotContext,
    snapshot: Snapshot,
    command: OpenIncident,
    *,
    user: str | None,
    channel: str | None,
    source_key: str | None,
    reply: Reply,
    body: dict[str, Any] | None = None,
    source_message: tuple[str, str] | None = None,
    require_person: bool = False,
) -> Message:
    """The hook for ``/incident PIPELINE SUMMARY``: the immediate answer, and the incident
    opened after the ack.

    An unknown pipeline is answered with "did you mean" (nothing opened). Otherwise the incident
    is opened in a background task (``source_key``, e.g. the trigger id, makes a retried request
    open it once) and ``reply`` tells the reporter where it is. ``source_message`` (channel, ts) of
    a message the incident was opened from gets a thread reply linking to the incident, owed
    through the outbox with the incident itself (sent once, retried until Slack takes it).
    """
    found = resolve_pipeline(snapshot, command.pipeline)
    if isinstance(found, NotFound):
        return render_not_found(snapshot.directory, found)
    deps = ctx.deps
    now = deps.clock()

    async def work() -> None:
        started = time.perf_counter()
        opened = await svc.open_incident(
            deps, found.id, command.summary, command.critical, user, now,
            source_key=source_key, fallback_channel=channel, snapshots=ctx.cache.get,
            require_person=require_person, source_message=source_message,
        )
        if isinstance(opened, Refused):
            ctx.metrics.count_command("incident:open", "user_error", time.perf_counter() - started)
            await reply(render_problem(Problem(render.refusal_text(snapshot.directory, opened.reason,
                                                                   opened.incident))))
            return
        ctx.metrics.count_command("incident:open", "ok", time.perf_counter() - started)
        if opened.duplicate:
            return
        inc, state = opened.incident, opened.delivery
        await reply(_note(render.opened_reply(snapshot.directory, inc, posted=state.posted,
                                              post_target=state.post_target, post_failed=state.post_failed,
                                              paged=state.paged)))

    deps.background.spawn(guarded(work(), body=body or {}, reply=reply, metrics=ctx.metrics), name="incident:open")
    severity = "critical " if command.critical else ""
    return _note(f"Opening a {severity}incident on {found.name}…")


async def _open_modal(
    ctx: BotContext,
    trigger_id: str,
    *,
    pipeline: str | None = None,
    summary: str = "",
    critical: bool = False,
    metadata: dict[str, Any] | None = None,
) -> None:
    snapshot = await ctx.cache.get()
    view = render.incident_modal(snapshot.directory, pipeline=pipeline, summary=summary, critical=critical,
                                 metadata=metadata)
    await ctx.deps.client.views_open(trigger_id=trigger_id, view=view)


def _guess_pipeline(snapshot: Snapshot, text: str) -> str | None:
    hits = find_owners(snapshot.directory, text) if text.strip() else []
    return hits[0].pipeline.id if hits else None


# --- registration -------------------------------------------------------------------------------


def register(app: AsyncApp, deps: SlackDeps) -> None:
    """Install the incident listeners on ``app`` (built by ``bot.slack.app.build_app``)."""
    ctx = context_of(app)
    metrics, background = ctx.metrics, deps.background

    @app.command("/incident")
    async def on_incident(ack: Any, command: dict[str, Any], body: dict[str, Any], respond: Any) -> None:
        text = str(command.get("text") or "")
        trigger_id = command.get("trigger_id")
        user, channel = command.get("user_id"), command.get("channel_id")
        if not text.strip() and trigger_id:
            await ack()
            background.spawn(guarded(_open_modal(ctx, trigger_id, metadata={"channel": channel}), body=body,
                                     reply=None, metrics=metrics), name="incident:modal")
            return
        try:
            parsed = parse_command("/incident", text)
        except UsageError as exc:
            metrics.count_command("/incident", "user_error", 0.0)
            message = render_problem(Problem(str(exc), exc.command))
            await ack(response_type="ephemeral", text=message.text, blocks=message.blocks_json())
            return
        if isinstance(parsed, Help):
            message = render_help("/incident")
        else:
            assert isinstance(parsed, OpenIncident)
            snapshot = await ctx.cache.get()

            async def reply(message: Message) -> None:
                await respond(response_type="ephemeral", text=message.text, blocks=message.blocks_json())

            message = start_incident(ctx, snapshot, parsed, user=user, channel=channel,
                                     source_key=f"command:{trigger_id}" if trigger_id else None,
                                     reply=reply, body=body)
        await ack(response_type="ephemeral", text=message.text, blocks=message.blocks_json())

    async def refused_opener(body: dict[str, Any], respond: Any) -> bool:
        """Whether the user may not open an incident from here; then they are told privately."""
        decision = svc.may_open(await ctx.cache.get(), _user_id(body))
        if decision:
            return False
        metrics.count_command("incident:open", "refused", 0.0)
        await _ephemeral_reply(ctx, body, respond)(_note(decision.reason))
        return True

    async def modal_from_button(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any,
                                critical: bool) -> None:
        await ack()
        trigger_id = body.get("trigger_id")
        if not trigger_id or await refused_opener(body, respond):
            return
        meta = {"channel": _channel_id(body)}
        work = _open_modal(ctx, str(trigger_id), pipeline=str(action.get("value") or "") or None,
                           critical=critical, metadata=meta)
        background.spawn(guarded(work, body=body, reply=None, metrics=metrics), name="incident:modal")

    @app.action(_pattern(Action.OPEN_INCIDENT))
    async def on_open_button(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        await modal_from_button(ack, body, action, respond, critical=False)

    @app.action(_pattern(Action.PAGE_NOW))
    async def on_page_now(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        await modal_from_button(ack, body, action, respond, critical=True)

    @app.shortcut(str(Callback.OPEN_INCIDENT_SHORTCUT))
    async def on_shortcut(ack: Any, body: dict[str, Any], shortcut: dict[str, Any], respond: Any) -> None:
        await ack()
        if await refused_opener(body, respond):
            return
        message = shortcut.get("message") or {}
        text = str(message.get("text") or "")
        channel = _channel_id(shortcut)
        meta = {"channel": channel, "message_ts": shortcut.get("message_ts") or message.get("ts")}

        async def work() -> None:
            snapshot = await ctx.cache.get()
            await _open_modal(ctx, str(shortcut.get("trigger_id")), pipeline=_guess_pipeline(snapshot, text),
                              summary=text, metadata=meta)

        background.spawn(guarded(work(), body=body, reply=None, metrics=metrics), name="incident:shortcut")

    @app.view(str(Callback.OPEN_INCIDENT_MODAL))
    async def on_modal(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        got = render.read_modal((view.get("state") or {}).get("values") or {})
        snapshot = await ctx.cache.get()
        found = resolve_pipeline(snapshot, got.pipeline) if got.pipeline else None
        suggestions = found.suggestions if isinstance(found, NotFound) else ()
        errors = render.modal_errors(found is not None and not isinstance(found, NotFound), got.summary, suggestions)
        if errors:
            metrics.count_command("incident:modal", "user_error", 0.0)
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            meta = {}
        channel = meta.get("channel") if isinstance(meta, dict) else None
        message_ts = meta.get("message_ts") if isinstance(meta, dict) else None
        user = _user_id(body)
        client = deps.client

        async def reply(message: Message) -> None:
            if channel and user:
                try:
                    await client.chat_postEphemeral(channel=channel, user=user, text=message.text,
                                                    blocks=message.blocks_json())
                    return
                except (SlackApiError, SlackClientError):
                    pass
            if user:
                await client.chat_postMessage(channel=user, text=message.text, blocks=message.blocks_json())

        start_incident(
            ctx, snapshot, OpenIncident(got.pipeline, got.summary, got.critical), user=user, channel=channel,
            source_key=f"view:{view.get('id')}" if view.get("id") else None, reply=reply, body=body,
            source_message=(str(channel), str(message_ts)) if channel and message_ts else None,
            require_person=True,
        )

    def on_button(label: str, act: Callable[[int, int | None, str | None, svc.Origin], Awaitable[svc.Acted]]) -> Any:
        async def listener(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any,
                           request: Any) -> None:
            await ack()
            retry = is_retry(request)
            reply = _ephemeral_reply(ctx, body, respond)

            async def work() -> None:
                started = time.perf_counter()
                incident_id, level = _ids(str(action.get("value") or ""))
                try:
                    acted = await act(incident_id, level, _user_id(body), _origin(body))
                except svc.NotFound:
                    raise UserError("I have no record of this incident.") from None
                outcome = "ok" if acted.applied else "refused"
                metrics.count_command(f"incident:{label}", outcome, time.perf_counter() - started)
                if acted.reason is not None:  # refused to this clicker: say so privately, even on a retry
                    await reply(_note(acted.reason))
                elif acted.refusal is not None and not retry:
                    snapshot = await ctx.cache.get()
                    await reply(_note(render.refusal_text(snapshot.directory, acted.refusal, acted.incident)))
                elif acted.applied and not acted.delivery.posted:
                    await reply(_note(render.acted_note(label)))

            background.spawn(guarded(work(), body=body, reply=reply, metrics=metrics), name=f"incident:{label}")

        return listener

    async def acknowledge(incident_id: int, _level: int | None, user: str | None, origin: svc.Origin) -> svc.Acted:
        return await svc.acknowledge(deps, incident_id, user, deps.clock(), snapshots=ctx.cache.get, origin=origin)

    async def escalate(incident_id: int, level: int | None, user: str | None, origin: svc.Origin) -> svc.Acted:
        if level is None:
            raise UserError("This Escalate button is from an older message: use the one on the incident.")
        return await svc.escalate(deps, incident_id, level, user, deps.clock(), snapshots=ctx.cache.get,
                                  origin=origin)

    async def resolve(incident_id: int, _level: int | None, user: str | None, origin: svc.Origin) -> svc.Acted:
        return await svc.resolve(deps, incident_id, user, deps.clock(), snapshots=ctx.cache.get, origin=origin)

    app.action(_pattern(Action.INCIDENT_ACK))(on_button("acknowledge", acknowledge))
    app.action(_pattern(Action.INCIDENT_ESCALATE))(on_button("escalate", escalate))
    app.action(_pattern(Action.INCIDENT_RESOLVE))(on_button("resolve", resolve))


__all__ = ["is_retry", "register", "start_incident"]
