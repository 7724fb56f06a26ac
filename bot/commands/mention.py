"""Turn the text of an @-mention into a command line. Pure: no data lookups.

"@bot who is on call for growth?" → ``/oncall growth``; "@bot who owns clickstream?" →
``/whoowns clickstream``; "@bot runbook profit" → ``/runbook profit``; "@bot help" → ``help``.
The line is then answered like a slash command (``bot.services.queries.ask_snapshot``), so a
mention and a slash command give the same answer in the same words.
"""

from __future__ import annotations

import re

_SLASH = re.compile(r"^/?(oncall|on-call|runbook|whoowns|incident)\b\s*(.*)$", re.IGNORECASE)
_POLITE = re.compile(
    r"^(?:hey|hi|hello|please|pls|can you tell me|could you tell me|tell me)\b[\s,:]*", re.IGNORECASE
)
_TRAILING = re.compile(r"(?:[\s?!.,]|\b(?:please|pls|thanks|thank you)\b)+$", re.IGNORECASE)
_LEADING_FILLER = re.compile(r"^(?:(?:for|of|the)\s+)+", re.IGNORECASE)
_ON_CALL = r"on[\s-]?call"
# A person: a Slack mention, or "@" and what was typed (an id, a name, "@Fay Ellis") that Slack
# left as text because it did not turn it into a mention.
_PERSON = r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>|@[^\s@<>][^@<>]*?"
_BOT_NAME = re.compile(r"^@(?:oncall-bot|on-call|oncall|bot)(?=$|[\s,:])[\s,:]*", re.IGNORECASE)
NOT_UNDERSTOOD = ("I did not catch that. Ask me like `@oncall who is on call for growth?`, "
                  "`@oncall who owns clickstream?` or `@oncall runbook profit`.")
"""The answer to a mention that is not a question the bot knows (the command list follows it)."""

# (pattern, template) in order; the first that matches wins. ``{0}``... are the pattern's groups.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), t)
    for p, t in (
        (r"^(?:help|\?|usage|commands|what can you do)$", "help"),
        # people: "am I on call", "when am I on call", "my shifts", "is @dana on call"
        (rf"^(?:when\s+)?am\s+i\s+{_ON_CALL}(?:\s+next)?$", "/oncall me"),
        (r"^(?:my\s+(?:shifts|rota|rotation|schedule|roles))$", "/oncall me"),
        (rf"^(?:when\s+)?is\s+({_PERSON})\s+{_ON_CALL}(?:\s+next)?$", "/oncall {0}"),
        (rf"^(?:shifts|schedule|rota|roles)\s+(?:of|for)\s+({_PERSON})$", "/oncall {0}"),
        # schedules: "schedule for growth 4", "growth schedule"
        (r"^(?:show\s+)?(?:the\s+)?schedule\s+(?:for\s+|of\s+)?(.+)$", "/oncall schedule {0}"),
        (r"^(.+?)\s+schedule$", "/oncall schedule {0}"),
        # runbooks: "runbook profit", "runbook for profit", "show the profit runbook"
        (r"^(?:show\s+(?:me\s+)?)?(?:the\s+)?runbook\s+(?:for\s+|of\s+)?(.+)$", "/runbook {0}"),
        (r"^(?:show\s+(?:me\s+)?)?(?:the\s+)?(.+?)(?:'s)?\s+runbook$", "/runbook {0}"),
        # owners: "who owns clickstream", "owner of churn", "whose is salaries"
        (r"^(?:who\s+owns|whoowns|who\s+is\s+the\s+owner\s+of|who\s+are\s+the\s+owners\s+of)\s+(?:the\s+)?(.+?)"
         r"(?:\s+data)?$", "/whoowns {0}"),
        (r"^owners?\s+(?:of|for)\s+(?:the\s+)?(.+?)(?:\s+data)?$", "/whoowns {0}"),
        (r"^whose\s+(?:is|are)\s+(?:the\s+)?(.+?)(?:\s+data)?$", "/whoowns {0}"),
        # on call: "who is on call for growth [at saturday]", "who's on call", "on call for profit"
        (rf"^(?:who(?:'s|’s|\s+is)\s+)?{_ON_CALL}(?:\s+(?:right\s+)?now)?$", "/oncall"),
        (rf"^(?:who(?:'s|’s|\s+is)\s+)?{_ON_CALL}\s+(?:at|on)\s+(.+)$", "/oncall at {0}"),
        (rf"^(?:who(?:'s|’s|\s+is|\s+will\s+be)\s+)?{_ON_CALL}\s+(?:for|on)\s+(?:the\s+)?(.+?)"
         rf"(?:\s+pipeline)?(?:\s+(?:right\s+)?now)?(?:\s+(?:at|on)\s+(.+))?$", "/oncall {0}|{1}"),
        (rf"^(?:who(?:'s|’s|\s+is)\s+)?{_ON_CALL}\s+(.+)$", "/oncall {0}"),
        (r"^who\s+covers\s+(?:the\s+)?(.+?)(?:\s+pipeline)?(?:\s+(?:at|on)\s+(.+))?$", "/oncall {0}|{1}"),
    )
)


def strip_mentions(text: str, bot_user_id: str | None = None) -> str:
    """``text`` without the bot's mention (any leading mention when ``bot_user_id`` is None)."""
    text = text.strip()
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    else:
        text = re.sub(r"^\s*<@[UW][A-Z0-9]+(?:\|[^>]*)?>", " ", text)
    return " ".join(text.split())


def mention_command(text: str, bot_user_id: str | None = None) -> str | None:
    """The command line a mention asks for, or None when it is not a question the bot answers.

    ``text`` is the event's text, e.g. ``"<@UBOT> who is on call for growth?"``. The line is in
    the form ``bot.services.queries.ask_snapshot`` takes: ``"/oncall growth"``, ``"help"``...
    """
    return question_command(strip_mentions(text, bot_user_id))


def question_command(body: str) -> str | None:
    """The command line a question (a mention's text without the mention) asks for, or None."""
    body = _POLITE.sub("", body)
    body = _TRAILING.sub("", body).strip()
    if not body:
        return "help"
    slash = _SLASH.match(body)
    if slash:
        name = slash.group(1).lower().replace("-", "")
        return f"/{name} {_LEADING_FILLER.sub('', slash.group(2))}".strip()
    for pattern, template in _RULES:
        m = pattern.match(body)
        if m is None:
            continue
        groups = [g.strip() if g else "" for g in m.groups()]
        if "|" in template:  # "/oncall {pipeline}|{when}": the time is optional
            pipeline, when = groups[0], groups[1] if len(groups) > 1 else ""
            if not pipeline:
                return None
            return f"/oncall {pipeline} at {when}" if when else f"/oncall {pipeline}"
        if any(not g for g in groups):
            return None
        return template.format(*groups)
    return None


def console_command(line: str) -> str | None:
    """A line typed into the console or ``oncall-bot ask``, as the command line it asks for.

    Whatever Slack accepts: a slash command as typed ("/oncall growth"); a question, with or
    without the bot's name in front ("@oncall who owns clickstream?", "who is on call for
    growth?"), read as the mention would be; otherwise the words are ``/oncall`` arguments
    ("growth at saturday", "@fe2", "me"). None when the line is addressed to the bot ("@oncall
    ...") but is not a question it knows, as for a mention (answer ``NOT_UNDERSTOOD``).
    """
    text = " ".join(line.split())
    named = _BOT_NAME.match(text)
    if named is not None:
        text = text[named.end():]
    if text.startswith("/"):
        return text
    command = question_command(text)
    if command is not None:
        return command
    return None if named is not None else text
