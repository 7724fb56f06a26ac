"""Pages beyond Slack as text: the notification itself, the incident thread's lines about it, the
acknowledge page (HTML, every value escaped) and the contact-method listings. Pure functions of
core values; a contact method is shown by its label and scheme only, never its URL.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.incident import Incident, Status
from bot.core.model import Directory
from bot.core.paging import ContactMethod
from bot.render.ids import Action, Callback

SUMMARY_LIMIT = 300


def _name(d: Directory, person: str | None) -> str:
    return d.name_of(person)


def _pipeline(d: Directory, pipeline_id: str) -> str:
    p = d.pipelines.get(pipeline_id)
    return p.name if p else pipeline_id


def _reporter(d: Directory, slack_user: str | None) -> str:
    if slack_user is None:
        return "the bot"
    found = next((p.name for p in d.people.values() if p.slack_user_id == slack_user), None)
    return found or slack_user


def mention(d: Directory, person: str) -> str:
    p = d.people.get(person)
    return f"<@{p.slack_user_id}>" if p and p.slack_user_id else person


def method_text(m: ContactMethod) -> str:
    """``#3 phone (ntfy)``: how a method is named in threads, lists and errors."""
    return f"#{m.id} {m.label} ({m.scheme})" if m.label and m.label != m.scheme else f"#{m.id} {m.scheme}"


def notification(d: Directory, tz: ZoneInfo, inc: Incident, person: str, step_repeat: int,
                 ack_url: str | None) -> tuple[str, str]:
    """``(title, body)`` of a page sent through a contact method: the pipeline, the summary, who
    is paged and why, and the acknowledge link (plain text: e-mail, push, SMS alike)."""
    severity = "CRITICAL" if inc.critical else "Incident"
    again = f" (reminder {step_repeat})" if step_repeat else ""
    title = f"[{severity}] {_pipeline(d, inc.pipeline)}: {inc.summary[:120]}{again}"
    opened = inc.opened_at.astimezone(tz).strftime("%a %b %d %H:%M %Z")
    lines = [
        f"{severity} incident #{inc.id} on {_pipeline(d, inc.pipeline)}: {inc.summary[:SUMMARY_LIMIT]}",
        f"Paged: {_name(d, person)} (level {inc.level}, {inc.page.label})",
        f"Opened {opened}; reported by {_reporter(d, inc.reporter)}",
    ]
    if ack_url:
        lines.append(f"Acknowledge or escalate: {ack_url}")
    if inc.permalink:
        lines.append(f"Slack thread: {inc.permalink}")
    return title, "\n".join(lines)


def do_not_disturb_line(d: Directory, person: str, methods: Sequence[ContactMethod]) -> str:
    """The thread line when the paged person is in Do Not Disturb."""
    if methods:
        return (f":zzz: {mention(d, person)} is in Do Not Disturb: not relying on the Slack DM, paging "
                f"by {', '.join(method_text(m) for m in methods[:1])} now")
    return (f":zzz: {mention(d, person)} is in Do Not Disturb and has no other contact method "
            "(`/oncall notify`): the Slack DM may not wake them")


def step_line(d: Directory, tz: ZoneInfo, person: str, method: str, repeat: int, at: datetime) -> str:
    """The thread line when a step (``method``: its ``method_text``) went out."""
    again = f" (reminder {repeat})" if repeat else ""
    when = at.astimezone(tz).strftime("%H:%M %Z")
    return f":iphone: Paged {mention(d, person)} by {method}{again} at {when}"


def failed_line(d: Directory, person: str, method_label: str, error: str) -> str:
    """The thread line when a step's first attempt failed (it is retried)."""
    return f":warning: Page to {mention(d, person)} by {method_label} failed ({error[:200]}); retrying"


def acked_line(d: Directory, person: str, how: str) -> str:
    return f"{mention(d, person)} acted from the page link ({how})"


