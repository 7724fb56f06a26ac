"""The seed's tables: reference data, replaced as a whole by ``apply_seed``.

Each entry keeps its place in the file in ``position`` so that an export gives the file back in
its own order. Child rows (members, windows, ...) belong to their parent and go with it
(``ON DELETE CASCADE``); references between seed entries are foreign keys, except ``teams.lead``
(people and teams would refer to each other; the seed validator checks it).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.tables.base import CLOCK, ID, Base, one_of, table_of

AFTER_HOURS_ACTIONS = ("page_next_secondary", "queue_next_business_day", "page")
OWNER_KINDS = ("primary", "secondary")
RUNBOOK_SECTIONS = ("data_type", "sla", "oncall_note")
RECURRING_KINDS = ("announcement", "meeting", "checklist")
RULE_KINDS = ("opens", "due")
RULES = (
    "weekly", "nth_business_day", "day_of_month", "month_end_business_days", "same_day", "weekday_of_week",
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ADJUSTS = ("none", "next_business_day", "previous_business_day")


class CalendarRow(Base):
    """The calendar (one row, id 1)."""

    __tablename__ = "calendar"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    timezone: Mapped[str] = mapped_column(String(64))
    holiday_country: Mapped[str] = mapped_column(String(8))
    holiday_subdivision: Mapped[str | None] = mapped_column(String(16))
    month_end_days: Mapped[int] = mapped_column(Integer)


class HolidayRow(Base):
    """The company's extra holidays, in file order."""

    __tablename__ = "calendar_holidays"

    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    date: Mapped[date] = mapped_column(Date, index=True)
    name: Mapped[str] = mapped_column(Text)


class TeamRow(Base):
    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    short_name: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(128))
    lead: Mapped[str | None] = mapped_column(ID)  # a person id; no FK (people refer to teams)


class PersonRow(Base):
    __tablename__ = "people"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id"), index=True)
    slack_user_id: Mapped[str] = mapped_column(String(32), index=True)
    email: Mapped[str] = mapped_column(String(254))


class AdminRow(Base):
    """The seed's admins, in file order."""

    __tablename__ = "admins"

    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)


