"""Block Kit for the scheduled work: the Monday handoff announcement, the DMs to people whose shift
starts, the Engagement onboarding invite (with its .ics), checklists (with their reminders and
escalations). Pure: functions of the directory, the company zone and plain values.

Every posted message carries its delivery key in Slack message metadata (``METADATA_EVENT``), so
a replica that is unsure whether a post went out can find it in the channel's history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
)

from bot.core.announcement import Announcement, MeetingNote, Seat, StartingShift
from bot.core.model import Directory
from bot.render.blocks import Message
from bot.render.fmt import date_token, local_time, mention
from bot.render.handoff import announcement_blocks, shift_blocks
from bot.render.ids import Action

METADATA_EVENT = "oncall_scheduled"
MAX_BLOCKS = 50
_SECTION = 3000
_OPTION = 75
_OPTIONS_PER_ELEMENT = 10


def metadata(key: str, kind: str) -> dict[str, Any]:
    """The message metadata that carries a delivery's key."""
    return {"event_type": METADATA_EVENT, "event_payload": {"key": key, "kind": kind}}


def _md(text: str, limit: int = _SECTION) -> MarkdownTextObject:
    return MarkdownTextObject(text=text if len(text) <= limit else text[: limit - 1] + "…")


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=_md(text))


def _context(*texts: str) -> ContextBlock:
    return ContextBlock(elements=[_md(t) for t in texts if t][:10])


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _people(d: Directory, people: Sequence[str]) -> str:
    return ", ".join(mention(d, p) for p in people) or "nobody"


def _day(d: date) -> str:
    return f"{d:%a %b} {d.day}"


def _range(first: date, last: date) -> str:
    return _day(first) if first == last else f"{_day(first)} – {_day(last)}"


def _clock(at: datetime, tz: ZoneInfo) -> str:
    return f"{at.astimezone(tz):%H:%M}"


