"""CLI commands of the schedule changes: ``audit``, ``fairness`` and ``calendar-tokens``.

Registered by ``bot.cli.main`` (``add_changes_parsers`` and ``CHANGES_COMMANDS``).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.cli.common import Command, check_range, parse_bound, person_label, print_json, table, with_db

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.core.fairness import Load
    from bot.storage.bootstrap import Database


def add_changes_parsers(sub: Any) -> None:
    """Add ``audit`` and ``fairness`` to ``oncall-bot``'s subparsers."""
    p = sub.add_parser("audit", help="the audit trail: changes, refusals, incidents, checklists, deliveries "
                                     "(oldest first)")
    p.add_argument("--since", help='ISO-8601 (company zone without an offset) or "yesterday 09:00"')
    p.add_argument("--who", help="only what this person id (or Slack user id, if not in the directory) did")
    p.add_argument("--action", action="append", default=[],
                   help='only this action (repeatable); "change." matches every change.* action')
    p.add_argument("--limit", type=int, help="at most this many entries (the oldest first)")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("calendar-tokens", help="calendar-feed tokens: who has one; revoke one (the feed then 404s)")
    tsub = p.add_subparsers(dest="tokens_command", required=True)
    tsub.add_parser("list", help="who has a calendar-feed token, and since when (not the tokens)")
    tp = tsub.add_parser("revoke", help="revoke a person's calendar-feed token")
    tp.add_argument("person", help="a person id (also one no longer in the seed)")
    p = sub.add_parser("fairness", help="shifts and hours on call per person and team over a time range")
    p.add_argument("--from", dest="start", required=True, help="ISO-8601 (company zone without an offset)")
    p.add_argument("--to", dest="end", required=True)
    p.add_argument("--json", action="store_true")


async def cmd_calendar_tokens(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    """``calendar-tokens list`` and ``calendar-tokens revoke PERSON``."""
    from bot.services.calendar_feeds import issued_tokens, revoke_token

    async def go(db: Database) -> int:
        if args.tokens_command == "revoke":
            if await revoke_token(db, args.person, now):
                print(f"Revoked {args.person}'s calendar feed: its links now answer 404.")
                return 0
            print(f"{args.person} has no calendar-feed token: nothing to revoke.")
            return 1
        issued = await issued_tokens(db)
        print(f"Calendar-feed tokens ({len(issued)})")
        for person, since in issued:
            print(f"  {person}  issued {since.isoformat(timespec='minutes')}")
        return 0

    return await with_db(settings, go)


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)


def _load_json(load: Load) -> dict[str, Any]:
    return {"shifts": load.shifts, "hours": _hours(load.hours), "out_of_hours": _hours(load.out_of_hours),
            "primary_hours": _hours(load.primary_hours)}


def _short(value: Any, limit: int = 60) -> str:
    if value is None:
        return "—"
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def cmd_audit(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.render.fmt import local_time
    from bot.services.records import audit_entries, directory_of

    async def go(db: Database) -> int:
        directory = await directory_of(db)
        tz_name = directory.calendar.timezone
        since = parse_bound(args.since, tz_name, now, end=False) if args.since else None
        entries = await audit_entries(db, since=since, actor=args.who, actions=args.action, limit=args.limit)
        if not entries:  # nothing found: one line, exit 1 (and an empty list for --json)
            if args.json:
                print_json([])
            print("oncall-bot: nothing recorded" + (" for that filter" if since or args.who or args.action else " yet"),
                  file=sys.stderr)
            return 1
        if args.json:
            print_json([{"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
                          "subject": e.subject, "before": e.before, "after": e.after} for e in entries])
            return 0
        from zoneinfo import ZoneInfo

        tz = ZoneInfo(tz_name)
        rows = [[str(e.id), local_time(e.at, tz), "(bot)" if e.actor is None else person_label(directory, e.actor),
                 e.action, e.subject[:80], _short(e.before), _short(e.after)] for e in entries]
        title = "Audit trail" + (f" since {local_time(since, tz)}" if since else "") + (
            f" by {args.who}" if args.who else "")
        table(title, ["#", "When", "Who", "Action", "Subject", "Before", "After"], rows)
        return 0

    return await with_db(settings, go)


async def cmd_fairness(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.render.fmt import local_time
    from bot.services.changes import fairness_report
    from bot.services.records import directory_of

    async def go(db: Database) -> int:
        tz_name = (await directory_of(db)).calendar.timezone
        start = parse_bound(args.start, tz_name, now, end=False)
        end = parse_bound(args.end, tz_name, now, end=True)
        check_range(start, end)
        directory, report = await fairness_report(db, start, end)
        if args.json:
            print_json({"from": start.isoformat(), "to": end.isoformat(),
                         "people": {p: {"team": directory.people[p].team if p in directory.people else None,
                                        **_load_json(load)} for p, load in report.people.items()},
                         "teams": {t: _load_json(load) for t, load in report.teams.items()}})
            return 0
        from zoneinfo import ZoneInfo

        tz = ZoneInfo(tz_name)
        rows: list[list[str]] = []
        for team_id, team in directory.teams.items():
            load = report.teams[team_id]
            rows.append([team.name, str(load.shifts), f"{_hours(load.hours):g}", f"{_hours(load.out_of_hours):g}",
                         f"{_hours(load.primary_hours):g}"])
            for pid, pl in report.people.items():
                if pid in directory.people and directory.people[pid].team == team_id:
                    rows.append([f"  {person_label(directory, pid)}", str(pl.shifts), f"{_hours(pl.hours):g}",
                                 f"{_hours(pl.out_of_hours):g}", f"{_hours(pl.primary_hours):g}"])
        for pid, pl in report.people.items():
            if pid not in directory.people:
                rows.append([f"  {pid} (not in the directory)", str(pl.shifts), f"{_hours(pl.hours):g}",
                             f"{_hours(pl.out_of_hours):g}", f"{_hours(pl.primary_hours):g}"])
        table(f"Fairness {local_time(start, tz)} to {local_time(end, tz)}",
               ["Team / person", "Shifts", "Hours", "Out of hours", "Primary hours"], rows)
        print("Hours: on call for at least one pipeline (overrides count for whoever covered). Out of hours: "
              "weekends and holidays.")
        return 0

    return await with_db(settings, go)


CHANGES_COMMANDS: dict[str, Command] = {
    "audit": cmd_audit,
    "fairness": cmd_fairness,
    "calendar-tokens": cmd_calendar_tokens,
}
