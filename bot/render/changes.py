"""Block Kit for schedule changes: replies, refusals, DMs, the list of changes, calendar links,
fairness, the "before a shift" notice and the modals. Pure: a function of the values given.

People are mentions and times are Slack date tokens (``bot.render.fmt``); the same words describe
a change in the reply, the DMs, the list and the audit trail's text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    DatePickerElement,
    DateTimePickerElement,
    HeaderBlock,
    InputBlock,
    Option,
    OptionGroup,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.commands.changes import (
    HELP_LINES,
    Applied,
    CalendarLinks,
    Cancelled,
    ChangeItem,
    ChangesList,
    FairnessResult,
    Refused,
)
from bot.core.changes import (
    ChangeKind,
    ChangeRecord,
    ChangeRequest,
    Refusal,
    RefusalKind,
    ShiftChange,
    Target,
    target_choices,
)
from bot.core.fairness import Load
from bot.core.model import Directory
from bot.core.shifts import Shift
from bot.render.blocks import MAX_BLOCKS, Message, _context, _md, _section
from bot.render.fmt import date_token, duration, local_time, mention, slot_label, user_text
from bot.render.ids import Action, CoverAction

MAX_IMPACT_LINES = 8
MAX_LISTED = 40
MODAL_OPTIONS = 100


class ChangeAction(StrEnum):
    CANCEL = "change_cancel"  # value: change id
    OPEN_MODAL = "change_open_modal"  # value: override | swap | away


class ChangeView(StrEnum):
    OVERRIDE = "change_override_modal"
    SWAP = "change_swap_modal"
    AWAY = "change_away_modal"


def _button(text: str, action: StrEnum, value: str, style: str | None = None,
            confirm: ConfirmObject | None = None) -> ButtonElement:
    return ButtonElement(text=text[:75], action_id=f"{action}:{value}"[:255], value=value[:2000], style=style,
                         confirm=confirm)


def _span(tz: ZoneInfo, start: datetime, end: datetime) -> str:
    return f"{date_token(start, tz)} to {date_token(end, tz)}"


def _plain(line: str, d: Directory) -> str:
    from bot.render.plain import mrkdwn_to_text

    return user_text(mrkdwn_to_text(line, d))  # still read as mrkdwn by Slack (notifications)


def target_label(d: Directory, target: Target | None) -> str:
    if target is None:
        return "their slots"
    if target.pipeline is not None:
        p = d.pipelines.get(target.pipeline)
        return f"{p.name if p else target.pipeline} (primary and backup)"
    return slot_label(d, target.rotation or "", target.role)


def describe(d: Directory, tz: ZoneInfo, kind: ChangeKind, person: str, other: str | None, target: Target | None,
             start: datetime, end: datetime, reason: str = "") -> str:
    """One sentence for a change: who covers what, when."""
    why = f" ({user_text(reason)})" if reason else ""
    if kind == ChangeKind.OVERRIDE:
        return f"{mention(d, person)} covers *{target_label(d, target)}* from {_span(tz, start, end)}{why}"
    if kind == ChangeKind.SWAP:
        return (f"{mention(d, person)} and {mention(d, other or '')} swap their slots for the week "
                f"{_span(tz, start, end)}{why}")
    cover = f"{mention(d, other)} covers" if other else "their slots go to the next member who is not away"
    return f"{mention(d, person)} is away from {_span(tz, start, end)}; {cover}{why}"


def describe_request(d: Directory, tz: ZoneInfo, r: ChangeRequest) -> str:
    return describe(d, tz, r.kind, r.person, r.other, r.target, r.start, r.end, r.reason)


def describe_record(d: Directory, tz: ZoneInfo, r: ChangeRecord) -> str:
    return describe(d, tz, r.kind, r.person, r.other, r.target, r.start, r.end, r.reason)


def _role_word(role: str) -> str:
    return "primary" if role == "primary" else "backup"


def impact_lines(d: Directory, tz: ZoneInfo, impact: Sequence[ShiftChange], limit: int = MAX_IMPACT_LINES
                 ) -> list[str]:
    """``• Profit primary: @fin1 → @fin3 · Tue 08:00 to Tue 18:00``, grouped per pipeline, role and
    people (a group of several stretches says how many, from the first start to the last end)."""
    groups: dict[tuple[str, str, str | None, str | None], list[ShiftChange]] = {}
    for c in impact:
        groups.setdefault((c.pipeline, c.role, c.before, c.after), []).append(c)
    lines = []
    for (pid, role, before, after), changes in groups.items():
        name = d.pipelines[pid].name if pid in d.pipelines else pid
        was = mention(d, before) if before else "nobody"
        now = mention(d, after) if after else "nobody"
        count = f" ({len(changes)} stretches)" if len(changes) > 1 else ""
        lines.append(f"• {name} {_role_word(role)}: {was} → {now} · "
                     f"{_span(tz, changes[0].start, changes[-1].end)}{count}")
    if len(lines) > limit:
        lines = [*lines[:limit], f"• … and {len(lines) - limit} more"]
    return lines


def personal_lines(d: Directory, tz: ZoneInfo, impact: Sequence[ShiftChange], person: str) -> list[str]:
    """What the change means for ``person``: what they now cover and what they no longer cover."""
    gain = [c for c in impact if c.after == person]
    lose = [c for c in impact if c.before == person]
    lines = []
    for verb, changes in (("You now cover", gain), ("You no longer cover", lose)):
        seen: dict[tuple[str, str], list[ShiftChange]] = {}
        for c in changes:
            seen.setdefault((c.pipeline, c.role), []).append(c)
        for (pid, role), cs in seen.items():
            name = d.pipelines[pid].name if pid in d.pipelines else pid
            count = f" ({len(cs)} stretches)" if len(cs) > 1 else ""
            lines.append(f"• {verb} {name} {_role_word(role)} from {_span(tz, cs[0].start, cs[-1].end)}{count}")
    return lines


def refusal_text(d: Directory, tz: ZoneInfo, r: Refusal) -> str:
    """The reason in words, with mentions and date tokens."""
    if r.kind in (RefusalKind.AWAY, RefusalKind.NOBODY) and r.person is not None and r.start and r.end:
        name = d.pipelines[r.pipeline].name if r.pipeline in d.pipelines else (r.pipeline or "")
        what = f"{name} {_role_word(r.role or '')}"
        when = _span(tz, r.start, r.end)
        away = f" from {_span(tz, r.away.start, r.away.end)}" if r.away else ""
        if r.kind == RefusalKind.AWAY:
            return (f"{mention(d, r.person)} is away{away}: this would put them on call for {what} "
                    f"from {when}. Choose someone else.")
        if r.others_away:
            others = ", ".join(mention(d, p) for p in r.others_away)
            verb = "is" if len(r.others_away) == 1 else "are"
            return (f"Nobody is left to cover {what} from {when}: {mention(d, r.person)} is away and {others} "
                    f"{verb} away too. Name a cover (`/oncall away FROM TO @someone`).")
        return (f"{mention(d, r.person)} would still be on call for {what} from {when} while away. "
                "Name a cover (`/oncall away FROM TO @someone`) or add an override first.")
    return r.reason


def render_applied(d: Directory, tz: ZoneInfo, applied: Applied) -> Message:
    record, plan = applied.record, applied.plan
    first = f":white_check_mark: Done (#{record.id}): {describe_record(d, tz, record)}."
    blocks: list[Block] = [_section(first)]
    lines = impact_lines(d, tz, plan.impact)
    if lines:
        blocks.append(_section("*What changes*\n" + "\n".join(lines)))
    notes = [*plan.notes, "The people affected get a DM. `/oncall changes` lists upcoming changes."]
    blocks.append(_context(*notes))
    blocks.append(ActionsBlock(elements=[_cancel_button(record.id)]))
    return Message(_plain(first, d), tuple(blocks))


def _cancel_button(change_id: int) -> ButtonElement:
    confirm = ConfirmObject(title="Cancel this change?", text=f"Change #{change_id} will be undone from now on.",
                            confirm="Cancel it", deny="Keep it", style="danger")
    return _button("Cancel this change", ChangeAction.CANCEL, str(change_id), "danger", confirm)


def render_refused(d: Directory, tz: ZoneInfo, refused: Refused) -> Message:
    what = "Not cancelled" if refused.change_id is not None else "Not changed"
    text = f":no_entry: {what}: {refusal_text(d, tz, refused.refusal)}"
    blocks: list[Block] = [_section(text)]
    if refused.request is not None:
        blocks.append(_context(f"You asked: {describe_request(d, tz, refused.request)}."))
    return Message(_plain(text, d), tuple(blocks))


def render_cancelled(d: Directory, tz: ZoneInfo, cancelled: Cancelled) -> Message:
    text = f":wastebasket: Cancelled #{cancelled.record.id}: {describe_record(d, tz, cancelled.record)}."
    return Message(_plain(text, d), (_section(text), _context("The people affected get a DM.")))


def render_change_dm(d: Directory, tz: ZoneInfo, record: ChangeRecord, impact: Sequence[ShiftChange], person: str,
                     *, cancelled: bool = False) -> Message:
    """The DM to someone a change (or its cancellation) affects: what, who made it, what it means
    for them."""
    who = record.cancelled_by if cancelled else record.created_by
    by = mention(d, who) if who else "Someone"
    verb = "cancelled a change" if cancelled else "changed the on-call schedule"
    first = f"{by} {verb}: {describe_record(d, tz, record)}."
    lines = personal_lines(d, tz, impact, person)
    blocks: list[Block] = [_section(first)]
    if lines:
        blocks.append(_section("\n".join(lines)))
    blocks.append(_context(f"Change #{record.id} · `/oncall changes` lists upcoming changes · `/oncall me` shows "
                           "your shifts."))
    return Message(_plain(first, d), tuple(blocks), ephemeral=False)


def render_changes_list(d: Directory, tz: ZoneInfo, listing: ChangesList) -> Message:
    where = ""
    if listing.pipeline is not None:
        p = d.pipelines.get(listing.pipeline)
        where = f" for {p.name if p else listing.pipeline}"
    if not listing.items:
        text = (f"No upcoming changes{where}. Make one with `/oncall override`, `/oncall swap` or "
                "`/oncall away` (without arguments for a form).")
        return Message(text, (_section(text),))
    blocks: list[Block] = [HeaderBlock(text=f"Upcoming changes{where}"[:150])]
    for item in listing.items[:MAX_LISTED]:
        blocks.append(_item_block(d, tz, item))
    extra = len(listing.items) - MAX_LISTED
    count = f"{len(listing.items)} change" + ("s" if len(listing.items) != 1 else "")
    blocks.append(_context(count + (f" ({extra} not shown)" if extra > 0 else "")
                           + " · Cancel undoes a change from now on; the people affected get a DM."))
    return Message(f"Upcoming changes{where}: {len(listing.items)}", tuple(blocks[:MAX_BLOCKS]))


def _item_block(d: Directory, tz: ZoneInfo, item: ChangeItem) -> SectionBlock:
    r = item.record
    by = f" · by {mention(d, r.created_by)}" if r.created_by else ""
    text = f"*#{r.id}* · {describe_record(d, tz, r)}{by}"
    return SectionBlock(text=_md(text), accessory=_cancel_button(r.id) if item.may_cancel else None)


def render_calendar(d: Directory, links: CalendarLinks) -> Message:
    first = ("Your new calendar link (the old one no longer works):" if links.reset
             else "Your on-call calendar: subscribe to this link in Google Calendar, Outlook or Apple Calendar.")
    pipelines = "\n".join(f"• <{url}|{d.pipelines[p].name if p in d.pipelines else p}>"
                          for p, url in links.pipeline_urls)
    blocks: list[Block] = [_section(f"{first}\n<{links.person_url}|{links.person_url}>")]
    if pipelines:
        blocks.append(_section("*Pipeline calendars*\n" + pipelines))
    blocks.append(_context("90 days ahead, overrides included, times in the company zone. Keep the link to "
                           "yourself: anyone with it can read the schedule. `/oncall calendar reset` revokes it."))
    return Message(first, tuple(blocks))


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f}" if hours == int(hours) else f"{hours:.1f}"


def render_fairness(d: Directory, tz: ZoneInfo, result: FairnessResult) -> Message:
    r = result.report
    title = f"Fairness: {local_time(r.start, tz)} to {local_time(r.end, tz)}"
    header = f"{'':<26}{'shifts':>7}{'hours':>8}{'out of hrs':>11}{'primary':>9}"
    blocks: list[Block] = [HeaderBlock(text="Fairness"[:150]),
                           _context(f"From {date_token(r.start, tz)} to {date_token(r.end, tz)} "
                                    f"({duration(r.end - r.start)}); overrides count for whoever covered.")]
    for team_id, team in d.teams.items():
        members = [p for p in r.people if p in d.people and d.people[p].team == team_id]
        load = r.teams.get(team_id, Load())
        rows = [f"{team.name[:25]:<26}{load.shifts:>7}{_hours(load.hours):>8}{_hours(load.out_of_hours):>11}"
                f"{_hours(load.primary_hours):>9}"]
        for p in members:
            pl = r.people[p]
            rows.append(f"  {d.people[p].name[:23]:<24}{pl.shifts:>7}{_hours(pl.hours):>8}"
                        f"{_hours(pl.out_of_hours):>11}{_hours(pl.primary_hours):>9}")
        blocks.append(_section("```" + "\n".join([header, *rows]) + "```"))
    blocks.append(_context("Hours: on call for at least one pipeline. Out of hrs: on weekends and holidays. "
                           "A shift: consecutive days in the same pipeline, role and window."))
    return Message(title, tuple(blocks[:MAX_BLOCKS]))


def render_help() -> Message:
    lines = [f"`{usage}` · {what}" for usage, what in HELP_LINES]
    text = "Changing the schedule:"
    return Message(text, (_section(text + "\n" + "\n".join(lines)),))


def render_notice(d: Directory, tz: ZoneInfo, person: str, shifts: Sequence[Shift]) -> Message:
    """The DM a day before someone's on-call shifts start: what they cover, when, the runbooks."""
    start = min(s.start for s in shifts)
    first = f":bell: Heads-up: you are on call from {date_token(start, tz)}."
    lines = []
    for s in shifts:
        p = d.pipelines[s.pipeline]
        label = next((w.label or w.name for w in p.windows if w.name == s.window), s.window)
        stretches = f" ({len(s.spans)} days)" if len(s.spans) > 1 else ""
        lines.append(f"• *{p.name}* {_role_word(s.role)} · {label} · {_span(tz, s.start, s.end)}{stretches}")
        covers = _covers(d, s.pipeline, s.window, s.role)
        if covers:
            lines.append(f"    _{covers}_")
    buttons = [ButtonElement(text=f"Runbook: {d.pipelines[p].name}"[:75], action_id=f"{Action.RUNBOOK}:{p}",
                             value=p) for p in dict.fromkeys(s.pipeline for s in shifts)][:4]
    end = max(s.end for s in shifts)
    cover = f"{int(start.timestamp())}:{int(end.timestamp())}"
    buttons.append(ButtonElement(text="Need cover?", action_id=f"{CoverAction.NEED}:{cover}", value=cover))
    blocks: list[Block] = [_section(first), _section("\n".join(lines)),
                           _context("Can't make it? *Need cover?* asks your rotation's channel, or "
                                    "`/oncall away FROM TO`, `/oncall swap @you @someone WEEK`.")]
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    return Message(_plain(first, d), tuple(blocks), ephemeral=False)


