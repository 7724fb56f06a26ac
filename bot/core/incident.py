"""Incidents as a pure state machine: open, acknowledge, escalate, resolve, auto-escalate.

Nothing here reads a clock or a database: every function takes the instant it acts at (aware)
and the escalation chain computed for that instant (``bot.core.escalation.escalation_chain``),
and returns a new frozen value plus the event to record, or a ``Refusal`` that says why nothing
changed.

Decisions (rules §3-§4 leave them open):

- **Which chain.** The chain is computed at the instant of each press (or tick), not at the
  instant the incident was opened: whoever is on call *then* is the one users expect to reach.
  The level never goes backwards: pressing Escalate at level L moves to the first level after L
  of the chain at the press instant.
- **No repeat pages.** A person already paged (or queued) for this incident is skipped: when the
  chain has changed between presses (handoff, coverage ended) its next level can name someone
  who was already reached, and paging them again would not escalate anything. Channel steps are
  never skipped. So one press can advance the level number by more than one.
- **Queued pages.** When the chain at the press instant starts with a ``queued`` step (Growth
  outside business hours, not critical), the pipeline has no on-call now: every person reached
  by this press is queued until that step's ``queued_until`` rather than paged at once. The
  owning teams' channels are posted to at once (a channel post wakes nobody).
- **One click acts once.** ``escalate`` takes the level the clicked button showed
  (``from_level``); if the incident is no longer at that level the press was a double click or
  a retried delivery and is refused (``Refusal.STALE``). Storage applies a change with a
  compare-and-set on the same precondition, so two concurrent presses produce one escalation.
- **Auto-escalation.** An unacknowledged critical incident escalates by itself
  ``auto_minutes`` after it was opened or last escalated, and again after each escalation, to the
  end of the chain. Acknowledging or resolving it stops that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bot.core.calendar import require_aware
from bot.core.escalation import EscalationStep
from bot.core.model import SlotRef


class Status(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class PageKind(StrEnum):
    PERSON = "person"  # paged now (a DM)
    QUEUED = "queued"  # paged at ``due`` (a pending delivery)
    CHANNEL = "channel"  # posted to the owning teams' channels


class EventKind(StrEnum):
    OPENED = "opened"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    RESOLVED = "resolved"


class Refusal(StrEnum):
    """Why an action changed nothing."""

    STALE = "stale"  # the incident is no longer at the level the button showed
    END_OF_CHAIN = "end_of_chain"
    ALREADY_ACKNOWLEDGED = "already_acknowledged"
    ALREADY_RESOLVED = "already_resolved"
    NOT_DUE = "not_due"  # auto-escalation asked before its time or when it does not apply
    NO_CHAIN = "no_chain"  # the pipeline's chain is empty at this instant
    NOT_ALLOWED = "not_allowed"  # the clicker may not act on this incident (``bot.core.permissions``)
    WRONG_MESSAGE = "wrong_message"  # the click did not come from the incident's own message


@dataclass(frozen=True, slots=True)
class Page:
    """Who (or which channels) one level of the chain reached, and how.

    ``person``/``slot`` for person and queued pages; ``channels`` for a channel step; ``due``
    is when a queued page is delivered (UTC-aware). ``label`` is the chain step's label
    ("primary", "escalation contact (data-eng:R2)", "after hours: queued for data-eng:R1").
    """

    level: int
    kind: PageKind
    label: str
    person: str | None = None
    slot: SlotRef | None = None
    channels: tuple[str, ...] = ()
    due: datetime | None = None


@dataclass(frozen=True, slots=True)
class Incident:
    """An incident's state. ``id`` is 0 until storage assigns one.

    ``level`` is the chain level reached (1 when opened), ``chain_length`` the length of the chain
    when that level was reached (so "level 2 of 4"); ``page`` what that level reached; ``reached``
    every person paged or queued so far, in order. ``next_auto_at`` is when it escalates by itself
    (None when it will not). ``reporter``/``*_by`` are Slack user ids (None: the bot itself).
    ``channel``/``ts``/``permalink`` locate the incident message once it is posted.
    ``fix_by``/``fix_remind_at`` are the SLA clock fixed at opening (``with_sla``).
    ``channel``/``ts``/``permalink`` locate the incident message once it is posted. ``source``
    says what opened it (``slack``, ``alert``, ``heartbeat``) and ``severity`` an alert's.
    """

    id: int
    pipeline: str
    summary: str
    critical: bool
    reporter: str | None
    opened_at: datetime
    status: Status
    level: int
    chain_length: int
    page: Page
    reached: tuple[str, ...]
    last_escalated_at: datetime
    next_auto_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    channel: str | None = None
    ts: str | None = None
    permalink: str | None = None
    fix_by: datetime | None = None  # the SLA deadline (``bot.core.sla``); None: the pipeline has none
    fix_remind_at: datetime | None = None  # when its assignee is reminded (one business day before)
    sla_escalated_at: datetime | None = None  # when it was escalated for passing ``fix_by``
    source: str = "slack"  # what opened it: slack | alert | heartbeat (``bot.core.alerts.Source``)
    severity: str | None = None  # an alert's severity; None: a person's report (critical or not)

    @property
    def can_escalate(self) -> bool:
        """Whether an Escalate button applies (as far as the chain known at the last level)."""
        return self.status != Status.RESOLVED and self.level < self.chain_length


@dataclass(frozen=True, slots=True)
class IncidentEvent:
    """One step in the incident thread: who did what, when. ``actor`` None is the bot itself
    (``auto`` is True for an automatic escalation). ``page`` is set for opened/escalated."""

    kind: EventKind
    at: datetime
    actor: str | None
    level: int
    page: Page | None = None
    auto: bool = False


@dataclass(frozen=True, slots=True)
class Change:
    """An action that applies: ``before`` is what it was computed from, ``after`` the new state."""

    before: Incident
    after: Incident
    event: IncidentEvent


@dataclass(frozen=True, slots=True)
class Refused:
    reason: Refusal
    incident: Incident


Outcome = Change | Refused


def _page(step: EscalationStep, queue_until: datetime | None) -> Page:
    if step.kind == "channel":
        return Page(step.level, PageKind.CHANNEL, step.label, channels=step.channels)
    holder = step.holder
    person = holder.person if holder is not None else None
    slot = holder.slot if holder is not None else None
    if step.kind == "queued":
        return Page(step.level, PageKind.QUEUED, step.label, person, slot, due=step.queued_until)
    if queue_until is not None:
        return Page(step.level, PageKind.QUEUED, step.label, person, slot, due=queue_until)
    return Page(step.level, PageKind.PERSON, step.label, person, slot)


def _queue_until(chain: Sequence[EscalationStep]) -> datetime | None:
    """When person pages wait for: the first step's ``queued_until`` if the chain starts queued."""
    if chain and chain[0].kind == "queued":
        return chain[0].queued_until
    return None