class RotationRow(Base):
    __tablename__ = "rotations"
    __table_args__ = (CheckConstraint("period_days >= 1", name="period_days_positive"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id"), index=True)
    anchor: Mapped[datetime] = mapped_column(DateTime(timezone=False))  # local wall clock, naive
    period_days: Mapped[int] = mapped_column(Integer)
    usergroup: Mapped[str | None] = mapped_column(String(128))


class RotationMemberRow(Base):
    __tablename__ = "rotation_members"
    __table_args__ = (UniqueConstraint("rotation_id", "person_id"),)

    rotation_id: Mapped[str] = mapped_column(ForeignKey("rotations.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)


class RotationRoleRow(Base):
    __tablename__ = "rotation_roles"
    __table_args__ = (UniqueConstraint("rotation_id", "role_id"),)

    rotation_id: Mapped[str] = mapped_column(ForeignKey("rotations.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    role_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text)
    covers: Mapped[str] = mapped_column(Text)


class PipelineRow(Base):
    """A pipeline with its after-hours rule (``after_hours_*``) and the runbook's critical note."""

    __tablename__ = "pipelines"
    __table_args__ = (
        CheckConstraint(one_of("after_hours_action", AFTER_HOURS_ACTIONS), name="after_hours_action"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(128))
    keywords: Mapped[list[str]] = mapped_column(JSON)
    usergroup: Mapped[str | None] = mapped_column(String(128))
    # the seed's ``topic`` (channel, max_changes_per_day, separator) as written; None: no topic kept
    topic: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after_hours_action: Mapped[str] = mapped_column(String(32))
    after_hours_target: Mapped[str | None] = mapped_column(String(128))  # slot reference
    after_hours_queue_at: Mapped[str | None] = mapped_column(CLOCK)
    after_hours_critical_target: Mapped[str | None] = mapped_column(String(128))  # slot reference
    after_hours_note: Mapped[str] = mapped_column(Text)
    critical_note: Mapped[str] = mapped_column(Text)
    # the seed's ``sla:`` (all None without one): fix_within "7d" | fix_by "end_of_month" [at "17:00"]
    sla_fix_within: Mapped[str | None] = mapped_column(String(16))
    sla_fix_by: Mapped[str | None] = mapped_column(String(32))
    sla_at: Mapped[str | None] = mapped_column(CLOCK)
    arrival_within: Mapped[str | None] = mapped_column(String(16))  # freshness: data within, e.g. "48h"


class PipelineAliasRow(Base):
    __tablename__ = "pipeline_aliases"

    pipeline_id: Mapped[str] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    alias: Mapped[str] = mapped_column(Text)


class PipelineOwnerRow(Base):
    __tablename__ = "pipeline_owners"
    __table_args__ = (CheckConstraint(one_of("kind", OWNER_KINDS), name="kind"),)

    pipeline_id: Mapped[str] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id"), index=True)


class PipelineWindowRow(Base):
    """A coverage window; ``days`` is the list of day types as written (business, weekend, holiday)."""

    __tablename__ = "pipeline_windows"

    pipeline_id: Mapped[str] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(Text)
    days: Mapped[list[str]] = mapped_column(JSON)
    month_end: Mapped[bool | None] = mapped_column(Boolean)
    start_time: Mapped[str] = mapped_column(CLOCK)
    end_time: Mapped[str] = mapped_column(CLOCK)
    primary_slot: Mapped[str] = mapped_column(String(128))
    secondary_slot: Mapped[str | None] = mapped_column(String(128))


class PipelineEscalationRow(Base):
    """The pipeline's escalation contacts (slot references), in order."""

    __tablename__ = "pipeline_escalation"

    pipeline_id: Mapped[str] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    slot: Mapped[str] = mapped_column(String(128))


class RunbookEntryRow(Base):
    """One line of a runbook section: a data type, an SLA or an on-call note."""

    __tablename__ = "runbook_entries"
    __table_args__ = (CheckConstraint(one_of("section", RUNBOOK_SECTIONS), name="section"),)

    pipeline_id: Mapped[str] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"), primary_key=True)
    section: Mapped[str] = mapped_column(String(16), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    text: Mapped[str] = mapped_column(Text)


class RunbookIssueRow(Base):
    """A runbook's common issue with its first check and search keywords."""

    __tablename__ = "runbook_issues"

    pipeline_id: Mapped[str] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    text: Mapped[str] = mapped_column(Text)
    first_check: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(JSON)


class RecurringRow(Base):
    """A recurring-work definition; ``assignees`` are person ids or slot references as written."""

    __tablename__ = "recurring_work"
    __table_args__ = (
        CheckConstraint(one_of("kind", RECURRING_KINDS), name="kind"),
        CheckConstraint(
            "(meeting_start IS NULL) = (meeting_day IS NULL)"
            " AND (meeting_start IS NULL) = (meeting_minutes IS NULL)",
            name="meeting_complete",
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    pipeline_id: Mapped[str | None] = mapped_column(ForeignKey("pipelines.id"), index=True)
    channel: Mapped[str | None] = mapped_column(String(128))
    assignees: Mapped[list[str]] = mapped_column(JSON)
    meeting_day: Mapped[str | None] = mapped_column(String(32))
    meeting_start: Mapped[str | None] = mapped_column(CLOCK)
    meeting_minutes: Mapped[int | None] = mapped_column(Integer)
    reminder: Mapped[str | None] = mapped_column(CLOCK)


class RecurringRuleRow(Base):
    """When a recurring definition opens (``which`` = opens) or is due (``which`` = due)."""

    __tablename__ = "recurring_rules"
    __table_args__ = (
        CheckConstraint(one_of("which", RULE_KINDS), name="which"),
        CheckConstraint(one_of("rule", RULES), name="rule"),
        CheckConstraint(one_of("weekday", WEEKDAYS, nullable=True), name="weekday"),
        CheckConstraint(one_of("adjust", ADJUSTS), name="adjust"),
    )

    recurring_id: Mapped[str] = mapped_column(
        ForeignKey("recurring_work.id", ondelete="CASCADE"), primary_key=True
    )
    which: Mapped[str] = mapped_column(String(8), primary_key=True)
    rule: Mapped[str] = mapped_column(String(32))
    time: Mapped[str] = mapped_column(CLOCK)
    weekday: Mapped[str | None] = mapped_column(String(16))
    n: Mapped[int | None] = mapped_column(Integer)
    day: Mapped[int | None] = mapped_column(Integer)
    adjust: Mapped[str] = mapped_column(String(32))


class RecurringItemRow(Base):
    """A checklist item of a recurring definition, in order."""

    __tablename__ = "recurring_items"

    recurring_id: Mapped[str] = mapped_column(
        ForeignKey("recurring_work.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    text: Mapped[str] = mapped_column(Text)


# The seed's tables, in the order they are read.
SEED_TABLES = tuple(
    table_of(m)
    for m in (
        CalendarRow, HolidayRow, TeamRow, PersonRow, AdminRow,
        RotationRow, RotationMemberRow, RotationRoleRow,
        PipelineRow, PipelineAliasRow, PipelineOwnerRow, PipelineWindowRow, PipelineEscalationRow,
        RunbookEntryRow, RunbookIssueRow, RecurringRow, RecurringRuleRow, RecurringItemRow,
    )
)
