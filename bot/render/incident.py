"""The incident message, its thread lines, pages (DMs), channel posts and the "Open incident" modal.

Pure: functions of the incident state, the directory and the company zone. People are mentions,
times are Slack date tokens, durations are words. Built with slack_sdk.models so Slack's limits
are checked.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.core.incident import Change, EventKind, Incident, Page, PageKind, Refusal, Status
from bot.core.model import Directory, SlotRef
from bot.core.search import match_issues
from bot.render.blocks import Message
from bot.render.fmt import date_token, duration, mention, slot_label, user_text
from bot.render.ids import Action, Callback
from bot.render.sla import fix_by_line

SECTION_LIMIT = 3000
MAX_LIKELY = 2
MAX_SELECT_OPTIONS = 100
SUMMARY_LIMIT = 1000  # characters kept of a summary (modal input max, and a readable header)

# Block and action ids of the "Open incident" modal's inputs.
PIPELINE_BLOCK, PIPELINE_INPUT = "incident_pipeline", "pipeline"
SUMMARY_BLOCK, SUMMARY_INPUT = "incident_summary", "summary"
CRITICAL_BLOCK, CRITICAL_INPUT = "incident_critical", "critical"
CRITICAL_VALUE = "critical"


def escape(text: str) -> str:
    """User text made safe for mrkdwn: ``bot.render.fmt.user_text``, the one rule."""
    return user_text(text)


def _md(text: str) -> MarkdownTextObject:
    if len(text) > SECTION_LIMIT:
        text = text[: SECTION_LIMIT - 1] + "…"
    return MarkdownTextObject(text=text)


def _plain(text: str) -> str:
    """Fallback text: mrkdwn emphasis removed, date tokens reduced to their fallback."""
    import re

    return re.sub(r"<!date\^[^|]+\|([^>]+)>", r"\1", text).replace("*", "")


def user(slack_user_id: str | None) -> str:
    """A Slack user mention, or "the bot" for an automatic action."""
    return f"<@{slack_user_id}>" if slack_user_id else "the bot"


def _slot(d: Directory, slot: SlotRef | None) -> str:
    if slot is None:
        return ""
    label = slot_label(d, slot.rotation, slot.role)
    if slot.offset == 1:
        return f"{label}, next member"
    if slot.offset:
        return f"{label} {slot.offset:+d}"
    return label


def _who(d: Directory, page: Page) -> str:
    """``<@U1>`` for a person page, ``#finance, #risk`` for a channel step."""
    if page.kind == PageKind.CHANNEL:
        return ", ".join(page.channels)
    return mention(d, page.person) if page.person else "nobody"


def _page_role(d: Directory, page: Page) -> str:
    """What the level is: the slot's name ("DE R1"), else the chain step's label."""
    return _slot(d, page.slot) or page.label


def pipeline_name(d: Directory, pipeline_id: str) -> str:
    p = d.pipelines.get(pipeline_id)
    return p.name if p else pipeline_id


def title_line(d: Directory, inc: Incident) -> str:
    """``:red_circle: CRITICAL · Profit · Revenue totals don't match the filing``."""
    name = pipeline_name(d, inc.pipeline)
    summary = escape(inc.summary[:SUMMARY_LIMIT])
    if inc.status == Status.RESOLVED:
        icon = ":white_check_mark: RESOLVED" + (" · critical" if inc.critical else "")
    elif inc.critical:
        icon = ":red_circle: CRITICAL"
    else:
        icon = ":large_orange_circle: Incident"
    return f"*{icon} · {name}* · {summary}"


def page_line(d: Directory, tz: ZoneInfo, inc: Incident, pending: frozenset[str] = frozenset()) -> str:
    """Who the current level reached: paged, queued (and until when) or the channels. A person
    in ``pending`` (their page DM not sent yet) is shown as being paged, not as paged."""
    page = inc.page
    level = f"Level {inc.level} of {inc.chain_length}"
    role = _page_role(d, page)
    if page.kind == PageKind.CHANNEL:
        return f"Escalated to the owning teams' channels: {_who(d, page)} · {level}"
    if page.kind == PageKind.QUEUED:
        due = date_token(page.due, tz) if page.due else "the next business day"
        return f"No on-call now: page to {_who(d, page)} ({role}) queued for {due} · {level}"
    waiting = page.person is not None and page.person in pending
    if inc.level == 1 and page.label == "primary":
        return f"On call: {_who(d, page)} ({'page pending' if waiting else 'paged'}) · {level}"
    if waiting:
        return f"Paging: {_who(d, page)} ({role}, pending) · {level}"
    return f"Paged: {_who(d, page)} ({role}) · {level}"


