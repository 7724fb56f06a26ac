"""Settings from the environment (ONCALL_*, SLACK_*) and an optional .env file.

The fields and their validation are ``bot.config_fields.SettingsFields`` (which also reads them
quickly for one-shot commands); ``Settings`` reads them with pydantic-settings.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.config_env import BUNDLED_SEED, DEFAULT_DB_PATH, ENV_FILE, ENV_PREFIX
from bot.config_fields import SettingsFields

__all__ = ["BUNDLED_SEED", "DEFAULT_DB_PATH", "Settings", "get_settings"]


class Settings(SettingsFields, BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=ENV_FILE, extra="ignore", hide_input_in_errors=True
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
