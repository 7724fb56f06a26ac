"""Shared values for the schedule-change tests: the shipped seed at explicit instants."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.calendar import CompanyCalendar
from bot.core.changes import Plan
from bot.core.model import Directory, Override
from bot.seed.validate import load_seed_file

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("America/New_York")
ADMINS = ("de1",)


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """A local wall-clock time in New York as an aware UTC instant."""
    return datetime(y, m, d, hh, mm, tzinfo=TZ).astimezone(UTC)


# Friday before week 0 (week 0 of every rotation starts Mon 2026-11-02 09:00 EST).
NOW = local(2026, 10, 30, 12)


@cache
def seed() -> tuple[Directory, CompanyCalendar]:
    d = load_seed_file(ROOT / "data" / "seed.yaml")
    return d, CompanyCalendar.from_spec(d.calendar)


@cache
def seed_with_manager() -> tuple[Directory, CompanyCalendar]:
    """The seed, but fin1 (Finance's lead) is not on the Finance rotation: a lead who is not a member."""
    d, cal = seed()
    rotations = dict(d.rotations)
    rotations["finance"] = replace(d.rotations["finance"], members=("fin2", "fin3"))
    return replace(d, rotations=rotations), cal


def applied(
    overrides: Sequence[Override], plan: Plan, created_at: datetime, actor: str | None = None
) -> list[Override]:
    """``overrides`` plus the plan's, with fresh ids, as the store would give them."""
    top = max((o.id for o in overrides), default=0)
    return [*overrides, *(n.as_override(top + 1 + i, created_at, actor) for i, n in enumerate(plan.overrides))]
