"""Channel topics that say who is on call (issue 14 §3). Pure: explicit instants, no I/O.

A channel's topic is kept by the pipelines whose seed ``topic`` names it (usually one; the
bundled seed's ``#data-investors`` carries both aggregates). What the topic shows is a function
of the *people* only: who is primary and who is backup of each of those pipelines, or that no
one is. So a window boundary that keeps the same people, or an override that names the person
already on call, changes nothing (``people_key`` is equal before and after), while a handoff, a
swap of primary and backup, or coverage ending or resuming does.

- ``topic_channels``: each channel with a topic and its pipelines, in seed order.
- ``seats_at``: who holds each pipeline's seats at an instant.
- ``topic_state``: the seats at an instant and the first later instant the people differ.
- ``our_text``: the bot's part of the topic (plain text: names, no mentions or links), fitted.
- ``split_topic`` / ``compose``: the team's part is kept, ours goes after the separator, and the
  whole fits Slack's 250 characters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.core.calendar import CompanyCalendar, require_aware
from bot.core.coverage import schedule
from bot.core.model import Directory, Override, Pipeline, TopicSpec

TOPIC_LIMIT = 250
"""Slack refuses a longer topic (``too_long``)."""

HORIZON = timedelta(days=8)
"""How far ``topic_state`` looks for the end of the current people; beyond it, no "until"."""

_TINY = timedelta(microseconds=1)
_ELLIPSIS = "…"
# Plain text: nothing Slack could read as markup, a mention or a link.
_UNSAFE = re.compile(r"[<>&\r\n\t]+")
_ON_CALL = "On call:"
_NO_ONE = "No one on call"


@dataclass(frozen=True, slots=True)
class Seats:
    """Who holds one pipeline's seats: ``primary``/``secondary`` person ids, None when empty
    (both None when the pipeline is not covered)."""

    pipeline: str
    primary: str | None
    secondary: str | None


@dataclass(frozen=True, slots=True)
class TopicState:
    """A channel's seats at ``at`` (UTC), and ``until``: the first instant after ``at`` at which
    the people of any of its pipelines differ (None when not within ``HORIZON``)."""

    channel: str
    at: datetime
    seats: tuple[Seats, ...]
    until: datetime | None

    @property
    def key(self) -> str:
        return people_key(self.seats)


def people_key(seats: Sequence[Seats]) -> str:
    """A stable text of who holds the seats: equal exactly when the same people hold the same
    seats (``profit=fin2/de2;growth=-/-``). What "did the people change" compares."""
    return ";".join(f"{s.pipeline}={s.primary or '-'}/{s.secondary or '-'}" for s in seats)


def topic_channels(directory: Directory) -> dict[str, tuple[Pipeline, ...]]:
    """Each channel whose topic the bot keeps, with its pipelines in seed order."""
    out: dict[str, list[Pipeline]] = {}
    for p in directory.pipelines.values():
        if p.topic is not None:
            out.setdefault(p.topic.channel, []).append(p)
    return {c: tuple(ps) for c, ps in out.items()}


def channel_spec(pipelines: Sequence[Pipeline]) -> TopicSpec:
    """The topic settings of a channel (its pipelines agree on them: the seed checks)."""
    spec = pipelines[0].topic
    assert spec is not None
    return spec


def seats_at(
    directory: Directory, cal: CompanyCalendar, pipelines: Sequence[Pipeline], at: datetime,
    overrides: Sequence[Override] = (),
) -> tuple[Seats, ...]:
    """Who holds each pipeline's seats at aware instant ``at`` (overrides applied)."""
    at = require_aware(at)
    out = []
    for p in pipelines:
        seg = schedule(directory, cal, p.id, at, at + _TINY, overrides)[0]
        out.append(_seats(p.id, seg.primary.person if seg.primary else None,
                          seg.secondary.person if seg.secondary else None, seg.covered))
    return tuple(out)


