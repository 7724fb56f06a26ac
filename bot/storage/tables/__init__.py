"""The tables, one module per area, all on the one ``Base`` of ``bot.storage.tables.base``.

- ``base``: ``Base`` (its ``MetaData`` with the constraint naming convention), the id and clock
  column types, ``one_of`` (CHECK constraints for closed sets) and ``table_of``;
- ``seed``: the seed's reference data (calendar, teams, people, rotations, pipelines, runbooks,
  recurring work), replaced as a whole by ``apply_seed``; ``SEED_TABLES`` in reading order;
- ``overrides``, ``meta``, ``changes`` (schedule changes, shift notices), ``audit``,
  ``calendar_tokens``, ``incidents``, ``cover`` (cover requests and their slots), ``paging``
  (contact methods, page plans), ``scheduled``
  (occurrences, deliveries, checklists, meetings): operational state. It names seed entries by
  id as plain text without foreign keys: it is history and must outlive a seed reload that
  removes a person or a pipeline.
  ``calendar_tokens``, ``incidents``, ``alerts`` (routing keys, alerts, events, heartbeats),
  ``scheduled`` (occurrences, deliveries, checklists, meetings): operational state. It names
  seed entries by id as plain text without foreign keys: it is history and must outlive a seed
  reload that removes a person or a pipeline.

Importing this package registers every table on ``Base.metadata`` (Alembic's ``env.py`` and
``bot.storage.migrate`` rely on it). Table modules import ``base`` (and ``bot.core`` for closed
sets of values), never this package nor the repository modules of ``bot.storage``, which import
the tables from here.
"""

from __future__ import annotations

from bot.storage.tables.alerts import AlertEventRow, AlertRow, HeartbeatRow, IntegrationRow
from bot.storage.tables.api import ApiTokenRow, HandoffNoteRow
from bot.storage.tables.audit import AuditRow
from bot.storage.tables.base import CLOCK, ID, NAMING_CONVENTION, Base, one_of, table_of
from bot.storage.tables.calendar_tokens import CalendarTokenRow
from bot.storage.tables.changes import ChangeRow, ShiftNoticeRow
from bot.storage.tables.cover import CoverRequestRow, CoverSlotRow
from bot.storage.tables.incidents import IncidentEventRow, IncidentRow
from bot.storage.tables.meta import MetaRow
from bot.storage.tables.overrides import OverrideRow
from bot.storage.tables.paging import ContactMethodRow, PagePlanRow
from bot.storage.tables.scheduled import (
    ChecklistItemRow,
    ChecklistRow,
    ChecklistTickRow,
    DeliveryRow,
    MeetingAnswerRow,
    MeetingRow,
    OccurrenceRow,
)
from bot.storage.tables.seed import (
    SEED_TABLES,
    AdminRow,
    CalendarRow,
    HolidayRow,
    PersonRow,
    PipelineAliasRow,
    PipelineEscalationRow,
    PipelineOwnerRow,
    PipelineRow,
    PipelineWindowRow,
    RecurringItemRow,
    RecurringRow,
    RecurringRuleRow,
    RotationMemberRow,
    RotationRoleRow,
    RotationRow,
    RunbookEntryRow,
    RunbookIssueRow,
    TeamRow,
)

__all__ = [
    "CLOCK",
    "ID",
    "NAMING_CONVENTION",
    "SEED_TABLES",
    "AdminRow",
    "AlertEventRow",
    "AlertRow",
    "ApiTokenRow",
    "AuditRow",
    "Base",
    "CalendarRow",
    "CalendarTokenRow",
    "ChangeRow",
    "ChecklistItemRow",
    "ChecklistRow",
    "ChecklistTickRow",
    "ContactMethodRow",
    "CoverRequestRow",
    "CoverSlotRow",
    "DeliveryRow",
    "HandoffNoteRow",
    "HeartbeatRow",
    "HolidayRow",
    "IncidentEventRow",
    "IncidentRow",
    "IntegrationRow",
    "MeetingAnswerRow",
    "MeetingRow",
    "MetaRow",
    "OccurrenceRow",
    "OverrideRow",
    "PagePlanRow",
    "PersonRow",
    "PipelineAliasRow",
    "PipelineEscalationRow",
    "PipelineOwnerRow",
    "PipelineRow",
    "PipelineWindowRow",
    "RecurringItemRow",
    "RecurringRow",
    "RecurringRuleRow",
    "RotationMemberRow",
    "RotationRoleRow",
    "RotationRow",
    "RunbookEntryRow",
    "RunbookIssueRow",
    "ShiftNoticeRow",
    "TeamRow",
    "one_of",
    "table_of",
]
