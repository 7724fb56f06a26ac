"""Notification rules as pure step planning: when each of a paged person's contact methods fires.

A page to a person is a Slack DM at once (``bot.services.incidents.outbox``) and then, while the
incident stays unacknowledged at that level, each of the person's contact methods (Apprise URLs,
``bot.services.paging``) at its minutes after the page started, the last one repeated every
``repeat_minutes``. Nothing here reads a clock or a database: every function takes the instants
it plans for.

Decisions:

- **Defaults per severity, a person only faster.** The seed gives, per severity, the minutes of
  the 1st, 2nd, ... method (the last number holds for the rest) and the repeat interval
  (``NotifyRules``). A method's own ``after`` minutes count only when smaller than the default
  for its place: nobody can make the bot wait longer before it tries to wake them.
- **Do Not Disturb.** When Slack says the person is in Do Not Disturb (or snoozed) at the start
  of a critical page, the DM is not relied on: their first method fires at once, the others at
  their own minutes.
- **Who may be woken.** A critical page may use every method. A non-critical page outside the
  pipeline's coverage never uses phone-type methods (SMS, voice calls: ``PHONE_SCHEMES``).
- **Order.** Steps never go back in time: a method's offset is at least the previous one's.
- **Stable keys.** A step is named by the method's id and its repeat number (``Step.key``), so
  a replanning after a person adds a method adds steps and never renumbers the old ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.calendar import require_aware

PHONE_SCHEMES = frozenset({
    "twilio", "sinch", "bulksms", "clicksend", "msg91", "kavenegar", "d7sms", "smsmgr", "sns",
    "plivo", "vonage", "nexmo", "messagebird", "tel", "sms", "voice", "signal", "whatsapp",
    "bulkvs", "seven", "smseagle", "burstsms", "freemobile", "httpsms", "threema",
})
"""Apprise schemes that reach a phone as SMS or a call: never used by a non-critical page
outside coverage."""

MAX_REPEATS = 144
"""At most this many repeats of the last method per page (24 h at the default 10 minutes)."""


@dataclass(frozen=True, slots=True)
class ContactMethod:
    """One way to reach ``person``: an Apprise URL kept encrypted in storage (never here).

    ``scheme`` is the URL's scheme (``mailto``, ``ntfy``, ``twilio``...); ``after_minutes`` the
    person's own wish (None: the seed's default for its place); ``position`` its place in order.
    """

    id: int
    person: str
    label: str
    scheme: str
    after_minutes: int | None
    position: int

    @property
    def phone_type(self) -> bool:
        """Whether it reaches a phone as SMS or a call (a non-critical page after hours skips it)."""
        return self.scheme.lower() in PHONE_SCHEMES


@dataclass(frozen=True, slots=True)
class NotifyRules:
    """The seed's defaults for one severity: minutes after the page started of the 1st, 2nd, ...
    method (the last holds for the rest) and the interval between repeats of the last step."""

    method_minutes: tuple[int, ...] = (5,)
    repeat_minutes: int = 10

    def default_after(self, index: int) -> int:
        """The default minutes of the method at 0-based ``index``."""
        if not self.method_minutes:
            return 0
        return self.method_minutes[min(index, len(self.method_minutes) - 1)]


DEFAULT_RULES = {"critical": NotifyRules((0, 5), 10), "normal": NotifyRules((15, 30), 10)}
"""What applies when the seed says nothing (seed ``paging``)."""


def rules_for(paging: Sequence[tuple[str, tuple[int, ...], int]], critical: bool) -> NotifyRules:
    """The rules of a severity from the seed's ``paging`` (``Directory.paging``), else the defaults."""
    name = "critical" if critical else "normal"
    for severity, minutes, repeat in paging:
        if severity == name:
            return NotifyRules(tuple(minutes), repeat)
    return DEFAULT_RULES[name]


@dataclass(frozen=True, slots=True)
class PageStart:
    """How a page to a person began: at ``start`` (aware), ``critical`` or not, whether it may
    wake anyone with a phone-type method (``may_wake``) and whether Slack said the person was in
    Do Not Disturb then (``in_dnd``)."""

    start: datetime
    critical: bool
    may_wake: bool
    in_dnd: bool


