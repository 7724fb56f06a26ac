"""``oncall-bot`` commands that manage the data: ``db upgrade`` / ``db current`` (the schema) and
``seed load`` / ``export`` / ``check`` / ``schema`` (the seed file)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import print_json, with_db

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.storage.bootstrap import Database


async def cmd_db(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    """``db upgrade [--lock ...]`` and ``db current``."""
    if args.db_command == "upgrade" and getattr(args, "lock", False):
        from bot.cli.ops import cmd_db_upgrade_locked

        return await cmd_db_upgrade_locked(args, settings)
    from bot.services.database import schema_revisions, upgrade_schema

    if args.db_command == "upgrade":
        before, after = await upgrade_schema(settings)
        change = f", was {before or 'empty'}." if before != after else ", nothing to do."
        print(f"Database at {after} (head){change}")
        return 0
    revisions = await schema_revisions(settings)
    cur, head = revisions.current, revisions.head
    hint = "" if cur == head else " (run `oncall-bot db upgrade`)"
    print(f"current: {cur or 'empty'}; head: {head}{hint}")
    return 0 if cur == head else 1


async def cmd_seed(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    """``seed load [PATH]``, ``seed export [-o FILE]``, ``seed check PATH``, ``seed schema``."""
    if args.seed_command == "schema":
        from bot.seed.schema import json_schema

        print_json(json_schema())
        return 0
    if args.seed_command == "check":
        from bot.seed.validate import load_seed_file

        d = load_seed_file(args.path)
        print(f"{args.path}: OK ({len(d.pipelines)} pipelines, {len(d.people)} people, {len(d.rotations)} rotations)")
        return 0

    if args.seed_command == "load":
        from bot.seed.validate import read_seed_file

        path = Path(args.path) if args.path else settings.seed_path
        read_seed_file(path)  # a bad file is refused before a new database is even created
        # A new, empty database gets this file as its first seed, not the default one first.
        settings = settings.model_copy(update={"seed_path": path})

    async def go(db: Database) -> int:
        from bot.services.database import export_seed, load_seed

        if args.seed_command == "load":
            changes = await load_seed(db, path)
            print(f"{path}: " + ("no changes (the database already holds this seed)" if changes.unchanged
                                else f"loaded ({changes.summary()})"))
            return 0
        text = await export_seed(db)
        if args.output:
            import asyncio  # (here: a one-shot answer does not import asyncio at all)

            await asyncio.to_thread(Path(args.output).write_text, text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return 0

    return await with_db(settings, go)
