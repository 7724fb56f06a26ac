"""The seed in the database: load it (an upsert of the whole file), export it, read the Directory.

``apply_seed`` makes the seed tables say exactly what the file says, inside the caller's
transaction: entries that are new are inserted, changed ones rewritten (their child rows
replaced), entries no longer in the file deleted. Operational tables (overrides, ...) are not
touched. Loading the same file twice changes nothing.

``export_seed`` reads the tables back as a ``SeedIn`` equal to the one loaded, so that
``dump_seed(export_seed(...))`` is ``dump_seed(parse_seed_text(file))``.

All writes to the seed tables go through ``apply_seed``: it records the seed's digest in ``meta``,
which ``load_directory`` uses to answer from memory while the seed is unchanged.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Executable, RowMapping, Table, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.model import Directory
from bot.seed.convert import to_directory
from bot.seed.schema import (
    PersonIn,
    PipelineIn,
    RecurringIn,
    RotationIn,
    SeedIn,
    TeamIn,
)
from bot.storage.calendar_tokens import revoke_tokens_except
from bot.storage.meta import get_meta, lock, set_meta
from bot.storage.seedrows import seed_from_rows
from bot.storage.tables import (
    SEED_TABLES,
    AdminRow,
    Base,
    CalendarRow,
    HolidayRow,
    PersonRow,
    PipelineAliasRow,
    PipelineEscalationRow,
    PipelineOwnerRow,
    PipelineRow,
    PipelineWindowRow,
    RecurringItemRow,
    RecurringRow,
    RecurringRuleRow,
    RotationMemberRow,
    RotationRoleRow,
    RotationRow,
    RunbookEntryRow,
    RunbookIssueRow,
    TeamRow,
    table_of,
)

DIGEST_KEY = "seed.digest"
ANNOUNCEMENT_CHANNEL_KEY = "seed.announcement_channel"
INCIDENT_RESPONDERS_KEY = "seed.incident_responders"  # JSON list of team ids; absent when empty
PAGING_KEY = "seed.paging"  # JSON of the seed's ``paging`` section; absent when the seed has none
# pg_advisory_xact_lock key held while the seed is written, so that concurrent loads queue.
SEED_LOCK_KEY = 0x6F6E63616C6D
KINDS = ("calendar", "settings", "teams", "people", "rotations", "pipelines", "recurring")

CALENDAR = table_of(CalendarRow)
HOLIDAYS = table_of(HolidayRow)
TEAMS = table_of(TeamRow)
PEOPLE = table_of(PersonRow)
ADMINS = table_of(AdminRow)
ROTATIONS = table_of(RotationRow)
MEMBERS = table_of(RotationMemberRow)
ROLES = table_of(RotationRoleRow)
PIPELINES = table_of(PipelineRow)
ALIASES = table_of(PipelineAliasRow)
OWNERS = table_of(PipelineOwnerRow)
WINDOWS = table_of(PipelineWindowRow)
ESCALATION = table_of(PipelineEscalationRow)
RUNBOOK_ENTRIES = table_of(RunbookEntryRow)
RUNBOOK_ISSUES = table_of(RunbookIssueRow)
RECURRING = table_of(RecurringRow)
RULES = table_of(RecurringRuleRow)
ITEMS = table_of(RecurringItemRow)

Rows = dict[Table, list[dict[str, Any]]]


class NoSeed(LookupError):
    """The database holds no seed yet."""


@dataclass
class KindChanges:
    """Ids of one kind of entry that a load added, updated or removed."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.updated or self.removed)