def _minutes(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() // 60)


# -- the Monday handoff announcement --------------------------------------------------------------


_MAX_SEAT_SECTIONS = 36


def _pack(lines: Sequence[str], limit: int = 2900) -> list[list[str]]:
    """Lines grouped so that each group fits a section (Slack's limit is 3,000 characters)."""
    out: list[list[str]] = []
    size = 0
    for line in lines:
        if not out or size + len(line) + 1 > limit:
            out.append([])
            size = 0
        out[-1].append(line)
        size += len(line) + 1
    return out


def _seat_line(d: Directory, s: Seat) -> str:
    covers = f" ({s.covers})" if s.covers else ""
    who = mention(d, s.holder)
    if s.via_override is not None:
        who += " (override)"
    if s.changed:
        return f"*{s.label}*{covers}: {who} (from {mention(d, s.previous)})"
    return f"*{s.label}*{covers}: {who} (continues)"


def meeting_line(d: Directory, tz: ZoneInfo, m: MeetingNote) -> str:
    outgoing, incoming, *others = [*m.assignees, "", "", ""][:3]
    who = " and ".join(mention(d, p) for p in (outgoing, incoming) if p)
    extra = f" with {mention(d, others[0])}" if others and others[0] else ""
    moved = f" ({m.moved_because})" if m.moved_because else ""
    return f":handshake: *{m.title}*: {who}{extra} · {date_token(m.start, tz)} ({_minutes(m.start, m.end)} min){moved}"


def this_week_lines(d: Directory, tz: ZoneInfo, ann: Announcement) -> list[str]:
    """The "This week" lines: holidays and what they change, moved deadlines, the month-end week."""
    lines: list[str] = []
    for h in ann.holidays:
        lines.append(f":calendar: *{h.day:%A}* ({_day(h.day)}) is {h.name}: {h.effect}")
        for m in h.moved:
            lines.append(f"      {m}")
    if ann.month_end is not None:
        me = ann.month_end
        names = [d.pipelines[p].name for p in me.pipelines if p in d.pipelines]
        text = f":chart_with_upwards_trend: Month-end week {_range(me.first, me.last)}"
        if names:
            text += f": {' and '.join(names)} have {' / '.join(me.labels)} coverage on business days"
        if me.daily:
            text += f"; daily checks each business day ({', '.join(me.daily)})"
        lines.append(text)
    for occ in ann.due_this_week:
        if occ.due is not None:
            lines.append(f":ballot_box_with_check: {occ.title}: due {date_token(occ.due, tz)}")
    return lines


def announcement_message(d: Directory, tz: ZoneInfo, ann: Announcement) -> Message:
    """Header, one line per seat (who now, who before), "This week", the onboarding meeting."""
    header = f"Rotation for the week of {ann.week_first:%b} {ann.week_first.day}"
    roles = [s for s in ann.seats if s.slot.role is not None]
    teams = [s for s in ann.seats if s.slot.role is None]
    blocks: list[Block] = [HeaderBlock(text=_cut(header, 150))]
    handoff = min((s.handoff for s in ann.seats), default=ann.at)
    blocks.append(_context(f"Handoff {date_token(handoff, tz)} · {len(ann.changes)} changes"))
    packed = [*_pack([_seat_line(d, s) for s in roles]), *_pack([_seat_line(d, s) for s in teams])]
    if len(packed) > _MAX_SEAT_SECTIONS:  # a very large org: the first ones, then a count
        hidden = sum(len(chunk) for chunk in packed[_MAX_SEAT_SECTIONS - 1 :])
        packed = [*packed[: _MAX_SEAT_SECTIONS - 1], [f"… and {hidden} more seats (each new holder has a DM)"]]
    seat_blocks: list[Block] = [_section("\n".join(chunk)) for chunk in packed]
    blocks += seat_blocks
    week = this_week_lines(d, tz, ann)
    if not ann.holidays:
        week.insert(0, "No holidays this week: regular coverage.")
    blocks.append(DividerBlock())
    blocks.append(_section("*This week*\n" + "\n".join(week)))
    for m in ann.meetings:
        blocks.append(_section(meeting_line(d, tz, m)))
    blocks += announcement_blocks(d, tz, ann)  # open incidents and handoff notes (issue 12 §5)
    first = ", ".join(
        f"{s.label} {d.people[s.holder].name if s.holder in d.people else s.holder}" for s in ann.changes[:4]
    )
    text = header + (f": {first}" + ("…" if len(ann.changes) > 4 else "") if first else "")
    return Message(text, tuple(blocks[:MAX_BLOCKS]), ephemeral=False)


def shift_start_message(d: Directory, tz: ZoneInfo, ann: Announcement, shift: StartingShift) -> Message:
    """The DM to a person whose shift starts: what they cover, the hours, runbooks, the handoff."""
    seats = shift.seats
    start = min((s.handoff for s in seats), default=ann.at)
    labels = " and ".join(s.label for s in seats)
    first = f"You're on call from {date_token(start, tz)}: {labels}"
    blocks: list[Block] = [_section(first)]
    for s in seats:
        lines = [f"*{s.label}*" + (f" ({s.covers})" if s.covers else "") + f", from {mention(d, s.previous)}"]
        for duty in s.duties:
            name = d.pipelines[duty.pipeline].name if duty.pipeline in d.pipelines else duty.pipeline
            lines.append(f"• {name}: {duty.as_}, {duty.label}")
        blocks.append(_section("\n".join(lines)))
        blocks.append(
            _context(
                f"Handoff: ask {mention(d, s.previous)} what is open; they held it until {date_token(s.handoff, tz)}."
            )
        )
    week = [line for line in this_week_lines(d, tz, ann) if not line.startswith(":ballot_box")]
    if week:
        blocks.append(_section("*This week*\n" + "\n".join(week)))
    blocks += shift_blocks(d, tz, ann, shift)
    buttons = [
        ButtonElement(
            text=_cut(f"Runbook: {d.pipelines[p].name}", 75), action_id=f"{Action.RUNBOOK}:{p}"[:255], value=p
        )
        for p in shift.pipelines
        if p in d.pipelines
    ][:25]
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    plain = f"You're on call from {local_time(start, tz)}: {labels}"
    return Message(plain, tuple(blocks[:MAX_BLOCKS]), ephemeral=False)


# -- the onboarding invite ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingView:
    """An onboarding invite and its answers (person id → (answer, when))."""

    id: int
    key: str
    uid: str
    title: str
    pipeline: str | None
    start: datetime
    end: datetime
    attendees: tuple[str, ...]  # outgoing primary, incoming primary, frontend on-call
    moved_because: str | None = None
    answers: Mapping[str, tuple[str, datetime]] = field(default_factory=dict)


def meeting_message(d: Directory, tz: ZoneInfo, m: MeetingView) -> Message:
    """One group DM: what the meeting is for, when (date token, minutes), Accept/Decline, who answered."""
    outgoing, incoming, *rest = [*m.attendees, "", ""][: max(3, len(m.attendees))]
    pipeline = d.pipelines[m.pipeline].name if m.pipeline and m.pipeline in d.pipelines else "the pipeline"
    minutes = _minutes(m.start, m.end)
    what = (
        f":handshake: *{m.title}*: a {minutes}-minute knowledge transfer for the {pipeline} handoff. "
        f"{mention(d, outgoing)} hands {pipeline} to {mention(d, incoming)}"
        + (f", with {_people(d, [p for p in rest if p])}" if any(rest) else "")
        + "."
    )
    when = f"*When:* {date_token(m.start, tz)} – {_clock(m.end, tz)} ({minutes} min)"
    if m.moved_because:
        when += f" · {m.start.astimezone(tz):%A} because {m.moved_because}"
    accepted = [p for p in m.attendees if m.answers.get(p, ("",))[0] == "accept"]
    declined = [p for p in m.attendees if m.answers.get(p, ("",))[0] == "decline"]
    waiting = [p for p in m.attendees if p not in m.answers]
    status = []
    if accepted:
        status.append(f":white_check_mark: Accepted: {_people(d, accepted)}")
    if declined:
        status.append(f":x: Declined: {_people(d, declined)}")
    if waiting:
        status.append(f"Waiting for: {_people(d, waiting)}")
    blocks: list[Block] = [
        _section(what),
        _section(when),
        _context("The calendar invite (.ics) is in the thread; a resend updates the same event."),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Accept", action_id=f"{Action.MEETING_ACCEPT}:{m.id}", value=str(m.id), style="primary"
                ),
                ButtonElement(
                    text="Decline", action_id=f"{Action.MEETING_DECLINE}:{m.id}", value=str(m.id), style="danger"
                ),
            ]
        ),
        _context(*status),
    ]
    plain = f"{m.title}: {local_time(m.start, tz)} ({minutes} min)"
    return Message(plain, tuple(blocks), ephemeral=False)


