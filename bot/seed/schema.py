"""Pydantic models of data/seed.yaml. Shapes and local checks only; cross references are checked
in ``bot.seed.validate`` (with ``bot.seed.convert.Checker``) so that every message can name where and what."""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from bot.core.alerts import parse_duration
from bot.seed.clock import parse_clock

_ID = r"^[a-z0-9][a-z0-9_.-]*$"
Id = Annotated[str, Field(pattern=_ID, min_length=1, max_length=64)]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _closest(word: str, choices: Any) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


@functools.cache
def _holiday_countries() -> frozenset[str]:
    """The country codes (and aliases) the holidays package knows, read from its registry:
    ``holidays.list_supported_countries()`` imports every country's module (about 0.3 s), and a
    seed is validated each time the CLI reads it back from the database."""
    from holidays.registry import EntityLoader

    return frozenset(EntityLoader.get_country_codes())


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExtraHoliday(_Model):
    date: date
    name: str = Field(min_length=1)


class CalendarIn(_Model):
    timezone: str
    holiday_country: str = Field(min_length=2)
    holiday_subdivision: str | None = None
    extra_holidays: list[ExtraHoliday] = []
    month_end_days: int = Field(default=7, ge=1, le=28)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone '{v}'") from exc
        return v

    @field_validator("holiday_country")
    @classmethod
    def _known_country(cls, v: str) -> str:
        if v.upper() not in _holiday_countries():
            raise ValueError(f"unknown holiday country '{v}' (an ISO 3166 code the holidays package knows, "
                             "e.g. US, DE, GB)")
        return v.upper()

    @field_validator("holiday_subdivision")
    @classmethod
    def _known_subdivision(cls, v: str | None, info: ValidationInfo) -> str | None:
        country = info.data.get("holiday_country")
        if v is None or country is None:  # (an unknown country is reported on its own)
            return v
        import holidays

        try:
            holidays.country_holidays(country, subdiv=v)
        except NotImplementedError:
            known = holidays.list_supported_countries(include_aliases=False).get(country, [])
            if not known:
                raise ValueError(f"holiday country {country} has no subdivisions: leave holiday_subdivision out"
                                 ) from None
            upper = {k.upper(): k for k in known}
            aliases = getattr(holidays.country_holidays(country), "subdivisions_aliases", {})
            by_alias = {a.upper(): code for a, code in aliases.items()}
            hint = (f" (did you mean '{upper[v.upper()]}'?)" if v.upper() in upper
                    else _closest(by_alias.get(v.upper(), v), [*known, *aliases]))
            raise ValueError(f"unknown subdivision '{v}' of holiday country {country}{hint}; "
                             f"one of {', '.join(known)}") from None
        return v


class TeamIn(_Model):
    id: Id
    name: str = Field(min_length=1)
    short_name: str | None = None
    channel: str | None = None
    lead: str | None = None


class PersonIn(_Model):
    id: Id
    name: str = Field(min_length=1)
    team: str
    slack_user_id: str = Field(pattern=r"^[UW][A-Z0-9]{2,}$")
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")


class RoleIn(_Model):
    id: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1)
    covers: str = ""


class RotationIn(_Model):
    id: Id
    name: str = Field(min_length=1)
    team: str
    members: list[str] = Field(min_length=1)
    anchor: datetime
    period_days: int = Field(default=7, ge=1, le=366)
    roles: list[RoleIn] = []
    usergroup: str | None = None

    @field_validator("anchor")
    @classmethod
    def _local_anchor(cls, v: datetime) -> datetime:
        if v.tzinfo is not None:
            raise ValueError("anchor is a local wall-clock time in calendar.timezone: drop the UTC offset")
        return v


class WindowIn(_Model):
    name: str = Field(min_length=1)
    label: str = ""
    days: list[Literal["business", "weekend", "holiday"]] = Field(min_length=1)
    month_end: bool | None = None
    start: str
    end: str
    primary: str
    secondary: str | None = None

    @model_validator(mode="after")
    def _times(self) -> WindowIn:
        start = parse_clock(self.start)
        end = parse_clock(self.end, allow_24=True)
        if end <= start:
            raise ValueError(f"end {self.end} must be after start {self.start} (windows do not cross midnight)")
        return self