@dataclass
class SeedChanges:
    """What ``apply_seed`` changed, per kind (``KINDS``): ``changes["pipelines"].added`` ..."""

    kinds: dict[str, KindChanges] = field(default_factory=lambda: {k: KindChanges() for k in KINDS})
    revoked_tokens: list[str] = field(default_factory=list)  # people whose calendar feed was revoked

    def __getitem__(self, kind: str) -> KindChanges:
        return self.kinds[kind]

    @property
    def unchanged(self) -> bool:
        return all(k.unchanged for k in self.kinds.values())

    def counts(self) -> dict[str, tuple[int, int, int]]:
        """(added, updated, removed) per kind."""
        return {name: (len(k.added), len(k.updated), len(k.removed)) for name, k in self.kinds.items()}

    def summary(self) -> str:
        """``pipelines: 1 added, 2 updated; people: 1 removed``, or ``no changes``."""
        parts = []
        for name, k in self.kinds.items():
            done = [f"{len(ids)} {what}" for what, ids in (("added", k.added), ("updated", k.updated),
                                                           ("removed", k.removed)) if ids]
            if done:
                parts.append(f"{name}: {', '.join(done)}")
        if self.revoked_tokens:
            parts.append(f"calendar feeds revoked: {', '.join(self.revoked_tokens)}")
        return "; ".join(parts) or "no changes"


def seed_digest(seed: SeedIn) -> str:
    """A digest of the seed's content (equal seeds, equal digests)."""
    return hashlib.sha256(seed.model_dump_json().encode()).hexdigest()


# --- seed entries -> rows ------------------------------------------------------------------------


def _calendar_rows(seed: SeedIn) -> Rows:
    c = seed.calendar
    return {
        CALENDAR: [dict(id=1, timezone=c.timezone, holiday_country=c.holiday_country,
                        holiday_subdivision=c.holiday_subdivision, month_end_days=c.month_end_days)],
        HOLIDAYS: [dict(position=i, date=h.date, name=h.name) for i, h in enumerate(c.extra_holidays)],
    }


def _settings_rows(seed: SeedIn) -> Rows:
    return {ADMINS: [dict(position=i, person_id=a) for i, a in enumerate(seed.admins)]}


def _team_rows(t: TeamIn, pos: int) -> Rows:
    return {TEAMS: [dict(id=t.id, position=pos, name=t.name, short_name=t.short_name, channel=t.channel,
                         lead=t.lead)]}


def _person_rows(p: PersonIn, pos: int) -> Rows:
    return {PEOPLE: [dict(id=p.id, position=pos, name=p.name, team_id=p.team, slack_user_id=p.slack_user_id,
                          email=p.email)]}


def _rotation_rows(r: RotationIn, pos: int) -> Rows:
    return {
        ROTATIONS: [dict(id=r.id, position=pos, name=r.name, team_id=r.team, anchor=r.anchor,
                         period_days=r.period_days, usergroup=r.usergroup)],
        MEMBERS: [dict(rotation_id=r.id, position=i, person_id=m) for i, m in enumerate(r.members)],
        ROLES: [dict(rotation_id=r.id, position=i, role_id=x.id, name=x.name, covers=x.covers)
                for i, x in enumerate(r.roles)],
    }


def _pipeline_rows(p: PipelineIn, pos: int) -> Rows:
    ah, rb = p.after_hours, p.runbook
    entries = [("data_type", rb.data_types), ("sla", rb.slas), ("oncall_note", rb.oncall_notes)]
    return {
        PIPELINES: [dict(
            id=p.id, position=pos, name=p.name, channel=p.channel, keywords=list(p.keywords),
            usergroup=p.usergroup, topic=p.topic.model_dump() if p.topic else None,
            after_hours_action=ah.action, after_hours_target=ah.target,
            after_hours_queue_at=ah.queue_at, after_hours_critical_target=ah.critical_target,
            after_hours_note=ah.note, critical_note=rb.critical_note,
            sla_fix_within=p.sla.fix_within if p.sla else None, sla_fix_by=p.sla.fix_by if p.sla else None,
            sla_at=p.sla.at if p.sla else None,
            arrival_within=p.freshness.arrival_within if p.freshness else None,
        )],
        ALIASES: [dict(pipeline_id=p.id, position=i, alias=a) for i, a in enumerate(p.aliases)],
        OWNERS: [dict(pipeline_id=p.id, kind=kind, position=i, team_id=t)
                 for kind, teams in (("primary", p.owners.primary), ("secondary", p.owners.secondary))
                 for i, t in enumerate(teams)],
        WINDOWS: [dict(pipeline_id=p.id, position=i, name=w.name, label=w.label, days=list(w.days),
                       month_end=w.month_end, start_time=w.start, end_time=w.end, primary_slot=w.primary,
                       secondary_slot=w.secondary) for i, w in enumerate(p.windows)],
        ESCALATION: [dict(pipeline_id=p.id, position=i, slot=e) for i, e in enumerate(p.escalation)],
        RUNBOOK_ENTRIES: [dict(pipeline_id=p.id, section=section, position=i, text=text)
                          for section, texts in entries for i, text in enumerate(texts)],
        RUNBOOK_ISSUES: [dict(pipeline_id=p.id, position=i, text=c.text, first_check=c.first_check,
                              keywords=list(c.keywords)) for i, c in enumerate(rb.common_issues)],
    }


