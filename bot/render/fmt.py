"""Small pure formatters shared by every renderer: times, durations, people."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.answer import Holder
from bot.core.channels import ChannelPipelines
from bot.core.model import Directory

# What may stay live in text a person typed: entities Slack already escaped, and a user mention
# as Slack encodes it (``<@U123>`` or ``<@U123|name>``, kept as ``<@U123>``). Everything else
# that mrkdwn would read as markup (``<!channel>``, ``<https://x|y>``, ``<#C1>``, a bare ``&``)
# is escaped. Problems (the bot's own sentences that quote typed text) also keep date tokens
# without a link, which the bot writes itself and which cannot ping or link anywhere.
_KEEP_USER = re.compile(r"&(?:amp|lt|gt);|<@([UW][A-Z0-9]{1,30})(?:\|[^<>|]{0,80})?>")
_KEEP_PROBLEM = re.compile(
    r"&(?:amp|lt|gt);|<@([UW][A-Z0-9]{1,30})(?:\|[^<>|]{0,80})?>|(<!date\^\d{1,12}\^[^\^|<>]{1,80}\|[^<>|]{0,80}>)"
)
_MARKUP = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def _inert(text: str, keep: re.Pattern[str]) -> str:
    out: list[str] = []
    pos = 0
    for m in keep.finditer(text):
        out.append(text[pos:m.start()].translate(_MARKUP))
        if m.group(1):
            out.append(f"<@{m.group(1)}>")
        else:
            out.append(m.group(0))
        pos = m.end()
    out.append(text[pos:].translate(_MARKUP))
    return "".join(out)


def user_text(text: str) -> str:
    """Text a person typed (a reason, a summary, a query), made safe to put in mrkdwn: ``&``,
    ``<`` and ``>`` are escaped, so it cannot ping a channel, link or name a channel; the escapes
    Slack already made (``&lt;``) and user mentions Slack encoded (``<@U123|dana>`` -> ``<@U123>``)
    are kept. Idempotent: ``user_text(user_text(x)) == user_text(x)``."""
    return _inert(text, _KEEP_USER)


def problem_text(text: str) -> str:
    """A message of the bot's that may quote typed text: as ``user_text``, and the bot's own date
    tokens without a link (``<!date^1700000000^{time}|10:00>``) stay live too."""
    return _inert(text, _KEEP_PROBLEM)


def local_time(at: datetime, tz: ZoneInfo) -> str:
    """``Mon Nov 30 18:00 EST``: the company zone, named."""
    local = at.astimezone(tz)
    return f"{local:%a %b} {local.day} {local:%H:%M %Z}"


def date_token(at: datetime, tz: ZoneInfo, fmt: str = "{date_short_pretty} {time}") -> str:
    """A Slack date token that each reader sees in their own zone; falls back to the company zone."""
    return f"<!date^{int(at.timestamp())}^{fmt}|{local_time(at, tz)}>"


def duration(delta: timedelta) -> str:
    """``3 h 12 min``, ``2 d 4 h``, ``45 s``."""
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)} s"
    minutes = seconds // 60
    days, rem = divmod(minutes, 1440)
    hours, mins = divmod(rem, 60)
    parts = []
    if days:
        parts.append(f"{days} d")
    if hours:
        parts.append(f"{hours} h")
    if mins and not days:
        parts.append(f"{mins} min")
    return " ".join(parts) or "0 min"


def mention(directory: Directory, person_id: str) -> str:
    """``<@U123>`` for a person (their id in backticks if they have no Slack id)."""
    p = directory.people.get(person_id)
    return f"<@{p.slack_user_id}>" if p else f"`{person_id}`"


def holder_mention(directory: Directory, holder: Holder | None) -> str:
    return mention(directory, holder.person) if holder else "nobody"


def team_name(directory: Directory, person_id: str) -> str:
    p = directory.people.get(person_id)
    t = directory.teams.get(p.team) if p else None
    return t.short_name if t else ""


def slot_label(directory: Directory, rotation: str, role: str | None) -> str:
    """``DE R1`` for a role slot, ``Finance on-call`` for a team rotation."""
    rot = directory.rotations.get(rotation)
    if rot is None:
        return rotation
    if role is not None:
        for r in rot.roles:
            if r.id == role:
                return r.name
        return f"{rot.name} {role}"
    return rot.name


def scope_note(directory: Directory, scope: ChannelPipelines, hint: str = "`/oncall all` for everything") -> str:
    """``(for #data-profit's pipeline Profit; `/oncall all` for everything)``: why an answer asked
    without a pipeline names only the channel's pipelines, and how to ask for all of them."""
    names = [directory.pipelines[p].name if p in directory.pipelines else p for p in scope.pipelines]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"
    what = "pipeline" if len(names) == 1 else "pipelines"
    return f"(for {scope.channel}'s {what} {listed}; {hint})"