class AfterHoursIn(_Model):
    action: Literal["page_next_secondary", "queue_next_business_day", "page"]
    target: str | None = None
    queue_at: str | None = None
    critical_target: str | None = None
    note: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> AfterHoursIn:
        if self.action in ("queue_next_business_day", "page") and not self.target:
            raise ValueError(f"action '{self.action}' needs a target")
        if self.action == "queue_next_business_day":
            if not self.queue_at:
                raise ValueError("action 'queue_next_business_day' needs queue_at (HH:MM)")
            parse_clock(self.queue_at)
        return self


class FreshnessIn(_Model):
    """A pipeline's data-arrival rule: data must arrive within ``arrival_within`` (e.g. ``48h``,
    ``2d``, ``90m``) of the previous arrival, else the scheduler tick opens an incident."""

    arrival_within: str

    @model_validator(mode="after")
    def _duration(self) -> FreshnessIn:
        parse_duration(self.arrival_within)
        return self


class OwnersIn(_Model):
    primary: list[str] = Field(min_length=1)
    secondary: list[str] = []


class CommonIssueIn(_Model):
    text: str = Field(min_length=1)
    first_check: str = ""
    keywords: list[str] = []


class RunbookIn(_Model):
    data_types: list[str] = []
    common_issues: list[CommonIssueIn] = []
    slas: list[str] = []
    oncall_notes: list[str] = []
    critical_note: str = ""


class SlaIn(_Model):
    """A pipeline's fix deadline for its incidents: ``fix_within`` (``7d``, ``48h``, ``1w``) or
    ``fix_by: end_of_month`` (the last business day of the month, at ``at``, default 17:00)."""

    fix_within: str | None = Field(default=None, description="e.g. 7d, 48h, 1w: from the instant it opened")
    fix_by: Literal["end_of_month"] | None = Field(
        default=None, description="end_of_month: the last business day of the month the incident opened in")
    at: str | None = Field(default=None, description="fix_by's local time of day (HH:MM), default 17:00")

    @model_validator(mode="after")
    def _one(self) -> SlaIn:
        from bot.core.model import parse_within

        if (self.fix_within is None) == (self.fix_by is None):
            raise ValueError("give exactly one of fix_within (e.g. 7d) and fix_by (end_of_month)")
        if self.fix_within is not None:
            parse_within(self.fix_within)
            if self.at is not None:
                raise ValueError("'at' goes with fix_by, not fix_within")
        if self.at is not None:
            parse_clock(self.at)
        return self


class TopicIn(_Model):
    """Keep a channel's topic naming who is on call for the pipeline (optional)."""

    channel: str | None = Field(default=None, description="the channel (default: the pipeline's channel)")
    max_changes_per_day: int = Field(default=4, ge=1, le=48, description=(
        "at most this many topic changes a local day (every change notifies the channel)"))
    separator: str = Field(default=" | ", min_length=1, max_length=8, description=(
        "the team's text before the last separator stays; the bot writes after it"))


class PipelineIn(_Model):
    id: Id
    name: str = Field(min_length=1)
    aliases: list[str] = []
    channel: str | None = None
    owners: OwnersIn
    keywords: list[str] = []
    windows: list[WindowIn] = []
    after_hours: AfterHoursIn = AfterHoursIn(action="page_next_secondary")
    escalation: list[str] = []
    usergroup: str | None = None
    topic: TopicIn | None = None
    runbook: RunbookIn = RunbookIn()
    sla: SlaIn | None = None
    freshness: FreshnessIn | None = None


