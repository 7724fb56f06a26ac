"""What a command answers: plain values that every transport renders (Slack, console, CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.answer import OnCallAnswer, Segment
from bot.core.channels import ChannelPipelines
from bot.core.model import Person, Pipeline, SlotRef
from bot.core.search import OwnerHit


@dataclass(frozen=True, slots=True)
class OncallReport:
    at: datetime
    answers: tuple[OnCallAnswer, ...]
    asked_time: bool = False  # the user named a time (so "now" is not the right word)
    scope: ChannelPipelines | None = None  # asked without a pipeline in this channel: its pipelines only


@dataclass(frozen=True, slots=True)
class ScheduleReport:
    pipeline: Pipeline
    start: datetime
    end: datetime
    segments: tuple[Segment, ...]


@dataclass(frozen=True, slots=True)
class Shift:
    pipeline: str
    role: str  # "primary" | "secondary"
    window: str | None
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class PersonReport:
    person: Person
    at: datetime
    slots: tuple[SlotRef, ...]  # the rotation slots the person holds at ``at``
    next_slots: tuple[SlotRef, ...]  # the slots they hold from the next handoff
    next_handoff: datetime | None
    on_call_now: tuple[Shift, ...]
    next_shifts: tuple[Shift, ...]
    is_self: bool = False


@dataclass(frozen=True, slots=True)
class RunbookReport:
    pipeline: Pipeline
    answer: OnCallAnswer
    scope: ChannelPipelines | None = None  # asked without a pipeline in this channel


@dataclass(frozen=True, slots=True)
class OwnersReport:
    query: str
    hits: tuple[OwnerHit, ...]


@dataclass(frozen=True, slots=True)
class NotFound:
    kind: str  # "pipeline" | "person"
    text: str
    suggestions: tuple[str, ...]
    choices: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """A user mistake: said to the user (ephemerally), changes nothing."""

    message: str
    command: str = ""


@dataclass(frozen=True, slots=True)
class HelpReport:
    command: str


Result = OncallReport | ScheduleReport | PersonReport | RunbookReport | OwnersReport | NotFound | Problem | HelpReport