def status_line(d: Directory, inc: Incident) -> str:
    if inc.status == Status.RESOLVED and inc.resolved_at is not None:
        return f"Resolved by {user(inc.resolved_by)} after {duration(inc.resolved_at - inc.opened_at)}"
    if inc.acknowledged_at is not None:
        return f"Acknowledged by {user(inc.acknowledged_by)} ({duration(inc.acknowledged_at - inc.opened_at)})"
    return ""


def _likely(d: Directory, inc: Incident) -> str:
    p = d.pipelines.get(inc.pipeline)
    if p is None:
        return ""
    issues = match_issues(p, inc.summary)[:MAX_LIKELY]
    lines = []
    for issue in issues:
        check = f"\n    _First check:_ {issue.first_check}" if issue.first_check else ""
        lines.append(f"“{issue.text}”{check}")
    if not lines:
        return ""
    return "*Likely:* " + "\n*Or:* ".join(lines)


def _sla(d: Directory, inc: Incident) -> str:
    p = d.pipelines.get(inc.pipeline)
    if p is None:
        return ""
    parts = []
    if p.runbook.slas:
        parts.append("*SLA:* " + " · ".join(p.runbook.slas))
    if inc.critical and p.runbook.critical_note:
        parts.append(f"*Investor reporting:* {p.runbook.critical_note}")
    return "\n".join(parts)


def _button(text: str, action: Action, incident_id: int, value: str, style: str | None = None) -> ButtonElement:
    return ButtonElement(text=text, action_id=f"{action}:{incident_id}", value=value, style=style)


def buttons(inc: Incident) -> list[ButtonElement]:
    """The buttons that still apply: Acknowledge while open, Escalate while there is a next level,
    Resolve until resolved. The Escalate value carries the level it escalates from."""
    out: list[ButtonElement] = []
    if inc.status == Status.OPEN:
        out.append(_button("Acknowledge", Action.INCIDENT_ACK, inc.id, str(inc.id), "primary"))
    if inc.can_escalate:
        out.append(_button("Escalate", Action.INCIDENT_ESCALATE, inc.id, f"{inc.id}:{inc.level}", "danger"))
    if inc.status != Status.RESOLVED:
        out.append(_button("Resolve", Action.INCIDENT_RESOLVE, inc.id, str(inc.id)))
    return out


def incident_message(d: Directory, tz: ZoneInfo, inc: Incident, pending: frozenset[str] = frozenset()) -> Message:
    """The incident message in the pipeline's channel (posted, then updated in place); ``pending``:
    the people whose page DM has not been sent yet."""
    title = title_line(d, inc)
    who = [f"Reported by {opener(inc)}", f"opened {date_token(inc.opened_at, tz)}"]
    context = [" · ".join(who), page_line(d, tz, inc, pending)]
    status = status_line(d, inc)
    if status:
        context.append(status)
    fix = fix_by_line(d, tz, inc)
    if fix:
        context.append(fix)
    blocks: list[Block] = [SectionBlock(text=_md(title)), ContextBlock(elements=[_md(t) for t in context])]
    details = "\n".join(x for x in (_sla(d, inc), _likely(d, inc)) if x)
    if details and inc.status != Status.RESOLVED:
        blocks.append(SectionBlock(text=_md(details)))
    actions = buttons(inc)
    if actions:
        blocks.append(ActionsBlock(block_id=actions_block_id(inc.id, blocks, actions), elements=actions))
    return Message(_plain(title), tuple(blocks), ephemeral=False)


