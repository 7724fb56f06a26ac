"""Settings from the environment (ONCALL_*, SLACK_*) and an optional .env file.

The fields and their validation are ``bot.config_fields.SettingsFields`` (which also reads them
quickly for one-shot commands); ``Settings`` reads them with pydantic-settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.config_env import BUNDLED_SEED, DEFAULT_DB_PATH, ENV_FILE, ENV_PREFIX, SETTINGS
from bot.config_fields import SettingsFields

__all__ = ["BUNDLED_SEED", "DEFAULT_DB_PATH", "Settings", "environment_for", "get_settings"]


class Settings(SettingsFields, BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=ENV_FILE, extra="ignore", hide_input_in_errors=True
    )


def environment_for(settings: Settings, base: Mapping[str, str]) -> dict[str, str]:
    """The environment of a child process whose ``Settings(_env_file=None)`` must read exactly
    ``settings``: ``base`` without any variable of a setting (in any case: the names are read
    without regard to it), and the variable of each setting that has a value (secrets revealed:
    the child needs them as this process does)."""
    names = {variable.lower(): variable for variable, _kind in SETTINGS.values()}
    env = {k: v for k, v in base.items() if k.lower() not in names}
    for name, (variable, _kind) in SETTINGS.items():
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[variable] = value.isoformat() if isinstance(value, datetime) else str(value)
    return env


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
