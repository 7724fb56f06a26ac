"""The command line, ``oncall-bot`` (a transport: it calls services, never ``bot.storage``).

- ``main``: the parser and ``main`` (the console-script entry, ``bot.cli:main``).
- ``common``: what the command modules share (``CliError``, time arguments, JSON, tables, the database).
- ``queries``: oncall, schedule, runbook, owners, ask, console.
- ``data``: db (schema) and seed.
- ``scheduled``: tick, calendar, checklists, deliveries.
- ``changes``: audit and fairness.
- ``ops``: run, doctor, ``db upgrade --lock``.
- ``people``: people sync (slack_user_id from emails).

``oncall``, ``schedule``, ``runbook`` and ``owners`` answer from a snapshot alone
(``queries.QUICK_ANSWERS``): on a SQLite database that needs nothing done, ``main`` reads their
settings (``bot.config_env``) and data (``bot.services.quick``) without pydantic, SQLAlchemy or
asyncio, and the answer is the same; anything else takes the usual way.

Command modules import ``common`` (never ``main``); ``main`` imports them. They may import
services, render, commands, core, seed, config, ops and Slack's client and server; not storage.
"""

from bot.cli.main import main

__all__ = ["main"]
