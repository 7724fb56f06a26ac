"""``oncall-bot`` commands that answer questions: ``oncall``, ``schedule``, ``runbook``, ``owners``,
``ask`` and the interactive ``console``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from bot.cli.common import (
    check_range,
    holder_name,
    parse_bound,
    parse_instant,
    pipeline_id,
    print_json,
    table,
    with_db,
    with_snapshot,
)

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.services.snapshot import Snapshot
    from bot.storage.bootstrap import Database


def answer_oncall(args: argparse.Namespace, snap: Snapshot, now: datetime) -> int:
    """``oncall [PIPELINE] [--at WHEN] [--json]`` from a loaded snapshot."""
    from bot.core.coverage import oncall_at
    from bot.render.fmt import local_time
    from bot.render.jsonout import answer_json

    at = parse_instant(args.at, snap.directory.calendar.timezone, now)
    ids = [pipeline_id(snap, args.pipeline)] if args.pipeline else list(snap.directory.pipelines)
    answers = [oncall_at(snap.directory, snap.calendar, pid, at, snap.overrides) for pid in ids]
    if args.json:
        data = [answer_json(snap.directory, a) for a in answers]
        print_json(data[0] if args.pipeline else data)
        return 0
    tz = snap.calendar.tz
    rows = []
    for a in answers:
        day = a.day_type.value + (f" ({a.holiday})" if a.holiday else "")
        name = snap.directory.pipelines[a.pipeline].name
        if a.covered:
            until = local_time(a.until, tz) if a.until else "—"
            primary = holder_name(snap, a.primary)
            rows.append([name, a.window_label or "", primary, holder_name(snap, a.secondary),
                         until, day])
        else:
            resumes = ""
            if a.next:
                resumes = f"resumes {local_time(a.next.at, tz)} with " + holder_name(snap, a.next.primary)
            rows.append([name, "not covered", "—", "—", resumes, day])
    table(f"On call at {local_time(at, tz)}", ["Pipeline", "Window", "Primary", "Secondary", "Until", "Day"], rows)
    return 0


async def cmd_oncall(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    return await with_snapshot(settings, lambda snap: answer_oncall(args, snap, now))


def answer_schedule(args: argparse.Namespace, snap: Snapshot, now: datetime) -> int:
    """``schedule PIPELINE --from WHEN --to WHEN [--json]`` from a loaded snapshot."""
    from bot.core.coverage import schedule
    from bot.render.fmt import local_time
    from bot.render.jsonout import segment_json

    tz_name = snap.directory.calendar.timezone
    start = parse_bound(args.start, tz_name, now, end=False)
    end = parse_bound(args.end, tz_name, now, end=True)
    check_range(start, end)
    pid = pipeline_id(snap, args.pipeline)
    segs = schedule(snap.directory, snap.calendar, pid, start, end, snap.overrides)
    if args.json:
        print_json([segment_json(snap.directory, s) for s in segs])
        return 0
    tz = snap.calendar.tz
    rows = [[local_time(s.start, tz), local_time(s.end, tz), s.window or "not covered",
             holder_name(snap, s.primary), holder_name(snap, s.secondary)]
            for s in segs]
    columns = ["From", "To", "Window", "Primary", "Secondary"]
    table(f"{snap.directory.pipelines[pid].name}: schedule", columns, rows)
    return 0


async def cmd_schedule(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    return await with_snapshot(settings, lambda snap: answer_schedule(args, snap, now))


def answer_runbook(args: argparse.Namespace, snap: Snapshot, now: datetime) -> int:
    """``runbook PIPELINE [--json]`` from a loaded snapshot."""
    from bot.render.jsonout import runbook_json

    pid = pipeline_id(snap, args.pipeline)
    if args.json:
        print_json(runbook_json(snap.directory, pid))
        return 0
    return _print_answer(snap, f"/runbook {pid}", now, None)


async def cmd_runbook(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    return await with_snapshot(settings, lambda snap: answer_runbook(args, snap, now))


def answer_owners(args: argparse.Namespace, snap: Snapshot, now: datetime) -> int:
    """``owners QUERY [--json]`` from a loaded snapshot."""
    from bot.core.search import find_owners
    from bot.render.jsonout import owner_hit_json

    hits = find_owners(snap.directory, args.query)
    if args.json:
        print_json([owner_hit_json(snap.directory, h) for h in hits])
        if not hits:
            print(f"oncall-bot: nothing I know of holds '{args.query}'", file=sys.stderr)
        return 0 if hits else 1  # 1: nothing found (2 is a mistake in what was typed)
    return _print_answer(snap, f"/whoowns {args.query}", now, None)


async def cmd_owners(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    return await with_snapshot(settings, lambda snap: answer_owners(args, snap, now))


# The commands that answer from a snapshot alone: ``main`` gives them one read the quick way
# (``bot.services.quick``) when the database allows it.
QUICK_ANSWERS: dict[str, Callable[[argparse.Namespace, Snapshot, datetime], int]] = {
    "oncall": answer_oncall,
    "schedule": answer_schedule,
    "runbook": answer_runbook,
    "owners": answer_owners,
}


def _print_answer(snap: Snapshot, line: str, now: datetime, user: str | None) -> int:
    from bot.commands.results import NotFound, OwnersReport, Problem
    from bot.render.blocks import render_result
    from bot.render.plain import message_to_text
    from bot.services.queries import ask_snapshot

    asked = ask_snapshot(snap, line, now, user)
    msg = render_result(snap.directory, snap.calendar.tz, asked.result, user)
    print(message_to_text(msg, snap.directory))
    if isinstance(asked.result, Problem | NotFound):
        return 2
    return 1 if isinstance(asked.result, OwnersReport) and not asked.result.hits else 0


async def cmd_ask(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.console import said_text
    from bot.services.ask import ask_line

    async def go(db: Database) -> int:
        said = await ask_line(db, settings, args.text, now, args.user)
        print(said_text(said))
        return 2 if said.user_error else 1 if said.nothing_found else 0

    return await with_db(settings, go)


async def cmd_console(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.console import run_console

    async def go(db: Database) -> int:
        return await run_console(db, settings, user=args.user)

    return await with_db(settings, go)
