"""Answer a parsed command from a snapshot at an explicit instant. Pure: no I/O, no clock."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.commands.common import resolve_person
from bot.commands.parse import (
    Command,
    Help,
    OncallAll,
    OncallPerson,
    OncallPipeline,
    OncallSchedule,
    OpenIncident,
    Runbook,
    WhoOwns,
)
from bot.commands.results import (
    HelpReport,
    NotFound,
    OncallReport,
    OwnersReport,
    PersonReport,
    Problem,
    Result,
    RunbookReport,
    ScheduleReport,
    Shift,
)
from bot.core.channels import ChannelPipelines, pipelines_of_channel
from bot.core.coverage import oncall_at, schedule
from bot.core.model import Person, Pipeline
from bot.core.rotation import roles_of, week_index, week_start
from bot.core.search import find_owners, find_pipeline
from bot.core.when import WhenError, parse_when
from bot.services.snapshot import Snapshot

SHIFT_LOOKAHEAD = timedelta(days=21)
MAX_NEXT_SHIFTS = 5


def resolve_pipeline(snap: Snapshot, text: str) -> Pipeline | NotFound:
    """The pipeline ``text`` names (id, name or alias, any case), or ``NotFound`` with suggestions."""
    match = find_pipeline(snap.directory, text)
    if match.pipeline is not None:
        return match.pipeline
    return NotFound("pipeline", text, match.suggestions, tuple(snap.directory.pipelines))


def answer(
    command: Command, snap: Snapshot, now: datetime, user: str | None = None, channel: str | None = None
) -> Result:
    """The result of ``command`` asked at ``now`` (aware) by person id ``user`` (None if unknown)
    in ``channel`` (``#name``; None when unknown or not a channel).

    ``/oncall`` and ``/oncall at WHEN`` without a pipeline, and ``/runbook`` without one, answer
    for the channel's pipelines when it has some (``bot.core.channels``); ``/oncall all`` answers
    for every pipeline wherever it is asked."""
    d, cal, ov = snap.directory, snap.calendar, snap.overrides
    if isinstance(command, Help):
        return HelpReport(command.command)
    if isinstance(command, OncallAll | OncallPipeline):
        at = now
        if command.at is not None:
            try:
                at = parse_when(command.at, now, cal.tz)
            except WhenError as exc:
                return Problem(str(exc), "/oncall")
        if isinstance(command, OncallAll):
            scope = None if command.everything else pipelines_of_channel(d, channel)
            ids = scope.pipelines if scope is not None else tuple(d.pipelines)
            answers = tuple(oncall_at(d, cal, pid, at, ov) for pid in ids)
            return OncallReport(at, answers, command.at is not None, scope)
        found = resolve_pipeline(snap, command.pipeline)
        if isinstance(found, NotFound):
            person = resolve_person(snap, command.pipeline, user) if command.at is None else None
            if isinstance(person, Person):  # "/oncall fe2", "/oncall Fay Ellis": a person, not a pipeline
                return person_report(snap, person, now, is_self=person.id == user)
            return found
        return OncallReport(at, (oncall_at(d, cal, found.id, at, ov),), command.at is not None)
    if isinstance(command, OncallSchedule):
        found = resolve_pipeline(snap, command.pipeline)
        if isinstance(found, NotFound):
            return found
        end = now + timedelta(weeks=command.weeks)
        return ScheduleReport(found, now, end, tuple(schedule(d, cal, found.id, now, end, ov)))
    if isinstance(command, OncallPerson):
        person = resolve_person(snap, command.who, user)
        if not isinstance(person, Person):
            return person
        return person_report(snap, person, now, is_self=person.id == user)
    if isinstance(command, Runbook):
        if not command.pipeline:
            return _channel_runbook(snap, now, pipelines_of_channel(d, channel))
        found = resolve_pipeline(snap, command.pipeline)
        if isinstance(found, NotFound):
            return found
        return RunbookReport(found, oncall_at(d, cal, found.id, now, ov))
    if isinstance(command, WhoOwns):
        hits = tuple(find_owners(d, command.query))
        return OwnersReport(command.query, hits)
    if isinstance(command, OpenIncident):
        found = resolve_pipeline(snap, command.pipeline)
        if isinstance(found, NotFound):
            return found
        return Problem("Incidents are opened in Slack: use /incident there.", "/incident")
    # Change commands write: the changes service answers them (bot.services.changes), never this
    # pure function; a transport that routes one here gets a clear answer, not a crash.
    return Problem("That changes the schedule: ask me in Slack or the console.", "/oncall")


def _channel_runbook(snap: Snapshot, now: datetime, scope: ChannelPipelines | None) -> Result:
    """``/runbook`` without a pipeline: the channel's pipeline's runbook; which one, when it has several."""
    if scope is None:
        return Problem("Which pipeline? Try `/runbook profit`.", "/runbook")
    d = snap.directory
    if len(scope.pipelines) > 1:
        options = " or ".join(f"`/runbook {pid}` ({d.pipelines[pid].name})" for pid in scope.pipelines)
        return Problem(f"Which pipeline? {scope.channel} is about several: {options}.", "/runbook")
    pipeline = d.pipelines[scope.pipelines[0]]
    return RunbookReport(pipeline, oncall_at(d, snap.calendar, pipeline.id, now, snap.overrides), scope)


def _involved_pipelines(snap: Snapshot, person: Person) -> list[str]:
    """Pipelines whose windows use a rotation the person is in (or that an override gives them)."""
    d = snap.directory
    rotations = {r.id for r in d.rotations.values() if person.id in r.members}
    overridden = any(o.person == person.id for o in snap.overrides)
    out = []
    for p in d.pipelines.values():
        slots = [w.primary for w in p.windows] + [w.secondary for w in p.windows if w.secondary]
        if overridden or any(s.rotation in rotations for s in slots):
            out.append(p.id)
    return out


def person_shifts(snap: Snapshot, person: Person, start: datetime, end: datetime) -> list[Shift]:
    """The person's on-call stretches in ``[start, end)`` over every pipeline, by start time."""
    d, cal, ov = snap.directory, snap.calendar, snap.overrides
    shifts: list[Shift] = []
    for pid in _involved_pipelines(snap, person):
        for seg in schedule(d, cal, pid, start, end, ov):
            for role, holder in (("primary", seg.primary), ("secondary", seg.secondary)):
                if holder is not None and holder.person == person.id:
                    shifts.append(Shift(pid, role, seg.window, seg.start, seg.end))
    shifts.sort(key=lambda s: (s.start, s.pipeline))
    return shifts


def person_report(snap: Snapshot, person: Person, now: datetime, *, is_self: bool = False) -> PersonReport:
    """A person's slots now and from the next handoff, their current and next shifts."""
    d, cal = snap.directory, snap.calendar
    slots = tuple(roles_of(d, person.id, now, snap.overrides))
    handoffs = [
        week_start(r, week_index(r, now, cal.tz) + 1, cal.tz) for r in d.rotations.values() if person.id in r.members
    ]
    next_handoff = min(handoffs) if handoffs else None
    next_slots = tuple(roles_of(d, person.id, next_handoff, snap.overrides)) if next_handoff else ()
    shifts = person_shifts(snap, person, now, now + SHIFT_LOOKAHEAD)
    current = tuple(s for s in shifts if s.start <= now)
    upcoming = tuple(s for s in shifts if s.start > now)[:MAX_NEXT_SHIFTS]
    return PersonReport(person, now, slots, next_slots, next_handoff, current, upcoming, is_self)
