"""A read-only look at a SQLite database with the standard library's ``sqlite3``: the seed and the
overrides, for one-shot CLI answers, without importing SQLAlchemy, aiosqlite, asyncio or pydantic
(together about two thirds of a second of CPU, many times the answer itself).

It answers only for a database that needs nothing done: a plain ``sqlite[+aiosqlite]:///FILE``
URL whose file exists, at the migrations' head, with a seed loaded. Anything else (another URL, a
new or old database, a driver error) gives None, and the caller takes the usual way, which
migrates, seeds, reports and fails exactly as before. All reads are in one transaction, so they
see one state of the database; nothing is written.

Values are read back as SQLAlchemy's SQLite dialect reads the columns' types (dates and datetimes
from their ISO text, JSON, booleans, ``UTCDateTime`` with UTC attached); a test compares both
reads on the same database.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from bot.core.model import Override
from bot.storage.revisions import head_revision
from bot.storage.seedrows import READ_ORDER, records, seed_from_rows

if TYPE_CHECKING:
    from bot.seed.schema import SeedIn

BUSY_TIMEOUT_SECONDS = 30.0  # as the engine's busy_timeout (bot.storage.db.SQLITE_BUSY_TIMEOUT_MS)
_URL = re.compile(r"^sqlite(?:\+aiosqlite)?:///(?P<path>[^?#%~][^?#%]*)$")


def _date(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _datetime(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


# Columns whose SQLite storage differs from the Python value (the others are text and integers).
CONVERTERS: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("calendar_holidays", "date"): _date,
    ("rotations", "anchor"): _datetime,
    ("pipelines", "keywords"): _json,
    ("pipelines", "topic"): _json,
    ("pipeline_windows", "days"): _json,
    ("pipeline_windows", "month_end"): _bool,
    ("runbook_issues", "keywords"): _json,
    ("recurring_work", "assignees"): _json,
}
UTC_COLUMNS = {("overrides", "start"), ("overrides", "end"), ("overrides", "created_at")}


@dataclass(frozen=True)
class QuickRead:
    """What a question needs from the database: the seed and the overrides of a range.

    ``seed`` is made of plain records (``seedrows.records``), not pydantic models: it is for
    ``bot.seed.convert.to_directory`` only."""

    seed: SeedIn
    overrides: list[Override]


def sqlite_file(url: str) -> str | None:
    """The file of a plain SQLite URL (``sqlite+aiosqlite:///path``), None for any other URL
    (PostgreSQL, in memory, ``~``, percent-escapes or query options: left to SQLAlchemy)."""
    m = _URL.match(url)
    if m is None or m["path"] == ":memory:" or m["path"].startswith("file:"):
        return None
    return m["path"]


def _stored(at: datetime) -> str:
    """An aware instant as SQLAlchemy stores a ``UTCDateTime`` in SQLite (naive UTC text)."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _rows(cur: sqlite3.Cursor, table: str, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    cur.execute(sql, params)
    names = [d[0] for d in cur.description]
    convert = [CONVERTERS.get((table, n)) for n in names]
    return [
        {n: (f(v) if f is not None else v) for n, f, v in zip(names, convert, row, strict=True)}
        for row in cur.fetchall()
    ]


def _read(cur: sqlite3.Cursor, start: datetime, end: datetime) -> QuickRead | None:
    cur.execute("SELECT version_num FROM alembic_version")
    if [r[0] for r in cur.fetchall()] != [head_revision()]:
        return None
    cur.execute("SELECT 1 FROM calendar WHERE id = 1")
    if cur.fetchone() is None:
        return None
    tables = {
        name: _rows(cur, name, f'SELECT * FROM "{name}" ORDER BY ' + ", ".join(f'"{c}"' for c in order))
        for name, order in READ_ORDER
    }
    cur.execute("SELECT key, value FROM meta WHERE key IN ('seed.announcement_channel', 'seed.incident_responders', "
                "'seed.paging')")
    meta = dict(cur.fetchall())
    seed = seed_from_rows(tables, meta.get("seed.announcement_channel"), meta.get("seed.incident_responders"),
                          make=records, paging=meta.get("seed.paging"))
    cur.execute(
        'SELECT id, start, "end", person, rotation, role, replaces, pipeline, reason, created_by, created_at '
        'FROM overrides WHERE start < ? AND "end" > ? ORDER BY created_at, id',
        (_stored(end), _stored(start)),
    )
    overrides = [
        Override(id=i, start=_instant(s), end=_instant(e), person=person, created_at=_instant(created),
                 rotation=rotation, role=role, replaces=replaces, pipeline=pipeline, reason=reason,
                 created_by=created_by)
        for i, s, e, person, rotation, role, replaces, pipeline, reason, created_by, created in cur.fetchall()
    ]
    return QuickRead(seed, overrides)


def quick_read(url: str, start: datetime, end: datetime) -> QuickRead | None:
    """The seed and the overrides overlapping ``[start, end)`` (oldest first) of the SQLite
    database at ``url``, if it is one that needs nothing done; else None (see the module)."""
    path = sqlite_file(url)
    if path is None or not os.path.isfile(path):
        return None
    try:
        conn = sqlite3.connect(f"file:{quote(os.path.abspath(path))}?mode=rw", uri=True,
                               timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        cur = conn.cursor()
        cur.execute("BEGIN")
        try:
            return _read(cur, start, end)
        finally:
            conn.rollback()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
