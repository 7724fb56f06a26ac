"""``oncall-bot``: the command line. Parses arguments, calls services, prints; imports lazily so
that a one-shot answer stays fast."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli_ops import add_doctor_parser, add_upgrade_lock_arguments, cmd_db_ops, cmd_doctor, cmd_run_ops

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.core.answer import Holder
    from bot.services.snapshot import Snapshot
    from bot.storage.bootstrap import Database


class CliError(Exception):
    """A user mistake: printed as one line, exit code 2."""


def _parse_instant(text: str | None, tz_name: str, now: datetime) -> datetime:
    if text is None:
        return now
    from zoneinfo import ZoneInfo

    from bot.core.when import WhenError, parse_when

    try:
        return parse_when(text, now, ZoneInfo(tz_name)).astimezone(UTC)
    except WhenError as exc:
        raise CliError(str(exc)) from None


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


async def _with_db(settings: Settings, fn: Callable[[Database], Awaitable[int]]) -> int:
    from bot.storage.bootstrap import open_database

    db = await open_database(settings, say=lambda line: print(line, file=sys.stderr))
    try:
        return await fn(db)
    finally:
        await db.close()


async def _snapshot(db: Database, settings: Settings) -> Snapshot:
    from bot.services.queries import load_snapshot

    return await load_snapshot(db, settings.admin_ids)


def _pipeline(snap: Snapshot, text: str) -> str:
    from bot.commands.answer import resolve_pipeline
    from bot.commands.results import NotFound

    found = resolve_pipeline(snap, text)
    if isinstance(found, NotFound):
        hint = f" Did you mean {' or '.join(found.suggestions)}?" if found.suggestions else ""
        raise CliError(f"unknown pipeline '{text}'.{hint} Pipelines: {', '.join(found.choices)}")
    return found.id


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(*r)
    Console(width=max(100, min(200, 160))).print(table)


def _name(snap: Snapshot, holder: Holder | None) -> str:
    if holder is None:
        return "—"
    p = snap.directory.people.get(holder.person)
    return f"{p.name} ({p.id})" if p else holder.person


async def cmd_oncall(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.core.coverage import oncall_at
    from bot.render.fmt import local_time
    from bot.render.jsonout import answer_json

    async def go(db: Database) -> int:
        snap = await _snapshot(db, settings)
        at = _parse_instant(args.at, snap.directory.calendar.timezone, now)
        ids = [_pipeline(snap, args.pipeline)] if args.pipeline else list(snap.directory.pipelines)
        answers = [oncall_at(snap.directory, snap.calendar, pid, at, snap.overrides) for pid in ids]
        if args.json:
            data = [answer_json(snap.directory, a) for a in answers]
            _print_json(data[0] if args.pipeline else data)
            return 0
        tz = snap.calendar.tz
        rows = []
        for a in answers:
            day = a.day_type.value + (f" ({a.holiday})" if a.holiday else "")
            name = snap.directory.pipelines[a.pipeline].name
            if a.covered:
                until = local_time(a.until, tz) if a.until else "—"
                primary = _name(snap, a.primary)
                rows.append([name, a.window_label or "", primary, _name(snap, a.secondary),
                             until, day])
            else:
                resumes = ""
                if a.next:
                    resumes = f"resumes {local_time(a.next.at, tz)} with " + _name(snap, a.next.primary)
                rows.append([name, "not covered", "—", "—", resumes, day])
        _table(f"On call at {local_time(at, tz)}", ["Pipeline", "Window", "Primary", "Secondary", "Until", "Day"], rows)
        return 0

    return await _with_db(settings, go)


async def cmd_schedule(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.core.coverage import schedule
    from bot.render.fmt import local_time
    from bot.render.jsonout import segment_json

    async def go(db: Database) -> int:
        snap = await _snapshot(db, settings)
        tz_name = snap.directory.calendar.timezone
        start = _parse_instant(args.start, tz_name, now)
        end = _parse_instant(args.end, tz_name, now)
        if end <= start:
            raise CliError("--to must be after --from")
        pid = _pipeline(snap, args.pipeline)
        segs = schedule(snap.directory, snap.calendar, pid, start, end, snap.overrides)
        if args.json:
            _print_json([segment_json(snap.directory, s) for s in segs])
            return 0
        tz = snap.calendar.tz
        rows = [[local_time(s.start, tz), local_time(s.end, tz), s.window or "not covered",
                 _name(snap, s.primary), _name(snap, s.secondary)]
                for s in segs]
        columns = ["From", "To", "Window", "Primary", "Secondary"]
        _table(f"{snap.directory.pipelines[pid].name}: schedule", columns, rows)
        return 0

    return await _with_db(settings, go)


async def cmd_runbook(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.render.jsonout import runbook_json

    async def go(db: Database) -> int:
        snap = await _snapshot(db, settings)
        pid = _pipeline(snap, args.pipeline)
        if args.json:
            _print_json(runbook_json(snap.directory, pid))
            return 0
        return _print_answer(snap, f"/runbook {pid}", now, None)

    return await _with_db(settings, go)


async def cmd_owners(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.core.search import find_owners
    from bot.render.jsonout import owner_hit_json

    async def go(db: Database) -> int:
        snap = await _snapshot(db, settings)
        hits = find_owners(snap.directory, args.query)
        if args.json:
            _print_json([owner_hit_json(snap.directory, h) for h in hits])
            return 0
        return _print_answer(snap, f"/whoowns {args.query}", now, None)

    return await _with_db(settings, go)


def _print_answer(snap: Snapshot, line: str, now: datetime, user: str | None) -> int:
    from bot.commands.results import NotFound, Problem
    from bot.render.blocks import render_result
    from bot.render.plain import message_to_text
    from bot.services.queries import ask_snapshot

    asked = ask_snapshot(snap, line, now, user)
    msg = render_result(snap.directory, snap.calendar.tz, asked.result, user)
    print(message_to_text(msg, snap.directory))
    return 2 if isinstance(asked.result, Problem | NotFound) else 0


async def cmd_ask(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.render.plain import message_to_text
    from bot.services.ask import ask_line

    async def go(db: Database) -> int:
        said = await ask_line(db, settings, args.text, now, args.user)
        print(message_to_text(said.message, said.snapshot.directory))
        return 2 if said.user_error else 0

    return await _with_db(settings, go)


async def cmd_console(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.console import run_console

    async def go(db: Database) -> int:
        return await run_console(db, settings, user=args.user)

    return await _with_db(settings, go)


async def cmd_run(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    has_slack = settings.slack_bot_token is not None and (
        settings.slack_app_token is not None or settings.slack_signing_secret is not None
    )
    if not has_slack:
        print(
            "No Slack credentials: running the local console. To connect Slack, set SLACK_BOT_TOKEN and "
            "SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP), as the README's 'Connect Slack' says.",
            file=sys.stderr,
        )
        return await cmd_console(args, settings, now)
    try:
        from bot.slack.server import run_slack  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise CliError("this build has no Slack transport yet; run `oncall-bot console`") from None
    result: int = await run_slack(settings)
    return result


async def cmd_db(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.storage.db import create_engine
    from bot.storage.migrate import current_revision, head_revision, upgrade

    engine = create_engine(settings.database_url)
    try:
        if args.db_command == "upgrade":
            before = await current_revision(engine)
            await upgrade(engine)
            after = await current_revision(engine)
            change = f", was {before or 'empty'}." if before != after else ", nothing to do."
            print(f"Database at {after} (head){change}")
        else:
            cur = await current_revision(engine)
            head = head_revision()
            hint = "" if cur == head else " (run `oncall-bot db upgrade`)"
            print(f"current: {cur or 'empty'}; head: {head}{hint}")
            return 0 if cur == head else 1
    finally:
        await engine.dispose()
    return 0


async def cmd_seed(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    if args.seed_command == "schema":
        from bot.seed.schema import json_schema

        _print_json(json_schema())
        return 0
    if args.seed_command == "check":
        from bot.seed.validate import load_seed_file

        d = load_seed_file(args.path)
        print(f"{args.path}: OK ({len(d.pipelines)} pipelines, {len(d.people)} people, {len(d.rotations)} rotations)")
        return 0

    async def go(db: Database) -> int:
        from bot.storage.bootstrap import export_seed_text, load_seed_file_into

        if args.seed_command == "load":
            path = Path(args.path) if args.path else settings.seed_path
            changes = await load_seed_file_into(db, path)
            print(f"{path}: {changes}")
            return 0
        text = await export_seed_text(db)
        if args.output:
            await asyncio.to_thread(Path(args.output).write_text, text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return 0

    return await _with_db(settings, go)


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
    return parser


from bot.cli_changes import CHANGES_COMMANDS, add_changes_parsers  # noqa: E402  (audit, fairness)
from bot.cli_scheduled import SCHEDULED_COMMANDS, add_scheduled_parsers  # noqa: E402  (tick, calendar, ...)

COMMANDS: dict[str, Callable[[argparse.Namespace, Settings, datetime], Coroutine[Any, Any, int]]] = {
    "oncall": cmd_oncall,
    "schedule": cmd_schedule,
    "runbook": cmd_runbook,
    "owners": cmd_owners,
    "ask": cmd_ask,
    "console": cmd_console,
    "run": cmd_run_ops,
    "db": cmd_db_ops,
    "doctor": cmd_doctor,
    "seed": cmd_seed,
    **SCHEDULED_COMMANDS,
    **CHANGES_COMMANDS,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from pydantic import ValidationError

    from bot.config import Settings
    from bot.seed.validate import SeedError

    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"oncall-bot: bad configuration: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}", file=sys.stderr)
        return 2
    now = datetime.now(UTC)  # the one clock read of a CLI invocation
    try:
        return asyncio.run(COMMANDS[args.command](args, settings, now))
    except CliError as exc:
        print(f"oncall-bot: {exc}", file=sys.stderr)
        return 2
    except SeedError as exc:
        print(f"oncall-bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from bot.storage.bootstrap import DatabaseNotReady

        if isinstance(exc, DatabaseNotReady):
            print(f"oncall-bot: {exc}", file=sys.stderr)
            return 2
        raise
