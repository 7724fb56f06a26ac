"""The settings read from the environment and ``.env`` without pydantic or pydantic-settings, for
one-shot CLI answers: ``quick_settings``.

``bot.config.Settings`` (pydantic-settings) reads them for everything else; importing pydantic and
pydantic-settings costs a one-shot answer about a fifth of a second of CPU, several times the
answer. ``quick_settings`` reads the same variables the same way (names without regard to case,
``ONCALL_`` + the field's name or the field's alias such as ``SLACK_BOT_TOKEN``, the environment
over ``.env``, read with python-dotenv as UTF-8, a name without a value being no value), accepts
only values whose reading is beyond doubt (``SETTINGS``: the kind of each field, which a test keeps
equal to ``bot.config_fields.SettingsFields``), and gives None whenever it is not sure: then
``Settings()`` reads them and gives the same values, or its own error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

DEFAULT_DB_PATH = Path.home() / ".local" / "share" / "oncall-bot" / "oncall.db"
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{DEFAULT_DB_PATH}"
BUNDLED_SEED = Path(__file__).resolve().parent.parent / "data" / "seed.yaml"
ENV_PREFIX = "ONCALL_"
ENV_FILE = ".env"

# Each setting: its variable (ONCALL_ + the name, or its alias) and the kind of its value.
SETTINGS: dict[str, tuple[str, str]] = {
    "database_url": ("ONCALL_DATABASE_URL", "str"),
    "seed_path": ("ONCALL_SEED_PATH", "path"),
    "http_port": ("ONCALL_HTTP_PORT", "int"),
    "slack_api_url": ("ONCALL_SLACK_API_URL", "str"),
    "slack_timeout_seconds": ("ONCALL_SLACK_TIMEOUT_SECONDS", "float"),
    "outbox_kick_wait": ("ONCALL_OUTBOX_KICK_WAIT", "float"),
    "auto_escalate_minutes": ("ONCALL_AUTO_ESCALATE_MINUTES", "int"),
    "admins": ("ONCALL_ADMINS", "str"),
    "log_format": ("ONCALL_LOG_FORMAT", "str"),
    "public_url": ("ONCALL_PUBLIC_URL", "str"),
    "refused_delay_seconds": ("ONCALL_REFUSED_DELAY_SECONDS", "float"),
    "alert_rate_per_second": ("ONCALL_ALERT_RATE_PER_SECOND", "float"),
    "alert_burst": ("ONCALL_ALERT_BURST", "int"),
    "alert_applier": ("ONCALL_ALERT_APPLIER", "str"),
    "shift_notice_hours": ("ONCALL_SHIFT_NOTICE_HOURS", "int"),
    "clock_start": ("ONCALL_CLOCK_START", "instant"),
    "slack_bot_token": ("SLACK_BOT_TOKEN", "secret"),
    "slack_app_token": ("SLACK_APP_TOKEN", "secret"),
    "slack_signing_secret": ("SLACK_SIGNING_SECRET", "secret"),
    "secret_key": ("ONCALL_SECRET_KEY", "secret"),
}

# Values read beyond doubt, by kind (anything else is left to pydantic: it may accept it, or not).
_CERTAIN = {
    "int": re.compile(r"(0|[1-9][0-9]{0,8})"),
    "float": re.compile(r"(0|[1-9][0-9]{0,8})(\.[0-9]{1,6})?"),
    "path": re.compile(r"[^\x00]+"),
    "instant": re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
                          r"(Z|[+-][0-9]{2}:[0-9]{2})"),
}


@dataclass(frozen=True)
class QuickSettings:
    """The settings a one-shot answer uses, as ``Settings`` would have them."""

    database_url: str = DEFAULT_DATABASE_URL
    admins: str = ""
    clock_start: datetime | None = None

    @property
    def admin_ids(self) -> tuple[str, ...]:
        return tuple(a.strip() for a in self.admins.split(",") if a.strip())


def raw_settings(environ: Mapping[str, str] | None = None, env_file: Path = Path(ENV_FILE)) -> dict[str, str] | None:
    """Each setting given a value, by field name, as pydantic-settings finds it (see the module);
    None when it may not find the same (a ``.env`` that is no regular file or cannot be read, or
    that has an ``ONCALL_`` name of no setting)."""
    env = {k.lower(): v for k, v in (os.environ if environ is None else environ).items()}
    dotenv: dict[str, str | None] = {}
    if env_file.is_file():
        try:
            from dotenv import dotenv_values

            dotenv = {k.lower(): v for k, v in dotenv_values(env_file, encoding="utf-8").items()}
        except Exception:  # whatever it is, Settings() says it its own way
            return None
        known = {variable.lower() for variable, _kind in SETTINGS.values()}
        if any(k.startswith(ENV_PREFIX.lower()) and k not in known for k in dotenv):
            return None
    elif os.path.lexists(env_file):
        return None  # a FIFO, a directory, a broken link: left to pydantic-settings
    found: dict[str, str] = {}
    for name, (variable, _kind) in SETTINGS.items():
        value = env.get(variable.lower())
        if value is None:
            value = dotenv.get(variable.lower())
        if value is not None:
            found[name] = value
    return found


def quick_settings(environ: Mapping[str, str] | None = None, env_file: Path = Path(ENV_FILE)) -> QuickSettings | None:
    """The settings as ``bot.config.Settings()`` reads them, without pydantic; None when this read
    is not sure to be the same (then use ``Settings()``)."""
    raw = raw_settings(environ, env_file)
    if raw is None:
        return None
    for name, value in raw.items():
        certain = _CERTAIN.get(SETTINGS[name][1])
        if certain is not None and certain.fullmatch(value) is None:
            return None
    start = raw.get("clock_start")
    try:
        clock_start = datetime.fromisoformat(start) if start is not None else None
    except ValueError:  # (a day or an hour out of range)
        return None
    return QuickSettings(database_url=raw.get("database_url", DEFAULT_DATABASE_URL), admins=raw.get("admins", ""),
                         clock_start=clock_start)
