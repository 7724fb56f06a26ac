"""``oncall-bot contacts ...`` (each person's ways to be woken) and ``oncall-bot ack``.

- ``contacts add PERSON URL [--label L] [--after MINUTES]``: an Apprise URL, stored encrypted
  (needs ``ONCALL_SECRET_KEY``); the URL is never printed back;
- ``contacts list [PERSON]`` (URLs masked), ``contacts test PERSON`` (a real send; what Apprise
  said), ``contacts remove ID``, ``contacts order PERSON ID...``;
- ``contacts gaps``: people on a rotation that can be paged at any hour with only Slack (exit 1
  when there is one, for a monitoring check);
- ``ack INCIDENT --as PERSON``: acknowledge from a terminal, as that person.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.cli.common import CliError, Command, with_db

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.storage.bootstrap import Database


def add_contacts_parsers(sub: Any) -> None:
    p = sub.add_parser("contacts", help="each person's contact methods beyond Slack (Apprise URLs)")
    csub = p.add_subparsers(dest="contacts_command", required=True)
    sp = csub.add_parser("add", help="add an Apprise URL (mailto://, ntfy://, pover://, twilio://...)")
    sp.add_argument("person")
    sp.add_argument("url", help="the Apprise URL (stored encrypted; never shown again)")
    sp.add_argument("--label", help="a name for it, e.g. 'phone push'")
    sp.add_argument("--after", type=int, help="minutes after the page starts (only faster than the default)")
    sp = csub.add_parser("list", help="contact methods (URLs masked)")
    sp.add_argument("person", nargs="?")
    sp = csub.add_parser("test", help="send a real test message through each method of a person")
    sp.add_argument("person")
    sp = csub.add_parser("remove", help="remove a contact method by id")
    sp.add_argument("id", type=int)
    sp = csub.add_parser("order", help="set the order of a person's methods")
    sp.add_argument("person")
    sp.add_argument("ids", type=int, nargs="+")
    csub.add_parser("gaps", help="people on a critical-capable rotation with only Slack (exit 1 if any)")
    p = sub.add_parser("ack", help="acknowledge an incident from a terminal, as the paged person")
    p.add_argument("incident", type=int)
    p.add_argument("--as", dest="person", required=True, help="the person id acknowledging")


def _deps(settings: Settings, db: Database, now: datetime, directory: Any) -> Any:
    """The incident service's dependencies: Slack when a bot token is set, else the console."""
    from bot.clock import fixed_clock
    from bot.services.deliveries import ConsolePort
    from bot.slack.client import make_client
    from bot.slack.deps import SlackDeps

    deps = SlackDeps(settings=settings, db=db, client=make_client(settings), clock=fixed_clock(now))
    if settings.slack_bot_token is None:
        deps.outbox_port = ConsolePort(directory)  # type: ignore[attr-defined]
    return deps


async def cmd_contacts(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.render.paging import contact_lines, method_text
    from bot.services.deliveries.secrets import NoSecretKey
    from bot.services.paging import contacts
    from bot.services.queries import load_snapshot
    from bot.slack.client import close_client

    async def go(db: Database) -> int:
        snap = await load_snapshot(db, settings.admin_ids)
        deps = _deps(settings, db, now, snap.directory)
        try:
            return await _run(args, deps, snap, now)
        except NoSecretKey as exc:
            raise CliError(str(exc)) from None
        except contacts.ContactError as exc:
            raise CliError(str(exc)) from None
        finally:
            await close_client(deps.client)

    async def _run(args: argparse.Namespace, deps: Any, snap: Any, now: datetime) -> int:
        d = snap.directory
        match args.contacts_command:
            case "add":
                m = await contacts.add(deps, args.person, args.url, now, label=args.label, after=args.after)
                print(f"Added {method_text(m)} for {args.person} (stored encrypted). "
                      f"Try it: oncall-bot contacts test {args.person}")
            case "list":
                lines = contact_lines(d, await contacts.list_methods(deps, args.person))
                print("\n".join(lines) if lines else "No contact methods" + (f" for {args.person}" if args.person
                                                                           else "") + ".")
            case "test":
                results = await contacts.test(deps, args.person, now)
                if not results:
                    print(f"{args.person} has no contact method (oncall-bot contacts add).")
                    return 1
                for t in results:
                    print(f"{method_text(t.method)}: {'OK' if t.said.ok else 'FAILED'} · Apprise: {t.said.text}")
                return 0 if all(t.said.ok for t in results) else 1
            case "remove":
                m = await contacts.remove(deps, args.id, now)
                print(f"Removed {method_text(m)} of {m.person}.")
            case "order":
                await contacts.reorder(deps, args.person, args.ids, now)
                print("\n".join(contact_lines(d, await contacts.list_methods(deps, args.person))))
            case "gaps":
                missing = await contacts.gaps(deps)
                if not missing:
                    print("Everyone on a critical-capable rotation has a way to be woken beyond Slack.")
                    return 0
                print("Only Slack (a DM waits silently in Do Not Disturb) for:")
                for person in missing:
                    print(f"  {person} ({d.name_of(person)})")
                return 1
        return 0

    return await with_db(settings, go)


async def cmd_ack(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    from bot.render import incident as render
    from bot.services.incidents.deps import NotFound
    from bot.services.paging import links
    from bot.services.queries import load_snapshot
    from bot.slack.client import close_client

    async def go(db: Database) -> int:
        snap = await load_snapshot(db, settings.admin_ids)
        if args.person not in snap.directory.people:
            raise CliError(f"unknown person {args.person!r}")
        deps = _deps(settings, db, now, snap.directory)
        try:
            acted = await links.acknowledge_as(deps, args.incident, args.person, now)
        except NotFound:
            raise CliError(f"no incident #{args.incident}") from None
        finally:
            await deps.background.drain(timeout=10)
            await close_client(deps.client)
        if acted.applied:
            print(f"Incident #{args.incident} acknowledged by {args.person}; further pages stopped.")
            return 0
        why = acted.reason or (render.refusal_text(snap.directory, acted.refusal, acted.incident)
                               if acted.refusal else "nothing changed")
        print(f"Not acknowledged: {why}", file=sys.stderr)
        return 1

    return await with_db(settings, go)


CONTACTS_COMMANDS: dict[str, Command] = {"contacts": cmd_contacts, "ack": cmd_ack}