class RuleIn(_Model):
    """An occurrence rule. ``rule`` picks the shape:

    - ``weekly``: every ``weekday`` at ``time``;
    - ``nth_business_day``: the ``n``-th business day of each month at ``time``;
    - ``day_of_month``: day ``day`` of each month at ``time``, moved by ``adjust`` when that is not
      a business day;
    - ``month_end_business_days``: each business day of the month-end week at ``time``;
    - (due only) ``same_day``: the opening's day at ``time``; ``weekday_of_week``: ``weekday`` of the
      opening's on-call week (from one handoff to the next, as the rotations' anchors say) at
      ``time``, moved by ``adjust``.
    """

    rule: Literal[
        "weekly", "nth_business_day", "day_of_month", "month_end_business_days", "same_day", "weekday_of_week"
    ]
    time: str
    weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] | None = None
    n: int | None = Field(default=None, ge=1, le=23)
    day: int | None = Field(default=None, ge=1, le=31)
    adjust: Literal["none", "next_business_day", "previous_business_day"] = "none"

    @model_validator(mode="after")
    def _fields(self) -> RuleIn:
        parse_clock(self.time)
        needs = {"weekly": "weekday", "weekday_of_week": "weekday", "nth_business_day": "n", "day_of_month": "day"}
        need = needs.get(self.rule)
        if need and getattr(self, need) is None:
            raise ValueError(f"rule '{self.rule}' needs '{need}'")
        return self


class MeetingIn(_Model):
    day: Literal["first_business_day_of_week"] = "first_business_day_of_week"
    start: str
    minutes: int = Field(ge=5, le=480)

    @field_validator("start")
    @classmethod
    def _start(cls, v: str) -> str:
        parse_clock(v)
        return v


class RecurringIn(_Model):
    id: Id
    kind: Literal["announcement", "meeting", "checklist"]
    title: str = Field(min_length=1)
    description: str = ""
    pipeline: str | None = None
    channel: str | None = None
    opens: RuleIn
    due: RuleIn | None = None
    assignees: list[str] = []
    items: list[str] = []
    meeting: MeetingIn | None = None
    reminder: str | None = None  # checklists: the reminder's time on the business day before due

    @model_validator(mode="after")
    def _kind(self) -> RecurringIn:
        if self.reminder is not None:
            parse_clock(self.reminder)
            if self.kind != "checklist":
                raise ValueError("only a checklist has a reminder")
        if self.opens.rule in ("same_day", "weekday_of_week"):
            raise ValueError(f"opens: rule '{self.opens.rule}' is only for due")
        if self.kind == "checklist" and (self.due is None or not self.items):
            raise ValueError("a checklist needs due and at least one item")
        if self.kind == "meeting" and self.meeting is None:
            raise ValueError("a meeting needs 'meeting' (day, start, minutes)")
        return self


class NotifyRulesIn(_Model):
    """Notification rules of one severity: minutes after a page starts of the 1st, 2nd, ...
    contact method (the last holds for the rest), and the repeat interval of the last step."""

    method_minutes: list[Annotated[int, Field(ge=0, le=1440)]] = Field(min_length=1)
    repeat_minutes: int = Field(default=10, ge=1, le=1440)


class PagingIn(_Model):
    """Defaults of the notification rules per severity; a person may only make them faster."""

    critical: NotifyRulesIn = NotifyRulesIn(method_minutes=[0, 5], repeat_minutes=10)
    normal: NotifyRulesIn = NotifyRulesIn(method_minutes=[15, 30], repeat_minutes=10)


class SeedIn(_Model):
    version: Literal[1] = 1
    calendar: CalendarIn
    admins: list[str] = []
    announcement_channel: str | None = None
    # Team ids whose members may press Acknowledge / Escalate / Resolve on every incident, besides
    # the pipeline's owning teams, the people the incident paged and the admins (who always may).
    incident_responders: list[str] = Field(default=[], description=(
        "Teams whose members may act on every incident, besides the owning teams, the people it paged and admins."))
    paging: PagingIn | None = Field(default=None, description=(
        "Notification-rule defaults per severity (contact methods after the Slack DM)."))
    teams: list[TeamIn] = Field(min_length=1)
    people: list[PersonIn] = []
    rotations: list[RotationIn] = []
    pipelines: list[PipelineIn] = []
    recurring: list[RecurringIn] = []


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the seed file, for editors."""
    schema = SeedIn.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "On-call bot seed file"
    return schema
