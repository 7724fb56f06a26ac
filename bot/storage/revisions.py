"""The migration scripts' revision ids, read without Alembic or SQLAlchemy.

Checking that a database is at head is part of every CLI call; the scripts' ids come from a
regular expression over ``migrations/versions`` (a straight history, as this project keeps), so a
one-shot answer pays for neither Alembic nor SQLAlchemy to know the head.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS_DIR = ROOT / "migrations"

_REVISION = re.compile(r"""^revision(?:\s*:\s*[^=]+)?\s*=\s*['"]([^'"]+)['"]""", re.MULTILINE)
_DOWN = re.compile(r"""^down_revision(?:\s*:\s*[^=]+)?\s*=\s*(?:['"]([^'"]+)['"]|None)""", re.MULTILINE)


@cache
def _revisions() -> dict[str, str | None]:
    """Each script's revision and the one it revises."""
    found: dict[str, str | None] = {}
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        rev, down = _REVISION.search(text), _DOWN.search(text)
        if rev is None or down is None:  # pragma: no cover - not a migration script
            continue
        found[rev.group(1)] = down.group(1)
    return found


def head_revision() -> str:
    """The newest revision of the migration scripts: the one no other script revises."""
    revisions = _revisions()
    heads = set(revisions) - {d for d in revisions.values() if d is not None}
    if len(heads) != 1:  # pragma: no cover - the repository ships one straight history
        raise RuntimeError(f"expected one head in {MIGRATIONS_DIR}, found {sorted(heads)}")
    return heads.pop()


def is_known_revision(revision: str) -> bool:
    """Whether ``revision`` is one of the migration scripts (a newer bot's may not be)."""
    return revision in _revisions()
