"""The database as the transports see it: open it (migrated and seeded), its schema revision,
the seed in and out, and whether an error means "the database is down".

Transports (CLI, console, Slack) call these instead of ``bot.storage``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings
from bot.storage.bootstrap import Database, DatabaseNotReady, export_seed_text, load_seed_file_into, open_database
from bot.storage.db import create_engine, is_unavailable
from bot.storage.migrate import current_revision, head_revision, upgrade
from bot.storage.seedstore import SeedChanges


@dataclass(frozen=True)
class Revisions:
    """The schema revision a database is at (None: empty) and the newest one this bot knows."""

    current: str | None
    head: str


async def schema_revisions(settings: Settings) -> Revisions:
    """``settings.database_url``'s revision and the head, without migrating anything."""
    engine = create_engine(settings.database_url)
    try:
        return Revisions(await current_revision(engine), head_revision())
    finally:
        await engine.dispose()


async def upgrade_schema(settings: Settings) -> tuple[str | None, str | None]:
    """Migrate ``settings.database_url`` to the head; the revisions before and after."""
    engine = create_engine(settings.database_url)
    try:
        before = await current_revision(engine)
        await upgrade(engine)
        return before, await current_revision(engine)
    finally:
        await engine.dispose()


async def load_seed(db: Database, path: str | Path) -> SeedChanges:
    """Validate the seed file at ``path`` and make the database hold it (nothing written on error)."""
    return await load_seed_file_into(db, path)


async def export_seed(db: Database) -> str:
    """The database's seed as seed-file YAML."""
    return await export_seed_text(db)


__all__ = [
    "Database", "DatabaseNotReady", "Revisions", "export_seed", "is_unavailable", "load_seed", "open_database",
    "schema_revisions", "upgrade_schema",
]