def actions_block_id(incident_id: int, blocks: Sequence[Block], actions: Sequence[ButtonElement]) -> str:
    """A block id that changes whenever the message does (Slack asks for a new ``block_id`` on
    each update, or clients may keep the old buttons' state): the incident id and a digest of
    what the message shows. Pure: the same message renders the same id."""
    shown = json.dumps([b.to_dict() for b in (*blocks, *actions)], sort_keys=True, ensure_ascii=False)
    return f"incident:{incident_id}:{hashlib.sha256(shown.encode()).hexdigest()[:10]}"


def _queued_note(d: Directory, tz: ZoneInfo, inc: Incident, page: Page) -> str:
    due = date_token(page.due, tz) if page.due else "the next business day"
    name = pipeline_name(d, inc.pipeline)
    return f"{name} has no on-call now, so the page goes out {due}"


def _reached(d: Directory, tz: ZoneInfo, inc: Incident, page: Page) -> str:
    """``@de1 (level 2, DE R1)`` / ``#finance, #risk (level 4, the owning teams' channels)``."""
    if page.kind == PageKind.CHANNEL:
        return f"{_who(d, page)} (level {page.level}, the owning teams' channels)"
    text = f"{_who(d, page)} (level {page.level}, {_page_role(d, page)})"
    if page.kind == PageKind.QUEUED:
        text += f": {_queued_note(d, tz, inc, page)}"
    return text


def opener(inc: Incident) -> str:
    """Who opened the incident: a person, an alert, or the data-arrival check."""
    if inc.source == "alert":
        return "an alert" + (f" ({inc.severity})" if inc.severity else "")
    if inc.source == "heartbeat":
        return "the data-arrival check"
    return user(inc.reporter)


def opened_line(d: Directory, tz: ZoneInfo, inc: Incident) -> str:
    """The incident thread's first line."""
    page = inc.page
    if page.kind == PageKind.QUEUED:
        target = f"{_who(d, page)} ({_page_role(d, page)})"
        return f"Opened by {opener(inc)}; page to {target} queued: {_queued_note(d, tz, inc, page)}."
    if page.kind == PageKind.CHANNEL:
        return f"Opened by {opener(inc)}; posted to {_who(d, page)}."
    return f"Opened by {opener(inc)}; paged {_who(d, page)} ({_page_role(d, page)})."


def thread_line(d: Directory, tz: ZoneInfo, change: Change) -> str:
    """What a change says in the incident thread: who did it, and how long it took."""
    before, after, event = change.before, change.after, change.event
    if event.kind == EventKind.ACKNOWLEDGED:
        return f"{user(event.actor)} acknowledged ({duration(event.at - before.opened_at)})"
    if event.kind == EventKind.RESOLVED:
        return f"Resolved by {user(event.actor)} after {duration(event.at - before.opened_at)}"
    if event.kind == EventKind.ESCALATED and event.page is not None:
        target = _reached(d, tz, after, event.page)
        if event.auto:
            waited = duration(event.at - before.last_escalated_at)
            return f"Not acknowledged after {waited}: escalated to {target}"
        return f"{user(event.actor)} escalated to {target}"
    if event.kind == EventKind.OPENED:
        return opened_line(d, tz, after)
    raise ValueError(f"no thread line for {event.kind}")


def source_link_text(d: Directory, inc: Incident, permalink: str | None) -> str:
    """The reply under a message an incident was opened from (the message shortcut): a link to
    the incident message, else its channel."""
    name = pipeline_name(d, inc.pipeline)
    if permalink:
        return f"Incident opened: <{permalink}|{name}>"
    return f"Incident opened: {name} in <#{inc.channel}>" if inc.channel else f"Incident #{inc.id} opened: {name}"


def delivered_line(d: Directory, page: Page) -> str:
    """The thread line when a queued page goes out."""
    return f"Queued page sent: {_who(d, page)} paged (level {page.level}, {_page_role(d, page)})"


