"""The notification steps of pages to people, queued in the incident outbox.

``plan_pages`` runs at the start of every delivery pass of the incident outbox (right after an
incident is opened or escalated, and every minute). For each open, unacknowledged incident whose
current level paged a person:

1. its plan is made once (``bot.storage.paging.add_plan``: one replica wins): when the page
   started, whether it may wake anyone (critical, or inside the pipeline's coverage), and, for a
   critical page, whether Slack says the person is in Do Not Disturb (``dnd.info``); then the
   incident thread says so and their first method fires at once;
2. the steps due by now (``bot.core.paging.plan``) become ``notify`` deliveries under the keys
   ``incident:ID:notify:LEVEL:PERSON:STEP``: inserted once whatever the number of replicas and
   passes, sent once by the outbox (leased), retried with backoff when the service fails;
3. a step whose attempt failed gets one line in the thread (and stays in
   ``oncall-bot deliveries --failed`` until it is sent or expires).

An acknowledged, resolved or escalated page renders None when its step comes up, so nothing
more is sent (``NotifyRenderers``); each step that went out gets a line in the incident thread.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import paging as core
from bot.core.coverage import UnknownPipeline, oncall_at
from bot.core.incident import Incident, PageKind, Status
from bot.render import paging as render
from bot.services.deliveries.config import Rendered
from bot.services.deliveries.secrets import Cipher, NoSecretKey, cipher_for, new_salt, token_hash
from bot.services.incidents.deps import Deps
from bot.services.snapshot import Snapshot
from bot.storage import incidents as incident_repo
from bot.storage import paging as repo
from bot.storage import scheduled as store

log = logging.getLogger("bot.paging")

LINK_LIFETIME = timedelta(hours=24)
"""How long an acknowledge link works."""

NOTIFY_KIND = "incident_notify"


def notify_key(incident_id: int, level: int, person: str, step: core.Step) -> str:
    return f"incident:{incident_id}:notify:{level}:{person}:{step.key}"


def _post_key(incident_id: int) -> str:
    return f"incident:{incident_id}:post"  # the incident message (bot.services.incidents.outbox)


_row = store.owed_row


async def thread_row(session: AsyncSession, incident_id: int, what: str, line: str,
                     now: datetime) -> list[dict[str, Any]]:
    """A line in the incident's thread (none when the incident has no message)."""
    found = await store.delivery_id(session, _post_key(incident_id))
    post = await store.delivery(session, found) if found is not None else None
    if post is None:
        return []
    return [_row(f"incident:{incident_id}:thread:{what}", "post", post.target, f"incident #{incident_id}: thread "
                 f"({what})", {"text": line, "kind": "incident_thread"}, now, parent_key=_post_key(incident_id))]


def cipher_or_none(settings: Any) -> Cipher | None:
    try:
        return cipher_for(settings)
    except NoSecretKey:
        return None


def may_wake(snap: Snapshot, inc: Incident, at: datetime) -> bool:
    """A critical page may wake anyone; another only inside the pipeline's coverage."""
    if inc.critical:
        return True
    try:
        return oncall_at(snap.directory, snap.calendar, inc.pipeline, at, snap.overrides).covered
    except UnknownPipeline:
        return False


async def in_dnd(deps: Deps, slack_user_id: str, at: datetime) -> bool:
    """Whether Slack says the user is in Do Not Disturb (or snoozed) at ``at``; False (logged)
    when Slack cannot say (no ``dnd:read`` scope, Slack down): the rules then start as usual."""
    if deps.client is None:  # the console and the CLI: no Slack to ask
        return False
    try:
        resp = await deps.client.dnd_info(user=slack_user_id)
        return core.in_dnd(dict(resp.data) if isinstance(resp.data, dict) else {}, at)
    except Exception as exc:  # a page must not wait on this question
        log.warning("dnd.info failed (%s): paging without knowing Do Not Disturb", type(exc).__name__)
        return False


async def _start(deps: Deps, snap: Snapshot, inc: Incident, person: str, methods: list[core.ContactMethod],
                 cipher: Cipher | None, now: datetime) -> repo.Plan:
    """Make the plan of ``inc``'s page to ``person`` (once), telling the thread about DND."""
    p = snap.directory.people.get(person)
    dnd = bool(inc.critical and p and p.slack_user_id and await in_dnd(deps, p.slack_user_id, now))
    page = core.PageStart(now, inc.critical, may_wake(snap, inc, now), dnd)
    salt = new_salt()
    hashed = token_hash(cipher.link_token(salt)) if cipher is not None else None
    async with deps.db.sessions() as session, session.begin():
        plan = await repo.add_plan(session, inc.id, inc.level, person, page, salt, hashed, now + LINK_LIFETIME)
        if plan.page.in_dnd:
            usable = core.usable(methods, plan.page)
            rows = await thread_row(session, inc.id, f"dnd:{inc.level}:{person}",
                                    render.do_not_disturb_line(snap.directory, person, usable), now)
            await store.add_deliveries(session, rows)
    return plan