def _seats(pipeline: str, primary: str | None, secondary: str | None, covered: bool) -> Seats:
    return Seats(pipeline, primary, secondary) if covered else Seats(pipeline, None, None)


def topic_state(
    directory: Directory, cal: CompanyCalendar, channel: str, pipelines: Sequence[Pipeline], at: datetime,
    overrides: Sequence[Override] = (), horizon: timedelta = HORIZON,
) -> TopicState:
    """The channel's seats at ``at`` and until when the same people hold them (see ``TopicState``).

    Segments of the engine's ``schedule`` that differ only in window (a boundary that keeps the
    people) or in which override names the person are one span here."""
    at = require_aware(at)
    seats: list[Seats] = []
    until: datetime | None = None
    for p in pipelines:
        segs = schedule(directory, cal, p.id, at, at + horizon, overrides)
        first = segs[0]
        now = _seats(p.id, first.primary.person if first.primary else None,
                     first.secondary.person if first.secondary else None, first.covered)
        seats.append(now)
        for seg in segs[1:]:
            later = _seats(p.id, seg.primary.person if seg.primary else None,
                           seg.secondary.person if seg.secondary else None, seg.covered)
            if later != now:
                until = seg.start if until is None else min(until, seg.start)
                break
    return TopicState(channel, at.astimezone(UTC), tuple(seats), until)


def plain(text: str) -> str:
    """``text`` as topic-safe plain text: no ``<``, ``>``, ``&`` or line breaks (no markup, mention
    or link can form), runs of spaces collapsed."""
    return " ".join(_UNSAFE.sub(" ", text).split())


def zone_label(at: datetime, cal: CompanyCalendar) -> str:
    """The company zone's short name at ``at``: ``EST``/``EDT`` read as ``ET`` (likewise CT, MT,
    PT); other abbreviations as they are (``CET``, ``CEST``)."""
    abbr = at.astimezone(cal.tz).tzname() or ""
    return f"{abbr[0]}T" if re.fullmatch(r"[A-Z][SD]T", abbr) else abbr


def when_text(until: datetime, at: datetime, cal: CompanyCalendar) -> str:
    """``18:00 ET`` on ``at``'s local day, ``Mon 09:00 ET`` within six days, else ``Mon Dec 7 09:00 ET``."""
    local, today = until.astimezone(cal.tz), cal.local_date(at)
    days = (local.date() - today).days
    clock = f"{local:%H:%M} {zone_label(until, cal)}"
    if days == 0:
        return clock
    if 0 < days < 7:
        return f"{local:%a} {clock}"
    return f"{local:%a %b} {local.day} {clock}"


def _name_forms(full: str) -> list[str]:
    """Ways to write a name, longest first: ``Dev Desai``, ``Dev D.``, ``Dev``, cut to 12 chars."""
    full = plain(full)
    words = [w for w in full.split() if w[0].isalpha()] or full.split()
    forms = [full]
    if len(words) > 1:
        forms.append(f"{words[0]} {words[-1][0]}.")
        forms.append(words[0])
    if len(forms[-1]) > 12:
        forms.append(forms[-1][:11] + _ELLIPSIS)
    return forms


def our_texts(directory: Directory, cal: CompanyCalendar, state: TopicState) -> tuple[str, ...]:
    """The bot's part of the channel's topic, plain text, from the fullest to the shortest form.

    One pipeline: ``On call: Dev Desai, backup Fay Ellis, until 18:00 ET. Ask /oncall engagement``;
    not covered: ``No one on call until Mon 09:00 ET. Ask /oncall growth``. Several: ``On call:
    Aggregate Engagement: Bella Adams, backup Drew Doyle; ... until 17:00 ET. Ask /oncall``. The
    shorter forms shorten names (``Dev D.``, then ``Dev``), then write pipeline ids for names,
    then drop the "Ask" hint, then the "until".
    """
    return tuple(dict.fromkeys(_render(directory, cal, state, level) for level in range(len(_LEVELS))))