def auto_due(inc: Incident, auto_minutes: int) -> datetime | None:
    """When ``inc`` escalates by itself: unacknowledged, critical, not at the end of its chain,
    ``auto_minutes`` after it was opened or last escalated. None otherwise (or minutes <= 0)."""
    if not inc.critical or inc.status != Status.OPEN or auto_minutes <= 0 or inc.level >= inc.chain_length:
        return None
    return inc.last_escalated_at + timedelta(minutes=auto_minutes)


def open_incident(
    pipeline: str,
    summary: str,
    critical: bool,
    reporter: str | None,
    chain: Sequence[EscalationStep],
    at: datetime,
    auto_minutes: int,
) -> tuple[Incident, IncidentEvent] | Refused:
    """A new incident at aware ``at`` with level 1 of ``chain`` (the chain at ``at``) reached.

    Level 1 is the primary when covered, else the after-hours path (paged now, or queued).
    Refused with ``NO_CHAIN`` when the chain is empty (a pipeline with nobody and no channel).
    """
    require_aware(at)
    if not chain:
        placeholder = Incident(0, pipeline, summary, critical, reporter, at, Status.OPEN, 0, 0,
                               Page(0, PageKind.CHANNEL, "nobody"), (), at)
        return Refused(Refusal.NO_CHAIN, placeholder)
    page = _page(chain[0], _queue_until(chain))
    inc = Incident(
        id=0,
        pipeline=pipeline,
        summary=summary,
        critical=critical,
        reporter=reporter,
        opened_at=at,
        status=Status.OPEN,
        level=1,
        chain_length=len(chain),
        page=page,
        reached=(page.person,) if page.person else (),
        last_escalated_at=at,
    )
    inc = replace(inc, next_auto_at=auto_due(inc, auto_minutes))
    return inc, IncidentEvent(EventKind.OPENED, at, reporter, 1, page)