def step_rows(snap: Snapshot, inc: Incident, plan: repo.Plan, methods: list[core.ContactMethod],
              now: datetime) -> list[dict[str, Any]]:
    """The deliveries of the steps of ``plan`` due at ``now``."""
    rules = core.rules_for(snap.directory.paging, plan.page.critical)
    rows = []
    for step in core.plan(methods, rules, plan.page, now):
        m = step.method
        payload = {"render": "incident_notify", "kind": NOTIFY_KIND, "incident": inc.id, "level": plan.level,
                   "person": plan.person, "contact": m.id, "method": render.method_text(m), "repeat": step.repeat}
        label = f"incident #{inc.id}: page {plan.person} by {render.method_text(m)}" + (
            f" (reminder {step.repeat})" if step.repeat else "")
        rows.append(_row(notify_key(inc.id, plan.level, plan.person, step), "notify", f"contact:{m.id}",
                         label, payload, step.at))
    return rows


async def _failures(session: AsyncSession, snap: Snapshot, incident_id: int, now: datetime) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for r in await store.deliveries_with_prefix(session, f"incident:{incident_id}:notify:"):
        if r.status in ("failed", "expired") and r.last_error:
            line = render.failed_line(snap.directory, str(r.payload.get("person")), str(r.payload.get("method")),
                                      r.last_error)
            rows += await thread_row(session, incident_id, f"notify-failed:{r.id}", line, now)
    return rows


async def plan_pages(deps: Deps, snap: Snapshot, now: datetime) -> int:
    """Queue the notification steps due at ``now`` of every open incident's person page; how
    many deliveries were offered (existing keys are left alone, so a step is queued once)."""
    async with deps.db.sessions() as session:
        open_ = [i for i in await incident_repo.open_incidents(session)
                 if i.status == Status.OPEN and i.page.kind == PageKind.PERSON and i.page.person]
        if not open_:
            return 0
        plans = {(p.incident_id, p.level, p.person): p for p in await repo.plans_of(session, [i.id for i in open_])}
        by_person: dict[str, list[core.ContactMethod]] = defaultdict(list)
        for m in await repo.contacts(session, list({str(i.page.person) for i in open_})):
            by_person[m.person].append(m)
    cipher = cipher_or_none(deps.settings)
    offered = 0
    for inc in open_:
        person = str(inc.page.person)
        methods = by_person.get(person, [])
        plan = plans.get((inc.id, inc.level, person))
        if plan is None:
            plan = await _start(deps, snap, inc, person, methods, cipher, now)
        rows = step_rows(snap, inc, plan, methods, now) if cipher is not None else []
        async with deps.db.sessions() as session, session.begin():
            rows += await _failures(session, snap, inc.id, now)
            if rows:
                await store.add_deliveries(session, rows)
        offered += len(rows)
    return offered


async def ack_url(session: AsyncSession, settings: Any, incident_id: int, level: int, person: str) -> str | None:
    """The acknowledge link of a page (None without ``ONCALL_SECRET_KEY`` or a plan); its base
    is ``ONCALL_PUBLIC_URL``, else http://localhost:PORT like the calendar feeds."""
    base = getattr(settings, "public_url", None) or f"http://localhost:{getattr(settings, 'http_port', 3000)}"
    cipher = cipher_or_none(settings)
    if cipher is None:
        return None
    plan = await repo.plan_of(session, incident_id, level, person)
    if plan is None:
        return None
    return f"{str(base).rstrip('/')}/ack/{cipher.link_token(plan.token_salt)}"


class NotifyRenderers:
    """Renders ``notify`` deliveries when they are sent (from the incident stored then) and tells
    the thread about each one that went out."""

    def __init__(self, snap: Snapshot, settings: Any) -> None:
        self.snap = snap
        self.settings = settings
        self.skipped: set[int] = set()

    async def render(self, session: AsyncSession, row: store.DeliveryRow) -> Rendered | None:
        p = row.payload
        inc = await incident_repo.get_incident(session, int(p["incident"]))
        level, person = int(p["level"]), str(p["person"])
        if inc is None or inc.status != Status.OPEN or inc.level != level or inc.page.person != person:
            self.skipped.add(row.id)  # acknowledged, resolved or escalated since: not needed now
            return None
        link = await ack_url(session, self.settings, inc.id, level, person)
        title, body = render.notification(self.snap.directory, self.snap.calendar.tz, inc, person,
                                          int(p.get("repeat") or 0), link)
        return Rendered(body, title=title)

    async def after_sent(self, session: AsyncSession, rows: list[store.DeliveryRow]) -> None:
        """In the transaction that records ``rows`` sent: a thread line for each page that went out."""
        queued: list[dict[str, Any]] = []
        for r in rows:
            if r.payload.get("kind") != NOTIFY_KIND or r.id in self.skipped:
                continue
            p = r.payload
            line = render.step_line(self.snap.directory, self.snap.calendar.tz, str(p["person"]),
                                    str(p.get("method") or p["contact"]), int(p.get("repeat") or 0),
                                    r.sent_at or r.created_at)
            queued += await thread_row(session, int(p["incident"]), f"notified:{r.id}", line, r.sent_at or r.created_at)
        if queued:
            await store.add_deliveries(session, queued)