@dataclass(frozen=True, slots=True)
class Step:
    """One notification: ``method`` at ``at`` (aware); ``repeat`` 0 for its first time."""

    at: datetime
    method: ContactMethod
    repeat: int = 0

    @property
    def key(self) -> str:
        """The step's stable name within one page: ``METHOD_ID`` or ``METHOD_ID:rREPEAT``."""
        return str(self.method.id) if self.repeat == 0 else f"{self.method.id}:r{self.repeat}"


def usable(methods: Sequence[ContactMethod], page: PageStart) -> tuple[ContactMethod, ...]:
    """The methods a page may use, in order (``position``, then id): phone-type methods only
    when the page may wake someone."""
    ordered = sorted(methods, key=lambda m: (m.position, m.id))
    return tuple(m for m in ordered if page.may_wake or not m.phone_type)


def offsets(methods: Sequence[ContactMethod], rules: NotifyRules, in_dnd: bool) -> tuple[int, ...]:
    """Minutes after the page started of each of ``methods`` (already ``usable``): the person's
    ``after`` only when faster than the default; never earlier than the previous method; the
    first at once when the person is in Do Not Disturb."""
    out: list[int] = []
    for i, m in enumerate(methods):
        default = rules.default_after(i)
        minutes = default if m.after_minutes is None else min(max(m.after_minutes, 0), default)
        if i == 0 and in_dnd:
            minutes = 0
        if out:
            minutes = max(minutes, out[-1])
        out.append(minutes)
    return tuple(out)


def plan(methods: Sequence[ContactMethod], rules: NotifyRules, page: PageStart, until: datetime) -> tuple[Step, ...]:
    """Every step of ``page`` due at or before ``until`` (aware), in time order: each usable method
    at its offset, then the last one again every ``rules.repeat_minutes`` (at most
    ``MAX_REPEATS`` times). Empty when the person has no usable method."""
    require_aware(page.start)
    require_aware(until)
    chosen = usable(methods, page)
    if not chosen:
        return ()
    steps = [Step(page.start + timedelta(minutes=m), method)
             for method, m in zip(chosen, offsets(chosen, rules, page.in_dnd), strict=True)]
    due = [s for s in steps if s.at <= until]
    if len(due) == len(steps) and rules.repeat_minutes > 0:
        last = steps[-1]
        every = timedelta(minutes=rules.repeat_minutes)
        for n in range(1, MAX_REPEATS + 1):
            at = last.at + every * n
            if at > until:
                break
            due.append(Step(at, last.method, n))
    return tuple(due)


def next_step_at(methods: Sequence[ContactMethod], rules: NotifyRules, page: PageStart,
                 after: datetime) -> datetime | None:
    """When the first step later than ``after`` is due (None when there is none)."""
    chosen = usable(methods, page)
    if not chosen:
        return None
    times = [page.start + timedelta(minutes=m) for m in offsets(chosen, rules, page.in_dnd)]
    later = [t for t in times if t > after]
    if later:
        return min(later)
    if rules.repeat_minutes <= 0:
        return None
    every = timedelta(minutes=rules.repeat_minutes)
    n = int((after - times[-1]) / every) + 1
    return times[-1] + every * n if n <= MAX_REPEATS else None


def in_dnd(info: dict[str, object], at: datetime) -> bool:
    """Whether Slack's ``dnd.info`` answer says the user is in Do Not Disturb or snoozed at
    aware ``at``: snoozed, or inside ``[next_dnd_start_ts, next_dnd_end_ts)`` with DND enabled."""
    require_aware(at)
    if info.get("snooze_enabled"):
        end = info.get("snooze_endtime")
        return not isinstance(end, (int, float)) or at.timestamp() < float(end)
    if not info.get("dnd_enabled"):
        return False
    start, end = info.get("next_dnd_start_ts"), info.get("next_dnd_end_ts")
    if not isinstance(start, (int, float)) or not isinstance(end, (int, float)):
        return False
    return float(start) <= at.timestamp() < float(end)