def _recurring_rows(r: RecurringIn, pos: int) -> Rows:
    m = r.meeting
    rules = [("opens", r.opens)] + ([("due", r.due)] if r.due is not None else [])
    return {
        RECURRING: [dict(
            id=r.id, position=pos, kind=r.kind, title=r.title, description=r.description,
            pipeline_id=r.pipeline, channel=r.channel, assignees=list(r.assignees),
            meeting_day=m.day if m else None, meeting_start=m.start if m else None,
            meeting_minutes=m.minutes if m else None, reminder=r.reminder,
        )],
        RULES: [dict(recurring_id=r.id, which=which, rule=x.rule, time=x.time, weekday=x.weekday, n=x.n,
                     day=x.day, adjust=x.adjust) for which, x in rules],
        ITEMS: [dict(recurring_id=r.id, position=i, text=t) for i, t in enumerate(r.items)],
    }


@dataclass(frozen=True)
class _Kind:
    """A kind of seed entry with an id: its table, its rows (the entry's, then its children's, which
    refer to it by ``child_key``) and where the seed lists them."""

    name: str
    table: Table
    child_key: str
    rows: Callable[[Any, int], Rows]
    entries: Callable[[SeedIn], Sequence[Any]]


_KINDS = (
    _Kind("teams", TEAMS, "", _team_rows, lambda s: s.teams),
    _Kind("people", PEOPLE, "", _person_rows, lambda s: s.people),
    _Kind("rotations", ROTATIONS, "rotation_id", _rotation_rows, lambda s: s.rotations),
    _Kind("pipelines", PIPELINES, "pipeline_id", _pipeline_rows, lambda s: s.pipelines),
    _Kind("recurring", RECURRING, "recurring_id", _recurring_rows, lambda s: s.recurring),
)


# --- load ----------------------------------------------------------------------------------------


async def has_seed(session: AsyncSession) -> bool:
    return bool((await session.execute(select(exists().where(CALENDAR.c.id == 1)))).scalar())


