"""SLA clocks in words: the "fix by" line of an incident, its reminder and its escalation.

Pure: functions of the incident, the directory and the company zone. Times are Slack date tokens
(readers see their own zone; the fallback names the company zone).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.incident import Incident, Status
from bot.core.model import Directory
from bot.render.blocks import Message
from bot.render.fmt import date_token, duration, local_time, mention, user_text


def _name(d: Directory, inc: Incident) -> str:
    p = d.pipelines.get(inc.pipeline)
    return p.name if p else inc.pipeline


def _rule(d: Directory, inc: Incident) -> str:
    p = d.pipelines.get(inc.pipeline)
    return p.fix.text if p is not None and p.fix is not None else ""


def fix_by_line(d: Directory, tz: ZoneInfo, inc: Incident) -> str:
    """``Fix by Mon Dec 7 10:15 ET (fix within 7 days)``; after the deadline ``Past its fix-by ...``;
    once resolved, whether it was fixed in time. Empty without a deadline."""
    if inc.fix_by is None:
        return ""
    when = date_token(inc.fix_by, tz)
    rule = _rule(d, inc)
    why = f" ({rule})" if rule else ""
    if inc.status == Status.RESOLVED and inc.resolved_at is not None:
        if inc.resolved_at <= inc.fix_by:
            return f"Fixed before its deadline {when}"
        return f"Fixed {duration(inc.resolved_at - inc.fix_by)} after its deadline {when}"
    if inc.sla_escalated_at is not None:
        return f":warning: Past its fix-by {when}{why}: escalated"
    return f"Fix by {when}{why}"


def fix_by_plain(tz: ZoneInfo, at: datetime | None) -> str:
    """The deadline in the company zone for a terminal (``Mon Dec 7 10:15 EST``), or ``-``."""
    return local_time(at, tz) if at is not None else "-"


def _link(inc: Incident) -> str:
    if inc.permalink:
        return f"<{inc.permalink}|Open the incident thread>"
    return f"Thread in <#{inc.channel}>" if inc.channel else ""


def reminder_message(d: Directory, tz: ZoneInfo, inc: Incident) -> Message:
    """The DM to the incident's assignee one business day before its fix-by."""
    text = (f":hourglass_flowing_sand: Reminder: the {_name(d, inc)} incident "
            f"“{user_text(inc.summary[:300])}” is due to be fixed by {date_token(inc.fix_by, tz)}"
            if inc.fix_by else "")
    lines = [text]
    rule = _rule(d, inc)
    extra = [x for x in (f"SLA: {rule}" if rule else "", f"opened {date_token(inc.opened_at, tz)}", _link(inc)) if x]
    lines.append(" · ".join(extra))
    return Message("\n".join(lines), ephemeral=False)


def escalation_message(d: Directory, tz: ZoneInfo, inc: Incident) -> Message:
    """The DM to the secondary and the post to the owning teams' channels at the deadline."""
    when = date_token(inc.fix_by, tz) if inc.fix_by else "its deadline"
    text = (f":rotating_light: The {_name(d, inc)} incident “{user_text(inc.summary[:300])}” "
            f"passed its fix-by ({when}) and is still {inc.status.value}.")
    extra = [x for x in (f"SLA: {_rule(d, inc)}" if _rule(d, inc) else "",
                         f"opened {date_token(inc.opened_at, tz)}", _link(inc)) if x]
    return Message(text + "\n" + " · ".join(extra), ephemeral=False)


def reminder_thread_line(d: Directory, tz: ZoneInfo, inc: Incident, assignee: str | None) -> str:
    who = mention(d, assignee) if assignee else "the assignee"
    return f"SLA reminder sent to {who}: fix by {date_token(inc.fix_by, tz) if inc.fix_by else '-'}"


def escalation_thread_line(d: Directory, tz: ZoneInfo, inc: Incident, people: list[str], channels: list[str]) -> str:
    reached = [mention(d, p) for p in people] + [f"<#{c}>" if not c.startswith("#") else c for c in channels]
    to = ", ".join(reached) if reached else "nobody (no secondary and no team channel)"
    return f":warning: Fix-by passed ({date_token(inc.fix_by, tz) if inc.fix_by else '-'}): escalated to {to}"
