"""The messages an incident owes people, through the durable delivery outbox.

Every message about an incident (its channel post, its thread lines, each page DM, each channel
step, each update of the incident message) is a delivery row (``bot.storage.scheduled``) written
in the transaction that makes the change, under a unique key:

- ``incident:ID:post``: the incident message (rendered when it is sent, from the stored state);
- ``incident:ID:thread:WHAT``: a line in its thread (a child of the post: it waits for the ts);
- ``incident:ID:update:WHAT``: ``chat.update`` of the incident message (a child of the post);
- ``incident:ID:page:LEVEL:PERSON``: a page DM; ``incident:ID:channel:LEVEL:CHANNEL``: a post to
  an owning team's channel;
- ``incident:ID:source_link``: the reply under the message an incident was opened from (the
  message shortcut), linking to the incident message (a child of the post, in the source
  message's own thread: ``thread_ts`` in its payload).

``deliver`` sends them (``bot.services.deliveries.Deliverer`` restricted to the owed messages:
``incident:`` and ``change:`` keys): the service kicks it right after the commit, and
``run_periodic`` runs it every minute. A failed attempt is retried with backoff until it is sent
or expires; an attempt whose outcome is unknown (a time-out) is looked for in the channel by its
key (message metadata) before any re-send. ``oncall-bot deliveries --failed`` lists them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.incident import Change, Incident, Page, PageKind, Status
from bot.core.model import Directory
from bot.render import alerts as render_alerts
from bot.render import incident as render
from bot.services.deliveries import OWED_PREFIXES, Deliverer, DeliveryConfig, Rendered, SlackPort, WebSlackPort
from bot.services.deliveries.apprise_port import AppriseNotifier
from bot.services.incidents.deps import Delivery, Deps
from bot.services.paging import planner as paging
from bot.services.scheduled.config import replica_id
from bot.services.snapshot import Snapshot
from bot.storage import alerts as alerts_repo
from bot.storage import audit
from bot.storage import incidents as repo
from bot.storage import scheduled as store
from bot.storage.bootstrap import Database

log = logging.getLogger("bot.incidents")

"""How long an owed message is retried before it is given up (``expired``, listed as failed)."""

KICK_WAIT_SECONDS = 5.0
"""How long an action waits for its messages before it answers with what is known then."""

# Tasks of kicked deliveries, kept referenced until they finish (when ``deps`` has no background).
_running: set[asyncio.Task[Any]] = set()


def prefix(incident_id: int) -> str:
    return f"incident:{incident_id}:"


def post_key(incident_id: int) -> str:
    return f"incident:{incident_id}:post"


def page_key(incident_id: int, level: int, person: str) -> str:
    return f"incident:{incident_id}:page:{level}:{person}"


_row = store.owed_row


owed_row = _row
"""A delivery row of an owed message (``key``, ``op``, ``target``, ``label``, ``payload``, ``now``, parent key)."""


def post_channels(d: Directory, inc: Incident, fallback_channel: str | None) -> list[str]:
    """Where the incident message goes, in order: the pipeline's channel, else where it was
    reported, else the announcement channel (the next one when Slack refuses one)."""
    pipeline = d.pipelines.get(inc.pipeline)
    candidates = [pipeline.channel if pipeline else None, fallback_channel, d.announcement_channel]
    return list(dict.fromkeys(c for c in candidates if c))


def page_rows(d: Directory, inc: Incident, page: Page, now: datetime) -> list[dict[str, Any]]:
    """The deliveries that reach ``page``: a DM to a person, or a post to each channel of a
    channel step; none for a queued page (``deliver_queued_pages`` writes it when it is due)."""
    i = inc.id
    if page.kind == PageKind.PERSON and page.person:
        person = d.people.get(page.person)
        if person is None or not person.slack_user_id:
            log.warning("incident %s: cannot page %s, not in the directory", i, page.person)
            return []
        payload = {"render": "incident_page", "kind": "incident_page", "incident": i, "level": page.level,
                   "person": page.person, "label": page.label, "slot": repo.slot_text(page.slot),
                   "meta": {"incident": i, "level": page.level}}
        return [_row(page_key(i, page.level, page.person), "post", person.slack_user_id,
                     f"incident #{i}: page level {page.level} to {page.person}", payload, now)]
    if page.kind == PageKind.CHANNEL:
        return [_row(f"incident:{i}:channel:{page.level}:{channel}", "post", channel,
                     f"incident #{i}: level {page.level} to {channel}",
                     {"render": "incident_channel", "kind": "incident_channel", "incident": i}, now)
                for channel in page.channels]
    return []


def thread_rows(inc: Incident, target: str, what: str, line: str, now: datetime) -> list[dict[str, Any]]:
    """A line in the incident's thread and the update of the incident message, both waiting for
    the post (``target``: the post's channel)."""
    i = inc.id
    return [
        _row(f"incident:{i}:thread:{what}", "post", target, f"incident #{i}: thread ({what})",
             {"text": line, "kind": "incident_thread"}, now, parent_key=post_key(i)),
        _row(f"incident:{i}:update:{what}", "update", target, f"incident #{i}: message update ({what})",
             {"render": "incident_update", "kind": "incident_update", "incident": i}, now, parent_key=post_key(i)),
    ]


def opened_rows(snap: Snapshot, inc: Incident, fallback_channel: str | None, now: datetime,
                source_message: tuple[str, str] | None = None) -> list[dict[str, Any]]:
    """What opening ``inc`` owes: the post, its first thread line, the level-1 page, and for an
    incident opened from a message (``source_message``: channel, ts) a reply under it with the
    link to the incident message."""
    d, tz = snap.directory, snap.calendar.tz
    rows: list[dict[str, Any]] = []
    channels = post_channels(d, inc, fallback_channel)
    if not channels:
        log.warning("incident %s: pipeline %s has no channel to post to", inc.id, inc.pipeline)
    else:
        channel = channels[0]
        rows.append(_row(post_key(inc.id), "post", channel, f"incident #{inc.id} message",
                         {"render": "incident_message", "kind": "incident", "incident": inc.id,
                          "meta": {"incident": inc.id}, "fallbacks": channels[1:]}, now))
        rows.append(_row(f"incident:{inc.id}:thread:opened", "post", channel, f"incident #{inc.id}: thread (opened)",
                         {"text": render.opened_line(d, tz, inc), "kind": "incident_thread"}, now,
                         parent_key=post_key(inc.id)))
        if source_message is not None:
            src_channel, src_ts = source_message
            rows.append(_row(f"incident:{inc.id}:source_link", "post", src_channel,
                             f"incident #{inc.id}: link under its source message",
                             {"render": "incident_source_link", "kind": "incident_source_link",
                              "incident": inc.id, "thread_ts": src_ts}, now, parent_key=post_key(inc.id)))
    return rows + page_rows(d, inc, inc.page, now)


def change_what(change: Change) -> str:
    """What names a change in its keys: the event and the level it left the incident at."""
    return f"{change.event.kind.value}:{change.after.level}"


async def change_rows(session: AsyncSession, snap: Snapshot, change: Change, now: datetime) -> list[dict[str, Any]]:
    """What an applied change owes: its thread line, the message update, and whoever it reaches.
    Keyed by the event and the level it left the incident at: each happens once."""
    d, tz = snap.directory, snap.calendar.tz
    after = change.after
    rows: list[dict[str, Any]] = []
    post = await post_delivery(session, after.id)
    if post is not None:
        rows += thread_rows(after, post.target, change_what(change), render.thread_line(d, tz, change), now)
    if change.event.page is not None:
        rows += page_rows(d, after, change.event.page, now)
    return rows


async def post_delivery(session: AsyncSession, incident_id: int) -> store.DeliveryRow | None:
    """The delivery of the incident message, if one was queued."""
    found = await store.delivery_id(session, post_key(incident_id))
    return await store.delivery(session, found) if found is not None else None


async def pages_unsent(session: AsyncSession, incident_id: int, level: int) -> bool:
    """Whether a page of ``level`` was queued for the incident and has not been sent."""
    rows = await store.deliveries_with_prefix(session, f"incident:{incident_id}:page:{level}:")
    return any(r.status != "sent" for r in rows)


async def pending_people(session: AsyncSession, incident_id: int) -> frozenset[str]:
    """The people whose page DM about the incident has not been sent (yet)."""
    rows = await store.deliveries_with_prefix(session, f"incident:{incident_id}:page:")
    return frozenset(str(r.payload.get("person")) for r in rows if r.status != "sent")


async def delivery_state(
    db: Database, incident_id: int, *, level: int | None = None, update: str | None = None
) -> Delivery:
    """The incident's deliveries as stored now: ``posted``, the incident message (or, with
    ``update``, that update of it: ``incident:ID:update:WHAT``; True when none was owed) went
    out; ``paged``, every page of ``level`` was sent."""
    async with db.sessions() as session:
        rows = await store.deliveries_with_prefix(session, prefix(incident_id))
    wanted = f"{prefix(incident_id)}update:{update}" if update else post_key(incident_id)
    post = next((r for r in rows if r.key == wanted), None)
    marks = (f":page:{level}:", f":channel:{level}:") if level is not None else ()
    pages = [r for r in rows if any(m in r.key for m in marks)]
    return Delivery(
        post_target=post.target if post else None,
        posted=(post is not None and post.status == "sent") or (post is None and update is not None),
        post_failed=post is not None and post.status in ("failed", "expired"),
        paged=all(r.status == "sent" for r in pages),
    )


class IncidentRenderers:
    """Renders the owed messages when they are sent, from the incident stored then; remembers
    where the incident message went (and fetches its permalink after the run)."""

    def __init__(self, snap: Snapshot, port: SlackPort, settings: Any = None) -> None:
        self.snap = snap
        self.port = port
        self.settings = settings
        self.posted: list[tuple[int, str, str]] = []
        self._shown_pending: dict[int, frozenset[str]] = {}

    def renderers(self) -> dict[str, Any]:
        return {"incident_message": self.message, "incident_update": self.update,
                "incident_page": self.page, "incident_channel": self.channel,
                "incident_source_link": self.source_link,
                "alert_line": self.alert_line, "alert_edit": self.alert_edit}

    async def _incident(self, session: AsyncSession, row: store.DeliveryRow) -> Incident | None:
        return await repo.get_incident(session, int(row.payload["incident"]))

    async def message(self, session: AsyncSession, row: store.DeliveryRow) -> Rendered | None:
        inc = await self._incident(session, row)
        if inc is None:
            return None
        pending = await pending_people(session, inc.id)
        self._shown_pending[row.id] = pending
        msg = render.incident_message(self.snap.directory, self.snap.calendar.tz, inc, pending=pending)
        return Rendered(msg.text, msg.blocks_json())

    async def update(self, session: AsyncSession, row: store.DeliveryRow) -> Rendered | None:
        inc = await self._incident(session, row)
        if inc is None or not inc.channel or not inc.ts:
            return None
        pending = await pending_people(session, inc.id)
        msg = render.incident_message(self.snap.directory, self.snap.calendar.tz, inc, pending=pending)
        return Rendered(msg.text, msg.blocks_json(), inc.channel, inc.ts)

    async def page(self, session: AsyncSession, row: store.DeliveryRow) -> Rendered | None:
        inc = await self._incident(session, row)
        if inc is None or inc.status == Status.RESOLVED:
            return None  # resolved before the page could go out: nobody needs it now
        p = row.payload
        page = Page(int(p["level"]), PageKind.PERSON, str(p.get("label") or ""), str(p["person"]),
                    repo.parse_slot(p.get("slot")))
        msg = render.page_message(self.snap.directory, self.snap.calendar.tz, inc, page)
        blocks = msg.blocks_json()
        link = await paging.ack_url(session, self.settings, inc.id, page.level, str(p["person"]))
        if link:  # also from a phone's browser, without Slack
            blocks.append({"type": "context", "elements": [
                {"type": "mrkdwn", "text": f"<{link}|Acknowledge or escalate from any browser>"}]})
        return Rendered(msg.text + (f"\nAcknowledge: {link}" if link else ""), blocks)

    async def channel(self, session: AsyncSession, row: store.DeliveryRow) -> Rendered | None:
        inc = await self._incident(session, row)
        if inc is None:
            return None
        msg = render.channel_message(self.snap.directory, self.snap.calendar.tz, inc)
        return Rendered(msg.text, msg.blocks_json())

    async def source_link(self, session: AsyncSession, row: store.DeliveryRow) -> Rendered | None:
        inc = await self._incident(session, row)
        if inc is None or not inc.channel or not inc.ts:
            return None  # the incident message never went out: nothing to link to
        link = inc.permalink or await self.port.permalink(inc.channel, inc.ts)
        return Rendered(render.source_link_text(self.snap.directory, inc, link), None)
    async def alert_line(self, session: AsyncSession, row: store.DeliveryRow) -> Rendered | None:
        """An alert's line in the thread, from the alert as stored now."""
        alert = await alerts_repo.get_alert(session, int(row.payload["alert"]))
        if alert is None:
            return None
        text = render_alerts.alert_line(
            self.snap.calendar.tz, dedup_key=alert.dedup_key, severity=alert.severity, summary=alert.summary,
            source=alert.source, details=alert.details, links=alert.links, state=alert.state, count=alert.count,
            first_at=alert.first_at, last_at=alert.last_at)
        return Rendered(text)

    async def alert_edit(self, session: AsyncSession, row: store.DeliveryRow) -> Rendered | None:
        """The edit of an alert's line (where the line went: its delivery's channel and ts)."""
        found = await store.delivery_id(session, str(row.payload["line"]))
        line = await store.delivery(session, found) if found is not None else None
        if line is None or not line.channel_id or not line.ts:
            return None
        text = await self.alert_line(session, row)
        return None if text is None else Rendered(text.text, None, line.channel_id, line.ts)

    async def after_sent(self, session: AsyncSession, rows: list[store.DeliveryRow]) -> None:
        """In the transaction that records ``rows`` sent: remember where incident messages went;
        a page DM sent is audited (``incident.page_delivered``: only now was the person told),
        a released queued page's thread line is owed now, and a page sent after the message
        showed it pending queues an update of the message."""
        now = min((r.sent_at or r.created_at for r in rows), default=None)
        shown: list[tuple[int, str]] = []
        # a page rendered to nothing (resolved before it went out) was not sent: not delivered either
        await self._pages_delivered(session, [r for r in rows if r.payload.get("kind") == "incident_page" and r.ts])
        for r in rows:
            kind = r.payload.get("kind")
            if kind == "incident" and r.channel_id and r.ts:
                incident_id = int(r.payload["incident"])
                await repo.set_message(session, incident_id, r.channel_id, r.ts)
                self.posted.append((incident_id, r.channel_id, r.ts))
                sent = await pending_people(session, incident_id)
                shown += [(incident_id, person) for person in self._shown_pending.pop(r.id, frozenset())
                          if person not in sent]
            elif kind == "incident_page":
                incident_id = int(r.payload["incident"])
                post = await post_delivery(session, incident_id)
                if post is not None and post.status == "sent":
                    shown.append((incident_id, str(r.payload["person"])))
        if not shown or now is None:
            return
        queued = []
        for incident_id, person in dict.fromkeys(shown):
            post = await post_delivery(session, incident_id)
            if post is None:
                continue
            queued.append(_row(f"incident:{incident_id}:update:paged:{person}", "update", post.target,
                               f"incident #{incident_id}: message update (paged {person})",
                               {"render": "incident_update", "kind": "incident_update", "incident": incident_id},
                               now, parent_key=post_key(incident_id)))
        await store.add_deliveries(session, queued)

    async def _pages_delivered(self, session: AsyncSession, rows: list[store.DeliveryRow]) -> None:
        d = self.snap.directory
        queued: list[dict[str, Any]] = []
        for r in rows:
            p, at = r.payload, r.sent_at or r.created_at
            incident_id, level, person = int(p["incident"]), int(p["level"]), str(p["person"])
            page = Page(level, PageKind.PERSON, str(p.get("label") or ""), person, repo.parse_slot(p.get("slot")))
            await audit.record(session, at=at, actor=None, action="incident.page_delivered",
                               subject=f"incident:{incident_id}",
                               after={"page": {"level": level, "person": person, "label": page.label,
                                               "slot": p.get("slot")},
                                      "key": r.key, "channel": r.channel_id, "ts": r.ts, "attempts": r.attempts,
                                      "queued": bool(p.get("released"))})
            post = await post_delivery(session, incident_id) if p.get("released") else None
            if post is not None:
                queued.append(_row(f"incident:{incident_id}:thread:delivered:{level}", "post", post.target,
                                   f"incident #{incident_id}: thread (delivered:{level})",
                                   {"text": render.delivered_line(d, page), "kind": "incident_thread"}, at,
                                   parent_key=post_key(incident_id)))
        if queued:
            await store.add_deliveries(session, queued)

    async def permalinks(self, db: Database) -> None:
        """Fetch the permalinks of the incident messages posted by this run."""
        for incident_id, channel, ts in self.posted:
            link = await self.port.permalink(channel, ts)
            if link:
                async with db.sessions() as session, session.begin():
                    await repo.set_message(session, incident_id, channel, ts, link)
        self.posted = []


def default_port(deps: Deps) -> SlackPort:
    """The port owed messages go through: ``deps.outbox_port`` if wired, else the Web API client
    without automatic retries (the outbox retries, looking for the first post before a re-send)."""
    port = getattr(deps, "outbox_port", None)
    return port if port is not None else WebSlackPort(WebSlackPort.posting_client(deps.client))


async def fall_back(session: AsyncSession, now: datetime) -> int:
    """Incident posts Slack refused (an archived channel, one the bot is not in: nothing posted)
    go to their next channel at once; how many moved."""
    rows = await store.deliveries_with_prefix(session, "incident:")
    moved = 0
    for r in rows:
        fallbacks = list(r.payload.get("fallbacks") or ())
        if r.key.endswith(":post") and r.status == "failed" and not r.maybe_posted and fallbacks:
            payload = {**r.payload, "fallbacks": fallbacks[1:]}
            if await store.retarget(session, r.id, fallbacks[0], payload, now):
                log.warning("%s: %s refused it (%s); posting to %s", r.key, r.target, r.last_error, fallbacks[0])
                moved += 1
    return moved


async def deliver(deps: Deps, snap: Snapshot, now: datetime, *, port: SlackPort | None = None,
                  config: DeliveryConfig | None = None, first: Sequence[str] = ()) -> int:
    """Send the owed messages (incident and change deliveries) ready at ``now``; how many were
    sent. ``first``: keys sent before the rest (an incident's post, so that its page DM can link
    to it; if the post fails, the page goes out right after without the link). A post Slack
    refuses moves to its next channel (``fall_back``)."""
    port = port or default_port(deps)

    notifier = AppriseNotifier(deps.db, paging.cipher_or_none(deps.settings))

    async def run(only: tuple[str, ...]) -> int:
        rendering = IncidentRenderers(snap, port, deps.settings)
        notify = paging.NotifyRenderers(snap, deps.settings)

        async def after_sent(session: AsyncSession, rows: list[store.DeliveryRow]) -> None:
            await rendering.after_sent(session, rows)
            await notify.after_sent(session, rows)

        deliverer = Deliverer(deps.db, port, owner=replica_id(), config=config or DeliveryConfig.from_env(),
                              renderers={**rendering.renderers(), "incident_notify": notify.render},
                              after_sent=after_sent, only=only, notifier=notifier)
        report = await deliverer.run(now)
        await rendering.permalinks(deps.db)
        return report.sent + report.found

    async def moved() -> int:
        async with deps.db.sessions() as session, session.begin():
            return await fall_back(session, now)

    try:
        await paging.plan_pages(deps, snap, now)  # the steps of pages beyond Slack due now
    except Exception:  # never let it hold back the messages already owed; the next pass plans again
        log.exception("planning the pages beyond Slack failed; the next delivery pass tries again")
    sent = 0
    if first:
        sent += await run(tuple(first))
        for _ in range(3):  # the next channels, while Slack refuses
            if not await moved():
                break
            sent += await run(tuple(first))
    await moved()
    return sent + await run(OWED_PREFIXES)


async def kick(deps: Deps, snap: Snapshot, now: datetime, first: Sequence[str] = ()) -> asyncio.Task[Any]:
    """Start ``deliver`` at once (not at the next minute tick); the task (owned by
    ``deps.background`` when there is one)."""

    async def run() -> None:
        try:
            await deliver(deps, snap, now, first=first)
        except Exception:  # retried by the minute tick; never lost
            log.exception("delivering the owed messages failed; the minute tick retries")

    background = getattr(deps, "background", None)
    if background is not None:
        task: asyncio.Task[Any] = background.spawn(run(), name="outbox:kick")
    else:
        task = asyncio.get_running_loop().create_task(run(), name="outbox:kick")
        _running.add(task)
        task.add_done_callback(_running.discard)
    return task


async def kick_and_wait(deps: Deps, snap: Snapshot, now: datetime, incident_id: int, *,
                        level: int | None = None, update: str | None = None) -> Delivery:
    """``kick``, wait for it up to ``settings.outbox_kick_wait`` seconds (without cancelling it),
    and say where the incident's messages stand then."""
    # the incident message and the pages beyond Slack go first: a page never waits on Slack posts
    task = await kick(deps, snap, now, first=(post_key(incident_id), f"incident:{incident_id}:notify:"))
    wait = float(getattr(deps.settings, "outbox_kick_wait", KICK_WAIT_SECONDS))
    await asyncio.wait({task}, timeout=wait)
    return await delivery_state(deps.db, incident_id, level=level, update=update)
