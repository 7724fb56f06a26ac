"""Block Kit messages for command results. Pure: a function of the result, the snapshot's
directory and the company zone. Built with slack_sdk.models so Slack's limits are checked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.commands.mention import NOT_UNDERSTOOD
from bot.commands.parse import HELP_TEXT, TIMES_RULE
from bot.commands.results import (
    HelpReport,
    NotFound,
    OncallReport,
    OwnersReport,
    PersonReport,
    Problem,
    Result,
    RunbookReport,
    ScheduleReport,
    Shift,
)
from bot.core.answer import OnCallAnswer
from bot.core.model import Directory
from bot.render.fmt import (
    date_token,
    holder_mention,
    local_time,
    mention,
    problem_text,
    scope_note,
    slot_label,
    team_name,
    user_text,
)
from bot.render.ids import Action

MAX_BLOCKS = 50
SECTION_LIMIT = 3000
MAX_PIPELINES_LISTED = 40


@dataclass(frozen=True)
class Message:
    """A reply: ``text`` is the notification/fallback text; ``ephemeral`` replies only to the asker."""

    text: str
    blocks: tuple[Block, ...] = ()
    ephemeral: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def blocks_json(self) -> list[dict[str, Any]]:
        return [b.to_dict() for b in self.blocks]


def _md(text: str) -> MarkdownTextObject:
    if len(text) > SECTION_LIMIT:
        text = text[: SECTION_LIMIT - 1] + "…"
    return MarkdownTextObject(text=text)


def _section(text: str, fields: Sequence[str] = ()) -> SectionBlock:
    return SectionBlock(text=_md(text), fields=[_md(f[:2000]) for f in fields] or None)


def _context(*texts: str) -> ContextBlock:
    return ContextBlock(elements=[_md(t[:3000]) for t in texts if t][:10])


def _button(text: str, action: Action, value: str, style: str | None = None) -> ButtonElement:
    return ButtonElement(text=text[:75], action_id=f"{action}:{value}"[:255], value=value[:2000], style=style)


def _actions(*buttons: ButtonElement) -> ActionsBlock:
    return ActionsBlock(elements=list(buttons)[:25])


def _who(d: Directory, answer: OnCallAnswer, which: str) -> str:
    h = answer.primary if which == "primary" else answer.secondary
    if h is None:
        return "nobody"
    team = team_name(d, h.person)
    extra = " (override)" if h.via_override is not None else ""
    return f"{mention(d, h.person)}" + (f" ({team})" if team else "") + extra


def _day_phrase(answer: OnCallAnswer, tz: ZoneInfo) -> str:
    local = answer.at.astimezone(tz)
    if answer.holiday:
        return f"{answer.holiday}, {local:%A}"
    return f"{local:%A}"


def oncall_lines(d: Directory, answer: OnCallAnswer, tz: ZoneInfo, *, now_word: bool = True) -> list[str]:
    """The lines of one pipeline's answer: answer first, then backup/window, then what is next."""
    name = d.pipelines[answer.pipeline].name
    lines: list[str] = []
    if answer.covered:
        until = f" · until {date_token(answer.until, tz)}" if answer.until else ""
        verb = "is on call" if now_word else f"is on call at {date_token(answer.at, tz)}"
        lines.append(f"*{name}*: {holder_mention(d, answer.primary)} {verb}{until}")
        why = answer.window_label or answer.window or ""
        if answer.holiday:
            why += f" ({answer.holiday})"
        lines.append(f"Backup: {_who(d, answer, 'secondary')} · Window: {why}")
        upcoming = answer.next
        if upcoming is not None:
            if upcoming.primary is None:
                lines.append(f"Next: no coverage from {date_token(upcoming.at, tz)}")
            else:
                label = _window_label(d, answer.pipeline, upcoming.window)
                lines.append(
                    f"Next: {holder_mention(d, upcoming.primary)} from {date_token(upcoming.at, tz)} ({label})")
    else:
        when = "now" if now_word else f"at {date_token(answer.at, tz)}"
        lines.append(f"*{name}*: no one is on call {when} ({_day_phrase(answer, tz)}, outside coverage)")
        nxt = answer.next
        if nxt is not None and nxt.primary is not None:
            backup = f", backup {holder_mention(d, nxt.secondary)}" if nxt.secondary else ""
            team = team_name(d, nxt.primary.person)
            lines.append(
                f"Coverage resumes {date_token(nxt.at, tz)} with {holder_mention(d, nxt.primary)}"
                + (f" ({team})" if team else "") + backup
            )
        ah = answer.after_hours
        if ah is not None:
            if ah.queued_for is not None and ah.queued_until is not None:
                path = (f"After hours: escalations are queued for {mention(d, ah.queued_for.person)} "
                        f"at {date_token(ah.queued_until, tz)}")
            elif ah.page_now is not None:
                path = f"After hours: an escalation pages {mention(d, ah.page_now.person)} at once"
            else:
                path = "After hours: " + (ah.note or "no after-hours path")
            if ah.critical is not None:
                path += f"; if investor reporting is affected, {mention(d, ah.critical.person)} is paged now."
            else:
                path += "."
            lines.append(path)
    return lines


