"""One-shot questions (``oncall``, ``schedule``, ``runbook``, ``owners``) on a SQLite database that
needs nothing done are answered the quick way (``bot.config_env.quick_settings``,
``bot.services.quick``): the same output and exit code as the usual way, without importing
SQLAlchemy, pydantic, pydantic-settings, asyncio or every holiday country. Checked by what is imported,
not by timing (``bench/cli_bench.py`` measures the time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import bot.services.quick
from bot.cli import main
from tests.support.clock import pinned

ROOT = Path(__file__).resolve().parents[2]
EXE = str(Path(sys.executable).with_name("oncall-bot"))

# Run as the console script does, then report which of these modules the process imported.
PROBE = r"""
import json, sys
from bot.cli import main
code = main(sys.argv[1:])
heavy = ("sqlalchemy", "sqlalchemy.orm", "pydantic", "pydantic_settings", "aiosqlite", "asyncio", "alembic",
         "holidays.countries", "rich", "bot.storage.tables", "bot.storage.bootstrap")
print(json.dumps({"code": code, "heavy": [m for m in heavy if m in sys.modules],
                  "countries": sorted(m for m in sys.modules if m.startswith("holidays.countries."))}),
      file=sys.stderr)
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("ONCALL_", "SLACK_"))}
    e["ONCALL_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path}/quick.db"
    e["HOME"] = str(tmp_path)
    return pinned(e)


@pytest.mark.e2e
@pytest.mark.parametrize("args", [
    ["oncall", "engagement", "--json"],
    ["oncall", "--json"],
    ["schedule", "growth", "--from", "2026-12-01", "--to", "2026-12-08", "--json"],
    ["runbook", "profit", "--json"],
    ["owners", "churn", "--json"],
])
def test_a_one_shot_question_imports_neither_sqlalchemy_nor_pydantic(
        env: dict[str, str], tmp_path: Path, args: list[str]) -> None:
    first = subprocess.run([EXE, "oncall", "--json"], env=env, capture_output=True, text=True, cwd=tmp_path,
                           timeout=120, check=True)
    assert "loaded" in first.stderr  # the first command created the database, the usual way
    done = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] == 0, done.stderr
    assert report["heavy"] == []
    # The company's country alone (runbook and owners need no holidays at all).
    assert report["countries"] == (["holidays.countries.united_states"] if args[0] in ("oncall", "schedule") else [])
    assert json.loads(done.stdout)


QUESTIONS = [
    ["oncall", "--at", "2026-12-07T03:00", "--json"],
    ["oncall", "engagement", "--at", "2026-12-26T12:00", "--json"],
    ["oncall", "--at", "2026-12-24T20:00"],
    ["oncall", "nosuchpipe", "--json"],
    ["oncall", "growth", "--at", "not a time", "--json"],
    ["schedule", "growth", "--from", "2026-12-01", "--to", "2026-12-15", "--json"],
    ["schedule", "growth", "--from", "2026-12-01", "--to", "2026-12-08"],
    ["schedule", "growth", "--from", "2026-12-08", "--to", "2026-12-01"],
    ["runbook", "profit", "--json"],
    ["runbook", "profit"],
    ["owners", "churn", "--json"],
    ["owners", "churn"],
    ["owners", "nonsense", "--json"],
]


def _answers(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> list[tuple[int, str, str]]:
    out = []
    for args in QUESTIONS:
        code = main([*args])
        captured = capsys.readouterr()
        out.append((code, captured.out, captured.err))
    return out


def test_quick_answers_are_the_usual_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    for key in [k for k in os.environ if k.upper().startswith(("ONCALL_", "SLACK_"))]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ONCALL_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/same.db")
    monkeypatch.setenv("ONCALL_CLOCK_START", "2026-12-07T14:00:00+00:00")
    override = "/oncall override growth @de2 2026-12-08T09:00 2026-12-10T09:00 covering"
    assert main(["ask", override, "--user", "de1"]) == 0
    capsys.readouterr()
    used: list[bool] = []
    real = bot.services.quick.quick_snapshot

    def counted(*args: object, **kwargs: object) -> object:
        snap = real(*args, **kwargs)  # type: ignore[arg-type]
        used.append(snap is not None)
        return snap

    monkeypatch.setattr(bot.services.quick, "quick_snapshot", counted)
    quick = _answers(monkeypatch, capsys)
    assert used == [True] * len(QUESTIONS)
    monkeypatch.setattr(bot.services.quick, "quick_snapshot", lambda *_a, **_k: None)
    usual = _answers(monkeypatch, capsys)
    assert quick == usual
    assert [code for code, _, _ in quick] == [0, 0, 0, 2, 2, 0, 0, 2, 0, 0, 0, 0, 1]
    assert "de2" in quick[5][1]  # the override is in the schedule


def test_settings_the_quick_read_is_not_sure_of_are_read_the_usual_way(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for key in [k for k in os.environ if k.upper().startswith(("ONCALL_", "SLACK_"))]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ONCALL_HTTP_PORT", "not a port")
    assert main(["oncall", "--json"]) == 2
    assert capsys.readouterr().err == (
        "oncall-bot: bad configuration: ('http_port',): Input should be a valid integer, unable to parse string "
        "as an integer\n")
