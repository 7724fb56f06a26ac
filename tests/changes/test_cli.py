"""``oncall-bot audit`` and ``oncall-bot fairness`` on a fresh SQLite database."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Settings
from bot.core.changes import ChangeKind, ChangeRequest, Target
from bot.services import changes as svc
from bot.storage.bootstrap import open_database

from .helpers import ROOT, local

MON = local(2026, 11, 2, 9, 5)


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    for name in ("ONCALL_ADMINS", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ONCALL_DATABASE_URL", url)
    monkeypatch.setenv("ONCALL_SEED_PATH", str(ROOT / "data" / "seed.yaml"))
    monkeypatch.chdir(tmp_path)  # no .env

    async def script() -> None:
        db = await open_database(Settings(_env_file=None, database_url=url), say=lambda _line: None)  # type: ignore[call-arg]
        tue = (local(2026, 11, 3), local(2026, 11, 4))
        try:
            await svc.apply_change(db, ChangeRequest(ChangeKind.OVERRIDE, "fin2", *tue, "fin3",
                                                     target=Target("finance"), reason="dentist"), MON)
            await svc.apply_change(db, ChangeRequest(ChangeKind.OVERRIDE, "acc2", *tue, "fin3",
                                                     target=Target("finance")), MON)
        finally:
            await db.close()

    asyncio.run(script())
    return url


def test_audit_json(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(e["actor"], e["action"]) for e in data] == [("fin2", "change.override"), ("acc2", "change.refused")]
    assert data[0]["after"]["change"]["reason"] == "dentist"
    assert data[0]["before"]["on_call"][0]["person"] == "fin1"
    assert main(["audit", "--who", "acc2", "--json"]) == 0
    assert [e["action"] for e in json.loads(capsys.readouterr().out)] == ["change.refused"]
    assert main(["audit", "--since", "2099-01-01", "--json"]) == 1  # nothing found: exit 1, one line
    out = capsys.readouterr()
    assert json.loads(out.out) == [] and out.err == "oncall-bot: nothing recorded for that filter\n"
    assert main(["audit", "--action", "change.refused", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1


def test_audit_table(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit"]) == 0
    out = capsys.readouterr().out
    assert "change.override" in out and "Frank Fisher (fin2)" in out and "change.refused" in out


def test_fairness(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fairness", "--from", "2026-11-02T09:00", "--to", "2026-11-09T09:00", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    # week 0, with fin3 covering Tuesday: fin1 loses 10 h of Profit primary
    assert data["people"]["fin1"] == {"team": "finance", "shifts": 3, "hours": 40.0, "out_of_hours": 0.0,
                                      "primary_hours": 40.0}
    assert data["people"]["fin3"]["hours"] == 10.0
    assert data["teams"]["finance"]["hours"] == 50.0
    assert main(["fairness", "--from", "2026-11-02T09:00", "--to", "2026-11-09T09:00"]) == 0
    assert "Finance Team" in capsys.readouterr().out
    assert main(["fairness", "--from", "2026-11-09", "--to", "2026-11-02"]) == 2
    assert "--to must be after --from" in capsys.readouterr().err