def with_sla(inc: Incident, fix_by: datetime | None, remind_at: datetime | None) -> Incident:
    """``inc`` with its SLA clock (``bot.core.sla.fix_by`` / ``reminder_at`` at its opening)."""
    return replace(inc, fix_by=fix_by, fix_remind_at=remind_at)


def _next_step(inc: Incident, chain: Sequence[EscalationStep]) -> EscalationStep | None:
    for step in chain:
        if step.level <= inc.level:
            continue
        if step.kind != "channel" and step.holder is not None and step.holder.person in inc.reached:
            continue
        return step
    return None


def escalate(
    inc: Incident,
    chain: Sequence[EscalationStep],
    from_level: int,
    actor: str | None,
    at: datetime,
    auto_minutes: int,
    *,
    auto: bool = False,
) -> Outcome:
    """Move ``inc`` one level along ``chain`` (the chain at aware ``at``), from ``from_level``.

    Refused: ``ALREADY_RESOLVED``; ``STALE`` when ``inc.level != from_level`` (a double click or
    a retried delivery); ``END_OF_CHAIN`` when no later level reaches anyone new.
    """
    require_aware(at)
    if inc.status == Status.RESOLVED:
        return Refused(Refusal.ALREADY_RESOLVED, inc)
    if inc.level != from_level:
        return Refused(Refusal.STALE, inc)
    step = _next_step(inc, chain)
    if step is None:
        return Refused(Refusal.END_OF_CHAIN, inc)
    page = _page(step, _queue_until(chain))
    reached = inc.reached + ((page.person,) if page.person and page.person not in inc.reached else ())
    after = replace(
        inc,
        level=step.level,
        chain_length=max(len(chain), step.level),
        page=page,
        reached=reached,
        last_escalated_at=at,
    )
    after = replace(after, next_auto_at=auto_due(after, auto_minutes))
    return Change(inc, after, IncidentEvent(EventKind.ESCALATED, at, actor, step.level, page, auto))


def auto_escalate(
    inc: Incident, chain: Sequence[EscalationStep], at: datetime, auto_minutes: int
) -> Outcome:
    """The automatic escalation of ``inc`` at aware ``at``, if it is due (``NOT_DUE`` otherwise)."""
    require_aware(at)
    due = auto_due(inc, auto_minutes)
    if due is None or at < due:
        if inc.status == Status.RESOLVED:
            return Refused(Refusal.ALREADY_RESOLVED, inc)
        return Refused(Refusal.NOT_DUE, inc)
    return escalate(inc, chain, inc.level, None, at, auto_minutes, auto=True)


def acknowledge(inc: Incident, actor: str | None, at: datetime) -> Outcome:
    """``inc`` acknowledged by ``actor`` at aware ``at``; stops auto-escalation."""
    require_aware(at)
    if inc.status == Status.RESOLVED:
        return Refused(Refusal.ALREADY_RESOLVED, inc)
    if inc.status == Status.ACKNOWLEDGED:
        return Refused(Refusal.ALREADY_ACKNOWLEDGED, inc)
    after = replace(
        inc, status=Status.ACKNOWLEDGED, acknowledged_at=at, acknowledged_by=actor, next_auto_at=None
    )
    return Change(inc, after, IncidentEvent(EventKind.ACKNOWLEDGED, at, actor, inc.level))


def resolve(inc: Incident, actor: str | None, at: datetime) -> Outcome:
    """``inc`` resolved by ``actor`` at aware ``at`` (from open or acknowledged)."""
    require_aware(at)
    if inc.status == Status.RESOLVED:
        return Refused(Refusal.ALREADY_RESOLVED, inc)
    after = replace(inc, status=Status.RESOLVED, resolved_at=at, resolved_by=actor, next_auto_at=None)
    return Change(inc, after, IncidentEvent(EventKind.RESOLVED, at, actor, inc.level))


def deliver_queued(inc: Incident, page: Page) -> Incident:
    """``inc`` after the queued ``page`` was delivered: if it is still the current level's page,
    it becomes a person page (the message then says "paged", not "queued")."""
    if inc.page.level == page.level and inc.page.kind == PageKind.QUEUED and inc.page.person == page.person:
        return replace(inc, page=replace(inc.page, kind=PageKind.PERSON))
    return inc
