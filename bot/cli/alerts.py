"""CLI commands of alerts (issue 12): ``integrations``, ``alert``, ``heartbeat``, ``freshness``,
``incidents``.

``alert`` and ``heartbeat`` act on the database directly, through the same services as the HTTP
intake (the incident opened, its Slack messages sent with ``SLACK_BOT_TOKEN``, else printed on
stderr as the console does). Registered by ``bot.cli.main``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.cli.common import CliError, Command, iso, load_snapshot, parse_instant, pipeline_id, print_json, table, with_db

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.storage.bootstrap import Database

SEVERITIES = ("critical", "error", "warning", "info")


def add_alert_parsers(sub: Any) -> None:
    """Add the alert subcommands to ``oncall-bot``'s subparsers."""
    p = sub.add_parser("integrations", help="routing keys that let monitors open incidents on a pipeline")
    isub = p.add_subparsers(dest="integrations_command", required=True)
    ip = isub.add_parser("add", help="make a routing key for PIPELINE (printed once, stored as a hash)")
    ip.add_argument("pipeline")
    ip.add_argument("--name", required=True, help="what sends with it, e.g. 'airflow prod'")
    ip.add_argument("--json", action="store_true")
    ip = isub.add_parser("list", help="the routing keys (never the keys themselves)")
    ip.add_argument("--json", action="store_true")
    ip = isub.add_parser("revoke", help="revoke a routing key by id")
    ip.add_argument("id", type=int)
    p = sub.add_parser("alert", help="send an alert for PIPELINE from this host (scripts, cron)")
    p.add_argument("pipeline")
    p.add_argument("summary")
    p.add_argument("--severity", choices=SEVERITIES, default="error")
    p.add_argument("--dedup-key", help="repeats with the same key add to one alert (default: the summary)")
    p.add_argument("--resolve", action="store_true", help="resolve the open alert of --dedup-key")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("heartbeat", help="record that data of PIPELINE arrived (now, or --at)")
    p.add_argument("pipeline")
    p.add_argument("--at", help="ISO-8601 time (company zone without an offset)")
    p = sub.add_parser("freshness", help="each pipeline's last data arrival and its deadline")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("incidents", help="incidents, newest first")
    p.add_argument("--open", action="store_true", help="only those not resolved")
    p.add_argument("--json", action="store_true")


@dataclass
class LocalDeps:
    """What the incident and alert services need, in a CLI process (no bolt app)."""

    settings: Any
    db: Any
    client: Any = None
    outbox_port: Any = None
    background: Any = field(default=None)


async def _local_deps(settings: Settings, db: Database, directory: Any) -> tuple[LocalDeps, Any]:
    from bot.cli.scheduled import console_or_slack
    from bot.services.deliveries import ConsolePort
    from bot.slack.deps import BackgroundTasks

    port, close = console_or_slack(settings, directory)
    if isinstance(port, ConsolePort):
        port = ConsolePort(directory, out=sys.stderr)
    return LocalDeps(settings, db, outbox_port=port, background=BackgroundTasks()), close


