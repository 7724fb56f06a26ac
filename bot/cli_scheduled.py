"""CLI commands of the scheduled work: ``tick``, ``calendar``, ``checklists``, ``deliveries``.

Registered by ``bot.cli`` (``add_scheduled_parsers`` and ``SCHEDULED_COMMANDS``); helpers of
``bot.cli`` are imported inside the functions because ``bot.cli`` imports this module.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.core.model import Directory
    from bot.services.deliveries import SlackPort
    from bot.services.snapshot import Snapshot
    from bot.storage.bootstrap import Database


def add_scheduled_parsers(sub: Any) -> None:
    """Add the scheduled-work subcommands to ``oncall-bot``'s subparsers."""
    p = sub.add_parser("tick", help="run one scheduler tick now (or --at a time) and exit")
    p.add_argument("--at", help="ISO-8601 time (company zone without an offset), e.g. 2026-11-30T09:00")
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


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def console_or_slack(settings: Settings, directory: Directory) -> tuple[SlackPort, Callable[[], Any] | None]:
    """The Slack port (Web API with a bot token, else the console) and a closer."""
    from bot.services.deliveries import ConsolePort, WebSlackPort

    if settings.slack_bot_token is None:
        return ConsolePort(directory), None
    from bot.slack.client import close_client, make_client

    client = make_client(settings)
    client.retry_handlers = []  # the deliveries retry (and look for a first post) themselves
    return WebSlackPort(client), lambda: close_client(client)


