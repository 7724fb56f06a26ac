"""The Home tab: the viewer's week, next shifts, their teams' pipelines, their open incidents and
checklists, and buttons for the common commands. Published with views.publish when opened."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.commands.answer import person_report
from bot.core.coverage import oncall_at
from bot.core.incident import Incident
from bot.core.model import Directory
from bot.render.blocks import oncall_lines, render_person
from bot.render.fmt import date_token, mention, user_text
from bot.render.ids import Action
from bot.render.sla import fix_by_line
from bot.services import incidents as incidents_service
from bot.services.snapshot import Snapshot
from bot.slack.context import BotContext
from bot.slack.errors import guarded

log = logging.getLogger("bot.slack.home")

HOME_BLOCK_LIMIT = 100
MAX_PIPELINES = 20
MAX_ITEMS = 10


@dataclass(frozen=True)
class ChecklistItem:
    """An open checklist for the Home tab: its title, when it is due, where its message is."""

    title: str
    due: datetime | None = None
    channel: str | None = None  # where the checklist message is (a channel id)
    overdue: bool = False


def _md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text[:3000])


def _button(text: str, action: Action, value: str) -> ButtonElement:
    return ButtonElement(text=text, action_id=f"{action}:{value}"[:255], value=value[:2000])


def _owned_pipelines(d: Directory, team: str) -> list[tuple[str, str]]:
    """(pipeline id, "primary" | "secondary") for the pipelines ``team`` owns, primary first."""
    primary = [(p.id, "primary") for p in d.pipelines.values() if team in p.primary_owners]
    secondary = [(p.id, "secondary") for p in d.pipelines.values() if team in p.secondary_owners]
    return primary + secondary


def command_buttons() -> ActionsBlock:
    return ActionsBlock(elements=[
        _button("Who is on call now", Action.RUN_COMMAND, "/oncall"),
        _button("My shifts", Action.RUN_COMMAND, "/oncall me"),
        _button("Help", Action.RUN_COMMAND, "help"),
    ])


def home_view(
    snapshot: Snapshot,
    person_id: str | None,
    now: datetime,
    *,
    incidents: Sequence[Incident] | None = None,
    checklists: Sequence[ChecklistItem] | None = None,
) -> View:
    """The Home tab of ``person_id`` (None: a Slack user the directory does not know) at ``now``.

    ``incidents`` / ``checklists``: None leaves the section out.
    """
    d, tz = snapshot.directory, snapshot.calendar.tz
    blocks: list[Block] = []
    person = d.people.get(person_id) if person_id else None
    if person is None:
        blocks += [
            HeaderBlock(text="On-call bot"),
            SectionBlock(text=_md(
                "You are not in the on-call directory (your Slack user is not among the seed's people), "
                "so there are no shifts to show. Ask an admin to add you, or use the commands below."
            )),
            command_buttons(),
        ]
        return View(type="home", blocks=blocks)

    report = person_report(snapshot, person, now, is_self=True)
    blocks.append(HeaderBlock(text="Your on-call"))
    blocks += list(render_person(d, tz, report).blocks)

    owned = _owned_pipelines(d, person.team)
    if owned:
        team = d.teams.get(person.team)
        blocks += [DividerBlock(), HeaderBlock(text="Your pipelines")]
        if team is not None:
            blocks.append(ContextBlock(elements=[_md(f"Owned by {team.name}")]))
        for pid, kind in owned[:MAX_PIPELINES]:
            answer = oncall_at(d, snapshot.calendar, pid, now, snapshot.overrides)
            first = oncall_lines(d, answer, tz)[0]
            suffix = " _(secondary owner)_" if kind == "secondary" else ""
            blocks.append(SectionBlock(text=_md(first + suffix),
                                       accessory=_button("Runbook", Action.RUNBOOK, pid)))
        if len(owned) > MAX_PIPELINES:
            blocks.append(ContextBlock(elements=[_md(f"{len(owned) - MAX_PIPELINES} more: ask `/oncall`.")]))

    if incidents is not None:
        blocks += [DividerBlock(), HeaderBlock(text="Open incidents")]
        if not incidents:
            blocks.append(ContextBlock(elements=[_md("No open incident involves you.")]))
        for inc in list(incidents)[:MAX_ITEMS]:
            name = d.pipelines[inc.pipeline].name if inc.pipeline in d.pipelines else inc.pipeline
            severity = ":red_circle: CRITICAL" if inc.critical else ":large_orange_circle: Normal"
            link = f" · <{inc.permalink}|open>" if inc.permalink else ""
            fix = fix_by_line(d, tz, inc)
            fix = f" · {fix}" if fix else ""
            blocks.append(SectionBlock(text=_md(
                f"{severity} · *{name}* · {user_text(inc.summary)}\nOpened {date_token(inc.opened_at, tz)}{fix}{link}"
            )))
        if len(incidents) > MAX_ITEMS:
            blocks.append(ContextBlock(elements=[_md(f"{len(incidents) - MAX_ITEMS} more open incidents.")]))

    if checklists is not None:
        blocks += [DividerBlock(), HeaderBlock(text="Checklists due")]
        if not checklists:
            blocks.append(ContextBlock(elements=[_md("Nothing due for you.")]))
        for item in list(checklists)[:MAX_ITEMS]:
            due = f" · {'overdue since' if item.overdue else 'due'} {date_token(item.due, tz)}" if item.due else ""
            where = f" · in <#{item.channel}>" if item.channel else ""
            flag = ":warning: " if item.overdue else ""
            blocks.append(SectionBlock(text=_md(f"{flag}*{item.title}*{due}{where}")))

    blocks += [DividerBlock(), command_buttons(),
               ContextBlock(elements=[_md(f"{mention(d, person.id)} · updated {date_token(now, tz)}")])]
    if len(blocks) > HOME_BLOCK_LIMIT:
        blocks = [*blocks[: HOME_BLOCK_LIMIT - 2], command_buttons(),
                  ContextBlock(elements=[_md("Some sections were shortened to fit the Home tab.")])]
    return View(type="home", blocks=blocks)


async def open_incidents(ctx: BotContext, person_id: str, slack_user_id: str | None) -> list[Incident]:
    """Open incidents that paged the viewer or that they reported or acknowledged."""
    return list(await incidents_service.open_incidents_for(ctx.deps.db, person_id, slack_user_id))


async def open_checklists(ctx: BotContext, person_id: str) -> list[ChecklistItem]:
    """The open checklists assigned to ``person_id``, soonest due first."""
    from bot.services.records import open_checklists as stored_open_checklists

    rows = await stored_open_checklists(ctx.deps.db)
    mine = sorted((r for r in rows if person_id in (r.assignees or [])), key=lambda r: r.due_at)
    return [
        ChecklistItem(title=r.title, due=r.due_at, channel=r.channel_id, overdue=bool(r.overdue)) for r in mine
    ]


async def publish_home(ctx: BotContext, slack_user_id: str) -> dict[str, Any]:
    """Build and publish ``slack_user_id``'s Home tab; the view sent."""
    started = time.perf_counter()
    snapshot = await ctx.cache.get()
    person_id = ctx.cache.person_id(snapshot, slack_user_id)
    now = ctx.deps.clock()
    incidents = await open_incidents(ctx, person_id, slack_user_id) if person_id else None
    checklists = await open_checklists(ctx, person_id) if person_id else None
    view = home_view(snapshot, person_id, now, incidents=incidents, checklists=checklists).to_dict()
    ctx.metrics.count_command("app_home_opened", "ok", time.perf_counter() - started)
    await ctx.deps.client.views_publish(user_id=slack_user_id, view=view)
    return view


def register(app: AsyncApp, ctx: BotContext) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(body: dict[str, Any], event: dict[str, Any]) -> None:
        user = event.get("user")
        if event.get("tab", "home") != "home" or not user:
            return
        ctx.deps.background.spawn(
            guarded(publish_home(ctx, str(user)), body=body, reply=None, metrics=ctx.metrics), name="home"
        )