def page_message(d: Directory, tz: ZoneInfo, inc: Incident, page: Page) -> Message:
    """The DM to a paged person: what, where, why them, with an Acknowledge button."""
    name = pipeline_name(d, inc.pipeline)
    what = f"{'CRITICAL ' if inc.critical else ''}{name}"
    article = "an" if what[:1].lower() in "aeiou" else "a"  # "an Engagement incident", "a Profit incident"
    first = f":rotating_light: You are paged for {article} {what} incident: {escape(inc.summary[:SUMMARY_LIMIT])}"
    where = f"<{inc.permalink}|Open the incident thread>" if inc.permalink else (
        f"in <#{inc.channel}>" if inc.channel else "")
    context = [f"Reported by {opener(inc)}", f"level {page.level} ({_page_role(d, page)})"]
    if where:
        context.append(where)
    if inc.fix_by is not None:
        context.append(fix_by_line(d, tz, inc))
    blocks: list[Block] = [SectionBlock(text=_md(first)), ContextBlock(elements=[_md(" · ".join(context))])]
    if inc.status == Status.OPEN:
        blocks.append(ActionsBlock(block_id=f"incident_page:{inc.id}", elements=[
            _button("Acknowledge", Action.INCIDENT_ACK, inc.id, str(inc.id), "primary")]))
    return Message(_plain(first), tuple(blocks), ephemeral=False)


def channel_message(d: Directory, tz: ZoneInfo, inc: Incident) -> Message:
    """The post in an owning team's channel when the chain reaches the channels."""
    name = pipeline_name(d, inc.pipeline)
    severity = "critical " if inc.critical else ""
    text = (f":rotating_light: A {severity}{name} incident was escalated to your team "
            f"(nobody earlier in the chain has resolved it): {escape(inc.summary[:SUMMARY_LIMIT])}")
    link = f"<{inc.permalink}|Open the incident thread>" if inc.permalink else (
        f"Thread in <#{inc.channel}>" if inc.channel else "")
    context = [f"Reported by {opener(inc)}", f"opened {date_token(inc.opened_at, tz)}"]
    if link:
        context.append(link)
    blocks: list[Block] = [SectionBlock(text=_md(text)), ContextBlock(elements=[_md(" · ".join(context))])]
    return Message(_plain(text), tuple(blocks), ephemeral=False)


def refusal_text(d: Directory, reason: Refusal, inc: Incident) -> str:
    """Why a click changed nothing, said to the clicker only."""
    if reason == Refusal.ALREADY_RESOLVED:
        return f"This incident was already resolved by {user(inc.resolved_by)}."
    if reason == Refusal.ALREADY_ACKNOWLEDGED:
        return f"Already acknowledged by {user(inc.acknowledged_by)}."
    if reason == Refusal.STALE:
        return (f"Already escalated: the incident is at level {inc.level} "
                f"({_who(d, inc.page)}). Press Escalate on the updated message to go further.")
    if reason == Refusal.END_OF_CHAIN:
        return (f"Nobody left to escalate to: level {inc.level} ({_who(d, inc.page)}) is the end of "
                f"{pipeline_name(d, inc.pipeline)}'s escalation chain.")
    if reason == Refusal.NO_CHAIN:
        return f"{pipeline_name(d, inc.pipeline)} has nobody to page and no owning team channel."
    if reason == Refusal.WRONG_MESSAGE:
        return "Use the buttons on the incident's own message."
    if reason == Refusal.NOT_ALLOWED:
        return "Only people in the on-call directory can do that here: ask an admin to add you."
    return "Nothing to do."


def _channel_ref(target: str) -> str:
    """``#name`` as it is, a channel id as a channel mention."""
    return target if target.startswith("#") else f"<#{target}>"


def opened_reply(
    d: Directory,
    inc: Incident,
    *,
    posted: bool = True,
    post_target: str | None = None,
    post_failed: bool = False,
    paged: bool = True,
) -> str:
    """The reporter's ephemeral confirmation, true to what Slack confirmed: ``posted`` (the
    incident message is in ``post_target``; else ``post_failed``: its last attempt failed) and
    ``paged`` (the level-1 page DM, or the channel step, went out)."""
    who = _who(d, inc.page)
    if inc.page.kind == PageKind.QUEUED:
        reached = f"{who} will be paged when the queue opens."
    elif paged:
        reached = f"{who} was notified."
    else:
        reached = f"paging {who} (pending)."
    name = pipeline_name(d, inc.pipeline)
    if not posted:
        where = _channel_ref(post_target) if post_target else "a channel"
        state = "failed" if post_failed else "has not gone through yet"
        reached = reached[0].upper() + reached[1:]
        return f"Incident #{inc.id} ({name}) is recorded; posting to {where} {state}, I keep trying. {reached}"
    where = f"<{inc.permalink}|in {inc.channel}>" if inc.permalink else (f"in <#{inc.channel}>" if inc.channel else "")
    return f"Incident opened {where} for {name}: {reached}"


