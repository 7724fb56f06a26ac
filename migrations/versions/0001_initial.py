"""Initial schema: the seed's tables, overrides and meta.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

Written to match bot/storage/models.py exactly: `alembic check` is clean on SQLite and PostgreSQL.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.storage.types

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # the seed
    op.create_table(
        'calendar',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('holiday_country', sa.String(length=8), nullable=False),
        sa.Column('holiday_subdivision', sa.String(length=16), nullable=True),
        sa.Column('month_end_days', sa.Integer(), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_calendar_single_row')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar')),
    )
    op.create_table(
        'calendar_holidays',
        sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('date', sa.Date(), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('position', name=op.f('pk_calendar_holidays')),
    )
    op.create_index(op.f('ix_calendar_holidays_date'), 'calendar_holidays', ['date'], unique=False)
    op.create_table(
        'teams',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('short_name', sa.Text(), nullable=True),
        sa.Column('channel', sa.String(length=128), nullable=True),
        sa.Column('lead', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_teams')),
    )
    op.create_table(
        'people',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('team_id', sa.String(length=64), nullable=False),
        sa.Column('slack_user_id', sa.String(length=32), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_people_team_id_teams')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_people')),
    )
    op.create_index(op.f('ix_people_slack_user_id'), 'people', ['slack_user_id'], unique=False)
    op.create_index(op.f('ix_people_team_id'), 'people', ['team_id'], unique=False)
    op.create_table(
        'admins',
        sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('person_id', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_admins_person_id_people')),
        sa.PrimaryKeyConstraint('position', name=op.f('pk_admins')),
    )
    op.create_index(op.f('ix_admins_person_id'), 'admins', ['person_id'], unique=False)
    op.create_table(
        'rotations',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('team_id', sa.String(length=64), nullable=False),
        sa.Column('anchor', sa.DateTime(), nullable=False),
        sa.Column('period_days', sa.Integer(), nullable=False),
        sa.Column('usergroup', sa.String(length=128), nullable=True),
        sa.CheckConstraint('period_days >= 1', name=op.f('ck_rotations_period_days_positive')),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_rotations_team_id_teams')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rotations')),
    )
    op.create_index(op.f('ix_rotations_team_id'), 'rotations', ['team_id'], unique=False)
    op.create_table(
        'rotation_members',
        sa.Column('rotation_id', sa.String(length=64), nullable=False),
        sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('person_id', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_rotation_members_person_id_people')),
        sa.ForeignKeyConstraint(['rotation_id'], ['rotations.id'], name=op.f('fk_rotation_members_rotation_id_rotations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('rotation_id', 'position', name=op.f('pk_rotation_members')),
        sa.UniqueConstraint('rotation_id', 'person_id', name=op.f('uq_rotation_members_rotation_id_person_id')),
    )
    op.create_index(op.f('ix_rotation_members_person_id'), 'rotation_members', ['person_id'], unique=False)
    op.create_table(
        'rotation_roles',
        sa.Column('rotation_id', sa.String(length=64), nullable=False),
        sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('role_id', sa.String(length=32), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('covers', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['rotation_id'], ['rotations.id'], name=op.f('fk_rotation_roles_rotation_id_rotations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('rotation_id', 'position', name=op.f('pk_rotation_roles')),
        sa.UniqueConstraint('rotation_id', 'role_id', name=op.f('uq_rotation_roles_rotation_id_role_id')),
    )
    op.create_table(
        'pipelines',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('channel', sa.String(length=128), nullable=True),
        sa.Column('keywords', sa.JSON(), nullable=False),
        sa.Column('usergroup', sa.String(length=128), nullable=True),
        sa.Column('after_hours_action', sa.String(length=32), nullable=False),
        sa.Column('after_hours_target', sa.String(length=128), nullable=True),
        sa.Column('after_hours_queue_at', sa.String(length=5), nullable=True),
        sa.Column('after_hours_critical_target', sa.String(length=128), nullable=True),
        sa.Column('after_hours_note', sa.Text(), nullable=False),
        sa.Column('critical_note', sa.Text(), nullable=False),
        sa.CheckConstraint("after_hours_action IN ('page_next_secondary', 'queue_next_business_day', 'page')", name=op.f('ck_pipelines_after_hours_action')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pipelines')),
    )
    op.create_table(
        'pipeline_aliases',
        sa.Column('pipeline_id', sa.String(length=64), nullable=False),
        sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('alias', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['pipeline_id'], ['pipelines.id'], name=op.f('fk_pipeline_aliases_pipeline_id_pipelines'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('pipeline_id', 'position', name=op.f('pk_pipeline_aliases')),
    )
    op.create_table(
        'pipeline_owners',
        sa.Column('pipeline_id', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('team_id', sa.String(length=64), nullable=False),
        sa.CheckConstraint("kind IN ('primary', 'secondary')", name=op.f('ck_pipeline_owners_kind')),
        sa.ForeignKeyConstraint(['pipeline_id'], ['pipelines.id'], name=op.f('fk_pipeline_owners_pipeline_id_pipelines'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_pipeline_owners_team_id_teams')),
        sa.PrimaryKeyConstraint('pipeline_id', 'kind', 'position', name=op.f('pk_pipeline_owners')),
    )
    op.create_index(op.f('ix_pipeline_owners_team_id'), 'pipeline_owners', ['team_id'], unique=False)
    op.create_table(
        'pipeline_windows',
        sa.Column('pipeline_id', sa.String(length=64), nullable=False),
        sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('label', sa.Text(), nullable=False),
        sa.Column('days', sa.JSON(), nullable=False),
        sa.Column('month_end', sa.Boolean(), nullable=True),
        sa.Column('start_time', sa.String(length=5), nullable=False),
        sa.Column('end_time', sa.String(length=5), nullable=False),
        sa.Column('primary_slot', sa.String(length=128), nullable=False),
        sa.Column('secondary_slot', sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(['pipeline_id'], ['pipelines.id'], name=op.f('fk_pipeline_windows_pipeline_id_pipelines'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('pipeline_id', 'position', name=op.f('pk_pipeline_windows')),
    )
    op.create_table(
        'pipeline_escalation',
        sa.Column('pipeline_id', sa.String(length=64), nullable=False),
        sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('slot', sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(['pipeline_id'], ['pipelines.id'], name=op.f('fk_pipeline_escalation_pipeline_id_pipelines'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('pipeline_id', 'position', name=op.f('pk_pipeline_escalation')),
    )
    op.create_table(
        'runbook_entries',
        sa.Column('pipeline_id', sa.String(length=64), nullable=False),
        sa.Column('section', sa.String(length=16), nullable=False),
        sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.CheckConstraint("section IN ('data_type', 'sla', 'oncall_note')", name=op.f('ck_runbook_entries_section')),
        sa.ForeignKeyConstraint(['pipeline_id'], ['pipelines.id'], name=op.f('fk_runbook_entries_pipeline_id_pipelines'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('pipeline_id', 'section', 'position', name=op.f('pk_runbook_entries')),
    )
    op.create_table(
        'runbook_issues',
        sa.Column('pipeline_id', sa.String(length=64), nullable=False),
        sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('first_check', sa.Text(), nullable=False),
        sa.Column('keywords', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['pipeline_id'], ['pipelines.id'], name=op.f('fk_runbook_issues_pipeline_id_pipelines'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('pipeline_id', 'position', name=op.f('pk_runbook_issues')),
    )
    op.create_table(
        'recurring_work',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('pipeline_id', sa.String(length=64), nullable=True),
        sa.Column('channel', sa.String(length=128), nullable=True),
        sa.Column('assignees', sa.JSON(), nullable=False),
        sa.Column('meeting_day', sa.String(length=32), nullable=True),
        sa.Column('meeting_start', sa.String(length=5), nullable=True),
        sa.Column('meeting_minutes', sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('announcement', 'meeting', 'checklist')", name=op.f('ck_recurring_work_kind')),
        sa.CheckConstraint('(meeting_start IS NULL) = (meeting_day IS NULL) AND (meeting_start IS NULL) = (meeting_minutes IS NULL)', name=op.f('ck_recurring_work_meeting_complete')),
        sa.ForeignKeyConstraint(['pipeline_id'], ['pipelines.id'], name=op.f('fk_recurring_work_pipeline_id_pipelines')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recurring_work')),
    )
    op.create_index(op.f('ix_recurring_work_pipeline_id'), 'recurring_work', ['pipeline_id'], unique=False)
    op.create_table(
        'recurring_rules',
        sa.Column('recurring_id', sa.String(length=64), nullable=False),
        sa.Column('which', sa.String(length=8), nullable=False),
        sa.Column('rule', sa.String(length=32), nullable=False),
        sa.Column('time', sa.String(length=5), nullable=False),
        sa.Column('weekday', sa.String(length=16), nullable=True),
        sa.Column('n', sa.Integer(), nullable=True),
        sa.Column('day', sa.Integer(), nullable=True),
        sa.Column('adjust', sa.String(length=32), nullable=False),
        sa.CheckConstraint("adjust IN ('none', 'next_business_day', 'previous_business_day')", name=op.f('ck_recurring_rules_adjust')),
        sa.CheckConstraint("rule IN ('weekly', 'nth_business_day', 'day_of_month', 'month_end_business_days', 'same_day', 'weekday_of_week')", name=op.f('ck_recurring_rules_rule')),
        sa.CheckConstraint("weekday IS NULL OR weekday IN ('monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday')", name=op.f('ck_recurring_rules_weekday')),
        sa.CheckConstraint("which IN ('opens', 'due')", name=op.f('ck_recurring_rules_which')),
        sa.ForeignKeyConstraint(['recurring_id'], ['recurring_work.id'], name=op.f('fk_recurring_rules_recurring_id_recurring_work'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('recurring_id', 'which', name=op.f('pk_recurring_rules')),
    )
    op.create_table(
        'recurring_items',
        sa.Column('recurring_id', sa.String(length=64), nullable=False),
        sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['recurring_id'], ['recurring_work.id'], name=op.f('fk_recurring_items_recurring_id_recurring_work'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('recurring_id', 'position', name=op.f('pk_recurring_items')),
    )

    # operational state
    op.create_table(
        'overrides',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('start', bot.storage.types.UTCDateTime(), nullable=False),
        sa.Column('end', bot.storage.types.UTCDateTime(), nullable=False),
        sa.Column('person', sa.String(length=64), nullable=False),
        sa.Column('rotation', sa.String(length=64), nullable=True),
        sa.Column('role', sa.String(length=32), nullable=True),
        sa.Column('replaces', sa.String(length=64), nullable=True),
        sa.Column('pipeline', sa.String(length=64), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=True),
        sa.Column('created_at', bot.storage.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint('"end" > start', name=op.f('ck_overrides_end_after_start')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_overrides')),
    )
    op.create_index(op.f('ix_overrides_end'), 'overrides', ['end'], unique=False)
    op.create_index(op.f('ix_overrides_start'), 'overrides', ['start'], unique=False)
    op.create_table(
        'meta',
        sa.Column('key', sa.String(length=128), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_meta')),
    )


def downgrade() -> None:
    op.drop_table('meta')
    op.drop_table('overrides')
    op.drop_table('recurring_items')
    op.drop_table('recurring_rules')
    op.drop_table('recurring_work')
    op.drop_table('runbook_issues')
    op.drop_table('runbook_entries')
    op.drop_table('pipeline_escalation')
    op.drop_table('pipeline_windows')
    op.drop_table('pipeline_owners')
    op.drop_table('pipeline_aliases')
    op.drop_table('pipelines')
    op.drop_table('rotation_roles')
    op.drop_table('rotation_members')
    op.drop_table('rotations')
    op.drop_table('admins')
    op.drop_table('people')
    op.drop_table('teams')
    op.drop_table('calendar_holidays')
    op.drop_table('calendar')
