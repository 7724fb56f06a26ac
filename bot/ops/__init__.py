"""Running the bot in production: logging, the locking migration, health checks, ``doctor``."""