def meeting_ics(
    d: Directory,
    tz: ZoneInfo,
    *,
    uid: str,
    title: str,
    description: str,
    start: datetime,
    end: datetime,
    attendees: Sequence[str],
    stamp: datetime,
    sequence: int = 0,
) -> bytes:
    """An iCalendar REQUEST for the meeting: times with the company zone's TZID (and its
    VTIMEZONE), the attendees by email, and ``uid`` (stable per week: a resend updates the event)."""
    from icalendar import Calendar, Event, vCalAddress, vText

    cal = Calendar()
    cal.add("prodid", "-//oncall-bot//scheduled work//EN")
    cal.add("version", "2.0")
    cal.add("method", "REQUEST")
    ev = Event()
    ev.add("uid", uid)
    ev.add("dtstamp", stamp)
    ev.add("sequence", sequence)
    ev.add("dtstart", start.astimezone(tz))
    ev.add("dtend", end.astimezone(tz))
    ev.add("summary", title)
    ev.add("description", description)
    people = [d.people[p] for p in attendees if p in d.people]
    if people:
        org = vCalAddress(f"mailto:{people[0].email}")
        org.params["cn"] = vText(people[0].name)
        ev.add("organizer", org, encode=False)
    for person in people:
        att = vCalAddress(f"mailto:{person.email}")
        att.params["cn"] = vText(person.name)
        att.params["role"] = vText("REQ-PARTICIPANT")
        att.params["partstat"] = vText("NEEDS-ACTION")
        att.params["rsvp"] = vText("TRUE")
        ev.add("attendee", att, encode=False)
    cal.add_component(ev)
    local = start.astimezone(tz).date()
    cal.add_missing_timezones(first_date=local - timedelta(days=366), last_date=local + timedelta(days=366))
    data: bytes = cal.to_ical()
    return data


# -- checklists ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemView:
    position: int
    text: str
    ticked_by: str | None = None
    ticked_at: datetime | None = None


@dataclass(frozen=True)
class ChecklistView:
    id: int
    key: str
    title: str
    pipeline: str | None
    opens_at: datetime
    due: datetime
    assignees: tuple[str, ...]
    items: tuple[ItemView, ...]
    status: str = "open"  # open | complete | overdue
    overdue: bool = False
    completed_at: datetime | None = None
    escalated_to: tuple[str, ...] = ()  # person ids
    escalation_channels: tuple[str, ...] = ()

    @property
    def done(self) -> int:
        return sum(1 for i in self.items if i.ticked_by is not None)

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.done == self.total


def _option(d: Directory, tz: ZoneInfo, item: ItemView) -> Option:
    desc = None
    if item.ticked_by is not None:
        who = mention(d, item.ticked_by)
        when = local_time(item.ticked_at, tz) if item.ticked_at else ""
        desc = _md(f"✓ {who} · {when}", _OPTION)
    return Option(value=str(item.position), text=_md(_cut(item.text, _OPTION), _OPTION), description=desc)


def progress_line(c: ChecklistView) -> str:
    return f"{c.done} of {c.total} done"


def overdue_line(d: Directory, tz: ZoneInfo, c: ChecklistView) -> str:
    to = []
    if c.escalated_to:
        to.append(_people(d, c.escalated_to))
    to += list(c.escalation_channels)
    where = f": escalated to {', '.join(to)}" if to else ""
    return f":red_circle: *Overdue* since {date_token(c.due, tz)}{where}"


