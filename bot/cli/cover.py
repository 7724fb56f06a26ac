"""CLI commands of cover requests and the pager: ``cover request|take|untake|list``, ``take``,
``give``. What they owe people (posts, DMs) goes to the delivery outbox: the running bot sends it
within a minute. Exit 0 when done, 1 when refused (the reason printed), 2 for a usage mistake.

Registered by ``bot.cli.main`` (``add_cover_parsers`` and ``COVER_COMMANDS``).
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.cli.common import CliError, Command, check_range, iso, load_snapshot, parse_bound, print_json, with_db

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.core.cover import CoverRequest
    from bot.core.model import Directory
    from bot.render.blocks import Message
    from bot.storage.bootstrap import Database


def add_cover_parsers(sub: Any) -> None:
    p = sub.add_parser("cover", help="cover requests: ask the rotation's channel to take your slots")
    csub = p.add_subparsers(dest="cover_command", required=True)
    r = csub.add_parser("request", help="ask for cover of PERSON's slots from FROM to TO")
    r.add_argument("person")
    r.add_argument("start", metavar="FROM", help="ISO-8601 (company zone without an offset) or a date")
    r.add_argument("end", metavar="TO")
    r.add_argument("--reason", default="")
    r.add_argument("--as", dest="actor", help="who asks (default: PERSON)")
    r.add_argument("--json", action="store_true")
    t = csub.add_parser("take", help="take a slot (or every open slot) of a request")
    t.add_argument("request", type=int)
    t.add_argument("--slot", type=int)
    t.add_argument("--as", dest="actor", required=True, help="the person id who takes it")
    u = csub.add_parser("untake", help="give a taken slot back (its taker before it starts, or the team lead)")
    u.add_argument("request", type=int)
    u.add_argument("--slot", type=int, required=True)
    u.add_argument("--as", dest="actor", required=True)
    v = csub.add_parser("list", help="cover requests, newest first")
    v.add_argument("--open", action="store_true", help="only those with a slot still open")
    v.add_argument("--json", action="store_true")
    p = sub.add_parser("take", help="be primary for PIPELINE from now (until the window ends, or as given)")
    p.add_argument("pipeline")
    p.add_argument("--as", dest="actor", required=True)
    group = p.add_mutually_exclusive_group()
    group.add_argument("--for", dest="duration", help="e.g. 2h, 90m, 1h30m")
    group.add_argument("--until", help='e.g. 18:00, "tomorrow 09:00"')
    p = sub.add_parser("give", help="hand PIPELINE's pager you hold to PERSON")
    p.add_argument("pipeline")
    p.add_argument("person")
    p.add_argument("--as", dest="actor", required=True)


def _print(message: Message, directory: Directory) -> None:
    from bot.render.plain import message_to_text

    print(message_to_text(message, directory))


def _request_json(req: CoverRequest) -> dict[str, Any]:
    return {"id": req.id, "requester": req.requester, "start": iso(req.start), "end": iso(req.end),
            "reason": req.reason, "status": req.status.value, "closed_at": iso(req.closed_at),
            "slots": [{"n": s.n, "seat": str(s.seat), "start": iso(s.start), "end": iso(s.end), "channel": s.channel,
                       "status": s.status.value, "taker": s.taker, "change": s.change_id,
                       "duties": [{"pipeline": d.pipeline, "role": d.role, "window": d.window, "start": iso(d.start),
                                   "end": iso(d.end)} for d in s.duties]} for s in req.slots]}


async def cmd_cover(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.core.changes import Refusal
    from bot.render.cover import render_cover_list, render_refusal, render_requested, render_taken
    from bot.services import cover as svc

    async def go(db: Database) -> int:
        snap = await load_snapshot(db, settings)
        d, tz = snap.directory, snap.calendar.tz
        if args.cover_command == "request":
            start = parse_bound(args.start, d.calendar.timezone, now, end=False)
            end = parse_bound(args.end, d.calendar.timezone, now, end=True)
            check_range(start, end)
            made = await svc.request_cover(db, args.person, start, end, args.reason, args.actor or args.person, now,
                                           extra_admins=settings.admin_ids)
            if isinstance(made, Refusal):
                _print(render_refusal(d, tz, made, "Not asked"), d)
                return 1
            if args.json:
                print_json(_request_json(made))
            else:
                _print(render_requested(d, tz, made), d)
            return 0
        if args.cover_command == "take":
            got = await svc.take_slots(db, args.request, args.actor, now,
                                       slots=[args.slot] if args.slot is not None else None, who=args.actor)
            if got.problem is not None or got.request is None:
                assert got.problem is not None
                _print(render_refusal(d, tz, got.problem), d)
                return 1
            _print(render_taken(d, tz, got.request, got.taken, got.refused), d)
            return 0 if got.taken and not got.refused else 1
        if args.cover_command == "untake":
            back = await svc.untake(db, args.request, args.slot, args.actor, now, extra_admins=settings.admin_ids)
            if isinstance(back, Refusal):
                _print(render_refusal(d, tz, back, "Not given back"), d)
                return 1
            print(f"Slot #{args.slot} of cover request #{back.id} is open again.")
            return 0
        _, requests = await svc.list_requests(db, open_only=args.open)
        if args.json:
            print_json([_request_json(r) for r in requests])
        else:
            _print(render_cover_list(d, tz, requests), d)
        return 0

    return await with_db(settings, go)


async def cmd_pager(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.commands.cover import PagerCommand
    from bot.services import cover as svc

    async def go(db: Database) -> int:
        snap = await load_snapshot(db, settings)
        if args.actor not in snap.directory.people:
            raise CliError(f"'{args.actor}' is not a person id of the seed")
        until = None
        if getattr(args, "duration", None):
            until = f"for {args.duration}"
        elif getattr(args, "until", None):
            until = f"until {args.until}"
        to = getattr(args, "person", None)
        command = PagerCommand(args.pipeline, f"@{to}" if to else None, until)
        answered = await svc.answer_cover(db, snap, command, args.actor, now, extra_admins=settings.admin_ids)
        _print(answered.message, snap.directory)
        return 0 if answered.outcome == "ok" else 1

    return await with_db(settings, go)


COVER_COMMANDS: dict[str, Command] = {"cover": cmd_cover, "take": cmd_pager, "give": cmd_pager}