async def cmd_integrations(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.services import alerts as svc

    async def go(db: Database) -> int:
        if args.integrations_command == "add":
            snap = await load_snapshot(db, settings)
            new = await svc.add(db, pipeline_id(snap, args.pipeline), args.name, now)
            if args.json:
                print_json({"id": new.id, "pipeline": new.pipeline, "name": new.name, "routing_key": new.routing_key})
            else:
                print(f"Routing key #{new.id} for {new.pipeline} ({new.name}): {new.routing_key}")
                print("It is shown only now: store it where the sender keeps secrets.", file=sys.stderr)
            return 0
        if args.integrations_command == "revoke":
            found = await svc.revoke(db, args.id, now)
            if found is None:
                raise CliError(f"no routing key #{args.id} (see oncall-bot integrations list)")
            print(f"Routing key #{found.id} ({found.pipeline}, {found.name}) revoked.")
            return 0
        rows = await svc.listed(db)
        if args.json:
            print_json([{"id": r.id, "pipeline": r.pipeline, "name": r.name, "created_at": iso(r.created_at),
                         "revoked_at": iso(r.revoked_at)} for r in rows])
            return 0
        table("Routing keys", ["id", "pipeline", "name", "created", "revoked"],
              [[str(r.id), r.pipeline, r.name, iso(r.created_at) or "", iso(r.revoked_at) or "—"] for r in rows])
        return 0

    return await with_db(settings, go)


async def cmd_alert(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.core.alerts import Action
    from bot.services import alerts as svc

    if args.resolve and not args.dedup_key:
        raise CliError("--resolve needs --dedup-key (the key of the alert to resolve)")

    async def go(db: Database) -> int:
        snap = await load_snapshot(db, settings)
        pipeline = pipeline_id(snap, args.pipeline)
        deps, close = await _local_deps(settings, db, snap.directory)

        async def snapshots() -> Any:
            return snap

        try:
            intake = svc.Intake(deps, snapshots)
            action = Action.RESOLVE if args.resolve else Action.TRIGGER
            event = svc.AlertEvent(action, args.dedup_key or args.summary[:255], args.severity,
                                   args.summary[:1024], "oncall-bot alert")
            got = await intake.receive(None, pipeline, event, now, wait=30.0)
            await intake.applied()
            await intake.kicker.wait()
            await deps.background.drain(30.0)
        finally:
            if close is not None:
                await close()
        if args.json:
            print_json({"dedup_key": got.dedup_key, "outcome": got.outcome, "incident": got.incident_id})
        else:
            where = f" (incident #{got.incident_id})" if got.incident_id else ""
            print(f"Alert {got.dedup_key!r} on {pipeline}: {got.outcome}{where}")
        return 0

    return await with_db(settings, go)


async def cmd_heartbeat(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.services import alerts as svc

    async def go(db: Database) -> int:
        snap = await load_snapshot(db, settings)
        pipeline = pipeline_id(snap, args.pipeline)
        at = parse_instant(args.at, snap.directory.calendar.timezone, now)
        deps, close = await _local_deps(settings, db, snap.directory)

        async def snapshots() -> Any:
            return snap

        try:
            resolved = await svc.arrived(deps, pipeline, at, now, snapshots)
            await deps.background.drain(30.0)
        finally:
            if close is not None:
                await close()
        extra = f"; resolved incident {', '.join(f'#{i}' for i in resolved)}" if resolved else ""
        print(f"Data arrival of {pipeline} recorded at {iso(at)}{extra}")
        return 0

    return await with_db(settings, go)


async def cmd_freshness(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.core.alerts import format_duration
    from bot.render.fmt import local_time
    from bot.services import alerts as svc

    async def go(db: Database) -> int:
        snap = await load_snapshot(db, settings)
        deps = LocalDeps(settings, db)
        rows = await svc.report(deps, snap, now)
        if args.json:
            print_json([{"pipeline": r.pipeline, "arrival_within": format_duration(r.within),
                         "last_arrival": iso(r.last_arrival), "deadline": iso(r.deadline), "late": r.late}
                        for r in rows])
            return 0
        if not rows:
            print("No pipeline has a freshness rule (seed: pipelines[].freshness.arrival_within).")
            return 0
        tz = snap.calendar.tz
        table("Data arrival", ["pipeline", "within", "last arrival", "deadline", "state"],
              [[r.name, format_duration(r.within), local_time(r.last_arrival, tz) if r.last_arrival else "never",
                local_time(r.deadline, tz), "LATE" if r.late else "ok"] for r in rows])
        return 0

    return await with_db(settings, go)


async def cmd_incidents(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.render.alerts import inbox_lines
    from bot.services import alerts as svc

    async def go(db: Database) -> int:
        # alert events not applied yet are part of no incident: say so, or an empty list would read
        # as "the alerts did nothing" (with --json on stderr: stdout stays the list). Counted before
        # the incidents are read: an event applied in between is then at worst in both, never in neither
        waiting = await svc.inbox_counts(db)
        rows = await svc.incidents(db, only_open=args.open)
        notes = inbox_lines(waiting.queued, waiting.failed)
        if args.json:
            print_json(rows)
            for line in notes:
                print(line, file=sys.stderr)
            return 0
        if not rows:
            print("No open incidents." if args.open else "No incidents.")
        else:
            table("Incidents", ["id", "pipeline", "severity", "state", "source", "opened", "alerts", "summary"],
                  [[str(r["id"]), r["pipeline"], r["severity"], r["state"], r["source"], r["opened_at"],
                    str(r["alerts"]), r["summary"][:60]] for r in rows])
        for line in notes:
            print(line)
        return 0

    return await with_db(settings, go)


ALERT_COMMANDS: dict[str, Command] = {
    "integrations": cmd_integrations,
    "alert": cmd_alert,
    "heartbeat": cmd_heartbeat,
    "freshness": cmd_freshness,
    "incidents": cmd_incidents,
}