def checklist_message(d: Directory, tz: ZoneInfo, c: ChecklistView) -> Message:
    """Open: header, due and assignees, checkboxes (who ticked and when beneath each), progress,
    and a red line when overdue. Complete: collapsed to a summary of who did what."""
    pipeline = d.pipelines[c.pipeline].name if c.pipeline and c.pipeline in d.pipelines else ""
    if c.complete:
        when = date_token(c.completed_at, tz) if c.completed_at else ""
        late = " (after its due time)" if c.overdue else ""
        lines = [
            f"• {i.text}: {mention(d, i.ticked_by or '')}"
            + (f" · {date_token(i.ticked_at, tz)}" if i.ticked_at else "")
            for i in c.items
        ]
        blocks: list[Block] = [
            _section(f":white_check_mark: *{c.title}* complete {when}{late} · {progress_line(c)}"),
            _section("\n".join(lines)),
            _context(f"Was due {date_token(c.due, tz)}" + (f" · {pipeline}" if pipeline else "")),
        ]
        return Message(f"{c.title}: complete", tuple(blocks), ephemeral=False)
    blocks = [
        HeaderBlock(text=_cut(f"{c.title}", 150)),
        _section(f"*Due* {date_token(c.due, tz)} · *Assignees:* {_people(d, c.assignees)}"),
    ]
    for i in range(0, len(c.items), _OPTIONS_PER_ELEMENT):
        chunk = c.items[i : i + _OPTIONS_PER_ELEMENT]
        options = [_option(d, tz, it) for it in chunk]
        initial = [o for o, it in zip(options, chunk, strict=True) if it.ticked_by is not None]
        blocks.append(
            ActionsBlock(
                elements=[
                    CheckboxesElement(
                        action_id=f"{Action.CHECKLIST_TICK}:{c.id}:{i // _OPTIONS_PER_ELEMENT}",
                        options=options,
                        initial_options=initial or None,
                    )
                ]
            )
        )
    context = [progress_line(c)]
    if pipeline:
        context.append(pipeline)
    context.append("Only the assignees, their teams and admins can tick.")
    blocks.append(_context(" · ".join(context)))
    if c.overdue:
        blocks.append(_context(overdue_line(d, tz, c)))
    text = f"{c.title}: {progress_line(c)}, due {local_time(c.due, tz)}"
    return Message(text, tuple(blocks[:MAX_BLOCKS]), ephemeral=False)


def checklist_reminder(d: Directory, tz: ZoneInfo, c: ChecklistView) -> Message:
    left = [i.text for i in c.items if i.ticked_by is None]
    text = (
        f":alarm_clock: Reminder {_people(d, c.assignees)}: *{c.title}* is due {date_token(c.due, tz)} "
        f"and {len(left)} of {c.total} are still open: {', '.join(left)}"
    )
    return Message(f"Reminder: {c.title} is due {local_time(c.due, tz)}", (_section(text),), ephemeral=False)


def checklist_escalation_thread(d: Directory, tz: ZoneInfo, c: ChecklistView) -> Message:
    left = [i.text for i in c.items if i.ticked_by is None]
    text = (
        f":red_circle: *{c.title}* is overdue ({progress_line(c)}; open: {', '.join(left)}). "
        f"Escalated to {_people(d, c.escalated_to)}"
        + (f" and {', '.join(c.escalation_channels)}" if c.escalation_channels else "")
        + f". Assignees: {_people(d, c.assignees)}"
    )
    return Message(f"Overdue: {c.title}", (_section(text),), ephemeral=False)


def checklist_escalation_notice(d: Directory, tz: ZoneInfo, c: ChecklistView, link: str | None) -> Message:
    """For the owning team's channel and the secondary's DM."""
    where = f" <{link}|Open the checklist>" if link else ""
    text = (
        f":red_circle: *{c.title}* was due {date_token(c.due, tz)} and is incomplete "
        f"({progress_line(c)}). Assignees: {_people(d, c.assignees)}; "
        f"escalated to {_people(d, c.escalated_to)}.{where}"
    )
    return Message(f"Overdue: {c.title}", (_section(text),), ephemeral=False)


def not_allowed_text(d: Directory, c: ChecklistView, admins: Sequence[str]) -> str:
    teams = sorted({d.people[p].team for p in c.assignees if p in d.people})
    names = [d.teams[t].short_name if t in d.teams else t for t in teams]
    return (
        f"You can't tick *{c.title}*: only its assignees ({_people(d, c.assignees)}), "
        f"their teams ({', '.join(names) or 'none'}) and admins can. Ask one of them, "
        "or an admin to change the assignees."
    )
