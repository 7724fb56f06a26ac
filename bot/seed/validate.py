"""Read a seed file into core values, or say exactly where and what is wrong.

Nothing is loaded from a file with any error: ``load_seed_text`` either returns a complete
``Directory`` or raises ``SeedError`` listing every problem as ``path: message`` (with the YAML
line where it is known).
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.core.model import (
    AfterHours,
    AfterHoursAction,
    CalendarSpec,
    CommonIssue,
    DayType,
    Directory,
    Person,
    Pipeline,
    RecurringWork,
    Role,
    Rotation,
    Runbook,
    SlotRef,
    Team,
    Window,
)
from bot.seed.schema import SeedIn, parse_clock

# libyaml when it is there: the pure-Python parser takes seconds on a 1,000-pipeline file.
_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_BASE_LOADER):  # type: ignore[misc]
    """The safe loader, refusing a mapping that names a key twice (YAML says keys are unique;
    PyYAML would silently keep the last one, e.g. a second ``admins:`` replacing the first)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[tuple[str, str], yaml.Mark] = {}
        for key_node, _value in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue  # (seed files have scalar keys only; the schema refuses anything else)
            key = (key_node.tag, key_node.value)
            first = seen.get(key)
            if first is not None:
                where = f"line {first.line + 1}" + (f", column {first.column + 1}"
                                                    if first.line == key_node.start_mark.line else "")
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key_node.value}' (first at {where})", key_node.start_mark
                )
            seen[key] = key_node.start_mark
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


_LOADER: Any = _UniqueKeyLoader
_OFFSET = re.compile(r"^(?P<base>.+?)(?P<off>[+-]\d+)$")


class SeedError(ValueError):
    """A seed file that cannot be loaded; ``problems`` are ``path: message`` lines."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__(f"{source}: " + "; ".join(self.problems) if len(self.problems) == 1 else
                         f"{source}: {len(self.problems)} problems:\n  " + "\n  ".join(self.problems))


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _fmt_loc(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


class _Lines:
    """Maps a path in the YAML document to its line number, for messages."""

    def __init__(self, text: str) -> None:
        try:
            self.root: yaml.Node | None = yaml.compose(text, Loader=_LOADER)
        except yaml.YAMLError:
            self.root = None

    def line(self, loc: Sequence[str | int]) -> int | None:
        node = self.root
        best = None
        for part in loc:
            if node is None:
                break
            best = node.start_mark.line + 1
            nxt = None
            if isinstance(node, yaml.MappingNode) and isinstance(part, str):
                for k, v in node.value:
                    if getattr(k, "value", None) == part:
                        nxt = v
                        best = k.start_mark.line + 1
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                nxt = node.value[part]
            node = nxt
        if node is not None:
            best = node.start_mark.line + 1
        return best


@dataclass
class _Checker:
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
        pipelines = [p.id for p in s.pipelines]
        for i, rw in enumerate(s.recurring):
            if rw.pipeline is not None:
                self.ref(("recurring", i, "pipeline"), "pipeline", rw.pipeline, pipelines)
            for j, a in enumerate(rw.assignees):
                if a not in people:
                    self.slot(("recurring", i, "assignees", j), a)


def _slot(checker: _Checker, text: str) -> SlotRef:
    ref = checker.slot(("x",), text)
    assert ref is not None  # validated before conversion
    return ref


def _clock(text: str) -> time:
    minutes = parse_clock(text)
    return time(minutes // 60, minutes % 60)


def to_directory(seed: SeedIn) -> Directory:
    """Core values of a validated seed."""
    cal = seed.calendar
    checker = _Checker(seed, [])
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
        )
    person_ids = set(people)
    recurring = {
        r.id: RecurringWork(
            id=r.id, kind=r.kind, title=r.title,
            opens=r.opens.model_dump(exclude_none=True),
            due=r.due.model_dump(exclude_none=True) if r.due else None,
            pipeline=r.pipeline, channel=r.channel,
            assignees=tuple(SlotRef("@person", a) if a in person_ids else _slot(checker, a) for a in r.assignees),
            items=tuple(r.items),
            meeting=r.meeting.model_dump() if r.meeting else None,
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
    )


def parse_seed_text(text: str, source: str = "seed") -> SeedIn:
    """Validate seed YAML; raise ``SeedError`` naming every problem's path (and line)."""
    try:
        raw = yaml.load(text, Loader=_LOADER)  # _LOADER is a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise SeedError(source, [f"{where}: invalid YAML: {exc.problem}"]) from None
    except yaml.YAMLError as exc:
        raise SeedError(source, [f"invalid YAML: {exc}"]) from None
    if not isinstance(raw, dict):
        raise SeedError(source, ["the file must be a mapping with calendar, teams, people, ..."])
    lines: list[_Lines] = []

    def located(loc: Sequence[str | int], msg: str) -> str:
        if not lines:  # composing the node tree again costs; only on the error path
            lines.append(_Lines(text))
        line = lines[0].line(loc)
        return f"{_fmt_loc(loc)}: {msg}" + (f" (line {line})" if line else "")

    try:
        seed = SeedIn.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for e in exc.errors(include_url=False, include_input=False):
            loc = [p for p in e["loc"] if not (isinstance(p, str) and p.startswith(("function-", "literal[")))]
            msg = str(e["msg"]).removeprefix("Value error, ")
            problems.append(located(loc, msg))
        raise SeedError(source, problems) from None
    checker = _Checker(seed, [])
    checker.run()
    if checker.problems:
        raise SeedError(source, [located(loc, msg) for loc, msg in checker.problems])
    return seed


def load_seed_text(text: str, source: str = "seed") -> Directory:
    """A ``Directory`` from seed YAML text, or ``SeedError``."""
    return to_directory(parse_seed_text(text, source))


def read_seed_file(path: str | Path) -> SeedIn:
    """Read and validate a seed file; ``SeedError`` names every problem (or a missing file)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise SeedError(str(p), [f"cannot read: {exc.strerror}"]) from None
    return parse_seed_text(decode_seed_bytes(data, str(p)), str(p))


def decode_seed_bytes(data: bytes, source: str = "seed") -> str:
    """The text of a seed file, which must be UTF-8 (a leading byte-order mark is dropped);
    ``SeedError`` with the line and column of the first byte that is not."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        line = data.count(b"\n", 0, start) + 1
        column = start - (data.rfind(b"\n", 0, start) + 1) + 1
        raise SeedError(source, [
            f"line {line}, column {column}: byte 0x{data[start]:02x} is not UTF-8 "
            "(save the file as UTF-8)"
        ]) from None


def load_seed_file(path: str | Path) -> Directory:
    """A ``Directory`` from a seed file, or ``SeedError`` (also for a missing file)."""
    return to_directory(read_seed_file(path))


def dump_seed(seed: SeedIn) -> str:
    """Deterministic YAML of a seed, in the file's shape (defaults left out)."""
    data = seed.model_dump(mode="json", exclude_defaults=True)
    data = {"version": 1, **data}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
