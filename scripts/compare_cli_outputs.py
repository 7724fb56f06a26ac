#!/usr/bin/env python3
"""Run a fixed list of ``oncall-bot`` commands on a fresh SQLite database and save every output.

    python scripts/compare_cli_outputs.py VENV_BIN_DIR OUT_DIR

Used to show that a refactoring changed no behaviour: run it on the code before and after, then
``diff -r BEFORE AFTER``. Each command runs in its own process, in order, on one database created
in a temporary directory from the bundled seed (``ONCALL_DATABASE_URL``). The wall clock is pinned
(``datetime.now`` and ``time.time`` answer a fixed instant) so that ``ask``, ``tick`` and the audit
trail's times are the same on every run. Normalised in the saved outputs: the temporary
directory's and the checkout's paths (``$TMP``, ``$ROOT``) and the microseconds of a time (the
deliveries add the monotonic time elapsed since the tick's instant, e.g. ``14:00:00.166722``;
the bot's own times are whole seconds), which become ``.<elapsed>``.

Each command ``N`` writes ``OUT_DIR/NN-name.out`` (stdout), ``.err`` (stderr) and ``.rc``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PINNED_NOW = "2026-11-30T14:00:00+00:00"  # a Monday, 09:00 in New York: busy for the scheduled work

# The runner: pin datetime.now()/utcnow() before the bot is imported, then call bot.cli.main.
# Libraries that key on the datetime type (SQLAlchemy, pydantic, sqlite3) are imported first.
RUNNER = r"""
import sys, datetime as _dt
import sqlite3, sqlalchemy, sqlalchemy.ext.asyncio, aiosqlite, pydantic  # noqa: F401  (before the patch)
_PINNED = _dt.datetime.fromisoformat(sys.argv[1])
_Real = _dt.datetime


class _Meta(type):
    def __instancecheck__(cls, obj):  # real datetimes (read from the database) are datetimes too
        return isinstance(obj, _Real)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, _Real)


class _Pinned(_Real, metaclass=_Meta):
    @classmethod
    def now(cls, tz=None):
        return _PINNED.astimezone(tz) if tz is not None else _PINNED.astimezone().replace(tzinfo=None)

    @classmethod
    def utcnow(cls):
        return _PINNED.astimezone(_dt.UTC).replace(tzinfo=None)


