"""A person's contact methods: add (encrypted), list (masked), test (a real send), remove, order;
and ``gaps``: people on a rotation that can be paged at any hour who have only Slack.

Every change is audited (``contact.added``, ``contact.removed``, ``contact.ordered``,
``contact.tested``) with the method's id, person, label and scheme, never its URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import apprise

from bot.core.model import Directory
from bot.core.paging import ContactMethod
from bot.services.deliveries.apprise_port import Said, send_url
from bot.services.deliveries.secrets import Unreadable, cipher_for, scheme_of
from bot.services.incidents.deps import Deps
from bot.services.queries import load_snapshot
from bot.storage import audit
from bot.storage import paging as repo

TEST_TITLE = "On-call bot: test page"
TEST_BODY = ("This is a test from the on-call bot. When an incident pages you, it arrives here like this, "
             "with a link to acknowledge it.")


class ContactError(ValueError):
    """A contact method cannot be added or changed; the message says why (never with the URL)."""


@dataclass(frozen=True)
class Tested:
    """One method's test: what Apprise said."""

    method: ContactMethod
    said: Said


async def _directory(deps: Deps) -> Directory:
    return (await load_snapshot(deps.db, tuple(getattr(deps.settings, "admin_ids", ())))).directory


def _method_json(m: ContactMethod) -> dict[str, object]:
    return {"id": m.id, "person": m.person, "label": m.label, "scheme": m.scheme,
            "after_minutes": m.after_minutes, "position": m.position}


def check_url(url: str) -> str:
    """The scheme of an Apprise URL Apprise understands; ``ContactError`` (without the URL) else."""
    scheme = scheme_of(url)
    if not scheme:
        raise ContactError("not an Apprise URL: it needs a scheme such as mailto://, ntfy:// or pover://")
    if not apprise.Apprise().add(url.strip()):
        raise ContactError(f"Apprise does not understand this {scheme}:// URL (check its parts; "
                           "see docs/paging.md)")
    return scheme


async def add(deps: Deps, person: str, url: str, now: datetime, *, label: str | None = None,
              after: int | None = None, actor: str | None = None) -> ContactMethod:
    """Store ``url`` (encrypted) as ``person``'s next contact method. ``ContactError`` for an
    unknown person, a bad URL or minutes; ``NoSecretKey`` without ``ONCALL_SECRET_KEY``."""
    cipher = cipher_for(deps.settings)
    d = await _directory(deps)
    if person not in d.people:
        raise ContactError(f"unknown person {person!r} (see `oncall-bot people`)")
    if after is not None and not 0 <= after <= 1440:
        raise ContactError("--after must be between 0 and 1440 minutes")
    scheme = check_url(url)
    name = (label or scheme).strip()[:80] or scheme
    async with deps.db.sessions() as session, session.begin():
        method = await repo.add_contact(session, person, name, scheme, cipher.encrypt(url.strip()), after, now)
        await audit.record(session, at=now, actor=actor, action="contact.added", subject=f"person:{person}",
                           after=_method_json(method))
    return method


async def list_methods(deps: Deps, person: str | None = None) -> list[ContactMethod]:
    async with deps.db.sessions() as session:
        return await repo.contacts(session, [person] if person else None)


async def get(deps: Deps, contact_id: int) -> ContactMethod | None:
    async with deps.db.sessions() as session:
        return await repo.contact(session, contact_id)


async def remove(deps: Deps, contact_id: int, now: datetime, *, actor: str | None = None,
                 only_person: str | None = None) -> ContactMethod:
    """Remove a method (``only_person``: refuse unless it is theirs); what it was."""
    async with deps.db.sessions() as session, session.begin():
        found = await repo.contact(session, contact_id)
        if found is None or (only_person is not None and found.person != only_person):
            raise ContactError(f"no contact method #{contact_id}" + (" of yours" if only_person else ""))
        await repo.remove_contact(session, contact_id)
        await audit.record(session, at=now, actor=actor, action="contact.removed", subject=f"person:{found.person}",
                           before=_method_json(found))
    return found


async def reorder(deps: Deps, person: str, ids: Sequence[int], now: datetime, *, actor: str | None = None) -> None:
    """Put ``person``'s methods ``ids`` first, in that order."""
    async with deps.db.sessions() as session, session.begin():
        await repo.set_order(session, person, ids)
        await audit.record(session, at=now, actor=actor, action="contact.ordered", subject=f"person:{person}",
                           after={"order": list(ids)})


async def test(deps: Deps, person: str, now: datetime, *, actor: str | None = None,
               only: int | None = None) -> list[Tested]:
    """Send a real test message through each of ``person``'s methods (or method ``only``); what
    Apprise said for each (its lines scrubbed of the URL)."""
    cipher = cipher_for(deps.settings)
    async with deps.db.sessions() as session:
        methods = [m for m in await repo.contacts(session, [person]) if only is None or m.id == only]
        stored = {m.id: await repo.encrypted_url(session, m.id) for m in methods}
    out: list[Tested] = []
    for m in methods:
        token = stored.get(m.id)
        try:
            said = await send_url(cipher.decrypt(token), TEST_TITLE, TEST_BODY) if token else Said(False, ("removed",))
        except Unreadable as exc:
            said = Said(False, (str(exc),))
        out.append(Tested(m, said))
    async with deps.db.sessions() as session, session.begin():
        await audit.record(session, at=now, actor=actor, action="contact.tested", subject=f"person:{person}",
                           after=[{"id": t.method.id, "ok": t.said.ok} for t in out])
    return out


def critical_people(d: Directory) -> list[str]:
    """Members of every rotation a pipeline can page (its windows, escalation contacts and
    after-hours targets), in the seed's order: the people a critical page can reach."""
    rotations: set[str] = set()
    for p in d.pipelines.values():
        slots = [s for w in p.windows for s in (w.primary, w.secondary) if s is not None]
        slots += list(p.escalation)
        slots += [s for s in (p.after_hours.target, p.after_hours.critical_target) if s is not None]
        rotations |= {s.rotation for s in slots}
    people = [m for r in d.rotations.values() if r.id in rotations for m in r.members]
    return list(dict.fromkeys(people))


async def gaps(deps: Deps) -> list[str]:
    """People on a critical-capable rotation with no contact method beyond Slack."""
    d = await _directory(deps)
    people = critical_people(d)
    async with deps.db.sessions() as session:
        have = {m.person for m in await repo.contacts(session, people)}
    return [p for p in people if p not in have]
