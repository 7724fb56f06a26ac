"""CLI commands of the scheduled work: ``tick``, ``calendar``, ``checklists``, ``deliveries``.

Registered by ``bot.cli.main`` (``add_scheduled_parsers`` and ``SCHEDULED_COMMANDS``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.cli.common import (
    CliError,
    Command,
    check_range,
    iso,
    parse_bound,
    parse_instant,
    person_names,
    print_json,
    table,
    with_db,
)

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.core.model import Directory
    from bot.services.deliveries import SlackPort
    from bot.services.snapshot import Snapshot
    from bot.storage.bootstrap import Database


def add_scheduled_parsers(sub: Any) -> None:
    """Add the scheduled-work subcommands to ``oncall-bot``'s subparsers."""
    p = sub.add_parser("tick", help="run one scheduler tick now and exit; with --at, show what a tick then "
                                    "would do (changing nothing), or with --at and --apply act as if then")
    p.add_argument("--at", help="ISO-8601 time (company zone without an offset), e.g. 2026-11-30T09:00; alone "
                                "a preview that writes and sends nothing")
    p.add_argument("--apply", action="store_true", help="with --at: act as if it were that time (catch-up, tests)")
    p = sub.add_parser("calendar", help="the recurring work's occurrences in a time range")
    p.add_argument("--from", dest="start", required=True, help="ISO-8601 (company zone without an offset)")
    p.add_argument("--to", dest="end", required=True)
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("checklists", help="checklists and their progress")
    p.add_argument("--open", action="store_true", help="only open and overdue ones")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("deliveries", help="scheduled Slack deliveries and their state")
    p.add_argument("--failed", action="store_true", help="only failed, expired or retrying ones")
    p.add_argument("--json", action="store_true")


def _local(at: datetime | None, snap: Snapshot) -> str:
    from bot.render.fmt import local_time

    return local_time(at, snap.calendar.tz) if at is not None else "—"


def _no_slack(settings: Settings) -> Settings:
    """``settings`` without a bot token: a preview never reaches Slack."""
    return settings.model_copy(update={"slack_bot_token": None})


def console_or_slack(settings: Settings, directory: Directory) -> tuple[SlackPort, Callable[[], Any] | None]:
    """The Slack port (Web API with a bot token, else the console) and a closer."""
    from bot.services.deliveries import ConsolePort, WebSlackPort

    if settings.slack_bot_token is None:
        return ConsolePort(directory), None
    from bot.slack.client import close_client, make_client

    client = make_client(settings)
    client.retry_handlers = []  # the deliveries retry (and look for a first post) themselves
    return WebSlackPort(client), lambda: close_client(client)


def print_preview(preview: Any, snap: Snapshot) -> None:
    """What a tick would do, on stdout (``oncall-bot tick --at T``)."""
    print(f"Preview of a tick at {_local(preview.at, snap)} (nothing was written or sent; add --apply to act):")
    for occ in preview.open:
        who = person_names(snap.directory, occ.assignees) or "nobody"
        where = f" in {occ.channel}" if occ.channel else ""
        print(f"  would open {occ.kind} {occ.definition} ({occ.title}){where}, for {who}")
    for occ in preview.skip:
        print(f"  would skip {occ.kind} {occ.definition} of {_local(occ.at, snap)}: past its grace")
    for title in preview.remind:
        print(f"  would remind: {title}")
    for title in preview.overdue:
        print(f"  would mark overdue and escalate: {title}")
    for pending in preview.send:
        print(f"  would send {pending.op} to {pending.target}: {pending.label}")
    for topic in preview.topics:
        print(f"  would set the topic of {topic}")
    if preview.nothing:
        print("  nothing to do")