_dt.datetime = _Pinned
import time as _time  # noqa: E402
_time.time = lambda: _PINNED.timestamp()  # the console port's message ts
from bot.cli import main  # noqa: E402
sys.exit(main(sys.argv[2:]))
"""

COMMANDS: list[tuple[str, list[str]]] = [
    ("seed-load", ["seed", "load"]),
    ("db-current", ["db", "current"]),
    ("seed-check", ["seed", "check", "data/seed.yaml"]),
    ("seed-schema", ["seed", "schema"]),
    ("oncall-all-json", ["oncall", "--at", "2026-12-07T03:00", "--json"]),
    ("oncall-all-table", ["oncall", "--at", "2026-12-07T03:00"]),
    ("oncall-engagement-json", ["oncall", "engagement", "--at", "2026-12-07T03:00", "--json"]),
    ("oncall-profit-weekend-json", ["oncall", "profit", "--at", "2026-12-05T12:00", "--json"]),
    ("oncall-unknown", ["oncall", "nosuchpipe", "--at", "2026-12-07T03:00", "--json"]),
    ("oncall-now-json", ["oncall", "--json"]),
    ("schedule-growth-json",
     ["schedule", "growth", "--from", "2026-12-01T00:00", "--to", "2026-12-15T00:00", "--json"]),
    ("schedule-growth-table", ["schedule", "growth", "--from", "2026-12-01T00:00", "--to", "2026-12-08T00:00"]),
    ("schedule-bad-range", ["schedule", "growth", "--from", "2026-12-08T00:00", "--to", "2026-12-01T00:00"]),
    ("calendar-json", ["calendar", "--from", "2026-11-30", "--to", "2026-12-14", "--json"]),
    ("calendar-table", ["calendar", "--from", "2026-11-30", "--to", "2026-12-07"]),
    ("fairness-json", ["fairness", "--from", "2026-11-01T00:00", "--to", "2026-12-01T00:00", "--json"]),
    ("fairness-table", ["fairness", "--from", "2026-11-01T00:00", "--to", "2026-12-01T00:00"]),
    ("runbook-profit-json", ["runbook", "profit", "--json"]),
    ("runbook-profit-text", ["runbook", "profit"]),
    ("owners-churn-json", ["owners", "churn", "--json"]),
    ("owners-churn-text", ["owners", "churn"]),
    ("ask-oncall-engagement", ["ask", "/oncall engagement"]),
    ("ask-oncall-all", ["ask", "/oncall"]),
    ("ask-oncall-at", ["ask", "/oncall growth at 2026-12-07T03:00"]),
    ("ask-oncall-me", ["ask", "/oncall me", "--user", "de1"]),
    ("ask-oncall-schedule", ["ask", "/oncall schedule growth 3"]),
    ("ask-whoowns", ["ask", "/whoowns clickstream"]),
    ("ask-runbook", ["ask", "/runbook engagement"]),
    ("ask-help", ["ask", "/oncall help"]),
    ("ask-bad", ["ask", "/oncall schedule growth 40"]),
    ("ask-unknown-command", ["ask", "/nosuch thing"]),
    ("tick", ["tick", "--at", "2026-11-30T09:00", "--apply"]),
    ("tick-again", ["tick", "--at", "2026-11-30T09:05", "--apply"]),
    ("ask-away", ["ask", "/oncall away 2026-12-14 2026-12-16", "--user", "de1"]),
    ("ask-override",
     ["ask", "/oncall override growth @de2 2026-12-20T09:00 2026-12-21T09:00 covering", "--user", "de1"]),
    ("ask-changes", ["ask", "/oncall changes", "--user", "de1"]),
    ("ask-fairness", ["ask", "/oncall fairness 2026-11-01 2026-12-01", "--user", "de1"]),
    ("oncall-after-away-json", ["oncall", "--at", "2026-12-15T03:00", "--json"]),
    ("audit-json", ["audit", "--json"]),
    ("audit-table", ["audit"]),
    ("audit-filtered-json", ["audit", "--action", "change.", "--json"]),
    ("checklists-json", ["checklists", "--json"]),
    ("checklists-table", ["checklists"]),
    ("checklists-open-json", ["checklists", "--open", "--json"]),
    ("deliveries-json", ["deliveries", "--json"]),
    ("deliveries-table", ["deliveries"]),
    ("deliveries-failed", ["deliveries", "--failed"]),
    ("seed-export", ["seed", "export"]),
    ("doctor", ["doctor", "--manifest", "manifest.yaml", "--seed", "data/seed.yaml"]),
    ("doctor-problems", ["doctor", "--problems", "--manifest", "manifest.yaml", "--seed", "data/seed.yaml"]),
]


_ELAPSED = re.compile(r"(T\d\d:\d\d:\d\d)\.\d{6}")


def _normalised(text: str, tmp: str) -> str:
    return _ELAPSED.sub(r"\1.<elapsed>", text.replace(tmp, "$TMP").replace(str(ROOT), "$ROOT"))


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    bin_dir, out = Path(argv[0]).resolve(), Path(argv[1]).resolve()
    python = bin_dir / "python"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="oncall-compare-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ONCALL_", "SLACK_"))}
        env.update({
            "ONCALL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/oncall.db",
            "ONCALL_SEED_PATH": str(ROOT / "data" / "seed.yaml"),
            "HOME": tmp,
            "TZ": "UTC",
            "COLUMNS": "160",
            "NO_COLOR": "1",
        })
        for n, (name, args) in enumerate(COMMANDS, start=1):
            done = subprocess.run([str(python), "-c", RUNNER, PINNED_NOW, *args], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=120, check=False)
            base = out / f"{n:02d}-{name}"
            base.with_suffix(".out").write_text(_normalised(done.stdout, tmp), encoding="utf-8")
            base.with_suffix(".err").write_text(_normalised(done.stderr, tmp), encoding="utf-8")
            base.with_suffix(".rc").write_text(f"{done.returncode}\n", encoding="utf-8")
            print(f"{n:02d} {name}: exit {done.returncode}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
