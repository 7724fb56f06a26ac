"""The settings' fields, defaults and validation (pydantic only), and ``quick_settings``: the same
settings read from the environment and ``.env`` without pydantic-settings, for one-shot commands.

``bot.config.Settings`` is these fields on pydantic-settings' ``BaseSettings``. Importing
pydantic-settings costs a one-shot CLI answer about a sixth of a second, so ``quick_settings``
reads the same variables the same way for the common case, validates them with the same fields,
and gives None (the caller then builds ``Settings()``, which gives the same values or the same
error) whenever it is not sure to read what pydantic-settings would.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, SecretStr, ValidationError

DEFAULT_DB_PATH = Path.home() / ".local" / "share" / "oncall-bot" / "oncall.db"
BUNDLED_SEED = Path(__file__).resolve().parent.parent / "data" / "seed.yaml"
ENV_PREFIX = "ONCALL_"
ENV_FILE = ".env"


class SettingsFields(BaseModel):
    """The settings, validated; read from the environment by ``bot.config.Settings``."""

    # As BaseSettings' defaults where they matter to validation (defaults are validated too).
    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True, validate_default=True,
                              arbitrary_types_allowed=True)

    database_url: str = Field(default=f"sqlite+aiosqlite:///{DEFAULT_DB_PATH}")
    seed_path: Path = BUNDLED_SEED
    http_port: int = 3000
    slack_api_url: str | None = None
    slack_timeout_seconds: float = 10.0  # one Web API call; a post that times out is looked for, then retried
    outbox_kick_wait: float = 5.0  # how long an incident action waits for Slack before answering
    auto_escalate_minutes: int = 15
    admins: str = ""  # comma-separated person ids, added to the seed's admins
    log_format: str = "text"
    public_url: str | None = None  # the bot's public base URL, for calendar-feed links
    shift_notice_hours: int = 24  # the DM before an on-call slot starts comes this many hours ahead
    # For tests: ONCALL_CLOCK_START=2026-12-01T08:00:00Z makes the bot's clock start at that instant
    # (with its zone) and advance with real time, whatever the date on the machine.
    clock_start: AwareDatetime | None = None

    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")

    @property
    def admin_ids(self) -> tuple[str, ...]:
        return tuple(a.strip() for a in self.admins.split(",") if a.strip())


def _env_names() -> dict[str, str]:
    """Each field's key in the validated data (its alias, else its name) -> its variable, lower case."""
    names: dict[str, str] = {}
    for name, field in SettingsFields.model_fields.items():
        alias = field.validation_alias
        key = alias if isinstance(alias, str) else name
        names[key] = (alias if isinstance(alias, str) else ENV_PREFIX + name).lower()
    return names


def quick_settings(environ: Mapping[str, str] | None = None, env_file: Path = Path(ENV_FILE)) -> SettingsFields | None:
    """The settings as ``bot.config.Settings()`` reads them, without pydantic-settings; None when
    this read is not sure to be the same (then use ``Settings()``).

    As pydantic-settings with this configuration: variable names are matched without regard to
    case, ``ONCALL_`` + the field's name or the field's alias (``SLACK_BOT_TOKEN``); a variable of
    the environment wins over the same one in ``.env`` (read with python-dotenv, UTF-8); a name
    given without a value is not a value. None for: a ``.env`` that is not a regular file or that
    cannot be read, an ``ONCALL_`` name in ``.env`` that is no setting, and any value that does
    not validate (so that the error is pydantic-settings' own).
    """
    env = {k.lower(): v for k, v in (os.environ if environ is None else environ).items()}
    names = _env_names()
    dotenv: dict[str, str | None] = {}
    if env_file.is_file():
        try:
            from dotenv import dotenv_values

            dotenv = {k.lower(): v for k, v in dotenv_values(env_file, encoding="utf-8").items()}
        except Exception:  # whatever it is, Settings() says it its own way
            return None
        known = set(names.values())
        if any(k.startswith(ENV_PREFIX.lower()) and k not in known for k in dotenv):
            return None
    elif os.path.lexists(env_file):
        return None  # a FIFO, a directory, a broken link: left to pydantic-settings
    data: dict[str, str] = {}
    for key, name in names.items():
        value = env.get(name)
        if value is None:
            value = dotenv.get(name)
        if value is not None:
            data[key] = value
    try:
        return SettingsFields.model_validate(data)
    except ValidationError:
        return None
