"""The snapshot of a one-shot answer, read the quick way when the database allows it.

``quick_snapshot`` reads the seed and the overrides with ``bot.storage.quickread`` (the standard
library's sqlite3) and builds the same ``Snapshot`` as ``queries.load_snapshot``; None when the
database is not a SQLite file that needs nothing done, and the caller then opens it as usual
(``database.open_database``: migrated, seeded, reported).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.seed.convert import to_directory
from bot.services.snapshot import ALL_FROM, ALL_TO, Snapshot
from bot.storage.quickread import quick_read


def quick_snapshot(database_url: str, extra_admins: Sequence[str] = ()) -> Snapshot | None:
    """The directory and every override of the database at ``database_url``, or None (see above)."""
    read = quick_read(database_url, ALL_FROM, ALL_TO)
    if read is None:
        return None
    return Snapshot.build(to_directory(read.seed), read.overrides, extra_admins)
