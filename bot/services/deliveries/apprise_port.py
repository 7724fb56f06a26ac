"""``AppriseNotifier``: the port pages beyond Slack go through (one Apprise URL per contact method).

Apprise (``apprise.Apprise.async_notify``) speaks to 100+ services (``mailto://``, ``ntfy://``,
``pover://``, ``twilio://``, ``pagerduty://``, ``opsgenie://``, ``json://``...); nothing here
writes a sender of its own. The URL is read from storage and decrypted only for the send, and
never leaves this module: Apprise's own log lines are captured (not propagated to the bot's
logs) and scrubbed of every part of the URL before they become an error or an answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from bot.services.deliveries.config import Rendered
from bot.services.deliveries.port import SendError
from bot.services.deliveries.secrets import Cipher, Unreadable, scrub
from bot.storage import paging as repo
from bot.storage.bootstrap import Database

# Apprise logs what it does (hosts, sometimes more): keep it out of the bot's logs; every line
# that matters is captured per send and scrubbed.
logging.getLogger("apprise").propagate = False


@dataclass(frozen=True)
class Said:
    """What Apprise answered a send: ``ok``, and its log lines with the URL scrubbed out."""

    ok: bool
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "; ".join(self.lines) if self.lines else ("sent" if self.ok else "not sent")


async def send_url(url: str, title: str, body: str) -> Said:
    """Send one notification to ``url`` with Apprise (its async API); what it said."""
    import apprise  # here: its 100+ plugins cost every command that imports the outbox 30 ms

    notifier = apprise.Apprise()
    if not notifier.add(url):
        return Said(False, ("Apprise does not understand this URL (check its scheme and parts)",))
    with apprise.LogCapture(level=logging.INFO, fmt="%(levelname)s: %(message)s") as out:  # type: ignore[no-untyped-call]
        result = await notifier.async_notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT)
    raw = out.getvalue() if hasattr(out, "getvalue") else ""
    lines = tuple(scrub(line.strip(), url) for line in str(raw).splitlines()
                  if line.strip() and "Notifying " not in line)
    return Said(bool(result), lines)


class NotifyPort(Protocol):
    """What the deliveries need to send a page beyond Slack."""

    async def notify(self, contact_id: int, title: str, body: str) -> Said:
        """Send to the contact method ``contact_id``; ``SendError`` when it failed."""
        ...


async def send_notify(notifier: NotifyPort | None, rendered: Rendered | None, payload: dict[str, Any]) -> None:
    """Send a ``notify`` delivery (the deliverer's op): nothing when it rendered None (its page
    no longer needs it: acknowledged, resolved, escalated). One whose earlier attempt may have
    gone out (a dead replica) is sent again: a second page beats a lost one."""
    if rendered is None:
        return
    if notifier is None:
        raise SendError("no notifier wired for pages beyond Slack", definite=True)
    await notifier.notify(int(payload["contact"]), rendered.title or "", rendered.text)


class AppriseNotifier:
    """A ``NotifyPort`` over Apprise, reading each method's URL from ``db`` with ``cipher``."""

    def __init__(self, db: Database, cipher: Cipher | None) -> None:
        self.db = db
        self.cipher = cipher

    async def notify(self, contact_id: int, title: str, body: str) -> Said:
        if self.cipher is None:
            raise SendError("ONCALL_SECRET_KEY is not set: contact methods cannot be read", definite=True)
        async with self.db.sessions() as session:
            stored = await repo.encrypted_url(session, contact_id)
        if stored is None:
            raise SendError(f"contact method {contact_id} was removed", definite=True, error="removed")
        try:
            url = self.cipher.decrypt(stored)
        except Unreadable as exc:
            raise SendError(str(exc), definite=True) from None
        said = await send_url(url, title, body)
        if not said.ok:
            raise SendError(f"Apprise: {said.text}", definite=True)
        return said
