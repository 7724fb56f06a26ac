"""``bot.config_fields.quick_settings`` reads what ``bot.config.Settings()`` reads, or says it is not sure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.config import Settings
from bot.config_fields import quick_settings

CASES: list[tuple[dict[str, str], str | None, str]] = [
    ({}, None, "same"),
    ({"ONCALL_DATABASE_URL": "sqlite:///x.db", "oncall_admins": "a, b", "SLACK_BOT_TOKEN": "xoxb-1"}, None, "same"),
    ({"ONCALL_HTTP_PORT": " 42 ", "ONCALL_SLACK_TIMEOUT_SECONDS": "2.5", "ONCALL_PUBLIC_URL": ""}, None, "same"),
    ({"ONCALL_CLOCK_START": "2026-12-13T08:00:00+00:00"}, None, "same"),
    ({"ONCALL_CLOCK_START": "2026-12-13T08:00:00Z", "Oncall_Seed_Path": "data/x.yaml"}, None, "same"),
    ({"oncall_slack_bot_token": "x", "ONCALL_NOT_A_SETTING": "1"}, None, "same"),
    ({}, "ONCALL_ADMINS=x\nSLACK_APP_TOKEN='xapp-1'\nFOO=1\n", "same"),
    ({"ONCALL_ADMINS": "from-env"}, "ONCALL_ADMINS=from-file\n", "same"),
    ({}, "ONCALL_ADMINS\n# a comment\n\n", "same"),
    ({}, "export ONCALL_HTTP_PORT=77 # port\nONCALL_LOG_FORMAT=\"json\"\n", "same"),
    ({"ONCALL_HTTP_PORT": "abc"}, None, "not sure"),  # Settings() raises: its own message
    ({"ONCALL_CLOCK_START": "2026-12-13T08:00:00"}, None, "not sure"),  # naive
    ({}, "ONCALL_NOPE=1\n", "not sure"),  # an unknown ONCALL_ name in .env
    ({}, "ONCALL_HTTP_PORT=x\n", "not sure"),
]


@pytest.mark.parametrize(("environ", "dotenv", "expected"), CASES)
def test_quick_settings_are_settings_or_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             environ: dict[str, str], dotenv: str | None, expected: str) -> None:
    for key in [k for k in os.environ if k.upper().startswith(("ONCALL_", "SLACK_"))]:
        monkeypatch.delenv(key)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    if dotenv is not None:
        (tmp_path / ".env").write_text(dotenv, encoding="utf-8")
    quick = quick_settings()
    if expected == "not sure":
        assert quick is None
        return
    assert quick is not None
    assert quick.model_dump() == Settings().model_dump()
    assert quick.admin_ids == Settings().admin_ids


def test_a_dotenv_that_is_not_a_file_is_left_to_pydantic_settings(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").mkdir()
    assert quick_settings() is None
