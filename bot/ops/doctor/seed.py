"""``doctor``'s seed checks: the seed file is valid, and the database holds exactly it."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING

from bot.ops.doctor.database import DB_TIMEOUT, DbState
from bot.ops.doctor.report import Report, Status, with_timeout

if TYPE_CHECKING:

    from bot.seed.schema import SeedIn



def read_seed(path: Path, report: Report) -> SeedIn | None:
    from bot.seed.validate import SeedError, decode_seed_bytes, parse_seed_text

    try:
        data = path.read_bytes()
    except OSError as exc:
        report.add("seed file", Status.FAIL, f"cannot read {path}: {exc.strerror}",
                   "set ONCALL_SEED_PATH to the seed file (or mount it where it points)")
        return None
    try:
        seed = parse_seed_text(decode_seed_bytes(data, str(path)), str(path))
    except SeedError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "invalid"
        report.add("seed file", Status.FAIL, first,
                   f"fix {path}; `oncall-bot seed check {path}` lists every problem")
        return None
    report.add("seed file", Status.OK,
               f"{path}: valid ({len(seed.pipelines)} pipelines, {len(seed.people)} people, {len(seed.teams)} teams)")
    return seed


async def check_seed_loaded(state: DbState, path: Path, seed: SeedIn | None, report: Report) -> None:
    from bot.seed.validate import dump_seed
    from bot.storage.bootstrap import Database, export_seed_text
    from bot.storage.db import session_factory
    from bot.storage.seedstore import NoSeed

    if state.engine is None or not state.at_head:
        report.add("seed loaded", Status.SKIP, "skipped: the database is not reachable or not at head")
        return
    if seed is None:
        report.add("seed loaded", Status.SKIP, "skipped: the seed file is not valid")
        return
    db = Database(state.engine, session_factory(state.engine))
    try:
        loaded = await with_timeout(export_seed_text(db), DB_TIMEOUT)
    except NoSeed:
        report.add("seed loaded", Status.WARN, "the database holds no seed yet",
                   f"the bot loads {path} at start; or run `oncall-bot seed load {path}`")
        return
    expected = dump_seed(seed)
    if loaded == expected:
        report.add("seed loaded", Status.OK, f"the database holds exactly {path}")
        return
    diff = [
        line for line in difflib.unified_diff(
            loaded.splitlines(), expected.splitlines(), "database", str(path), n=0, lineterm=""
        )
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    first = "; ".join(d.strip() for d in diff[:2])
    report.add("seed loaded", Status.FAIL,
               f"the database's seed differs from {path} ({len(diff)} lines differ, e.g. {first[:160]})",
               f"run `oncall-bot seed load {path}` to load the file, or `oncall-bot seed export -o FILE` "
               "to see what the database holds")
