"""Small pure formatters shared by every renderer: times, durations, people."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.answer import Holder
from bot.core.model import Directory


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
