"""``bot.config_env.quick_settings`` reads what ``bot.config.Settings()`` reads, or says it is not sure."""

from __future__ import annotations

import os
import types
import typing
from pathlib import Path

import pytest
from pydantic import AwareDatetime, SecretStr

from bot.config import Settings
from bot.config_env import SETTINGS, QuickSettings, quick_settings
from bot.config_fields import SettingsFields

SAME, NOT_SURE = "same", "not sure"
CASES: list[tuple[dict[str, str], str | None, str]] = [
    ({}, None, SAME),
    ({"ONCALL_DATABASE_URL": "sqlite:///x.db", "oncall_admins": "a, b", "SLACK_BOT_TOKEN": "xoxb-1"}, None, SAME),
    ({"ONCALL_HTTP_PORT": "42", "ONCALL_SLACK_TIMEOUT_SECONDS": "2.5", "ONCALL_PUBLIC_URL": ""}, None, SAME),
    ({"ONCALL_CLOCK_START": "2026-12-13T08:00:00+00:00"}, None, SAME),
    ({"ONCALL_CLOCK_START": "2026-12-13T03:00:00.250-05:00", "Oncall_Seed_Path": "data/x.yaml"}, None, SAME),
    ({"ONCALL_CLOCK_START": "2026-12-13T08:00:00Z"}, None, SAME),
    ({"oncall_slack_bot_token": "x", "ONCALL_NOT_A_SETTING": "1"}, None, SAME),
    ({}, "ONCALL_ADMINS=x\nSLACK_APP_TOKEN='xapp-1'\nFOO=1\n", SAME),
    ({"ONCALL_ADMINS": "from-env"}, "ONCALL_ADMINS=from-file\nONCALL_DATABASE_URL=sqlite:///f.db\n", SAME),
    ({}, "ONCALL_ADMINS\n# a comment\n\n", SAME),
    ({}, "export ONCALL_HTTP_PORT=77 # port\nONCALL_LOG_FORMAT=\"json\"\n", SAME),
    ({"ONCALL_HTTP_PORT": " 42 "}, None, NOT_SURE),  # pydantic strips it: not this read's to say
    ({"ONCALL_HTTP_PORT": "abc"}, None, NOT_SURE),  # Settings() raises: its own message
    ({"ONCALL_CLOCK_START": "2026-12-13T08:00:00"}, None, NOT_SURE),  # naive
    ({"ONCALL_CLOCK_START": "2026-02-30T08:00:00Z"}, None, NOT_SURE),
    ({"ONCALL_CLOCK_START": "1765612800"}, None, NOT_SURE),
    ({}, "ONCALL_NOPE=1\n", NOT_SURE),  # an unknown ONCALL_ name in .env
    ({}, "ONCALL_HTTP_PORT=x\n", NOT_SURE),
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
    if expected == NOT_SURE:
        assert quick is None
        return
    full = Settings()
    assert quick == QuickSettings(full.database_url, full.admins, quick.clock_start)
    assert quick.admin_ids == full.admin_ids
    assert quick.clock_start == full.clock_start  # the same instant (zone objects may differ)


def test_a_dotenv_that_is_not_a_file_is_left_to_pydantic_settings(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").mkdir()
    assert quick_settings() is None


_KINDS = {str: "str", int: "int", float: "float", Path: "path", SecretStr: "secret", AwareDatetime: "instant"}


def test_the_quick_read_knows_every_setting() -> None:
    """``SETTINGS`` names each field of ``SettingsFields``, its variable and the kind of its value."""
    assert list(SETTINGS) == list(SettingsFields.model_fields)
    for name, field in SettingsFields.model_fields.items():
        alias = field.validation_alias
        assert SETTINGS[name][0] == (alias if isinstance(alias, str) else f"ONCALL_{name.upper()}")
        annotation = field.annotation
        if isinstance(annotation, types.UnionType):
            (annotation,) = [a for a in typing.get_args(annotation) if a is not type(None)]
        base = typing.get_origin(annotation) or annotation
        if typing.get_origin(annotation) is typing.Annotated:
            base = typing.get_args(annotation)[0]
        if typing.get_origin(annotation) is typing.Literal:  # a choice of words
            base = str
        assert SETTINGS[name][1] == _KINDS[base], name
    defaults = QuickSettings()
    fields = SettingsFields()
    assert (defaults.database_url, defaults.admins, defaults.clock_start) == (
        fields.database_url, fields.admins, fields.clock_start)