async def cmd_tick(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.services.queries import load_snapshot
    from bot.services.scheduled import ScheduleConfig, Ticker, preview_tick

    async def go(db: Database) -> int:
        snap = await load_snapshot(db, settings.admin_ids)
        at = parse_instant(args.at, snap.directory.calendar.timezone, now)
        preview = args.at is not None and not args.apply
        port, close = console_or_slack(settings if not preview else _no_slack(settings), snap.directory)

        async def snapshots() -> Snapshot:
            return snap

        try:
            try:
                config = ScheduleConfig.from_env()
            except ValueError as exc:
                raise CliError(str(exc)) from None
            ticker = Ticker(db, port, snapshots=snapshots, config=config)
            if preview:
                print_preview(await preview_tick(ticker, at), snap)
                return 0
            report = await ticker.tick(at)
        finally:
            if close is not None:
                await close()
        print(f"\ntick at {_local(at, snap)}: {report.summary()}", file=sys.stderr)
        for err in report.deliveries.errors:
            print(f"  failed: {err}", file=sys.stderr)
        return 0

    return await with_db(settings, go)


def occurrence_json(occ: Any) -> dict[str, Any]:
    """``{id, kind, definition, at, due, pipeline, assignees, channel}`` (stable keys)."""
    return {
        "id": occ.key,
        "kind": occ.kind,
        "definition": occ.definition,
        "at": iso(occ.at),
        "due": iso(occ.due),
        "pipeline": occ.pipeline,
        "assignees": list(occ.assignees),
        "channel": occ.channel,
    }


async def cmd_calendar(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.core.recurrence import occurrences
    from bot.services.queries import load_snapshot

    async def go(db: Database) -> int:
        snap = await load_snapshot(db, settings.admin_ids)
        tz_name = snap.directory.calendar.timezone
        start = parse_bound(args.start, tz_name, now, end=False)
        end = parse_bound(args.end, tz_name, now, end=True)
        check_range(start, end)
        occs = occurrences(snap.directory, snap.calendar, start, end, snap.overrides)
        if args.json:
            print_json([occurrence_json(o) for o in occs])
            return 0
        d = snap.directory
        rows = []
        for o in occs:
            where = o.channel or "group DM"
            if o.meeting_start is not None:
                where += f" · meeting {_local(o.meeting_start, snap)}"
            names = person_names(d, o.assignees)
            rows.append([_local(o.at, snap), o.kind, o.definition, _local(o.due, snap), names or "—", where])
        table(
            f"Recurring work {_local(start, snap)} → {_local(end, snap)} ({len(occs)})",
            ["Opens", "Kind", "Definition", "Due", "Assignees", "Where"],
            rows,
        )
        return 0

    return await with_db(settings, go)


async def cmd_checklists(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.services.queries import load_snapshot
    from bot.services.records import checklists_with_items

    async def go(db: Database) -> int:
        snap = await load_snapshot(db, settings.admin_ids)
        rows, items = await checklists_with_items(db, open_only=args.open)
        if args.json:
            print_json(
                [
                    {
                        "id": r.id,
                        "key": r.key,
                        "definition": r.definition,
                        "title": r.title,
                        "pipeline": r.pipeline,
                        "channel": r.channel,
                        "opens_at": iso(r.opens_at),
                        "due": iso(r.due_at),
                        "status": r.status,
                        "overdue": r.overdue,
                        "done": sum(1 for i in items[r.id] if i.ticked_by),
                        "total": len(items[r.id]),
                        "assignees": list(r.assignees),
                        "items": [
                            {"text": i.text, "ticked_by": i.ticked_by, "ticked_at": iso(i.ticked_at)}
                            for i in items[r.id]
                        ],
                        "completed_at": iso(r.completed_at),
                        "reminded_at": iso(r.reminded_at),
                        "escalated_at": iso(r.escalated_at),
                        "escalated_to": list(r.escalated_to or []),
                        "posted": r.ts is not None,
                    }
                    for r in rows
                ]
            )
            return 0
        d = snap.directory
        lines = []
        for r in rows:
            done = sum(1 for i in items[r.id] if i.ticked_by)
            status = r.status + (" (was overdue)" if r.overdue and r.status == "complete" else "")
            names = person_names(d, r.assignees)
            lines.append(
                [r.title, _local(r.opens_at, snap), _local(r.due_at, snap), f"{done}/{len(items[r.id])}", status, names]
            )
        title = "Open checklists" if args.open else "Checklists"
        table(f"{title} ({len(rows)})", ["Checklist", "Opened", "Due", "Done", "Status", "Assignees"], lines)
        return 0

    return await with_db(settings, go)


async def cmd_deliveries(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.services.queries import load_snapshot
    from bot.services.records import DELIVERY_READY, deliveries

    async def go(db: Database) -> int:
        snap = await load_snapshot(db, settings.admin_ids)
        rows = await deliveries(db, failed_only=args.failed)
        if args.json:
            print_json(
                [
                    {
                        "id": r.id,
                        "key": r.key,
                        "op": r.op,
                        "target": r.target,
                        "label": r.label,
                        "status": r.status,
                        "attempts": r.attempts,
                        "next_attempt_at": iso(r.next_attempt_at) if r.status in DELIVERY_READY else None,
                        "expires_at": iso(r.expires_at),
                        "last_error": r.last_error,
                        "channel_id": r.channel_id,
                        "ts": r.ts,
                        "sent_at": iso(r.sent_at),
                    }
                    for r in rows
                ]
            )
            return 0
        lines = [
            [
                r.label or r.key,
                r.status,
                str(r.attempts),
                _local(r.next_attempt_at, snap) if r.status in DELIVERY_READY else _local(r.sent_at, snap),
                r.ts or "—",
                (r.last_error or "")[:60],
            ]
            for r in rows
        ]
        title = "Failed or retrying deliveries" if args.failed else "Deliveries (newest first)"
        table(
            f"{title} ({len(rows)})", ["Delivery", "Status", "Tries", "Next / sent", "Slack ts", "Last error"], lines
        )
        return 0

    return await with_db(settings, go)


SCHEDULED_COMMANDS: dict[str, Command] = {
    "tick": cmd_tick,
    "calendar": cmd_calendar,
    "checklists": cmd_checklists,
    "deliveries": cmd_deliveries,
}
