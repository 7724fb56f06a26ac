"""``oncall-bot sla [--json]`` (open incidents and their fix-by), ``oncall-bot handoff NOTE --as
PERSON`` (a handoff note, as ``/handoff`` in Slack) and ``oncall-bot tokens add|list|revoke`` (the
read API's bearer tokens; a token is printed once, when it is made)."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING

from bot.cli.common import CliError, iso, load_snapshot, print_json, table, with_db

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.storage.bootstrap import Database


def add_readapi_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("sla", help="open incidents with their fix-by deadline and state")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("handoff", help="a handoff note for whoever takes over (as /handoff in Slack)")
    p.add_argument("note", nargs="+")
    p.add_argument("--as", dest="person", required=True, help="who writes it (a person id on call this week)")
    p = sub.add_parser("tokens", help="bearer tokens of the read API (GET /api/v1/...)")
    tsub = p.add_subparsers(dest="tokens_command", required=True)
    tp = tsub.add_parser("add", help="make a token (printed once; only its hash is kept)")
    tp.add_argument("--name", required=True, help="who or what uses it, e.g. grafana")
    tp.add_argument("--json", action="store_true")
    tp = tsub.add_parser("list", help="the tokens (never the tokens themselves)")
    tp.add_argument("--json", action="store_true")
    tp = tsub.add_parser("revoke", help="revoke a token by id: its requests get 401 from then on")
    tp.add_argument("id", type=int)


async def cmd_sla(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.render.fmt import duration
    from bot.render.sla import fix_by_plain
    from bot.services.readapi import incidents_data

    async def go(db: Database) -> int:
        rows = await incidents_data(db, "open", now)
        rows.sort(key=lambda r: (r["fix_by"] is None, r["fix_by"] or "", r["id"]))
        if args.json:
            print_json(rows)
            return 0
        snap = await load_snapshot(db, settings)
        tz, d = snap.calendar.tz, snap.directory
        out = []
        for r in rows:
            fix_by = datetime.fromisoformat(r["fix_by"]) if r["fix_by"] else None
            left = "no deadline"
            if fix_by is not None:
                left = f"overdue {duration(now - fix_by)}" if now >= fix_by else f"in {duration(fix_by - now)}"
            name = d.pipelines[r["pipeline"]].name if r["pipeline"] in d.pipelines else r["pipeline"]
            out.append([str(r["id"]), name, r["summary"][:60], r["state"], fix_by_plain(tz, fix_by), left])
        if not out:
            print("No open incident.")
            return 0
        table("Open incidents and their fix-by", ["#", "Pipeline", "Summary", "State", "Fix by", "Due"], out)
        return 0

    return await with_db(settings, go)


async def cmd_handoff(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.render.plain import message_to_text
    from bot.services.handoff import answer_handoff

    async def go(db: Database) -> int:
        got = await answer_handoff(db, args.person, " ".join(args.note), now, settings.admin_ids)
        snap = await load_snapshot(db, settings)
        print(message_to_text(got.message, snap.directory))
        return 2 if got.user_error else 0

    return await with_db(settings, go)


async def cmd_tokens(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.services import readapi

    async def go(db: Database) -> int:
        if args.tokens_command == "add":
            try:
                info, token = await readapi.add_token(db, args.name, now)
            except ValueError as exc:
                raise CliError(str(exc)) from None
            if args.json:
                print_json({"id": info.id, "name": info.name, "token": token})
            else:
                print(f"Token {info.id} ({info.name}): {token}")
                print("Shown once: only its hash is kept. Send it as 'Authorization: Bearer TOKEN'.")
            return 0
        if args.tokens_command == "list":
            tokens = await readapi.list_tokens(db)
            if args.json:
                print_json([{"id": t.id, "name": t.name, "created_at": iso(t.created_at),
                             "revoked_at": iso(t.revoked_at)} for t in tokens])
                return 0
            if not tokens:
                print("No token. Make one with: oncall-bot tokens add --name NAME")
                return 0
            table("Read-API tokens", ["Id", "Name", "Created", "Revoked"],
                  [[str(t.id), t.name, iso(t.created_at) or "", iso(t.revoked_at) or "-"] for t in tokens])
            return 0
        revoked = await readapi.revoke_token(db, args.id, now)
        if revoked is None:
            raise CliError(f"no token {args.id} (see: oncall-bot tokens list)")
        print(f"Token {revoked.id} ({revoked.name}) is revoked.")
        return 0

    return await with_db(settings, go)


READAPI_COMMANDS = {"sla": cmd_sla, "handoff": cmd_handoff, "tokens": cmd_tokens}
