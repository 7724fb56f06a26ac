"""Shared values for the core tests: the shipped seed as a Directory, its calendar, instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.answer import Holder
from bot.core.calendar import CompanyCalendar
from bot.core.model import Directory
from bot.seed.validate import load_seed_file

SEED = Path(__file__).resolve().parents[2] / "data" / "seed.yaml"
NY = ZoneInfo("America/New_York")
US = timedelta(microseconds=1)

DIRECTORY: Directory = load_seed_file(SEED)
CAL: CompanyCalendar = CompanyCalendar.from_spec(DIRECTORY.calendar)
PIPELINES = tuple(DIRECTORY.pipelines)


def ny(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, fold: int = 0
) -> datetime:
    """An aware New York wall-clock datetime (``fold=0``: first occurrence of an ambiguous time)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=NY, fold=fold)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def who(holder: Holder | None) -> str | None:
    return None if holder is None else holder.person


def de(k: int, role: int) -> str:
    """The operating rules' formula: in week k role R<role> is held by de((role - 1 + k) mod 4 + 1)."""
    return f"de{(role - 1 + k) % 4 + 1}"


def team(members: list[str], k: int) -> str:
    return members[k % len(members)]
