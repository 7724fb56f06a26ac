"""Seed variants for the storage tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bot.seed.schema import SeedIn
from bot.seed.validate import parse_seed_text

ROOT = Path(__file__).resolve().parents[2]
SEED_PATH = ROOT / "data" / "seed.yaml"
SEED_TEXT = SEED_PATH.read_text(encoding="utf-8")


def seed_variant(change: Callable[[dict[str, Any]], None]) -> str:
    """data/seed.yaml with ``change`` applied to its parsed mapping, as YAML text."""
    raw = yaml.safe_load(SEED_TEXT)
    change(raw)
    return yaml.safe_dump(raw, sort_keys=False, allow_unicode=True)


def seed_of(text: str) -> SeedIn:
    return parse_seed_text(text, "test")


def without_growth_and_acc2(raw: dict[str, Any]) -> None:
    """Drop the growth pipeline (and the checklist on it) and person acc2 (and their seat)."""
    raw["pipelines"] = [p for p in raw["pipelines"] if p["id"] != "growth"]
    raw["recurring"] = [r for r in raw["recurring"] if r.get("pipeline") != "growth"]
    raw["people"] = [p for p in raw["people"] if p["id"] != "acc2"]
    for rotation in raw["rotations"]:
        rotation["members"] = [m for m in rotation["members"] if m != "acc2"]


EXAMPLE_DE_PATH = ROOT / "data" / "examples" / "brauhaus-de.yaml"
EXAMPLE_DE_TEXT = EXAMPLE_DE_PATH.read_text(encoding="utf-8")


def without_growth_and_accounts(raw: dict[str, Any]) -> None:
    """Drop the growth pipeline (and its checklist) and the accounts team with its people and
    rotation (issue 11's reproduction: the team still named by growth's owner rows)."""
    raw["pipelines"] = [p for p in raw["pipelines"] if p["id"] != "growth"]
    raw["recurring"] = [r for r in raw["recurring"] if r.get("pipeline") != "growth"]
    raw["teams"] = [t for t in raw["teams"] if t["id"] != "accounts"]
    raw["people"] = [p for p in raw["people"] if p["team"] != "accounts"]
    raw["rotations"] = [r for r in raw["rotations"] if r["id"] != "accounts"]
