"""Contact methods and page plans: the repository functions the paging service uses.

URLs arrive here already encrypted and leave encrypted: this module never sees a plain URL.
A page plan is inserted once per (incident, level, person) (``add_plan``: the first of several
replicas wins, the others read the winner's row).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.paging import ContactMethod, PageStart
from bot.storage.sql import dialect_insert
from bot.storage.tables.paging import ContactMethodRow, PagePlanRow


@dataclass(frozen=True, slots=True)
class Plan:
    """A stored page plan: which page (``incident_id``, ``level``, ``person``), how it started
    (``page``), the token salt its acknowledge link is derived from and when the link expires."""

    id: int
    incident_id: int
    level: int
    person: str
    page: PageStart
    token_salt: str
    expires_at: datetime


def to_method(row: ContactMethodRow) -> ContactMethod:
    return ContactMethod(row.id, row.person, row.label, row.scheme, row.after_minutes, row.position)


def _plan(row: PagePlanRow) -> Plan:
    return Plan(row.id, row.incident_id, row.level, row.person,
                PageStart(row.started_at, row.critical, row.may_wake, row.in_dnd), row.token_salt, row.expires_at)


async def add_contact(session: AsyncSession, person: str, label: str, scheme: str, url_encrypted: str,
                      after_minutes: int | None, now: datetime) -> ContactMethod:
    """Store a contact method last in the person's order."""
    last = (await session.execute(
        select(func.max(ContactMethodRow.position)).where(ContactMethodRow.person == person))).scalar_one_or_none()
    row = ContactMethodRow(person=person, label=label, scheme=scheme, url_encrypted=url_encrypted,
                           after_minutes=after_minutes, position=(last or 0) + 1, created_at=now)
    session.add(row)
    await session.flush()
    return to_method(row)


async def contacts(session: AsyncSession, people: Sequence[str] | None = None) -> list[ContactMethod]:
    """Contact methods (of ``people``, or everyone's), by person, then in their order."""
    stmt = select(ContactMethodRow)
    if people is not None:
        stmt = stmt.where(ContactMethodRow.person.in_(list(people)))
    rows = await session.execute(stmt.order_by(ContactMethodRow.person, ContactMethodRow.position,
                                               ContactMethodRow.id))
    return [to_method(r) for r in rows.scalars()]


async def contact(session: AsyncSession, contact_id: int) -> ContactMethod | None:
    row = await session.get(ContactMethodRow, contact_id)
    return to_method(row) if row is not None else None


async def encrypted_url(session: AsyncSession, contact_id: int) -> str | None:
    """The stored (encrypted) URL of a contact method, or None when it was removed."""
    found = await session.execute(select(ContactMethodRow.url_encrypted).where(ContactMethodRow.id == contact_id))
    return found.scalar_one_or_none()


async def remove_contact(session: AsyncSession, contact_id: int) -> ContactMethod | None:
    """Remove a contact method; what it was (None when there was none)."""
    row = await session.get(ContactMethodRow, contact_id)
    if row is None:
        return None
    method = to_method(row)
    await session.execute(delete(ContactMethodRow).where(ContactMethodRow.id == contact_id))
    return method


async def set_order(session: AsyncSession, person: str, ids: Sequence[int]) -> None:
    """Put the person's methods ``ids`` first, in that order (the others keep theirs after)."""
    current = [m.id for m in await contacts(session, [person])]
    ordered = [i for i in ids if i in current] + [i for i in current if i not in ids]
    for position, contact_id in enumerate(ordered, start=1):
        await session.execute(update(ContactMethodRow).where(ContactMethodRow.id == contact_id)
                              .values(position=position))


async def add_plan(session: AsyncSession, incident_id: int, level: int, person: str, page: PageStart,
                   token_salt: str, token_hash: str | None, expires_at: datetime) -> Plan:
    """The plan of this page: inserted now, or the one another replica inserted first."""
    values = {"incident_id": incident_id, "level": level, "person": person, "started_at": page.start,
              "critical": page.critical, "may_wake": page.may_wake, "in_dnd": page.in_dnd,
              "token_salt": token_salt, "token_hash": token_hash, "expires_at": expires_at}
    stmt = dialect_insert(session)(PagePlanRow).values(**values).on_conflict_do_nothing(
        index_elements=["incident_id", "level", "person"])
    await session.execute(stmt)
    found = await plan_of(session, incident_id, level, person)
    assert found is not None
    return found


async def plan_of(session: AsyncSession, incident_id: int, level: int, person: str) -> Plan | None:
    row = (await session.execute(select(PagePlanRow).where(
        PagePlanRow.incident_id == incident_id, PagePlanRow.level == level, PagePlanRow.person == person)
        .execution_options(populate_existing=True))).scalar_one_or_none()
    return _plan(row) if row is not None else None


async def plans_of(session: AsyncSession, incident_ids: Sequence[int]) -> list[Plan]:
    rows = await session.execute(select(PagePlanRow).where(PagePlanRow.incident_id.in_(list(incident_ids)))
                                 .order_by(PagePlanRow.id))
    return [_plan(r) for r in rows.scalars()]


async def plan_by_token_hash(session: AsyncSession, token_hash: str) -> Plan | None:
    row = (await session.execute(select(PagePlanRow).where(PagePlanRow.token_hash == token_hash))).scalar_one_or_none()
    return _plan(row) if row is not None else None
