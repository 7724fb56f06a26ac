"""``oncall-bot``: the parser of every subcommand and ``main``, which reads the clock once and
runs the command. The commands live in the modules of their group (``queries``, ``data``,
``scheduled``, ``changes``, ``ops``); their imports are lazy so that a one-shot answer stays fast."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeGuard

from bot.cli.alerts import ALERT_COMMANDS, add_alert_parsers
from bot.cli.changes import CHANGES_COMMANDS, add_changes_parsers
from bot.cli.common import CliError, Command
from bot.cli.contacts import CONTACTS_COMMANDS, add_contacts_parsers
from bot.cli.cover import COVER_COMMANDS, add_cover_parsers
from bot.cli.data import cmd_db, cmd_seed
from bot.cli.ops import add_doctor_parser, add_upgrade_lock_arguments, cmd_doctor, cmd_run
from bot.cli.people import add_people_parser, cmd_people
from bot.cli.queries import (
    QUICK_ANSWERS,
    cmd_ask,
    cmd_console,
    cmd_oncall,
    cmd_owners,
    cmd_runbook,
    cmd_schedule,
)
from bot.cli.readapi import READAPI_COMMANDS, add_readapi_parsers
from bot.cli.scheduled import SCHEDULED_COMMANDS, add_scheduled_parsers

if TYPE_CHECKING:
    from pydantic import ValidationError

    from bot.config import Settings
    from bot.config_env import QuickSettings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oncall-bot", description="The on-call bot for data teams.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run the bot (Slack when credentials are set, else the local console)")
    p.add_argument("--user", help="console: act as this person id")
    p = sub.add_parser("console", help="interactive console: the Slack commands in a terminal")
    p.add_argument("--user", help="act as this person id (for /oncall me)")
    p = sub.add_parser("ask", help='answer one slash command as Slack would, e.g. "/oncall engagement"')
    p.add_argument("text")
    p.add_argument("--user", help="act as this person id")

    p = sub.add_parser("oncall", help="who is on call for a pipeline (or all) now or --at a time")
    p.add_argument("pipeline", nargs="?")
    p.add_argument("--at", help='ISO-8601 time (local to the company zone without an offset), or "tomorrow 10:00"')
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("schedule", help="a pipeline's on-call segments over a time range")
    p.add_argument("pipeline")
    p.add_argument("--from", dest="start", required=True)
    p.add_argument("--to", dest="end", required=True)
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("runbook", help="a pipeline's runbook")
    p.add_argument("pipeline")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("owners", help="who owns a pipeline or a kind of data")
    p.add_argument("query")
    p.add_argument("--json", action="store_true")

    add_scheduled_parsers(sub)
    add_changes_parsers(sub)
    add_cover_parsers(sub)
    add_alert_parsers(sub)
    p = sub.add_parser("db", help="database migrations")
    dsub = p.add_subparsers(dest="db_command", required=True)
    add_upgrade_lock_arguments(dsub.add_parser("upgrade", help="migrate to the newest schema"))
    dsub.add_parser("current", help="show the schema revision")

    p = sub.add_parser("seed", help="the seed file: load, export, check, schema")
    ssub = p.add_subparsers(dest="seed_command", required=True)
    sp = ssub.add_parser("load", help="load (upsert) a seed file, default the bundled data/seed.yaml")
    sp.add_argument("path", nargs="?")
    sp = ssub.add_parser("export", help="write the database back as seed YAML")
    sp.add_argument("-o", "--output")
    sp = ssub.add_parser("check", help="validate a seed file without loading it")
    sp.add_argument("path")
    ssub.add_parser("schema", help="print the JSON Schema of the seed file")
    add_doctor_parser(sub)
    add_people_parser(sub)
    add_readapi_parsers(sub)
    add_contacts_parsers(sub)
    return parser


COMMANDS: dict[str, Command] = {
    "oncall": cmd_oncall,
    "schedule": cmd_schedule,
    "runbook": cmd_runbook,
    "owners": cmd_owners,
    "ask": cmd_ask,
    "console": cmd_console,
    "run": cmd_run,
    "db": cmd_db,
    "doctor": cmd_doctor,
    "people": cmd_people,
    "seed": cmd_seed,
    **SCHEDULED_COMMANDS,
    **CHANGES_COMMANDS,
    **READAPI_COMMANDS,
    **COVER_COMMANDS,
    **ALERT_COMMANDS,
    **CONTACTS_COMMANDS,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from bot.clock import clock_from
    from bot.config_env import quick_settings
    quick = QUICK_ANSWERS.get(args.command)
    try:
        # A question answered from a snapshot reads its settings and its data the quick way when it
        # can (without pydantic, SQLAlchemy and asyncio): the same values, or else the usual way.
        fields = (quick_settings() if quick is not None else None) or _settings()
    except BadSettings as exc:
        return exc.report()
    now = clock_from(fields.clock_start)()  # the one clock read of a CLI invocation
    try:
        snap = None
        if quick is not None:
            from bot.services.quick import quick_snapshot

            snap = quick_snapshot(fields.database_url, fields.admin_ids)
        if quick is not None and snap is not None:
            code = quick(args, snap, now)
        else:
            import asyncio

            settings = fields if _is_settings(fields) else _settings()
            code = asyncio.run(COMMANDS[args.command](args, settings, now))
        sys.stdout.flush()  # here, so that a closed pipe is seen while it can still be handled
        return code
    except BadSettings as exc:  # (read again the usual way after a quick read: not expected)
        return exc.report()
    except BrokenPipeError:
        return _reader_went_away()
    except CliError as exc:
        print(f"oncall-bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from bot.seed.validate import SeedError  # (here: a one-shot answer does not import pydantic)
        from bot.services.database import DatabaseNotReady

        if isinstance(exc, SeedError | DatabaseNotReady):
            print(f"oncall-bot: {exc}", file=sys.stderr)
            return 2
        raise


class BadSettings(Exception):
    """The settings do not validate (``error``, pydantic's ``ValidationError``)."""

    def __init__(self, error: ValidationError) -> None:
        super().__init__(str(error))
        self.error = error

    def report(self) -> int:
        """Say so in one line; the exit code (2)."""
        first = self.error.errors()[0]
        print(f"oncall-bot: bad configuration: {first['loc']}: {first['msg']}", file=sys.stderr)
        return 2


def _settings() -> Settings:
    """``Settings()``: read with pydantic-settings; ``BadSettings`` when they do not validate."""
    from pydantic import ValidationError

    from bot.config import Settings

    try:
        return Settings()
    except ValidationError as exc:
        raise BadSettings(exc) from None


def _is_settings(fields: QuickSettings | Settings) -> TypeGuard[Settings]:
    from bot.config import Settings

    return isinstance(fields, Settings)


def _reader_went_away() -> int:
    """``oncall-bot seed schema | head``: the reader closed the pipe. Stop quietly, as a Unix
    tool killed by SIGPIPE does (exit 141), and keep Python from failing again on the final flush."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 141