def acted_note(action: str) -> str:
    """Said to whoever pressed a button when the change is stored but Slack has not confirmed the
    incident message's update (or its pages) yet."""
    done = {"acknowledge": "Acknowledged", "escalate": "Escalated", "resolve": "Resolved"}.get(action, "Done")
    return f"{done}; the incident thread will update when Slack answers."


# --- the "Open incident" modal ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModalInput:
    """What the modal's submission holds, before the pipeline is resolved."""

    pipeline: str
    summary: str
    critical: bool


def incident_modal(
    d: Directory,
    *,
    pipeline: str | None = None,
    summary: str = "",
    critical: bool = False,
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The "Open incident" modal, prefilled; ``metadata`` travels in ``private_metadata``."""
    choices = list(d.pipelines.values())
    if len(choices) <= MAX_SELECT_OPTIONS:
        options = [Option(value=p.id, label=p.name[:75]) for p in choices]
        initial = next((o for o in options if o.value == pipeline), None)
        element: Any = StaticSelectElement(action_id=PIPELINE_INPUT, placeholder="Choose a pipeline",
                                           options=options, initial_option=initial)
    else:
        element = PlainTextInputElement(action_id=PIPELINE_INPUT, initial_value=pipeline or None,
                                        placeholder="Pipeline name or id")
    critical_option = Option(value=CRITICAL_VALUE, label="Investor reporting is affected (critical)")
    blocks: list[Block] = [
        InputBlock(block_id=PIPELINE_BLOCK, label="Pipeline", element=element),
        InputBlock(
            block_id=SUMMARY_BLOCK,
            label="What is wrong?",
            element=PlainTextInputElement(action_id=SUMMARY_INPUT, multiline=True, max_length=SUMMARY_LIMIT,
                                          initial_value=summary[:SUMMARY_LIMIT] or None),
        ),
        InputBlock(
            block_id=CRITICAL_BLOCK,
            label="Severity",
            optional=True,
            element=CheckboxesElement(action_id=CRITICAL_INPUT, options=[critical_option],
                                      initial_options=[critical_option] if critical else None),
        ),
    ]
    view = View(
        type="modal",
        callback_id=str(Callback.OPEN_INCIDENT_MODAL),
        title=PlainTextObject(text="Open incident"),
        submit=PlainTextObject(text="Open"),
        close=PlainTextObject(text="Cancel"),
        blocks=blocks,
        private_metadata=json.dumps(dict(metadata or {}))[:3000],
    )
    return view.to_dict()


def read_modal(values: Mapping[str, Any]) -> ModalInput:
    """The inputs of a submitted modal (``view.state.values``)."""
    pipe = values.get(PIPELINE_BLOCK, {}).get(PIPELINE_INPUT, {})
    pipeline = (pipe.get("selected_option") or {}).get("value") or pipe.get("value") or ""
    summary = values.get(SUMMARY_BLOCK, {}).get(SUMMARY_INPUT, {}).get("value") or ""
    chosen = values.get(CRITICAL_BLOCK, {}).get(CRITICAL_INPUT, {}).get("selected_options") or []
    critical = any(o.get("value") == CRITICAL_VALUE for o in chosen)
    return ModalInput(str(pipeline).strip(), " ".join(str(summary).split()), critical)


def modal_errors(found: bool, summary: str, suggestions: Sequence[str] = ()) -> dict[str, str]:
    """Errors to show in the modal (``response_action: errors``), by block id; empty if none."""
    errors: dict[str, str] = {}
    if not found:
        hint = f" Did you mean {' or '.join(suggestions)}?" if suggestions else ""
        errors[PIPELINE_BLOCK] = f"I don't know that pipeline.{hint}"
    if not summary:
        errors[SUMMARY_BLOCK] = "Say what is wrong in a few words."
    return errors