@dataclass(frozen=True)
class AckPageData:
    """What the acknowledge page shows."""

    incident: Incident
    person: str
    runbook: tuple[str, ...]
    token: str
    issued: int
    nonce: str
    message: str | None = None


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def ack_page(d: Directory, tz: ZoneInfo, data: AckPageData) -> str:
    """The HTML of ``GET /ack/TOKEN``: the incident, its pipeline, runbook notes, who is paged,
    and the Acknowledge / Escalate buttons (forms that POST with the page's nonce)."""
    inc = data.incident
    rows = [
        ("Incident", f"#{inc.id} {'CRITICAL' if inc.critical else ''} {inc.summary}"),
        ("Pipeline", _pipeline(d, inc.pipeline)),
        ("Status", inc.status.value + (f" by {d.name_of(inc.acknowledged_by)}" if inc.acknowledged_by else "")),
        ("Paged", f"{_name(d, data.person)} (level {inc.level} of {inc.chain_length})"),
        ("Opened", inc.opened_at.astimezone(tz).strftime("%a %b %d %H:%M %Z")),
    ]
    table = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    notes = "".join(f"<li>{_e(n)}</li>" for n in data.runbook)
    link = f'<p><a href="{_e(inc.permalink)}">Open the Slack thread</a></p>' if inc.permalink else ""
    hidden = (f'<input type="hidden" name="issued" value="{data.issued}">'
              f'<input type="hidden" name="nonce" value="{_e(data.nonce)}">')
    forms = ""
    if inc.status == Status.OPEN:
        forms += (f'<form method="post">{hidden}<input type="hidden" name="action" value="acknowledge">'
                  '<button type="submit">Acknowledge</button></form>')
    if inc.status != Status.RESOLVED and inc.level < inc.chain_length:
        forms += (f'<form method="post">{hidden}<input type="hidden" name="action" value="escalate">'
                  '<button type="submit">Escalate</button></form>')
    message = f'<p class="msg">{_e(data.message)}</p>' if data.message else ""
    return (
        "<!doctype html><html><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<meta name=\"robots\" content=\"noindex\"><meta name=\"referrer\" content=\"no-referrer\">"
        f"<title>Incident #{inc.id}</title>"
        "<style>body{font-family:sans-serif;max-width:40em;margin:1em auto;padding:0 1em}"
        "th{text-align:left;padding-right:1em}form{display:inline-block;margin:1em 1em 0 0}"
        "button{font-size:1.2em;padding:.5em 1em}.msg{font-weight:bold}</style></head><body>"
        f"<h1>Incident #{inc.id}</h1>{message}<table>{table}</table>"
        f"{'<h2>Runbook</h2><ul>' + notes + '</ul>' if notes else ''}{link}{forms}</body></html>"
    )


def ack_gone_page(why: str) -> str:
    """The HTML when a link is unknown or expired."""
    return ("<!doctype html><html><head><meta charset=\"utf-8\"><title>Link not valid</title></head>"
            f"<body><h1>This link is not valid</h1><p>{_e(why)}</p></body></html>")


def contact_lines(d: Directory, methods: Sequence[ContactMethod]) -> list[str]:
    """One line per method, URL masked: ``#3 de1 · phone (ntfy://••••) · after 5 min · order 1``."""
    out = []
    for m in methods:
        after = f"after {m.after_minutes} min" if m.after_minutes is not None else "after the default"
        out.append(f"#{m.id} {m.person} ({_name(d, m.person)}) · {m.label} ({m.scheme}://••••) · {after}"
                   f" · order {m.position}")
    return out


