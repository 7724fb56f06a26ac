"""Alembic environment for the on-call bot.

Two ways in:
- the ``alembic`` command: the URL is ``-x url=...``, else ONCALL_DATABASE_URL, else the bot's
  default; an async engine from ``bot.storage.db.create_engine`` runs the migrations via run_sync;
- ``bot.storage.migrate`` from inside a running event loop: it puts a sync connection (already in
  a transaction) into ``config.attributes["connection"]`` and this file uses it as is.

Everything runs in one transaction. On PostgreSQL a transaction-level advisory lock makes
concurrent upgraders wait for each other; on SQLite ``BEGIN IMMEDIATE`` does the same.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from bot.storage.db import async_url, create_engine
from bot.storage.migrate import MIGRATION_LOCK_KEY
from bot.storage.tables import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get("ONCALL_DATABASE_URL")
    if not url:
        url = config.get_main_option("sqlalchemy.url")
    if not url:
        from bot.config import Settings

        url = Settings().database_url
    return url


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        **kwargs,  # type: ignore[arg-type]
    )


def do_run_migrations(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    config.attributes["from_revision"] = context.get_context().get_current_revision()
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def run_migrations_offline(url: str) -> None:
    parsed = async_url(url)
    _configure(
        url=parsed,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=parsed.get_backend_name() == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


shared = config.attributes.get("connection")
if shared is not None:
    do_run_migrations(shared)
else:
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    if context.is_offline_mode():
        run_migrations_offline(_url())
    else:
        asyncio.run(run_async_migrations(_url()))