async def apply_seed(session: AsyncSession, seed: SeedIn) -> SeedChanges:
    """Make the seed tables hold exactly ``seed`` (validated), in the caller's transaction.

    Writes only what differs. The caller commits (or rolls back: then nothing was written).
    """
    await lock(session, SEED_LOCK_KEY)
    old = await export_seed(session) if await has_seed(session) else None
    changes = SeedChanges()
    clear: list[Executable] = []  # child rows of rewritten entries, singletons' rows
    inserts: dict[Table, list[dict[str, Any]]] = defaultdict(list)
    rewrites: list[Executable] = []  # UPDATEs of changed entries (after the inserts they may refer to)
    removed: dict[Table, list[str]] = {}

    def add_rows(rows: Rows) -> None:
        for table, table_rows in rows.items():
            inserts[table].extend(table_rows)

    singletons = (
        ("calendar", lambda s: s.calendar, _calendar_rows),
        ("settings", lambda s: (s.admins, s.announcement_channel, s.incident_responders), _settings_rows),
    )
    for name, value, rows_of in singletons:
        if old is not None and value(old) == value(seed):
            continue
        (changes[name].added if old is None else changes[name].updated).append(name)
        rows = rows_of(seed)
        clear.extend(delete(table) for table in rows)
        add_rows(rows)
    if old is None or old.announcement_channel != seed.announcement_channel:
        await set_meta(session, ANNOUNCEMENT_CHANNEL_KEY, seed.announcement_channel)
    if old is None or old.incident_responders != seed.incident_responders:
        await set_meta(session, INCIDENT_RESPONDERS_KEY,
                       json.dumps(seed.incident_responders) if seed.incident_responders else None)
    if old is None or old.paging != seed.paging:
        await set_meta(session, PAGING_KEY, seed.paging.model_dump_json() if seed.paging else None)

    for kind in _KINDS:
        before = {e.id: (i, e) for i, e in enumerate(kind.entries(old))} if old is not None else {}
        now = kind.entries(seed)
        for i, entry in enumerate(now):
            if before.get(entry.id) == (i, entry):
                continue
            rows = kind.rows(entry, i)
            if entry.id not in before:
                changes[kind.name].added.append(entry.id)
                add_rows(rows)
                continue
            changes[kind.name].updated.append(entry.id)
            (parent,) = rows.pop(kind.table)
            rewrites.append(update(kind.table).where(kind.table.c.id == entry.id).values(parent))
            clear.extend(delete(child).where(child.c[kind.child_key] == entry.id) for child in rows)
            add_rows(rows)
        kept = {e.id for e in now}
        gone = [key for key in before if key not in kept]
        changes[kind.name].removed.extend(gone)
        if gone:
            removed[kind.table] = gone

    for stmt in clear:
        await session.execute(stmt)
    for table in Base.metadata.sorted_tables:  # parents before children
        if inserts.get(table):
            await session.execute(table.insert(), inserts[table])
    for stmt in rewrites:
        await session.execute(stmt)
    # Referrers before what they refer to, by kind: a removed pipeline's owner rows (its children)
    # refer to teams, so the metadata's table order, which knows nothing of pipelines vs teams,
    # is not enough. Children go with their parent (ON DELETE CASCADE); history tables name seed
    # entries as plain text and keep their rows.
    for kind in reversed(_KINDS):
        if kind.table in removed:
            await session.execute(delete(kind.table).where(kind.table.c.id.in_(removed[kind.table])))
    # People who left the seed lose their calendar feeds (issue 10 §7): in the same transaction.
    revoked = await revoke_tokens_except(session, [p.id for p in seed.people])
    if revoked:
        changes.revoked_tokens.extend(revoked)
    digest = seed_digest(seed)
    if await get_meta(session, DIGEST_KEY) != digest:
        await set_meta(session, DIGEST_KEY, digest)
    return changes


# --- export --------------------------------------------------------------------------------------


async def _read(session: AsyncSession) -> dict[str, Sequence[RowMapping]]:
    """Each seed table's rows by table name, in ``seedrows.READ_ORDER``."""
    out: dict[str, Sequence[RowMapping]] = {}
    for table in SEED_TABLES:
        order = [table.c.position] if "id" in table.c and "position" in table.c else list(table.primary_key)
        out[table.name] = (await session.execute(select(table).order_by(*order))).mappings().all()
    return out


async def export_seed(session: AsyncSession) -> SeedIn:
    """The seed the tables hold; ``NoSeed`` when none was loaded."""
    t = await _read(session)
    if not t[CALENDAR.name]:
        raise NoSeed("no seed loaded")
    return seed_from_rows(t, await get_meta(session, ANNOUNCEMENT_CHANNEL_KEY),
                          await get_meta(session, INCIDENT_RESPONDERS_KEY), paging=await get_meta(session, PAGING_KEY))


# --- the Directory -------------------------------------------------------------------------------

_DIRECTORY_CACHE_SIZE = 8
_directories: dict[str, Directory] = {}


async def load_directory(session: AsyncSession) -> Directory:
    """The seed as core values; ``NoSeed`` when none was loaded.

    While the seed is unchanged this is one small query: Directories are kept in memory by the
    digest of their seed (shared, so callers must not modify the Directory's dicts).
    """
    digest = await get_meta(session, DIGEST_KEY)
    if digest is not None and (known := _directories.get(digest)) is not None:
        return known
    seed = await export_seed(session)
    directory = to_directory(seed)
    while len(_directories) >= _DIRECTORY_CACHE_SIZE:
        del _directories[next(iter(_directories))]
    _directories[seed_digest(seed)] = directory
    return directory
