"""The read API's pydantic models: they validate each request's query and each response, and the
OpenAPI document (``bot.http.openapi``) is generated from them, so the three cannot drift apart.

Instants in responses are ISO-8601 strings exactly as ``oncall-bot ... --json`` prints them
(``2026-11-30T23:00:00+00:00``): typed ``str`` with ``format: date-time`` so that validating a
response never rewrites it. Instants in queries are ISO-8601; without an offset they are local
wall-clock times in the company zone (as the CLI reads ``--at``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Instant = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
ISO_HELP = "an ISO-8601 time, e.g. 2026-12-01T10:00 (company zone) or 2026-12-01T15:00Z"


def _iso(value: str, *, date_ok: bool) -> str:
    text = value.strip()
    try:
        datetime.fromisoformat(text)
        return text
    except ValueError:
        pass
    if date_ok:
        try:
            date.fromisoformat(text)
            return text
        except ValueError:
            pass
    raise ValueError(f"'{value[:64]}' is not {ISO_HELP}" + (" or a date (2026-12-01)" if date_ok else ""))


class _Query(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class OncallQuery(_Query):
    """``GET /api/v1/oncall[/PIPELINE]``: ``at`` (default now)."""

    at: str | None = Field(default=None, description=f"When to answer for: {ISO_HELP}. Default: now.",
                           json_schema_extra={"format": "date-time"})

    @field_validator("at")
    @classmethod
    def _at(cls, v: str | None) -> str | None:
        return None if v is None else _iso(v, date_ok=False)


class ScheduleQuery(_Query):
    """``GET /api/v1/schedule/PIPELINE``: ``from`` and ``to`` (a date alone is the whole day)."""

    start: str = Field(alias="from", description=f"Start: {ISO_HELP}, or a date (its 00:00).")
    end: str = Field(alias="to", description=f"End: {ISO_HELP}, or a date (the whole day is included).")

    @field_validator("start", "end")
    @classmethod
    def _bound(cls, v: str) -> str:
        return _iso(v, date_ok=True)


class IncidentsQuery(_Query):
    """``GET /api/v1/incidents``: ``state`` (``open``: not resolved; default every incident)."""

    state: Literal["open", "acknowledged", "resolved", "all"] = Field(
        default="all", description="open: not resolved yet (open or acknowledged); all: every incident.")


class Person(BaseModel):
    id: str
    name: str
    team: str | None
    slack_user_id: str | None


class NextCoverage(BaseModel):
    at: Instant | None
    primary: Person | None
    secondary: Person | None


class OncallAnswer(BaseModel):
    """Who is on call for a pipeline at an instant (``oncall-bot oncall --json``)."""

    pipeline: str
    at: Instant | None
    day_type: Literal["business", "weekend", "holiday"]
    holiday: str | None
    covered: bool
    window: str | None
    primary: Person | None
    secondary: Person | None
    until: Instant | None
    next: NextCoverage | None


class Segment(BaseModel):
    """One stretch of a pipeline's schedule (``oncall-bot schedule --json``)."""

    start: Instant | None
    end: Instant | None
    covered: bool
    window: str | None
    primary: Person | None
    secondary: Person | None


class IncidentOut(BaseModel):
    """An incident with its SLA clock."""

    id: int
    pipeline: str
    summary: str
    severity: Literal["critical", "normal"]
    state: Literal["open", "acknowledged", "resolved"]
    opened_at: Instant | None
    fix_by: Instant | None = Field(description="The fix deadline from the pipeline's SLA; null: none.")
    overdue: bool | None = Field(description="Not resolved and past fix_by now; null without a deadline.")
    level: int
    acknowledged_at: Instant | None
    resolved_at: Instant | None
    permalink: str | None


class ErrorOut(BaseModel):
    """Every 4xx: what went wrong and, for a bad parameter, where (e.g. ``query.at``)."""

    error: Literal["unauthorized", "bad_request", "not_found"]
    message: str
    location: str | None = None
    suggestions: list[str] = []

