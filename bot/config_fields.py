"""The settings' fields, defaults and validation (pydantic only): ``bot.config.Settings`` reads them
from the environment with pydantic-settings; ``bot.config_env`` reads the same without either."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, SecretStr

from bot.config_env import BUNDLED_SEED, DEFAULT_DATABASE_URL


class SettingsFields(BaseModel):
    """The settings, validated; read from the environment by ``bot.config.Settings``."""

    # As BaseSettings' defaults where they matter to validation (defaults are validated too).
    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True, validate_default=True,
                              arbitrary_types_allowed=True)

    database_url: str = Field(default=DEFAULT_DATABASE_URL)
    seed_path: Path = BUNDLED_SEED
    http_port: int = 3000
    slack_api_url: str | None = None
    slack_timeout_seconds: float = 10.0  # one Web API call; a post that times out is looked for, then retried
    outbox_kick_wait: float = 5.0  # how long an incident action waits for Slack before answering
    auto_escalate_minutes: int = 15
    admins: str = ""  # comma-separated person ids, added to the seed's admins
    log_format: str = "text"
    public_url: str | None = None  # the bot's public base URL, for calendar-feed and acknowledge links
    # A request refused for its signature (401) is answered this many seconds late: a client that
    # sends unsigned junk over a few connections gets a few answers a second, not thousands.
    refused_delay_seconds: float = 0.2
    alert_rate_per_second: float = 50.0  # events a routing key may send per second (then 429)
    alert_burst: int = 500  # ... in bursts of at most this many
    # Where accepted alert events are applied: "process" (a child process of the bot's own, so a
    # storm's applying never holds up the next 202), "inline" (in the bot's event loop), or
    # "auto" (process on PostgreSQL, inline on SQLite, whose single writer gains nothing from it)
    alert_applier: Literal["auto", "process", "inline"] = "auto"
    shift_notice_hours: int = 24  # the DM before an on-call slot starts comes this many hours ahead
    # For tests: ONCALL_CLOCK_START=2026-12-01T08:00:00Z makes the bot's clock start at that instant
    # (with its zone) and advance with real time, whatever the date on the machine.
    clock_start: AwareDatetime | None = None

    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    # Encrypts contact URLs at rest and signs acknowledge links (issue 13); without it the bot
    # stores no contact method. Any long random string; changing it makes stored URLs unreadable.
    secret_key: SecretStr | None = None

    @property
    def admin_ids(self) -> tuple[str, ...]:
        return tuple(a.strip() for a in self.admins.split(",") if a.strip())
