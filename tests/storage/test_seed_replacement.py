"""Replacing the whole seed with another company's (and back) on SQLite and PostgreSQL: removed
teams, people and pipelines go; overrides, incidents and audit entries that name them stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.config import Settings
from bot.core.coverage import oncall_at
from bot.core.escalation import escalation_chain
from bot.core.incident import open_incident
from bot.core.model import Directory
from bot.render.incident import page_line, title_line
from bot.seed.validate import dump_seed
from bot.services.queries import load_snapshot
from bot.services.snapshot import Snapshot
from bot.storage import audit
from bot.storage import incidents as repo
from bot.storage.bootstrap import Database, export_seed_text, load_seed_file_into, open_database
from bot.storage.overrides import add_override, overrides_between
from bot.storage.seedstore import apply_seed
from bot.storage.tables import PipelineOwnerRow, PipelineWindowRow, RotationMemberRow

from .helpers import (
    EXAMPLE_DE_PATH,
    EXAMPLE_DE_TEXT,
    SEED_PATH,
    SEED_TEXT,
    seed_of,
    seed_variant,
    without_growth_and_accounts,
)

T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
ALL_FROM, ALL_TO = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


async def test_removing_a_team_that_a_removed_pipeline_names(db: Database) -> None:
    # The reproduction of issue 11: growth's owner rows name the accounts team; both go at once.
    text = seed_variant(without_growth_and_accounts)
    async with db.sessions.begin() as session:
        changes = await apply_seed(session, seed_of(text))
    assert changes["teams"].removed == ["accounts"]
    assert changes["pipelines"].removed == ["growth"]
    assert changes["people"].removed == ["acc1", "acc2"]
    assert changes["rotations"].removed == ["accounts"]
    assert await export_seed_text(db) == dump_seed(seed_of(text))
    async with db.sessions.begin() as session:
        back = await apply_seed(session, seed_of(SEED_TEXT))
    assert back["teams"].added == ["accounts"] and back["pipelines"].added == ["growth"]
    assert await export_seed_text(db) == dump_seed(seed_of(SEED_TEXT))


async def _history(db: Database, directory: Directory) -> tuple[int, int]:
    """An override, an incident with its event and an audit entry naming the bundled seed's
    people and pipelines (acc2, de2, growth); the incident's id and the audit entry's id."""
    snap = Snapshot.build(directory)
    opened = open_incident("growth", "renewals missing", True, "U0ACC0001",
                           escalation_chain(directory, snap.calendar, "growth", T0, critical=True), T0, 15)
    assert isinstance(opened, tuple)
    inc, event = opened
    async with db.sessions.begin() as session:
        await add_override(session, start=T0, end=T0 + timedelta(hours=4), person="acc1", replaces="acc2",
                           rotation="accounts", created_at=T0, reason="dentist", created_by="U0ACC0002")
        saved = await repo.add_incident(session, inc, "trigger-1")
        assert saved is not None
        await repo.add_event(session, saved.id, event)
        audit_id = await audit.record(session, at=T0, actor="de2", action="change.override",
                                      subject="pipeline:growth", after={"person": "acc1", "replaces": "acc2"})
    return saved.id, audit_id


async def test_another_company_replaces_the_seed_and_history_stays(db: Database, directory: Directory) -> None:
    incident_id, audit_id = await _history(db, directory)
    async with db.sessions() as session:
        before = (await repo.get_incident(session, incident_id), await repo.events_of(session, incident_id),
                  await audit.entries(session, subject="pipeline:growth"),
                  await overrides_between(session, ALL_FROM, ALL_TO))

    changes = await load_seed_file_into(db, EXAMPLE_DE_PATH)
    assert changes["teams"].added == ["plattform", "controlling", "vertrieb"]
    assert len(changes["teams"].removed) == 6 and len(changes["people"].removed) == 15
    assert set(changes["pipelines"].removed) == {"profit", "growth", "engagement", "aggregate-profit-growth",
                                                 "aggregate-engagement"}
    assert await export_seed_text(db) == dump_seed(seed_of(EXAMPLE_DE_TEXT))
    async with db.sessions() as session:
        # nothing of the old company's seed is left behind in child tables
        for table, column in ((PipelineOwnerRow, PipelineOwnerRow.team_id),
                              (PipelineWindowRow, PipelineWindowRow.pipeline_id),
                              (RotationMemberRow, RotationMemberRow.person_id)):
            stale = await session.scalar(select(func.count()).select_from(table).where(
                column.in_(["accounts", "growth", "acc2", "de2"])))
            assert stale == 0, table
        # and its history reads as before
        after = (await repo.get_incident(session, incident_id), await repo.events_of(session, incident_id),
                 await audit.entries(session, subject="pipeline:growth"),
                 await overrides_between(session, ALL_FROM, ALL_TO))
    assert after == before
    assert after[0] is not None and after[0].pipeline == "growth"
    assert [e.id for e in after[2]] == [audit_id]

    # the new company's answers come from the database: Wednesday 2 Dec 2026 is week 4 of its
    # Wednesday 10:30 rotations, controlling member 4 mod 3 = ct2 holds Revenue's weekday window
    snap = await load_snapshot(db)
    # the old incident still renders against the new directory, naming what it no longer knows
    assert after[0] is not None
    assert "growth" in title_line(snap.directory, after[0]).lower()
    assert page_line(snap.directory, snap.calendar.tz, after[0])
    answer = oncall_at(snap.directory, snap.calendar, "umsatz", datetime(2026, 12, 2, 12, 0, tzinfo=UTC),
                       snap.overrides)
    assert answer.covered and answer.primary is not None and answer.primary.person == "ct2"

    # and back to the bundled seed: the same text as a database that never saw the other one
    back = await load_seed_file_into(db, SEED_PATH)
    assert set(back["pipelines"].added) == set(directory.pipelines)
    assert await export_seed_text(db) == dump_seed(seed_of(SEED_TEXT))
    async with db.sessions() as session:
        assert await repo.get_incident(session, incident_id) == before[0]
        assert await overrides_between(session, ALL_FROM, ALL_TO) == before[3]


async def test_a_new_database_given_a_file_loads_that_file(db_url: str, tmp_path: Path) -> None:
    said: list[str] = []
    settings = Settings(_env_file=None, database_url=db_url, seed_path=EXAMPLE_DE_PATH)  # type: ignore[call-arg]
    db = await open_database(settings, say=said.append)
    try:
        assert await export_seed_text(db) == dump_seed(seed_of(EXAMPLE_DE_TEXT))
        assert len(said) == 1 and "loaded" in said[0] and "brauhaus-de.yaml" in said[0]
        assert (await load_seed_file_into(db, EXAMPLE_DE_PATH)).unchanged
    finally:
        await db.close()