def _covers(d: Directory, pipeline: str, window: str, role: str) -> str:
    for w in d.pipelines[pipeline].windows:
        if w.name != window:
            continue
        slot = w.primary if role == "primary" else w.secondary
        if slot is None:
            return ""
        rot = d.rotations.get(slot.rotation)
        for r in rot.roles if rot else ():
            if r.id == slot.role and r.covers:
                return f"{r.name}: {r.covers}"
        return slot_label(d, slot.rotation, slot.role)
    return ""


# --- modals -------------------------------------------------------------------------------------


class Field(StrEnum):
    TARGET = "target"
    WHO = "who"
    OTHER = "other"
    START = "start"
    END = "end"
    WEEK = "week"
    COVER = "cover"
    REASON = "reason"


def _input(field: Field, label: str, element: Any, *, optional: bool = False, hint: str | None = None
           ) -> InputBlock:
    element.action_id = str(field)
    return InputBlock(block_id=str(field), label=label, element=element, optional=optional, hint=hint)


def _reason() -> InputBlock:
    return _input(Field.REASON, "Reason", PlainTextInputElement(max_length=300, placeholder="optional"),
                  optional=True)


def _view(callback: ChangeView, title: str, blocks: list[Block], metadata: str) -> dict[str, Any]:
    view = View(type="modal", callback_id=str(callback), title=title[:24], submit="Save", close="Cancel",
                blocks=blocks, private_metadata=metadata[:3000])
    result: dict[str, Any] = view.to_dict()
    return result


