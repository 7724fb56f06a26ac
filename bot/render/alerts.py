"""Pure text of alerts in an incident's thread, and of missed data arrivals.

Everything a machine sent (summary, details, link texts) is escaped whole: an alert cannot
mention anyone, link anywhere but its own ``http(s)`` links, or break out of its code block.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.render.fmt import date_token, duration, local_time

DETAILS_LIMIT = 1500
SUMMARY_LIMIT = 300
LINKS_LIMIT = 5
_MARKUP = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ICONS = {"critical": ":red_circle:", "error": ":large_orange_circle:", "warning": ":large_yellow_circle:",
          "info": ":large_blue_circle:"}


def machine_text(text: str, limit: int = SUMMARY_LIMIT) -> str:
    """Text a machine sent, inert in mrkdwn (``&``, ``<``, ``>`` escaped), at most ``limit`` characters."""
    cut = text if len(text) <= limit else text[: limit - 1] + "…"
    return cut.translate(_MARKUP)


def _key(dedup_key: str) -> str:
    return machine_text(dedup_key, 120).replace("`", "'")


def _link(link: Any) -> str | None:
    if isinstance(link, str):
        href, label = link, link
    elif isinstance(link, dict):
        href, label = str(link.get("href") or ""), str(link.get("text") or link.get("href") or "")
    else:
        return None
    if not href.startswith(("https://", "http://")) or any(c in href for c in "<>| \n"):
        return None
    return f"<{href}|{machine_text(label, 80).replace('|', '/')}>"


def _details(details: Any) -> str | None:
    if details in (None, "", {}, []):
        return None
    text = details if isinstance(details, str) else json.dumps(details, indent=1, sort_keys=True, default=str)
    text = machine_text(text, DETAILS_LIMIT).replace("```", "'''")
    return f"```{text}```"


def alert_line(tz: ZoneInfo, *, dedup_key: str, severity: str, summary: str, source: str | None,
               details: Any, links: list[Any], state: str, count: int, first_at: datetime,
               last_at: datetime) -> str:
    """An alert's one line in the incident thread (edited as it repeats and changes state)."""
    icon = _ICONS.get(severity, ":large_orange_circle:")
    head = f"{icon} *Alert* `{_key(dedup_key)}` · {severity.upper()} · {machine_text(summary)}"
    when = f"first {date_token(first_at, tz)}"
    if count > 1:
        when = f"×{count} · {when} · latest {date_token(last_at, tz)}"
    if source:
        when += f" · from {machine_text(source, 120)}"
    lines = [head, when]
    if state == "acknowledged":
        lines.append(":eyes: Acknowledged by the monitor")
    elif state == "resolved":
        lines.append(":white_check_mark: Resolved by the monitor")
    shown = [x for x in (_link(link) for link in links[:LINKS_LIMIT]) if x]
    if shown:
        lines.append("Links: " + " · ".join(shown))
    block = _details(details)
    if block:
        lines.append(block)
    return "\n".join(lines)


def monitor_line(dedup_key: str, state: str) -> str:
    """The thread line when the monitor acknowledges or resolves an alert."""
    key = _key(dedup_key)
    if state == "resolved":
        return f"The monitor resolved alert `{key}`"
    return f"The monitor acknowledged alert `{key}`"


def all_resolved_line(count: int) -> str:
    """The thread line when the last open alert of an incident is resolved."""
    what = "The alert" if count == 1 else f"All {count} alerts"
    return f":white_check_mark: {what} of this incident resolved by the monitor: incident resolved."


def missing_data_summary(name: str, within: timedelta, last: datetime | None, tz: ZoneInfo) -> str:
    """``Engagement: no data has arrived for 48 h; last arrival Tue Nov 24 09:12 EST``."""
    hours = within.total_seconds() / 3600
    span = f"{int(hours)} h" if hours == int(hours) else duration(within)
    last_text = f"last arrival {local_time(last, tz)}" if last is not None else "no arrival recorded yet"
    return f"{name}: no data has arrived for {span}; {last_text}"


def arrived_line(at: datetime, tz: ZoneInfo) -> str:
    """The thread line when data arrives for an incident about missing data."""
    return f":white_check_mark: Data arrived {date_token(at, tz)}: incident resolved."


def inbox_lines(queued: int, failed: int) -> list[str]:
    """What ``oncall-bot incidents`` says about alert events that are part of no incident yet:
    ``queued`` ones (received, not applied yet) and ``failed`` ones (could not be applied at all).
    Empty when both are 0: then every event received has been applied."""
    lines = []
    if queued:
        what, them = ("1 alert event", "it") if queued == 1 else (f"{queued} alert events", "them")
        lines.append(f"{what} received and not applied yet: the bot applies {them} within moments "
                     "(the next minute tick does, if the bot stopped first).")
    if failed:
        what, each = ("1 alert event", "it") if failed == 1 else (f"{failed} alert events", "each")
        lines.append(f"{what} could not be applied (outcome failed): the bot's log names {each} and says why "
                     "(search it for 'could not be applied').")
    return lines
