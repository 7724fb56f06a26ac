"""A validated seed to core values (``to_directory``), and the cross-reference checks that the
validation runs (``Checker``). Without pydantic (the models are only read, by attribute), so that
a one-shot CLI answer converts the seed it reads back from the database without importing it.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import time, timedelta
from typing import TYPE_CHECKING, Any

from bot.core.alerts import parse_duration
from bot.core.model import (
    DEFAULT_AT,
    AfterHours,
    AfterHoursAction,
    CalendarSpec,
    CommonIssue,
    DayType,
    Directory,
    FixKind,
    FixRule,
    Person,
    Pipeline,
    RecurringWork,
    Role,
    Rotation,
    Runbook,
    SlotRef,
    Team,
    TopicSpec,
    Window,
    parse_within,
)
from bot.seed.clock import parse_clock

if TYPE_CHECKING:
    from bot.seed.schema import RuleIn, SeedIn

_OFFSET = re.compile(r"^(?P<base>.+?)(?P<off>[+-]\d+)$")


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


@dataclass
class Checker:
    seed: SeedIn
    problems: list[tuple[tuple[str | int, ...], str]]

    @functools.cached_property
    def rotations(self) -> dict[str, Any]:
        return {r.id: r for r in self.seed.rotations}

    def err(self, loc: tuple[str | int, ...], msg: str) -> None:
        self.problems.append((loc, msg))

    def unique(self, what: str, items: Sequence[Any]) -> None:
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.id in seen:
                self.err((what, i, "id"), f"duplicate id '{item.id}'")
            seen.add(item.id)

    def ref(self, loc: tuple[str | int, ...], kind: str, value: str, known: Iterable[str]) -> bool:
        known = list(known)
        if value not in known:
            self.err(loc, f"unknown {kind} '{value}'{did_you_mean(value, known)}")
            return False
        return True

    def slot(self, loc: tuple[str | int, ...], text: str) -> SlotRef | None:
        rotations = self.rotations
        base, offset, role = text.strip(), 0, None
        if ":" in base:
            base, role = base.split(":", 1)
            known_roles = {r.id for r in rotations[base].roles} if base in rotations else set()
            if role not in known_roles and (m := _OFFSET.match(role)):
                role, offset = m.group("base"), int(m.group("off"))
        elif base not in rotations and (m := _OFFSET.match(base)):
            base, offset = m.group("base"), int(m.group("off"))
        if not self.ref(loc, "rotation", base, rotations):
            return None
        rot = rotations[base]
        if role is not None:
            if not self.ref(loc, f"role of rotation '{base}'", role, [r.id for r in rot.roles]):
                return None
        elif rot.roles:
            roles = ", ".join(f"{base}:{r.id}" for r in rot.roles)
            self.err(loc, f"rotation '{base}' has roles: name one ({roles})")
            return None
        return SlotRef(base, role, offset)

    def run(self) -> None:
        s = self.seed
        self.unique("teams", s.teams)
        self.unique("people", s.people)
        self.unique("rotations", s.rotations)
        self.unique("pipelines", s.pipelines)
        self.unique("recurring", s.recurring)
        teams = [t.id for t in s.teams]
        people = [p.id for p in s.people]
        for i, t in enumerate(s.teams):
            if t.lead is not None:
                self.ref(("teams", i, "lead"), "person", t.lead, people)
        for i, p in enumerate(s.people):
            self.ref(("people", i, "team"), "team", p.team, teams)
        for i, a in enumerate(s.admins):
            self.ref(("admins", i), "person", a, people)
        for i, team_id in enumerate(s.incident_responders):
            self.ref(("incident_responders", i), "team", team_id, teams)
        if len(set(s.incident_responders)) != len(s.incident_responders):
            self.err(("incident_responders",), "a team is listed twice")
        for i, r in enumerate(s.rotations):
            self.ref(("rotations", i, "team"), "team", r.team, teams)
            for j, m in enumerate(r.members):
                self.ref(("rotations", i, "members", j), "person", m, people)
            if len(set(r.members)) != len(r.members):
                self.err(("rotations", i, "members"), "a person is listed twice")
            if r.roles and len(r.roles) > len(r.members):
                self.err(("rotations", i, "roles"), f"{len(r.roles)} roles need at least as many members")
            if len({x.id for x in r.roles}) != len(r.roles):
                self.err(("rotations", i, "roles"), "duplicate role id")
        names: dict[str, str] = {}
        for i, pl in enumerate(s.pipelines):
            loc: tuple[str | int, ...] = ("pipelines", i)
            for key in [pl.id.lower(), pl.name.lower(), *(a.lower() for a in pl.aliases)]:
                if key in names and names[key] != pl.id:
                    self.err((*loc, "aliases"), f"'{key}' already names pipeline '{names[key]}'")
                names[key] = pl.id
            for j, team_id in enumerate(pl.owners.primary):
                self.ref((*loc, "owners", "primary", j), "team", team_id, teams)
            for j, team_id in enumerate(pl.owners.secondary):
                self.ref((*loc, "owners", "secondary", j), "team", team_id, teams)
            for j, w in enumerate(pl.windows):
                self.slot((*loc, "windows", j, "primary"), w.primary)
                if w.secondary is not None:
                    self.slot((*loc, "windows", j, "secondary"), w.secondary)
            ah = pl.after_hours
            if ah.target is not None:
                self.slot((*loc, "after_hours", "target"), ah.target)
            if ah.critical_target is not None:
                self.slot((*loc, "after_hours", "critical_target"), ah.critical_target)
            for j, e in enumerate(pl.escalation):
                self.slot((*loc, "escalation", j), e)
        self.topics()
        pipelines = [p.id for p in s.pipelines]
        for i, rw in enumerate(s.recurring):
            if rw.pipeline is not None:
                self.ref(("recurring", i, "pipeline"), "pipeline", rw.pipeline, pipelines)
            for j, a in enumerate(rw.assignees):
                if a not in people:
                    self.slot(("recurring", i, "assignees", j), a)


    def topics(self) -> None:
        """A topic needs a channel; pipelines sharing a topic's channel agree on its settings."""
        first: dict[str, tuple[str, int, str]] = {}
        for i, pl in enumerate(self.seed.pipelines):
            if pl.topic is None:
                continue
            channel = pl.topic.channel or pl.channel
            if channel is None:
                self.err(("pipelines", i, "topic", "channel"), "a topic needs a channel: name one here or give the "
                         "pipeline a channel")
                continue
            seen = first.setdefault(channel, (pl.id, pl.topic.max_changes_per_day, pl.topic.separator))
            if seen[1:] != (pl.topic.max_changes_per_day, pl.topic.separator):
                self.err(("pipelines", i, "topic"), f"pipeline '{seen[0]}' keeps the topic of {channel} too: "
                         "give both the same max_changes_per_day and separator")


