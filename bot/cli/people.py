"""``oncall-bot people sync [--seed PATH] [--check]``: each person's ``slack_user_id`` from their
email, written back into the seed file (only those values change), or with ``--check`` the diff."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import CliError

if TYPE_CHECKING:
    from bot.config import Settings


def add_people_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("people", help="the seed's people and Slack: fill slack_user_id from emails")
    psub = p.add_subparsers(dest="people_command", required=True)
    sp = psub.add_parser("sync", help="fill or check each person's slack_user_id from their email "
                         "(users.lookupByEmail); report who Slack does not know or has deactivated")
    sp.add_argument("--seed", help="the seed file (default ONCALL_SEED_PATH or the bundled one)")
    sp.add_argument("--check", action="store_true",
                    help="change nothing: print the diff and exit 1 when the file would change")


def _write(path: Path, text: str) -> None:
    """Replace ``path``'s content atomically (a crash leaves the old file or the new one)."""
    tmp = path.with_name(f".{path.name}.people-sync.tmp")
    tmp.write_text(text, encoding="utf-8", newline="")
    with contextlib.suppress(OSError):
        os.chmod(tmp, path.stat().st_mode & 0o7777)
    os.replace(tmp, path)


async def cmd_people(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.ops.logging import redact
    from bot.services.people import Found, sync_seed_with_slack

    if settings.slack_bot_token is None:
        raise CliError("people sync asks Slack: set SLACK_BOT_TOKEN (the app's Bot User OAuth Token)")
    path = Path(args.seed) if args.seed else Path(settings.seed_path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CliError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CliError(f"{path}: not UTF-8 (byte {exc.start}): save it as UTF-8") from None
    result = await sync_seed_with_slack(settings, text, str(path))
    for r in result.people:
        if r.found is not Found.SAME:
            print(redact(r.line()))
    same = sum(1 for r in result.people if r.found is Found.SAME)
    to_set = sum(1 for r in result.people if r.new_id is not None)
    summary = (f"people sync: {len(result.people)} people: {same} ok, {to_set} to set, "
               f"{len(result.problems)} need attention")
    if args.check:
        if result.changed:
            sys.stdout.write(result.diff(str(path)))
        print(summary + ("; --check: the file would change" if result.changed else "; the file is up to date"))
        return 1 if result.changed or result.problems else 0
    if result.changed:
        _write(path, result.new_text)
        print(summary + f"; wrote {to_set} slack_user_id value(s) to {path}")
    else:
        print(summary + "; nothing to write")
    return 1 if result.problems else 0