def _option(value: str, label: str) -> Option:
    return Option(value=value[:150], label=label[:75])


def override_modal(d: Directory, now: datetime, metadata: str = "") -> dict[str, Any]:
    """Pick a rotation, role or pipeline, who covers, from when to when, why."""
    seats = [(v, label) for v, label in target_choices(d) if v not in d.pipelines]
    pipes = [(v, label) for v, label in target_choices(d) if v in d.pipelines]
    groups = [OptionGroup(label="Rotations and roles", options=[_option(v, lb) for v, lb in seats][:MODAL_OPTIONS]),
              OptionGroup(label="Whole pipelines", options=[_option(v, lb) for v, lb in pipes][:MODAL_OPTIONS])]
    start = int(now.timestamp()) // 3600 * 3600 + 3600
    blocks: list[Block] = [
        _input(Field.TARGET, "What to cover", StaticSelectElement(placeholder="A rotation, a role or a pipeline",
                                                                  option_groups=[g for g in groups if g.options])),
        _input(Field.WHO, "Who covers", UserSelectElement(placeholder="Someone")),
        _input(Field.START, "From", DateTimePickerElement(initial_date_time=start)),
        _input(Field.END, "To", DateTimePickerElement(initial_date_time=start + 24 * 3600)),
        _reason(),
    ]
    return _view(ChangeView.OVERRIDE, "Override", blocks, metadata)