def topic_spec(pipeline: Any) -> TopicSpec | None:
    """The core topic settings of a validated ``PipelineIn`` (None when it keeps no topic)."""
    t = pipeline.topic
    if t is None:
        return None
    channel = t.channel or pipeline.channel
    assert channel is not None  # validated
    return TopicSpec(channel, t.max_changes_per_day, t.separator)


def _slot(checker: Checker, text: str) -> SlotRef:
    ref = checker.slot(("x",), text)
    assert ref is not None  # validated before conversion
    return ref


def _clock(text: str) -> time:
    minutes = parse_clock(text)
    return time(minutes // 60, minutes % 60)


def rule_dict(rule: RuleIn) -> dict[str, Any]:
    """A recurrence rule as ``RecurringWork`` keeps it: ``rule.model_dump(exclude_none=True)``."""
    fields = {"rule": rule.rule, "time": rule.time, "weekday": rule.weekday, "n": rule.n, "day": rule.day,
              "adjust": rule.adjust}
    return {k: value for k, value in fields.items() if value is not None}


def _arrival_within(freshness: Any) -> timedelta | None:
    """A pipeline's ``freshness.arrival_within`` (a ``FreshnessIn`` or a record of its shape)."""
    return parse_duration(freshness.arrival_within) if freshness is not None else None


def _fix_rule(sla: Any) -> FixRule | None:
    """The core fix rule of a pipeline's ``sla:`` (a ``SlaIn`` or a record of its shape)."""
    if sla is None:
        return None
    if sla.fix_within is not None:
        return parse_within(sla.fix_within)
    return FixRule(FixKind.END_OF_MONTH, at=_clock(sla.at) if sla.at else DEFAULT_AT)


def to_directory(seed: SeedIn) -> Directory:
    """Core values of a validated seed (read by attribute only: ``seedrows`` records of the same
    shape do as well as the models)."""
    cal = seed.calendar
    checker = Checker(seed, [])
    teams = {
        t.id: Team(t.id, t.name, t.short_name or t.name.removesuffix(" Team"), t.channel, t.lead) for t in seed.teams
    }
    people = {p.id: Person(p.id, p.name, p.team, p.slack_user_id, p.email) for p in seed.people}
    rotations = {
        r.id: Rotation(
            r.id, r.name, r.team, tuple(r.members), r.anchor,
            tuple(Role(x.id, x.name, x.covers) for x in r.roles), r.period_days, r.usergroup,
        )
        for r in seed.rotations
    }
    pipelines: dict[str, Pipeline] = {}
    for p in seed.pipelines:
        windows = tuple(
            Window(
                name=w.name,
                days=frozenset(DayType(d) for d in w.days),
                start_minute=parse_clock(w.start),
                end_minute=parse_clock(w.end, allow_24=True),
                primary=_slot(checker, w.primary),
                secondary=_slot(checker, w.secondary) if w.secondary else None,
                month_end=w.month_end,
                label=w.label or w.name,
            )
            for w in p.windows
        )
        ah = p.after_hours
        after = AfterHours(
            AfterHoursAction(ah.action),
            _slot(checker, ah.target) if ah.target else None,
            _clock(ah.queue_at) if ah.queue_at else None,
            _slot(checker, ah.critical_target) if ah.critical_target else None,
            ah.note,
        )
        rb = p.runbook
        runbook = Runbook(
            tuple(rb.data_types),
            tuple(CommonIssue(c.text, c.first_check, tuple(c.keywords)) for c in rb.common_issues),
            tuple(rb.slas), tuple(rb.oncall_notes), rb.critical_note,
        )
        pipelines[p.id] = Pipeline(
            p.id, p.name, tuple(p.aliases), p.channel, tuple(p.owners.primary), tuple(p.owners.secondary),
            windows, after, tuple(_slot(checker, e) for e in p.escalation), runbook, tuple(p.keywords), p.usergroup,
            _fix_rule(getattr(p, "sla", None)),
            topic_spec(p),
            _arrival_within(getattr(p, "freshness", None)),
        )
    person_ids = set(people)
    recurring = {
        r.id: RecurringWork(
            id=r.id, kind=r.kind, title=r.title,
            opens=rule_dict(r.opens),
            due=rule_dict(r.due) if r.due else None,
            pipeline=r.pipeline, channel=r.channel,
            assignees=tuple(SlotRef("@person", a) if a in person_ids else _slot(checker, a) for a in r.assignees),
            items=tuple(r.items),
            meeting={"day": r.meeting.day, "start": r.meeting.start, "minutes": r.meeting.minutes}
            if r.meeting else None,
            description=r.description,
            reminder_minute=parse_clock(r.reminder) if r.reminder else None,
        )
        for r in seed.recurring
    }
    return Directory(
        calendar=CalendarSpec(
            cal.timezone, cal.holiday_country, cal.holiday_subdivision,
            tuple((h.date, h.name) for h in cal.extra_holidays), cal.month_end_days,
        ),
        teams=teams, people=people, rotations=rotations, pipelines=pipelines, recurring=recurring,
        admins=tuple(seed.admins), announcement_channel=seed.announcement_channel,
        incident_responders=tuple(seed.incident_responders),
        paging=_paging(getattr(seed, "paging", None)),
    )


def _paging(paging: Any) -> tuple[tuple[str, tuple[int, ...], int], ...]:
    """The seed's notification-rule defaults per severity (``Directory.paging``); () without any."""
    if paging is None:
        return ()
    return tuple((name, tuple(r.method_minutes), int(r.repeat_minutes))
                 for name, r in (("critical", paging.critical), ("normal", paging.normal)))