def _window_label(d: Directory, pipeline: str, window: str | None) -> str:
    if window is None:
        return "no coverage"
    for w in d.pipelines[pipeline].windows:
        if w.name == window:
            return w.label
    return window


def render_oncall(d: Directory, tz: ZoneInfo, report: OncallReport, viewer: str | None = None) -> Message:
    if len(report.answers) == 1:
        a = report.answers[0]
        lines = oncall_lines(d, a, tz, now_word=not report.asked_time)
        buttons = [_button("Runbook", Action.RUNBOOK, a.pipeline), _button("Schedule", Action.SCHEDULE, a.pipeline)]
        if a.covered:
            buttons.insert(1, _button("Open incident", Action.OPEN_INCIDENT, a.pipeline))
        elif a.after_hours is not None and a.after_hours.critical is not None:
            buttons.insert(0, _button("Page now: investor impact", Action.PAGE_NOW, a.pipeline, "danger"))
        share = f"/oncall {a.pipeline}" + (f" at {a.at.isoformat()}" if report.asked_time else "")
        buttons.append(_button("Share in channel", Action.SHARE, share))
        if report.scope is not None:
            lines.append(scope_note(d, report.scope))
        blocks: list[Block] = [_section(lines[0])]
        if len(lines) > 1:
            blocks.append(_context(*lines[1:]))
        blocks.append(_actions(*buttons))
        return Message(_plain_first(lines[0]), tuple(blocks))
    return _render_all(d, tz, report, viewer)


def _render_all(d: Directory, tz: ZoneInfo, report: OncallReport, viewer: str | None) -> Message:
    answers = list(report.answers)
    mine: set[str] = set()
    if viewer and viewer in d.people:
        team = d.people[viewer].team
        mine = {p.id for p in d.pipelines.values() if team in p.primary_owners or team in p.secondary_owners}
    answers.sort(key=lambda a: (a.pipeline not in mine, not a.covered))
    shown, rest = answers[:MAX_PIPELINES_LISTED], answers[MAX_PIPELINES_LISTED:]
    when = "now" if not report.asked_time else f"at {date_token(report.at, tz)}"
    title = f"On call {when}" if report.asked_time else "On call now"
    blocks: list[Block] = [HeaderBlock(text=title if not report.asked_time else "On call")]
    if report.asked_time:
        blocks.append(_context(f"As of {date_token(report.at, tz)}"))
    covered = sum(1 for a in answers if a.covered)
    for a in shown:
        name = d.pipelines[a.pipeline].name
        if a.covered:
            until = date_token(a.until, tz) if a.until else "—"
            blocks.append(_section(f"*{name}* · {a.window_label or a.window}", [
                f"*Primary*\n{_who(d, a, 'primary')}", f"*Backup*\n{_who(d, a, 'secondary')}", f"*Until*\n{until}",
            ]))
        else:
            resumes = ""
            if a.next is not None and a.next.primary is not None:
                resumes = f" · resumes {date_token(a.next.at, tz)} with {holder_mention(d, a.next.primary)}"
            blocks.append(_section(f"*{name}* · not covered{resumes}"))
    summary = f"{covered} of {len(answers)} pipelines covered {when}."
    if report.scope is not None:
        summary += " " + scope_note(d, report.scope)
    if rest:
        summary += f" {len(rest)} more not shown: ask `/oncall PIPELINE` for one."
    blocks.append(_context(summary))
    text = f"{title}: {covered} of {len(answers)} pipelines covered"
    return Message(text, tuple(blocks[:MAX_BLOCKS]))


def _plain_first(line: str) -> str:
    """Fallback text: the first line with date tokens reduced to their fallback text."""
    import re

    return re.sub(r"<!date\^[^|]+\|([^>]+)>", r"\1", line).replace("*", "")


def _shift_line(d: Directory, s: Shift, tz: ZoneInfo) -> str:
    name = d.pipelines[s.pipeline].name
    label = _window_label(d, s.pipeline, s.window)
    return f"• {name} {s.role}: {date_token(s.start, tz)} – {date_token(s.end, tz)} ({label})"