def swap_modal(d: Directory, tz: ZoneInfo, now: datetime, requester_slack: str | None, metadata: str = ""
               ) -> dict[str, Any]:
    """Two people and a day of the week they swap."""
    today = now.astimezone(tz).date()
    blocks: list[Block] = [
        _input(Field.WHO, "Swap", UserSelectElement(initial_user=requester_slack) if requester_slack
               else UserSelectElement(placeholder="Someone")),
        _input(Field.OTHER, "With", UserSelectElement(placeholder="Someone")),
        _input(Field.WEEK, "The week of", DatePickerElement(initial_date=today.isoformat()),
               hint="Any day of that rotation week; the week runs from one handoff to the next."),
        _reason(),
    ]
    return _view(ChangeView.SWAP, "Swap", blocks, metadata)


def away_modal(d: Directory, tz: ZoneInfo, now: datetime, requester_slack: str | None, metadata: str = ""
               ) -> dict[str, Any]:
    """Who is away (default: you), the first and last day, an optional cover."""
    today: date = now.astimezone(tz).date()
    blocks: list[Block] = [
        _input(Field.WHO, "Who is away", UserSelectElement(initial_user=requester_slack) if requester_slack
               else UserSelectElement(placeholder="Someone"),
               hint="Leads and admins can choose someone else."),
        _input(Field.START, "First day away", DatePickerElement(initial_date=today.isoformat())),
        _input(Field.END, "Last day away", DatePickerElement(initial_date=today.isoformat())),
        _input(Field.COVER, "Cover", UserSelectElement(placeholder="The next member who is not away"),
               optional=True, hint="Leave empty: each slot goes to the next member of its rotation who is not away."),
        _reason(),
    ]
    return _view(ChangeView.AWAY, "Away", blocks, metadata)


def result_view(title: str, message: Message) -> dict[str, Any]:
    """A modal that shows the outcome of a submitted form (``response_action=update``)."""
    blocks = [b for b in message.blocks if not isinstance(b, ActionsBlock)][:MAX_BLOCKS]
    view = View(type="modal", title=title[:24], close="Close", blocks=blocks)
    result: dict[str, Any] = view.to_dict()
    return result