NOTIFY_BLOCKS = ("notify_url", "notify_label", "notify_after")


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def notify_modal(person_name: str, methods: Sequence[ContactMethod], note: str | None = None) -> dict[str, object]:
    """The ``/oncall notify`` form: the person's methods (masked) with Test, Remove and Move up,
    and inputs to add one (an Apprise URL, a label, the minutes after the page starts)."""
    blocks: list[dict[str, object]] = [{"type": "section", "text": _mrkdwn(
        f"*How the bot wakes {_slack_escape(person_name)}.* A page is a Slack DM at once; then each method "
        "below in order, at its minutes, until someone acknowledges. Do Not Disturb holds DMs: add a way "
        "that reaches your phone (see docs/paging.md).")}]
    if note:
        blocks.append({"type": "context", "elements": [_mrkdwn(_slack_escape(note)[:2900])]})
    if not methods:
        blocks.append({"type": "section", "text": _mrkdwn("_Only Slack so far._")})
    for i, m in enumerate(methods):
        after = f"after {m.after_minutes} min" if m.after_minutes is not None else "at the default minutes"
        buttons: list[dict[str, object]] = [
            {"type": "button", "action_id": str(Action.NOTIFY_TEST), "value": str(m.id),
             "text": {"type": "plain_text", "text": "Test"}},
            {"type": "button", "action_id": str(Action.NOTIFY_REMOVE), "value": str(m.id), "style": "danger",
             "text": {"type": "plain_text", "text": "Remove"},
             "confirm": {"title": {"type": "plain_text", "text": "Remove it?"},
                         "text": _mrkdwn(f"Stop paging you by {_slack_escape(method_text(m))}?"),
                         "confirm": {"type": "plain_text", "text": "Remove"},
                         "deny": {"type": "plain_text", "text": "Keep"}}},
        ]
        if i:
            buttons.append({"type": "button", "action_id": str(Action.NOTIFY_UP), "value": str(m.id),
                            "text": {"type": "plain_text", "text": "Move up"}})
        blocks.append({"type": "section", "text": _mrkdwn(
            f"{i + 1}. *{_slack_escape(m.label)}* `{m.scheme}://••••` · {after}")})
        blocks.append({"type": "actions", "block_id": f"notify_method:{m.id}", "elements": buttons})
    blocks += [
        {"type": "divider"},
        {"type": "input", "block_id": NOTIFY_BLOCKS[0], "optional": True,
         "label": {"type": "plain_text", "text": "Add an Apprise URL"},
         "hint": {"type": "plain_text", "text": "ntfy://ntfy.sh/your-topic, pover://user@token, "
                  "mailto://..., twilio://... Stored encrypted; never shown again."},
         "element": {"type": "plain_text_input", "action_id": "value",
                     "placeholder": {"type": "plain_text", "text": "ntfy://ntfy.sh/my-secret-topic"}}},
        {"type": "input", "block_id": NOTIFY_BLOCKS[1], "optional": True,
         "label": {"type": "plain_text", "text": "Label"},
         "element": {"type": "plain_text_input", "action_id": "value", "max_length": 80}},
        {"type": "input", "block_id": NOTIFY_BLOCKS[2], "optional": True,
         "label": {"type": "plain_text", "text": "Minutes after the page starts"},
         "hint": {"type": "plain_text", "text": "Only faster than the team's default counts."},
         "element": {"type": "number_input", "action_id": "value", "is_decimal_allowed": False,
                     "min_value": "0", "max_value": "1440"}},
    ]
    return {"type": "modal", "callback_id": str(Callback.NOTIFY_MODAL),
            "title": {"type": "plain_text", "text": "Pages beyond Slack"},
            "submit": {"type": "plain_text", "text": "Add"}, "close": {"type": "plain_text", "text": "Done"},
            "blocks": blocks}


def read_notify_modal(values: dict[str, dict[str, dict[str, object]]]) -> tuple[str, str | None, int | None]:
    """``(url, label, after)`` typed into the form (url "" when none)."""
    def text(block: str) -> str:
        return str(((values.get(block) or {}).get("value") or {}).get("value") or "").strip()

    after = text(NOTIFY_BLOCKS[2])
    return text(NOTIFY_BLOCKS[0]), text(NOTIFY_BLOCKS[1]) or None, int(after) if after.isdigit() else None