def our_text(directory: Directory, cal: CompanyCalendar, state: TopicState, limit: int = TOPIC_LIMIT) -> str:
    """The fullest of ``our_texts`` that fits ``limit`` characters (the shortest cut to fit, else)."""
    return fit(our_texts(directory, cal, state), limit)


def fit(texts: Sequence[str], limit: int) -> str:
    """The first of ``texts`` (fullest first) of at most ``limit`` characters, else the last one
    cut there with an ellipsis."""
    for text in texts:
        if len(text) <= limit:
            return text
    last = texts[-1] if texts else ""
    return last if len(last) <= limit else last[: max(limit - 1, 0)] + _ELLIPSIS


# (name form index, pipeline label: "name" | "id", hint, until)
_LEVELS = ((0, "name", True, True), (1, "name", True, True), (2, "name", True, True), (2, "id", True, True),
           (2, "id", False, True), (2, "id", False, False))


def _person(directory: Directory, person: str, form: int) -> str:
    forms = _name_forms(directory.name_of(person))
    return forms[min(form, len(forms) - 1)]


def _render(directory: Directory, cal: CompanyCalendar, state: TopicState, level: int) -> str:
    form, label, hint, with_until = _LEVELS[level]
    until = f" until {when_text(state.until, state.at, cal)}" if with_until and state.until else ""
    single = len(state.seats) == 1
    if single:
        s = state.seats[0]
        ask = f" Ask /oncall {s.pipeline}" if hint else ""
        if s.primary is None:
            return f"{_NO_ONE}{until}.{ask}".rstrip()
        backup = f", backup {_person(directory, s.secondary, form)}" if s.secondary else ""
        comma = "," if until else ""
        return f"{_ON_CALL} {_person(directory, s.primary, form)}{backup}{comma}{until}.{ask}".rstrip()
    parts = []
    for s in state.seats:
        name = plain(directory.pipelines[s.pipeline].name) if label == "name" else s.pipeline
        if s.primary is None:
            parts.append(f"{name}: no one")
            continue
        backup = f", backup {_person(directory, s.secondary, form)}" if s.secondary else ""
        parts.append(f"{name}: {_person(directory, s.primary, form)}{backup}")
    ask = " Ask /oncall" if hint else ""
    return f"{_ON_CALL} {'; '.join(parts)};{until}.{ask}".replace(";.", ".").rstrip()


def is_ours(text: str) -> bool:
    """Whether a topic (or the part after the separator) is one the bot writes."""
    return text.startswith((_ON_CALL, _NO_ONE))


def split_topic(current: str, separator: str, previous: Sequence[str] = ()) -> str:
    """The team's part of the channel's ``current`` topic: the text before the last ``separator``;
    with no separator, nothing when the topic is the bot's own (one of ``previous``, the forms the
    bot wrote last, or any text in the bot's form), else the whole topic (the team wrote it)."""
    current = current.strip()
    human, sep, _ours = current.rpartition(separator.strip() if separator.strip() else separator)
    if sep:
        return human.strip()
    if not current or current in {p.strip() for p in previous} or is_ours(current):
        return ""
    return current


def compose(human: str, ours: Sequence[str], separator: str, limit: int = TOPIC_LIMIT) -> str:
    """The topic to set: the team's part, the separator, then the fullest of ``ours`` (see
    ``our_texts``) that fits beside it; at most ``limit`` characters.

    The team's part stays whole while ours can shrink to fit (down to its shortest form); past
    that the team's part is cut with an ellipsis (it stays first, as the team wrote it). No
    team part: ours alone."""
    human = human.strip()
    if not human:
        return fit(ours, limit)
    room = limit - len(separator)
    mine = fit(ours, max(room - len(human), min(len(ours[-1]) if ours else 0, room)))
    left = room - len(mine)
    if left < 1:
        return fit(ours, limit)
    if len(human) > left:
        human = human[: max(left - 1, 0)].rstrip() + _ELLIPSIS
    return f"{human}{separator}{mine}"