def render_person(d: Directory, tz: ZoneInfo, report: PersonReport) -> Message:
    p = report.person
    who = "You" if report.is_self else mention(d, p.id)
    slots = ", ".join(f"{slot_label(d, s.rotation, s.role)}" + _covers(d, s.rotation, s.role) for s in report.slots)
    first = f"{who} this week: {slots}" if slots else f"{who}: no rotation slot this week"
    lines = [first]
    if report.next_handoff is not None:
        nxt = ", ".join(slot_label(d, s.rotation, s.role) for s in report.next_slots) or "nothing"
        lines.append(f"From {date_token(report.next_handoff, tz)}: {nxt}")
    body: list[str] = []
    if report.on_call_now:
        body.append("*On call now*")
        body += [_shift_line(d, s, tz) for s in report.on_call_now]
    body.append("*Next shifts*")
    body += [_shift_line(d, s, tz) for s in report.next_shifts] or ["• none in the next 3 weeks"]
    blocks: list[Block] = [_section(lines[0]), _context(*lines[1:])] if len(lines) > 1 else [_section(lines[0])]
    blocks.append(_section("\n".join(body)))
    return Message(_plain_first(first), tuple(blocks))


def _covers(d: Directory, rotation: str, role: str | None) -> str:
    rot = d.rotations.get(rotation)
    if rot is None or role is None:
        return ""
    for r in rot.roles:
        if r.id == role and r.covers:
            return f" ({r.covers})"
    return ""


def render_schedule(d: Directory, tz: ZoneInfo, report: ScheduleReport) -> Message:
    p = report.pipeline
    lines = []
    for seg in report.segments:
        span = f"{date_token(seg.start, tz)} – {date_token(seg.end, tz)}"
        if seg.covered:
            backup = f", backup {holder_mention(d, seg.secondary)}" if seg.secondary else ""
            lines.append(f"• {span}: {holder_mention(d, seg.primary)}{backup} ({_window_label(d, p.id, seg.window)})")
        else:
            lines.append(f"• {span}: not covered")
    blocks: list[Block] = [HeaderBlock(text=f"{p.name}: schedule"[:150])]
    chunk: list[str] = []
    size = 0
    dropped = 0
    for line in lines:
        if size + len(line) + 1 > SECTION_LIMIT:
            if len(blocks) >= MAX_BLOCKS - 2:
                dropped += 1
                continue
            blocks.append(_section("\n".join(chunk)))
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    if chunk and len(blocks) < MAX_BLOCKS - 1:
        blocks.append(_section("\n".join(chunk)))
    note = f"{len(report.segments)} stretches from {date_token(report.start, tz)} to {date_token(report.end, tz)}"
    if dropped:
        note += f" ({dropped} not shown: ask for fewer weeks)"
    blocks.append(_context(note))
    return Message(f"{p.name}: schedule", tuple(blocks))


def render_runbook(d: Directory, tz: ZoneInfo, report: RunbookReport) -> Message:
    p = report.pipeline
    rb = p.runbook
    owners = ", ".join(d.teams[t].name for t in p.primary_owners if t in d.teams)
    secondary = ", ".join(d.teams[t].name for t in p.secondary_owners if t in d.teams)
    blocks: list[Block] = [
        HeaderBlock(text=f"Runbook: {p.name}"[:150]),
        _context(f"Owners: {owners}" + (f" · Secondary: {secondary}" if secondary else "")
                 + (f" · Channel: {p.channel}" if p.channel else "")),
        _section("*On call now* · " + " · ".join(oncall_lines(d, report.answer, tz))),
    ]
    if report.scope is not None:
        blocks.insert(1, _context(scope_note(d, report.scope, "`/runbook PIPELINE` for another")))
    if rb.data_types:
        blocks.append(_section("*Data it carries*\n" + "\n".join(f"• {x}" for x in rb.data_types)))
    if rb.common_issues:
        blocks.append(_section("*Common issues*\n" + "\n".join(
            f"• {c.text}" + (f"\n    _First check:_ {c.first_check}" if c.first_check else "") for c in rb.common_issues
        )))
    if rb.slas:
        blocks.append(_section("*SLAs*\n" + "\n".join(f"• {x}" for x in rb.slas)))
    notes = list(rb.oncall_notes) + ([rb.critical_note] if rb.critical_note else [])
    if notes:
        blocks.append(_section("*On-call notes*\n" + "\n".join(f"• {x}" for x in notes)))
    blocks.append(_actions(
        _button("Open incident", Action.OPEN_INCIDENT, p.id, "danger"),
        _button("Schedule", Action.SCHEDULE, p.id),
        _button("Share in channel", Action.SHARE, f"/runbook {p.id}"),
    ))
    return Message(f"Runbook: {p.name}", tuple(blocks))


