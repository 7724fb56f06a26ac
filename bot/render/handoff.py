"""The on-call week's carry-over in words (issue 12 §5): the open incidents with their fix-by and
the outgoing people's handoff notes, for the Monday announcement and the DM to whoever takes over;
and the reply to ``/handoff``. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from bot.core.announcement import Announcement, StartingShift
from bot.core.handoff import HandoffNote, notes_for
from bot.core.incident import Incident
from bot.core.model import Directory
from bot.render.blocks import Message
from bot.render.fmt import date_token, local_time, mention, user_text

MAX_LISTED = 10
_SECTION = 3000


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text if len(text) <= _SECTION else text[: _SECTION - 1] + "…"))


def incident_line(d: Directory, tz: ZoneInfo, inc: Incident) -> str:
    """``• :red_circle: Engagement #12 · summary · fix by <date> (acknowledged)``."""
    name = d.pipelines[inc.pipeline].name if inc.pipeline in d.pipelines else inc.pipeline
    icon = ":red_circle:" if inc.critical else ":large_orange_circle:"
    link = f"<{inc.permalink}|#{inc.id}>" if inc.permalink else f"#{inc.id}"
    fix = f"fix by {date_token(inc.fix_by, tz)}" if inc.fix_by else "no fix-by deadline"
    return f"• {icon} *{name}* {link} · {user_text(inc.summary[:200])} · {fix} ({inc.status.value})"


def incidents_block(d: Directory, tz: ZoneInfo, incidents: Sequence[Incident], title: str) -> list[Block]:
    """A section listing ``incidents`` (soonest fix-by first), or nothing when there are none."""
    if not incidents:
        return []
    ordered = sorted(incidents, key=lambda i: (i.fix_by is None, i.fix_by or i.opened_at, i.id))
    lines = [incident_line(d, tz, i) for i in ordered[:MAX_LISTED]]
    if len(ordered) > MAX_LISTED:
        lines.append(f"… and {len(ordered) - MAX_LISTED} more (`oncall-bot sla`)")
    return [_section(f"*{title} ({len(ordered)})*\n" + "\n".join(lines))]


def notes_block(d: Directory, tz: ZoneInfo, notes: Sequence[HandoffNote]) -> list[Block]:
    if not notes:
        return []
    lines = [f"• {mention(d, n.author)} ({date_token(n.written_at, tz)}): {user_text(n.text)}" for n in notes]
    return [_section("*Handoff notes*\n" + "\n".join(lines))]


def announcement_blocks(d: Directory, tz: ZoneInfo, ann: Announcement) -> list[Block]:
    """What the announcement carries over: every open incident and every handoff note."""
    return [*incidents_block(d, tz, ann.open_incidents, "Open incidents"), *notes_block(d, tz, ann.handoff_notes)]


def shift_blocks(d: Directory, tz: ZoneInfo, ann: Announcement, shift: StartingShift) -> list[Block]:
    """What a starting person's DM carries over: the open incidents on their pipelines and the
    notes of the people they take over from (``bot.core.handoff.notes_for``)."""
    mine = set(shift.pipelines)
    incidents = [i for i in ann.open_incidents if i.pipeline in mine]
    holders = {s.holder for s in ann.seats} | {s.previous for s in ann.seats}
    notes = notes_for(shift, ann.handoff_notes, holders)
    return [*incidents_block(d, tz, incidents, "Open incidents you take over"), *notes_block(d, tz, notes)]


def saved_reply(tz: ZoneInfo, next_handoff: datetime) -> Message:
    text = (f"Noted. Your handoff note goes into the handoff announcement of {local_time(next_handoff, tz)} "
            "and to whoever takes over from you.")
    return Message(text, (_section(f":memo: Noted. Your handoff note goes into the handoff announcement of "
                                   f"{date_token(next_handoff, tz)} and to whoever takes over from you."),))


def refused_reply(reason: str) -> Message:
    return Message(reason, (_section(f":no_entry: {reason}"),))


def help_reply(text: str) -> Message:
    return Message(text, (_section(text),))
