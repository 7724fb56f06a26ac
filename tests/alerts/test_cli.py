"""The alert commands as a user runs them: a real process, a fresh database, the bundled seed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.clock import pinned

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
EXE = str(Path(sys.executable).with_name("oncall-bot"))
AT = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # Tue 10:00 EST


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("ONCALL_", "SLACK_"))}
    e["ONCALL_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    e["HOME"] = str(tmp_path)
    return pinned(e, AT)


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], env=env, capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_integrations_add_list_revoke(env: dict[str, str]) -> None:
    out = run(env, "integrations", "add", "Engagement", "--name", "airflow prod", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"id", "pipeline", "name", "routing_key"}
    assert data["pipeline"] == "engagement" and len(data["routing_key"]) == 32
    listed = run(env, "integrations", "list", "--json")
    assert data["routing_key"] not in listed.stdout + listed.stderr
    assert json.loads(listed.stdout)[0]["revoked_at"] is None
    assert run(env, "integrations", "revoke", str(data["id"])).returncode == 0
    assert json.loads(run(env, "integrations", "list", "--json").stdout)[0]["revoked_at"] is not None
    assert run(env, "integrations", "revoke", "99").returncode == 2
    assert run(env, "integrations", "add", "nope", "--name", "x").returncode == 2


def test_alert_from_a_script_opens_then_resolves_an_incident(env: dict[str, str]) -> None:
    first = run(env, "alert", "engagement", "Nightly load failed", "--dedup-key", "nightly", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"dedup_key": "nightly", "outcome": "opened", "incident": 1}
    again = json.loads(run(env, "alert", "engagement", "Nightly load failed", "--dedup-key", "nightly",
                           "--json").stdout)
    assert again["outcome"] == "added"
    (inc,) = json.loads(run(env, "incidents", "--open", "--json").stdout)
    assert set(inc) == {"id", "pipeline", "summary", "severity", "state", "source", "opened_at", "fix_by",
                        "alerts", "dedup_keys"}
    assert (inc["source"], inc["state"], inc["alerts"], inc["dedup_keys"], inc["fix_by"]) == (
        "alert", "open", 1, ["nightly"], None)
    done = run(env, "alert", "engagement", "ok", "--dedup-key", "nightly", "--resolve")
    assert done.returncode == 0 and "resolved" in done.stdout
    assert "incident resolved" in done.stderr  # the thread line, printed by the console port
    assert json.loads(run(env, "incidents", "--open", "--json").stdout) == []
    assert json.loads(run(env, "incidents", "--json").stdout)[0]["state"] == "resolved"


def test_heartbeat_and_freshness(env: dict[str, str]) -> None:
    assert run(env, "heartbeat", "engagement", "--at", "2026-11-28T09:12").returncode == 0
    (row,) = json.loads(run(env, "freshness", "--json").stdout)
    assert row == {"pipeline": "engagement", "arrival_within": "48h", "last_arrival": "2026-11-28T14:12:00+00:00",
                   "deadline": "2026-11-30T14:12:00+00:00", "late": True}
    table = run(env, "freshness")
    assert "Engagement" in table.stdout and "LATE" in table.stdout