def render_owners(d: Directory, report: OwnersReport) -> Message:
    if not report.hits:
        text = (f"Nothing I know of holds “{user_text(report.query)}”. Try a pipeline name or a kind of data "
                f"(e.g. clickstream, churn, salaries); pipelines: {', '.join(d.pipelines)}.")
        return Message(text, (_section(text),))
    blocks: list[Block] = []
    first = ""
    for hit in report.hits[:20]:
        p = hit.pipeline
        owners = ", ".join(d.teams[t].name for t in p.primary_owners if t in d.teams)
        secondary = ", ".join(d.teams[t].name for t in p.secondary_owners if t in d.teams)
        line = f"*{p.name}* is owned by {owners}" + (f" (secondary: {secondary})" if secondary else "")
        first = first or line
        why = "; ".join(hit.reasons[:3])
        blocks.append(_section(line + (f"\n_{why}_" if why else "")))
    if len(report.hits) > 20:
        blocks.append(_context(f"{len(report.hits) - 20} more matches: be more specific."))
    return Message(_plain_first(first), tuple(blocks))


def render_not_found(d: Directory, nf: NotFound) -> Message:
    if nf.kind == "pipeline":
        guess = " or ".join(f"`{s}`" for s in nf.suggestions)
        text = f"I don't know a pipeline “{user_text(nf.text)}”." + (f" Did you mean {guess}?" if guess else "")
        listing = f"Pipelines: {', '.join(nf.choices[:30])}" + (" …" if len(nf.choices) > 30 else "")
        buttons = [_button(f"/oncall {s}", Action.RUN_COMMAND, f"/oncall {s}") for s in nf.suggestions]
        blocks: list[Block] = [_section(text), _context(listing)]
        if buttons:
            blocks.append(_actions(*buttons))
        return Message(text, tuple(blocks))
    guess = " or ".join(f"`{s}`" for s in nf.suggestions)
    text = f"I don't know a person “{user_text(nf.text)}”." + (f" Did you mean {guess}?" if guess else "")
    return Message(text, (_section(text),))


def render_help(command: str) -> Message:
    topics = [command] if command in HELP_TEXT else list(HELP_TEXT)
    lines = [f"`{usage}` · {what}" for t in topics for usage, what in HELP_TEXT[t]]
    text = "Here is what I answer:" if len(topics) > 1 else f"How to use {command}:"
    blocks = [_section(text + "\n" + "\n".join(lines))]
    if "/oncall" in topics:
        blocks.append(_section(f"_Times:_ {TIMES_RULE}"))
    return Message(text, tuple(blocks))


def render_not_understood() -> Message:
    """The answer to a mention (or a console line to ``@oncall``) that is not a question I know."""
    return Message(NOT_UNDERSTOOD, (_section(NOT_UNDERSTOOD), *render_help("").blocks))


def render_problem(problem: Problem) -> Message:
    message = problem_text(problem.message)  # it may quote what was typed
    hint = f" Type `{problem.command} help` for examples." if problem.command else ""
    return Message(message, (_section(f":warning: {message}" + hint),))


def render_result(
    d: Directory, tz: ZoneInfo, result: Result, viewer: str | None = None
) -> Message:
    """The Slack message for any command result."""
    if isinstance(result, OncallReport):
        return render_oncall(d, tz, result, viewer)
    if isinstance(result, PersonReport):
        return render_person(d, tz, result)
    if isinstance(result, ScheduleReport):
        return render_schedule(d, tz, result)
    if isinstance(result, RunbookReport):
        return render_runbook(d, tz, result)
    if isinstance(result, OwnersReport):
        return render_owners(d, result)
    if isinstance(result, NotFound):
        return render_not_found(d, result)
    if isinstance(result, HelpReport):
        return render_help(result.command)
    if isinstance(result, Problem):
        return render_problem(result)
    raise TypeError(f"unrendered result {result!r}")


def unavailable_message(reference: str) -> Message:
    """A store we depend on is down for a moment: nothing was done, the user should try again."""
    text = (f"I can't reach my database right now, so nothing was done (reference `{reference}`). "
            "Try again in a minute.")
    return Message(text, (_section(f":hourglass: {text}"),))


def error_message(reference: str) -> Message:
    text = (f"Something went wrong on my side (reference `{reference}`). "
            "Please try again; if it persists, share the reference.")
    return Message(text, (_section(f":x: {text}"),))


__all__ = ["Message", "error_message", "local_time", "oncall_lines", "render_result", "unavailable_message"]

