"""Acknowledge links: ``ONCALL_PUBLIC_URL/ack/TOKEN`` in every page, and what they do.

A token belongs to one page (incident, level, person: ``page_plans``); only its SHA-256 hash is
stored, and the token itself is derived from the page's salt with a key from
``ONCALL_SECRET_KEY``. It works for ``LINK_LIFETIME`` (24 h) from the page.

- ``show`` (GET): what the page shows; it never acts (mail and chat scanners open links);
- ``press`` (POST): Acknowledge or Escalate, as the paged person, through the same incident
  actions as the Slack buttons (permission re-checked from stored state, compare-and-set,
  audited, the thread told, further steps stopped). The form carries a nonce bound to the token
  and the instant it was shown (``NONCE_LIFETIME``): a POST without a form shown first acts not.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.render.paging import AckPageData
from bot.services.deliveries.secrets import token_hash
from bot.services.incidents import actions
from bot.services.incidents.deps import Acted, Deps, snapshot_source
from bot.services.paging.planner import cipher_or_none
from bot.services.snapshot import Snapshot
from bot.storage import incidents as incident_repo
from bot.storage import paging as repo

NONCE_LIFETIME = timedelta(hours=1)
"""How long a shown form may be submitted."""

INVALID = "This acknowledge link is unknown or has expired (links work for 24 hours). Use Slack instead."


@dataclass(frozen=True)
class LinkAnswer:
    """What a link request gives: the page to show (``data``) or why not (``refused``), and the
    words of what a press did (``message``); ``status`` is the HTTP status to answer with."""

    status: int
    data: AckPageData | None = None
    refused: str | None = None


def runbook_notes(snap: Snapshot, pipeline: str) -> tuple[str, ...]:
    p = snap.directory.pipelines.get(pipeline)
    if p is None:
        return ()
    rb = p.runbook
    notes = [rb.critical_note] if rb.critical_note else []
    notes += list(rb.oncall_notes)
    notes += [f"{i.text}" + (f" (first check: {i.first_check})" if i.first_check else "") for i in rb.common_issues]
    return tuple(n for n in notes if n)[:8]


async def _page(deps: Deps, token: str, now: datetime, message: str | None = None) -> LinkAnswer:
    cipher = cipher_or_none(deps.settings)
    if cipher is None or not token or len(token) > 128:
        return LinkAnswer(404, refused=INVALID)
    hashed = token_hash(token)
    async with deps.db.sessions() as session:
        plan = await repo.plan_by_token_hash(session, hashed)
        inc = await incident_repo.get_incident(session, plan.incident_id) if plan is not None else None
    if plan is None or inc is None or now >= plan.expires_at:
        return LinkAnswer(404, refused=INVALID)
    snap = await snapshot_source(deps)()
    issued = int(now.timestamp())
    data = AckPageData(inc, plan.person, runbook_notes(snap, inc.pipeline), token, issued,
                       cipher.form_nonce(hashed, issued), message)
    return LinkAnswer(200, data)


async def show(deps: Deps, token: str, now: datetime) -> LinkAnswer:
    """The page of ``GET /ack/TOKEN`` at ``now``: the incident, who is paged, the buttons."""
    return await _page(deps, token, now)


def _nonce_ok(deps: Deps, token: str, issued: str, nonce: str, now: datetime) -> bool:
    cipher = cipher_or_none(deps.settings)
    if cipher is None or not issued.isdigit():
        return False
    shown = int(issued)
    age = now.timestamp() - shown
    if age < -60 or age > NONCE_LIFETIME.total_seconds():
        return False
    return hmac.compare_digest(cipher.form_nonce(token_hash(token), shown), nonce)


async def press(deps: Deps, token: str, action: str, issued: str, nonce: str, now: datetime) -> LinkAnswer:
    """``POST /ack/TOKEN``: Acknowledge or Escalate as the paged person, once (a second press
    says what happened instead)."""
    shown = await _page(deps, token, now)
    if shown.data is None:
        return shown
    if action not in ("acknowledge", "escalate") or not _nonce_ok(deps, token, issued, nonce, now):
        return LinkAnswer(403, refused="This form has expired or was not shown by the bot: open the link again.")
    data = shown.data
    snap = await snapshot_source(deps)()
    person = snap.directory.people.get(data.person)
    actor = person.slack_user_id if person and person.slack_user_id else data.person
    inc = data.incident
    if action == "acknowledge":
        acted = await actions.acknowledge(deps, inc.id, actor, now)
        done = "Acknowledged: further pages are stopped, and the Slack thread says so."
    else:
        acted = await actions.escalate(deps, inc.id, inc.level, actor, now)
        done = f"Escalated to level {acted.incident.level}: the next person is paged."
    if acted.applied:
        message = done
    elif acted.reason:
        message = f"Nothing changed: {acted.reason}"
    else:
        message = f"Nothing changed: the incident is {acted.incident.status.value} at level {acted.incident.level}."
    after = await _page(deps, token, now, message)
    return LinkAnswer(200 if acted.applied else 409, after.data, after.refused)


async def acknowledge_as(deps: Deps, incident_id: int, person: str, now: datetime) -> Acted:
    """``oncall-bot ack INCIDENT --as PERSON``: acknowledge as ``person`` (a person id), with the
    same permission check as a button (``NotFound`` when there is no such incident)."""
    snap = await snapshot_source(deps)()
    p = snap.directory.people.get(person)
    actor = p.slack_user_id if p and p.slack_user_id else person
    return await actions.acknowledge(deps, incident_id, actor, now)