async def cmd_tick(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.cli import CliError, _parse_instant, _with_db
    from bot.services.queries import load_snapshot
    from bot.services.scheduled import ScheduleConfig, Ticker

    async def go(db: Database) -> int:
        snap = await load_snapshot(db, settings.admin_ids)
        at = _parse_instant(args.at, snap.directory.calendar.timezone, now)
        port, close = console_or_slack(settings, snap.directory)

        async def snapshots() -> Snapshot:
            return snap

        try:
            try:
                config = ScheduleConfig.from_env()
            except ValueError as exc:
                raise CliError(str(exc)) from None
            report = await Ticker(db, port, snapshots=snapshots, config=config).tick(at)
        finally:
            if close is not None:
                await close()
        print(f"\ntick at {_local(at, snap)}: {report.summary()}", file=sys.stderr)
        for err in report.deliveries.errors:
            print(f"  failed: {err}", file=sys.stderr)
        return 0

    return await _with_db(settings, go)


def occurrence_json(occ: Any) -> dict[str, Any]:
    """``{id, kind, definition, at, due, pipeline, assignees, channel}`` (stable keys)."""
    return {
        "id": occ.key,
        "kind": occ.kind,
        "definition": occ.definition,
        "at": _iso(occ.at),
        "due": _iso(occ.due),
        "pipeline": occ.pipeline,
        "assignees": list(occ.assignees),
        "channel": occ.channel,
    }


def _range_bound(text: str, snap: Snapshot, now: datetime) -> datetime:
    """A bare date is its local midnight; anything else as ``--at`` reads it."""
    from datetime import date

    from bot.cli import _parse_instant

    try:
        return snap.calendar.day_start(date.fromisoformat(text.strip()))
    except ValueError:
        return _parse_instant(text, snap.directory.calendar.timezone, now)


async def cmd_calendar(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.cli import CliError, _print_json, _table, _with_db
    from bot.core.recurrence import occurrences
    from bot.services.queries import load_snapshot

    async def go(db: Database) -> int:
        snap = await load_snapshot(db, settings.admin_ids)
        start = _range_bound(args.start, snap, now)
        end = _range_bound(args.end, snap, now)
        if end <= start:
            raise CliError("--to must be after --from")
        occs = occurrences(snap.directory, snap.calendar, start, end, snap.overrides)
        if args.json:
            _print_json([occurrence_json(o) for o in occs])
            return 0
        d = snap.directory
        rows = []
        for o in occs:
            where = o.channel or "group DM"
            if o.meeting_start is not None:
                where += f" · meeting {_local(o.meeting_start, snap)}"
            names = ", ".join(d.people[p].name if p in d.people else p for p in o.assignees)
            rows.append([_local(o.at, snap), o.kind, o.definition, _local(o.due, snap), names or "—", where])
        _table(
            f"Recurring work {_local(start, snap)} → {_local(end, snap)} ({len(occs)})",
            ["Opens", "Kind", "Definition", "Due", "Assignees", "Where"],
            rows,
        )
        return 0

    return await _with_db(settings, go)


async def cmd_checklists(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.cli import _print_json, _table, _with_db
    from bot.services.queries import load_snapshot
    from bot.storage import scheduled as store

    async def go(db: Database) -> int:
        snap = await load_snapshot(db, settings.admin_ids)
        async with db.sessions() as session:
            rows = await store.checklists(session, open_only=args.open)
            items = await store.items_of(session, [r.id for r in rows])
        if args.json:
            _print_json(
                [
                    {
                        "id": r.id,
                        "key": r.key,
                        "definition": r.definition,
                        "title": r.title,
                        "pipeline": r.pipeline,
                        "channel": r.channel,
                        "opens_at": _iso(r.opens_at),
                        "due": _iso(r.due_at),
                        "status": r.status,
                        "overdue": r.overdue,
                        "done": sum(1 for i in items[r.id] if i.ticked_by),
                        "total": len(items[r.id]),
                        "assignees": list(r.assignees),
                        "items": [
                            {"text": i.text, "ticked_by": i.ticked_by, "ticked_at": _iso(i.ticked_at)}
                            for i in items[r.id]
                        ],
                        "completed_at": _iso(r.completed_at),
                        "reminded_at": _iso(r.reminded_at),
                        "escalated_at": _iso(r.escalated_at),
                        "escalated_to": list(r.escalated_to or []),
                        "posted": r.ts is not None,
                    }
                    for r in rows
                ]
            )
            return 0
        d = snap.directory
        table = []
        for r in rows:
            done = sum(1 for i in items[r.id] if i.ticked_by)
            status = r.status + (" (was overdue)" if r.overdue and r.status == "complete" else "")
            names = ", ".join(d.people[p].name if p in d.people else p for p in r.assignees)
            table.append(
                [r.title, _local(r.opens_at, snap), _local(r.due_at, snap), f"{done}/{len(items[r.id])}", status, names]
            )
        title = "Open checklists" if args.open else "Checklists"
        _table(f"{title} ({len(rows)})", ["Checklist", "Opened", "Due", "Done", "Status", "Assignees"], table)
        return 0

    return await _with_db(settings, go)


async def cmd_deliveries(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.cli import _print_json, _table, _with_db
    from bot.services.queries import load_snapshot
    from bot.storage import scheduled as store

    async def go(db: Database) -> int:
        snap = await load_snapshot(db, settings.admin_ids)
        async with db.sessions() as session:
            rows = await store.list_deliveries(session, failed_only=args.failed)
        if args.json:
            _print_json(
                [
                    {
                        "id": r.id,
                        "key": r.key,
                        "op": r.op,
                        "target": r.target,
                        "label": r.label,
                        "status": r.status,
                        "attempts": r.attempts,
                        "next_attempt_at": _iso(r.next_attempt_at) if r.status in store.READY else None,
                        "expires_at": _iso(r.expires_at),
                        "last_error": r.last_error,
                        "channel_id": r.channel_id,
                        "ts": r.ts,
                        "sent_at": _iso(r.sent_at),
                    }
                    for r in rows
                ]
            )
            return 0
        table = [
            [
                r.label or r.key,
                r.status,
                str(r.attempts),
                _local(r.next_attempt_at, snap) if r.status in store.READY else _local(r.sent_at, snap),
                r.ts or "—",
                (r.last_error or "")[:60],
            ]
            for r in rows
        ]
        title = "Failed or retrying deliveries" if args.failed else "Deliveries (newest first)"
        _table(
            f"{title} ({len(rows)})", ["Delivery", "Status", "Tries", "Next / sent", "Slack ts", "Last error"], table
        )
        return 0

    return await _with_db(settings, go)


SCHEDULED_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings, datetime], Coroutine[Any, Any, int]]] = {
    "tick": cmd_tick,
    "calendar": cmd_calendar,
    "checklists": cmd_checklists,
    "deliveries": cmd_deliveries,
}
