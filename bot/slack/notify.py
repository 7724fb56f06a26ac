"""``/oncall notify``: a form (modal) where a person adds, tests, removes and orders their own
contact methods beyond Slack (``bot.services.paging.contacts``).

Parses and renders only. Each press re-checks from stored state that the method is the
presser's own (a person edits only their own methods). A URL typed into the form is never
echoed back, logged or put in an error: the form shows methods by label and scheme.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.render import paging as render
from bot.render.ids import Action, Callback
from bot.services.deliveries.secrets import NoSecretKey
from bot.services.paging import contacts
from bot.slack.context import BotContext, context_of

log = logging.getLogger("bot.slack.notify")

_NOTIFY = re.compile(r"^\s*notify\s*$", re.IGNORECASE)


async def _is_notify(body: dict[str, Any]) -> bool:
    return bool(_NOTIFY.match(str(body.get("text") or "")))


def _user(body: dict[str, Any]) -> str | None:
    user = (body.get("user") or {}).get("id") or body.get("user_id")
    return str(user) if user else None


async def _person(ctx: BotContext, body: dict[str, Any]) -> tuple[str, str] | None:
    """The presser's person id and name (None when Slack's user is not in the directory)."""
    snap = await ctx.cache.get()
    user = _user(body)
    person = snap.person_by_slack_id(user) if user else None
    return (person, snap.directory.name_of(person)) if person else None


async def _view(ctx: BotContext, person: str, name: str, note: str | None = None) -> dict[str, Any]:
    return render.notify_modal(name, await contacts.list_methods(ctx.deps, person), note)


def register(app: AsyncApp) -> None:
    """The ``/oncall notify`` command, its form and the form's buttons (before ``/oncall``'s
    own listener, which answers every other ``/oncall``)."""
    ctx = context_of(app)
    deps = ctx.deps

    @app.command("/oncall", matchers=[_is_notify])
    async def on_notify(ack: Any, body: dict[str, Any]) -> None:
        who = await _person(ctx, body)
        if who is None:
            await ack(response_type="ephemeral",
                      text="You are not in the on-call directory, so the bot never pages you; nothing to set up.")
            return
        await ack()
        view = await _view(ctx, *who)
        await deps.client.views_open(trigger_id=str(body.get("trigger_id")), view=view)

    @app.view(str(Callback.NOTIFY_MODAL))
    async def on_submit(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        who = await _person(ctx, body)
        url, label, after = render.read_notify_modal((view.get("state") or {}).get("values") or {})
        if who is None or not url:
            await ack()  # "Add" with nothing typed closes the form
            return
        person, name = who
        try:
            method = await contacts.add(deps, person, url, deps.clock(), label=label, after=after,
                                        actor=person)
        except (contacts.ContactError, NoSecretKey) as exc:
            await ack(response_action="errors", errors={render.NOTIFY_BLOCKS[0]: str(exc)[:150]})
            return
        note = f"Added {render.method_text(method)}. Press Test to check that it reaches you."
        await ack(response_action="update", view=await _view(ctx, person, name, note))

    @app.action(re.compile(f"^({Action.NOTIFY_TEST}|{Action.NOTIFY_REMOVE}|{Action.NOTIFY_UP})$"))
    async def on_button(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        who = await _person(ctx, body)
        view_id = (body.get("view") or {}).get("id")
        value = str(action.get("value") or "")
        if who is None or not view_id or not value.isdigit():
            return
        person, name = who
        contact_id, now = int(value), deps.clock()
        method = await contacts.get(deps, contact_id)
        if method is None or method.person != person:  # only one's own methods
            note = "That method is gone, or not yours."
        elif action.get("action_id") == Action.NOTIFY_REMOVE:
            await contacts.remove(deps, contact_id, now, actor=person, only_person=person)
            note = f"Removed {render.method_text(method)}."
        elif action.get("action_id") == Action.NOTIFY_UP:
            ids = [m.id for m in await contacts.list_methods(deps, person)]
            i = ids.index(contact_id)
            if i:
                ids[i - 1], ids[i] = ids[i], ids[i - 1]
            await contacts.reorder(deps, person, ids, now, actor=person)
            note = f"Moved {render.method_text(method)} up."
        else:
            try:
                [tested] = await contacts.test(deps, person, now, actor=person, only=contact_id)
                note = (f"Test of {render.method_text(method)}: {'sent' if tested.said.ok else 'FAILED'} · "
                        f"Apprise said: {tested.said.text}")
            except NoSecretKey as exc:
                note = str(exc)
        await deps.client.views_update(view_id=str(view_id), view=await _view(ctx, person, name, note))
