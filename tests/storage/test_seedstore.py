"""Loading the seed into the database and reading it back, on both dialects."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.core.model import Directory
from bot.seed.validate import SeedError, dump_seed
from bot.storage.bootstrap import Database, export_seed_text, load_seed_file_into, open_database
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade
from bot.storage.overrides import add_override, overrides_between
from bot.storage.seedstore import NoSeed, apply_seed, export_seed, has_seed, load_directory
from bot.storage.tables import PipelineWindowRow, RotationMemberRow

from .helpers import SEED_TEXT, seed_of, seed_variant, without_growth_and_acc2

T0 = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
FILE_DUMP = dump_seed(seed_of(SEED_TEXT))


async def _apply(db: Database, text: str) -> Any:
    async with db.sessions.begin() as session:
        return await apply_seed(session, seed_of(text))


async def test_first_load_adds_everything(db_url: str) -> None:
    engine = create_engine(db_url)
    await upgrade(engine)
    sessions = session_factory(engine)
    try:
        async with sessions() as session:
            assert not await has_seed(session)
            with pytest.raises(NoSeed):
                await export_seed(session)
        async with sessions.begin() as session:
            changes = await apply_seed(session, seed_of(SEED_TEXT))
        assert changes.counts() == {
            "calendar": (1, 0, 0), "settings": (1, 0, 0), "teams": (6, 0, 0), "people": (15, 0, 0),
            "rotations": (5, 0, 0), "pipelines": (5, 0, 0), "recurring": (9, 0, 0),
        }
        assert not changes.unchanged
        async with sessions() as session:
            assert await has_seed(session)
    finally:
        await engine.dispose()


async def test_loading_the_same_file_again_changes_nothing(db: Database) -> None:
    changes = await _apply(db, SEED_TEXT)
    assert changes.unchanged
    assert changes.summary() == "no changes"
    assert await export_seed_text(db) == FILE_DUMP


async def test_export_is_the_file_and_survives_a_round_trip(db: Database, tmp_path: Path) -> None:
    text = await export_seed_text(db)
    assert text == FILE_DUMP
    # Into a second database (SQLite, whatever the first one is) and out again: the same text.
    path = tmp_path / "exported.yaml"
    path.write_text(text, encoding="utf-8")
    second = await open_database(
        Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'second.db'}",  # type: ignore[call-arg]
                 seed_path=path),
        say=lambda _line: None,
    )
    try:
        assert await export_seed_text(second) == text
        assert (await load_seed_file_into(second, path)).unchanged
    finally:
        await second.close()


async def test_removed_entries_are_removed(db: Database) -> None:
    changes = await _apply(db, seed_variant(without_growth_and_acc2))
    assert changes["pipelines"].removed == ["growth"]
    assert changes["people"].removed == ["acc2"]
    assert changes["recurring"].removed == ["growth-weekly-status"]
    assert changes["rotations"].updated == ["accounts"]
    assert changes["pipelines"].updated == ["engagement", "aggregate-profit-growth", "aggregate-engagement"]
    assert changes["teams"].unchanged and changes["calendar"].unchanged
    async with db.sessions() as session:
        seed = await export_seed(session)
        windows = await session.scalar(
            select(func.count()).select_from(PipelineWindowRow).where(PipelineWindowRow.pipeline_id == "growth")
        )
        seats = await session.scalar(
            select(func.count()).select_from(RotationMemberRow).where(RotationMemberRow.person_id == "acc2")
        )
    assert [p.id for p in seed.pipelines] == ["profit", "engagement", "aggregate-profit-growth",
                                              "aggregate-engagement"]
    assert "acc2" not in [p.id for p in seed.people]
    assert windows == 0 and seats == 0
    assert await export_seed_text(db) == dump_seed(seed_of(seed_variant(without_growth_and_acc2)))
    # and back: everything returns in the file's order
    back = await _apply(db, SEED_TEXT)
    assert back["pipelines"].added == ["growth"] and back["people"].added == ["acc2"]
    assert await export_seed_text(db) == FILE_DUMP


async def test_a_changed_entry_is_updated(db: Database) -> None:
    def later_profit_window(raw: dict[str, Any]) -> None:
        raw["pipelines"][0]["windows"][0]["end"] = "19:00"
        raw["announcement_channel"] = "#oncall"
        raw["calendar"]["extra_holidays"].append({"date": "2028-11-24", "name": "Day after Thanksgiving"})

    text = seed_variant(later_profit_window)
    changes = await _apply(db, text)
    assert changes.counts()["pipelines"] == (0, 1, 0)
    assert changes["pipelines"].updated == ["profit"]
    assert changes["settings"].updated == ["settings"] and changes["calendar"].updated == ["calendar"]
    assert changes["people"].unchanged
    assert await export_seed_text(db) == dump_seed(seed_of(text))


async def test_overrides_survive_a_reload(db: Database) -> None:
    async with db.sessions.begin() as session:
        kept = await add_override(session, start=T0, end=T0.replace(hour=20), person="acc1", replaces="acc2",
                                  created_at=T0, reason="vacation")
    await _apply(db, seed_variant(without_growth_and_acc2))  # even one without the person it names
    await _apply(db, SEED_TEXT)
    async with db.sessions() as session:
        assert await overrides_between(session, T0, T0.replace(hour=23)) == [kept]


async def test_a_bad_seed_changes_nothing(db: Database, tmp_path: Path) -> None:
    before = await export_seed_text(db)
    bad = tmp_path / "bad.yaml"

    def broken(raw: dict[str, Any]) -> None:
        raw["pipelines"] = raw["pipelines"][:2]  # a removal that would apply...
        raw["people"][0]["team"] = "financ"  # ...but the file has an error

    bad.write_text(seed_variant(broken), encoding="utf-8")
    with pytest.raises(SeedError, match="unknown team 'financ'"):
        await load_seed_file_into(db, bad)
    with pytest.raises(SeedError, match="cannot read"):
        await load_seed_file_into(db, tmp_path / "missing.yaml")
    assert await export_seed_text(db) == before


async def test_a_failed_apply_rolls_back(db: Database) -> None:
    before = await export_seed_text(db)
    with pytest.raises(RuntimeError):
        async with db.sessions.begin() as session:
            changes = await apply_seed(session, seed_of(seed_variant(without_growth_and_acc2)))
            assert changes["pipelines"].removed == ["growth"]
            raise RuntimeError("the caller fails after the load")
    assert await export_seed_text(db) == before


async def test_load_directory_is_the_seed_and_follows_changes(db: Database, directory: Directory) -> None:
    async with db.sessions() as session:
        first = await load_directory(session)
        again = await load_directory(session)
    assert first == directory
    assert again is first  # the seed did not change: answered from memory
    await _apply(db, seed_variant(without_growth_and_acc2))
    async with db.sessions() as session:
        changed = await load_directory(session)
    assert "growth" not in changed.pipelines and "acc2" not in changed.people
    assert changed.rotations["accounts"].members == ("acc1",)


def _every_optional_field(raw: dict[str, Any]) -> None:
    """Fill in (or leave out) what the shipped seed does not: subdivision, bare team, roles-free
    rotation options, a window without secondary, a pipeline with defaults only, and so on."""
    raw["calendar"]["holiday_subdivision"] = "NY"
    raw["calendar"]["month_end_days"] = 5
    raw["calendar"]["extra_holidays"].insert(0, {"date": "2027-12-24", "name": "Christmas Eve"})
    del raw["announcement_channel"]
    raw["admins"] = ["de2", "de1"]
    raw["teams"].append({"id": "ops", "name": "Ops"})
    raw["people"].append({"id": "op1", "name": "Olu Park", "team": "ops", "slack_user_id": "W0OPS0001",
                          "email": "op1@example.com"})
    raw["rotations"].append({"id": "ops", "name": "Ops", "team": "ops", "members": ["op1"],
                             "anchor": "2026-11-03T07:30:15", "period_days": 14, "usergroup": "ops-oncall"})
    raw["pipelines"].insert(0, {"id": "bare", "name": "Bare", "owners": {"primary": ["ops"]}})
    raw["pipelines"][1]["windows"].append({
        "name": "late", "days": ["holiday", "business"], "month_end": False, "start": "18:00", "end": "24:00",
        "primary": "ops",
    })
    raw["recurring"].append({"id": "ops-review", "kind": "checklist", "title": "Ops review", "channel": "#ops",
                             "opens": {"rule": "nth_business_day", "n": 2, "time": "08:00"},
                             "due": {"rule": "day_of_month", "day": 31, "time": "23:59"},
                             "assignees": ["op1", "ops"], "items": ["Only item"]})


async def test_every_optional_field_round_trips(db: Database) -> None:
    text = seed_variant(_every_optional_field)
    changes = await _apply(db, text)
    assert changes["pipelines"].added == ["bare"]
    assert changes["pipelines"].updated == ["profit", "growth", "engagement", "aggregate-profit-growth",
                                            "aggregate-engagement"]  # each moved down one place
    assert await export_seed_text(db) == dump_seed(seed_of(text))
    assert (await _apply(db, text)).unchanged
    async with db.sessions() as session:
        directory = await load_directory(session)
    assert directory.calendar.holiday_subdivision == "NY"
    assert directory.announcement_channel is None
    assert directory.rotations["ops"].period_days == 14
