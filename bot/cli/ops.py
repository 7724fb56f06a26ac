"""Operator commands of ``oncall-bot``: ``run`` (Slack, else the console), ``doctor`` and
``db upgrade --lock``. Imports are lazy, as in every command module."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import CliError

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.storage.bootstrap import Database


def add_doctor_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("doctor", help="check the database, seed, holidays and Slack set-up; say what to fix")
    p.add_argument("--seed", help="the seed file to compare with (default ONCALL_SEED_PATH or the bundled one)")
    p.add_argument("--manifest", help="the Slack app manifest with the scopes (default manifest.yaml)")
    p.add_argument("--problems", action="store_true", help="print only what is not OK")


def _err(line: str) -> None:
    from bot.ops.logging import redact

    print(redact(line), file=sys.stderr)


async def cmd_doctor(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from zoneinfo import ZoneInfo

    from bot.ops.doctor import DEFAULT_MANIFEST, Status, print_report, run_doctor
    from bot.ops.logging import configure_logging

    configure_logging(settings, level="WARNING")  # the report is the output; logs only for trouble
    # "This year" in the company's zone would need the seed; UTC is a day off at most at New Year.
    today = now.astimezone(ZoneInfo("UTC")).date()
    report = await run_doctor(
        settings,
        today=today,
        now=now,
        manifest=Path(args.manifest) if getattr(args, "manifest", None) else DEFAULT_MANIFEST,
        seed_path=Path(args.seed) if getattr(args, "seed", None) else None,
    )
    only = [Status.WARN, Status.FAIL] if getattr(args, "problems", False) else None
    print_report(report, only=only)
    sys.stdout.flush()
    return report.exit_code


async def cmd_run(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    """``oncall-bot run``: with Slack credentials, the bot's logging first (ONCALL_LOG_FORMAT,
    request ids, redaction), then Slack; without them the local console (a quiet terminal)."""
    if settings.slack_bot_token is not None:
        from bot.ops.logging import configure_logging

        configure_logging(settings)
    has_slack = settings.slack_bot_token is not None and (
        settings.slack_app_token is not None or settings.slack_signing_secret is not None
    )
    if not has_slack:
        print(
            "No Slack credentials: running the local console. To connect Slack, set SLACK_BOT_TOKEN and "
            "SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP), as the README's 'Connect Slack' says.",
            file=sys.stderr,
        )
        return await _console_with_http(args, settings)
    try:
        from bot.slack.server import run_slack  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise CliError("this build has no Slack transport yet; run `oncall-bot console`") from None
    result: int = await run_slack(settings)
    return result


async def _console_with_http(args: argparse.Namespace, settings: Settings) -> int:
    """The console, with /healthz, /metrics and the calendar feeds served on ONCALL_HTTP_PORT
    (the links the console hands out point there)."""
    from bot.cli.common import with_db
    from bot.console import run_console
    from bot.slack.local_http import serve_without_slack

    async def go(db: Database) -> int:
        async with serve_without_slack(settings, db) as bound:
            if bound is not None:
                print(f"Serving /healthz, /metrics and calendar feeds on http://localhost:{bound[1]}", file=sys.stderr)
            return await run_console(db, settings, user=getattr(args, "user", None))

    return await with_db(settings, go)


async def cmd_db_upgrade_locked(args: argparse.Namespace, settings: Settings) -> int:
    """``oncall-bot db upgrade --lock [--wait SECONDS] [--lock-timeout SECONDS]``."""
    from bot.ops.logging import configure_logging, format_exception_safely, redact, safe_url
    from bot.ops.migrate_lock import MigrationError, migration_engine, upgrade_with_lock, wait_for_database

    configure_logging(settings)
    where = safe_url(settings.database_url)
    lock_timeout = float(getattr(args, "lock_timeout", 300))
    try:
        engine = migration_engine(settings.database_url, lock_timeout)
    except Exception as exc:
        _err(f"oncall-bot: cannot migrate {where}: {format_exception_safely(exc)}")
        return 1
    try:
        wait = float(getattr(args, "wait", 0) or 0)
        if wait > 0:
            await wait_for_database(engine, within=wait, say=_err)
        outcome = await upgrade_with_lock(engine, say=_err, lock_timeout=lock_timeout)
    except MigrationError as exc:
        _err(f"oncall-bot: {where}: {exc}")
        return 1
    except Exception as exc:
        _err(f"oncall-bot: cannot migrate {where}: {format_exception_safely(exc)}")
        return 1
    finally:
        await engine.dispose()
    print(redact(f"{where}: {outcome.describe()}"))
    return 0


def add_upgrade_lock_arguments(upgrade: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``--lock``, ``--wait``, ``--lock-timeout`` on ``db upgrade``."""
    upgrade.add_argument("--lock", action="store_true",
                         help="PostgreSQL: migrate under an advisory lock so replicas starting together migrate once")
    upgrade.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                         help="with --lock: retry connecting for up to SECONDS while the server starts")
    upgrade.add_argument("--lock-timeout", type=float, default=300.0, metavar="SECONDS",
                         help="with --lock: give up when another replica holds the lock longer (default 300)")
    return upgrade
