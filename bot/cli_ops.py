"""Operator commands of ``oncall-bot``: ``doctor`` and ``db upgrade --lock``.

Kept apart from ``bot/cli.py`` (which wires them in) so that the operations side can grow
without touching the user commands. Imports are lazy, as in ``bot/cli.py``.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings


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
        manifest=Path(args.manifest) if getattr(args, "manifest", None) else DEFAULT_MANIFEST,
        seed_path=Path(args.seed) if getattr(args, "seed", None) else None,
    )
    only = [Status.WARN, Status.FAIL] if getattr(args, "problems", False) else None
    print_report(report, only=only)
    sys.stdout.flush()
    return report.exit_code


async def cmd_run_ops(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    """``oncall-bot run``: with Slack credentials, the bot's logging first (ONCALL_LOG_FORMAT,
    request ids, redaction); then ``bot.cli.cmd_run``. The console keeps a quiet terminal."""
    from bot.cli import cmd_run

    if settings.slack_bot_token is not None:
        from bot.ops.logging import configure_logging

        configure_logging(settings)
    return await cmd_run(args, settings, now)


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


async def cmd_db_ops(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    """``oncall-bot db ...``: ``upgrade --lock`` here, everything else in ``bot.cli.cmd_db``."""
    if getattr(args, "db_command", None) == "upgrade" and getattr(args, "lock", False):
        return await cmd_db_upgrade_locked(args, settings)
    from bot.cli import cmd_db

    return await cmd_db(args, settings, now)


def add_upgrade_lock_arguments(upgrade: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``--lock``, ``--wait``, ``--lock-timeout`` on ``db upgrade``."""
    upgrade.add_argument("--lock", action="store_true",
                         help="PostgreSQL: migrate under an advisory lock so replicas starting together migrate once")
    upgrade.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                         help="with --lock: retry connecting for up to SECONDS while the server starts")
    upgrade.add_argument("--lock-timeout", type=float, default=300.0, metavar="SECONDS",
                         help="with --lock: give up when another replica holds the lock longer (default 300)")
    return upgrade
