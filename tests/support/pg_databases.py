"""PostgreSQL databases for the tests: two per test process, made once, reset before each test.

Making a database is cheap (``CREATE DATABASE`` copies the template through the WAL), dropping one
is not: ``DROP DATABASE`` waits for a checkpoint of the whole server, 2-4 s on a disk that other
test runs keep busy. A database made and dropped per test (and a seeded copy of a template on top)
cost 3-5 s per PostgreSQL test. So each test process keeps

- a *seeded* database (``<prefix>_<pid>_seeded``): migrated and loaded with the seed once. Before
  each test after the first, its other sessions are ended, every table is emptied (``TRUNCATE ...
  RESTART IDENTITY CASCADE``), the rows it held right after seeding are copied back byte for byte
  (binary ``COPY``) and its sequences set back to where they were: the state a copy of it made then
  would have;
- an *empty* database (``<prefix>_<pid>_empty``): before each test after the first, its other
  sessions are ended, every schema in it dropped and ``public`` made again as in a new database.

Either way, a reset is only trusted when the database's schema fingerprint (schemas, relations,
columns, constraints, indexes, triggers, functions, types, extensions, owners, privileges, database
settings, large objects) is the one it had when new; a test that changed what a reset does not
restore (a downgrade, a dropped table, ``ALTER DATABASE``, ...) gets the database dropped and made
again, as before. Both are dropped at the end of the session (``drop_all``); those of a killed
process are dropped by the next run (``drop_leftovers``: the name carries the pid).
"""

from __future__ import annotations

import functools
import io
import os
import re
import socket
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL, make_url

from bot.storage.db import async_url

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"

# Statement and lock bounds for the resets: a session that will not go away makes the reset fail
# (and the database be made again), it never hangs the run.
_BOUNDS = "SET statement_timeout = '60s'; SET lock_timeout = '20s'"

_USER_SCHEMAS = "n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'"

FINGERPRINT_SQL = f"""
SELECT md5(coalesce(string_agg(x, E'\\n' ORDER BY x), '')) FROM (
  SELECT 'schema ' || n.nspname || ' ' || pg_get_userbyid(n.nspowner) || ' ' || coalesce(n.nspacl::text, '')
    FROM pg_namespace n WHERE {_USER_SCHEMAS}
  UNION ALL
  SELECT 'rel ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' ' || c.relpersistence::text || ' '
         || pg_get_userbyid(c.relowner) || ' ' || coalesce(c.relacl::text, '') || ' '
         || coalesce(c.reloptions::text, '') || ' ' || c.relrowsecurity::text
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {_USER_SCHEMAS}
  UNION ALL
  SELECT 'col ' || n.nspname || '.' || c.relname || '.' || a.attname || ' ' || a.attnum || ' '
         || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull || ' ' || a.attidentity::text || ' '
         || a.attgenerated::text || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE {_USER_SCHEMAS} AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'con ' || n.nspname || '.' || co.conname || ' ' || co.conrelid::regclass::text || ' '
         || pg_get_constraintdef(co.oid)
    FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace WHERE {_USER_SCHEMAS}
  UNION ALL
  SELECT 'idx ' || pg_get_indexdef(i.indexrelid)
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE {_USER_SCHEMAS}
  UNION ALL
  SELECT 'trg ' || pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE {_USER_SCHEMAS} AND NOT t.tgisinternal
  UNION ALL
  SELECT 'rule ' || r.rulename || ' ' || pg_get_ruledef(r.oid)
    FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE {_USER_SCHEMAS}
  UNION ALL
  SELECT 'pol ' || p.polname || ' ' || p.polrelid::regclass::text FROM pg_policy p
  UNION ALL
  SELECT 'fn ' || p.oid::regprocedure::text || ' ' || md5(coalesce(p.prosrc, ''))
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {_USER_SCHEMAS}
  UNION ALL
  SELECT 'type ' || n.nspname || '.' || t.typname || ' ' || t.typtype::text
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {_USER_SCHEMAS}
  UNION ALL
  SELECT 'ext ' || e.extname || ' ' || e.extversion FROM pg_extension e
  UNION ALL
  SELECT 'set ' || coalesce(s.setrole::text, '') || ' ' || s.setconfig::text
    FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = current_database()
  UNION ALL
  SELECT 'db ' || d.datconnlimit || ' ' || d.datallowconn || ' ' || pg_get_userbyid(d.datdba) || ' '
         || coalesce(d.datacl::text, '')
    FROM pg_database d WHERE d.datname = current_database()
  UNION ALL
  SELECT 'lo ' || count(*) FROM pg_largeobject_metadata
  UNION ALL
  SELECT 'evt ' || evtname FROM pg_event_trigger
  UNION ALL
  SELECT 'pub ' || pubname FROM pg_publication
) AS parts(x)
"""

_TABLES_SQL = f"""
SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {_USER_SCHEMAS} AND c.relkind IN ('r', 'p') ORDER BY 1, 2
"""

_FOREIGN_KEYS_SQL = f"""
SELECT n.nspname, c.relname, fn.nspname, f.relname
FROM pg_constraint co
JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class f ON f.oid = co.confrelid JOIN pg_namespace fn ON fn.oid = f.relnamespace
WHERE co.contype = 'f' AND {_USER_SCHEMAS}
"""

_SEQUENCES_SQL = """
SELECT schemaname, sequencename, start_value, last_value FROM pg_sequences
WHERE schemaname !~ '^pg_' AND schemaname <> 'information_schema'
"""

_END_OTHER_SESSIONS = """
SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
"""

# ``public`` as CREATE DATABASE makes it (PostgreSQL 15 and later); on older servers the
# fingerprint differs and the database is made again instead.
_NEW_PUBLIC = (
    "CREATE SCHEMA public AUTHORIZATION pg_database_owner; "
    "GRANT USAGE ON SCHEMA public TO PUBLIC; "
    "COMMENT ON SCHEMA public IS 'standard public schema'"
)


def _q(*names: str) -> str:
    return ".".join('"' + name.replace('"', '""') + '"' for name in names)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in_dependency_order(tables: list[tuple[str, str]], refs: list[tuple[str, str, str, str]]) -> list[tuple[str, str]]:
    """Referenced tables before the tables that reference them (a cycle keeps the given order)."""
    needs = {t: {(r[2], r[3]) for r in refs if (r[0], r[1]) == t and (r[2], r[3]) != t} for t in tables}
    done: list[tuple[str, str]] = []
    left = list(tables)
    while left:
        ready = [t for t in left if needs[t] <= set(done)] or left[:1]
        done += ready
        left = [t for t in left if t not in ready]
    return done


def _signatures_sql(tables: list[tuple[str, str]]) -> str:
    """Per table, a digest of its live rows with their physical places (``ctid``): any insert,
    update or delete since the table was restored changes it."""
    parts = [
        f"SELECT {i} AS i, md5(coalesce(string_agg(row__.ctid::text || ' ' || row__::text, E'\\n'"
        f" ORDER BY row__.ctid), '')) AS digest FROM {_q(*table)} AS row__"
        for i, table in enumerate(tables)
    ]
    return " UNION ALL ".join(parts) or "SELECT 0 AS i, '' AS digest WHERE false"


@dataclass
class _Pristine:
    """What a database held when new (and, for the seeded one, just after seeding)."""

    fingerprint: str
    tables: list[tuple[str, str]]  # referenced first
    rows: dict[tuple[str, str], bytes]  # binary COPY of each table
    sequences: list[tuple[str, str, int, int | None]]  # schema, name, start, last value (None: unused)
    referenced_by: dict[tuple[str, str], set[tuple[str, str]]] = field(default_factory=dict)
    signatures: list[str] = field(default_factory=list)  # per table, as restored (see _signatures_sql)

    def to_restore(self, signatures: list[str]) -> list[tuple[str, str]]:
        """The tables whose rows changed, and the tables that reference them (TRUNCATE needs them
        too), in dependency order."""
        todo = {t for t, now, then in zip(self.tables, signatures, self.signatures, strict=True) if now != then}
        grow = list(todo)
        while grow:
            for referencing in self.referenced_by.get(grow.pop(), set()) - todo:
                todo.add(referencing)
                grow.append(referencing)
        return [t for t in self.tables if t in todo]


@dataclass
class _Kept:
    name: str
    pristine: _Pristine | None = None
    used: bool = False


def _connect(server: URL, database: str) -> Awaitable[asyncpg.Connection]:
    return asyncpg.connect(host=server.host or "127.0.0.1", port=server.port or 5432, user=server.username,
                           password=server.password, database=database)


class TestDatabases:
    """The two databases of this process on ``server`` (its database name is the prefix)."""

    __test__ = False

    def __init__(self, server: URL, tag: str = "") -> None:
        self.server = server
        self.prefix = server.database or "test"
        pid, tag = os.getpid(), f"_{tag}" if tag else ""
        self._seeded = _Kept(f"{self.prefix}_{pid}_seeded{tag}")
        self._empty = _Kept(f"{self.prefix}_{pid}_empty{tag}")
        self.remade = 0  # databases made again because a reset could not be trusted (see the module doc)

    def url(self, name: str) -> str:
        return self.server.set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)

    async def _admin(self, *statements: str) -> None:
        conn = await _connect(self.server, "postgres")
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    async def _make(self, name: str) -> None:
        """DROP (if left over) and CREATE ``name``, with ``synchronous_commit`` off in it: a commit
        does not wait for its WAL to reach the disk (no test here survives a server crash; the crash
        tests run a cluster of their own). On a busy disk that wait dominated the tests that commit
        a lot (a year of ticks)."""
        await self._admin(f"DROP DATABASE IF EXISTS {_q(name)} WITH (FORCE)", f"CREATE DATABASE {_q(name)}",
                          f"ALTER DATABASE {_q(name)} SET synchronous_commit = off")

    async def empty(self) -> str:
        """A database as CREATE DATABASE makes it."""
        kept = self._empty
        if kept.pristine is None or not await self._reset(kept, self._clear_schemas):
            if kept.pristine is not None:
                self.remade += 1
            await self._make(kept.name)
            kept.pristine = await self._capture(kept.name, with_rows=False)
        return self.url(kept.name)

    async def seeded(self, prepare: Callable[[str], Awaitable[None]]) -> str:
        """A database that ``prepare(url)`` (migrate, load the seed) brought to its start state."""
        kept = self._seeded
        if kept.pristine is None or not await self._reset(kept, self._restore_changed_rows):
            if kept.pristine is not None:
                self.remade += 1
            await self._make(kept.name)
            await prepare(self.url(kept.name))
            kept.pristine = pristine = await self._capture(kept.name, with_rows=True)
            # Every table restored once (TRUNCATE, COPY): the rows' physical places are then the
            # ones every later restore gives them, and the signatures say "as restored".
            conn = await _connect(self.server, kept.name)
            try:
                async with conn.transaction():
                    await self._restore_rows(conn, pristine, pristine.tables)
                pristine.signatures = [r["digest"] for r in await conn.fetch(_signatures_sql(pristine.tables))]
            finally:
                await conn.close()
        return self.url(kept.name)

    async def _capture(self, name: str, *, with_rows: bool) -> _Pristine:
        conn = await _connect(self.server, name)
        try:
            tables = [(r[0], r[1]) for r in await conn.fetch(_TABLES_SQL)]
            refs = [(r[0], r[1], r[2], r[3]) for r in await conn.fetch(_FOREIGN_KEYS_SQL)]
            rows: dict[tuple[str, str], bytes] = {}
            if with_rows:
                for schema, table in tables:
                    out = io.BytesIO()
                    await conn.copy_from_table(table, schema_name=schema, output=out, format="binary")
                    rows[(schema, table)] = out.getvalue()
            sequences = [(r[0], r[1], r[2], r[3]) for r in await conn.fetch(_SEQUENCES_SQL)]
            referenced_by: dict[tuple[str, str], set[tuple[str, str]]] = {}
            for ref in refs:
                referenced_by.setdefault((ref[2], ref[3]), set()).add((ref[0], ref[1]))
            return _Pristine(await conn.fetchval(FINGERPRINT_SQL), _in_dependency_order(tables, refs), rows,
                             sequences, referenced_by)
        finally:
            await conn.close()

    async def _reset(self, kept: _Kept, how: Callable[[asyncpg.Connection, _Pristine], Awaitable[None]]) -> bool:
        """End the database's other sessions, ``how`` it back to its pristine state; True when the
        result can be trusted (the fingerprint is the pristine one)."""
        pristine = kept.pristine
        assert pristine is not None
        try:
            conn = await _connect(self.server, kept.name)
        except (OSError, asyncpg.PostgresError):
            return False
        try:
            await conn.execute(_BOUNDS)
            await conn.execute(_END_OTHER_SESSIONS)
            if await conn.fetchval(FINGERPRINT_SQL) != pristine.fingerprint and how == self._restore_changed_rows:
                return False
            async with conn.transaction():
                await how(conn, pristine)
            return bool(await conn.fetchval(FINGERPRINT_SQL) == pristine.fingerprint)
        except (OSError, asyncpg.PostgresError):
            return False
        finally:
            await conn.close()

    @staticmethod
    async def _clear_schemas(conn: asyncpg.Connection, _pristine: _Pristine) -> None:
        schemas = await conn.fetch(f"SELECT n.nspname FROM pg_namespace n WHERE {_USER_SCHEMAS}")
        for (schema,) in schemas:
            await conn.execute(f"DROP SCHEMA {_q(schema)} CASCADE")
        await conn.execute(_NEW_PUBLIC)

    @classmethod
    async def _restore_changed_rows(cls, conn: asyncpg.Connection, pristine: _Pristine) -> None:
        """Restore the tables whose rows changed (TRUNCATE costs tens of milliseconds a table)."""
        signatures = [r["digest"] for r in await conn.fetch(_signatures_sql(pristine.tables))]
        await cls._restore_rows(conn, pristine, pristine.to_restore(signatures))

    @staticmethod
    async def _restore_rows(conn: asyncpg.Connection, pristine: _Pristine, tables: list[tuple[str, str]]) -> None:
        """``tables`` (every table referencing one of them included) emptied and given their
        pristine rows; every sequence set back."""
        if tables:  # no CASCADE: a referencing table left out is an error, never silently emptied
            await conn.execute(f"TRUNCATE {', '.join(_q(*t) for t in tables)}")
        for schema, table in tables:
            data = pristine.rows[(schema, table)]
            if len(data) > 21:  # more than the binary COPY header and trailer: the table had rows
                await conn.copy_to_table(table, schema_name=schema, source=io.BytesIO(data), format="binary")
        if pristine.sequences:
            await conn.execute("SELECT " + ", ".join(
                f"setval({_literal(_q(schema, name))}::regclass, {last if last is not None else start}, "
                f"{last is not None})"
                for schema, name, start, last in pristine.sequences
            ))

    async def drop_all(self) -> None:
        names = [k.name for k in (self._seeded, self._empty) if k.pristine is not None]
        if names:
            await self._admin(*(f"DROP DATABASE IF EXISTS {_q(n)} WITH (FORCE)" for n in names))


def _answers(url: URL) -> bool:
    try:
        with socket.create_connection((url.host or "127.0.0.1", url.port or 5432), timeout=2):
            return True
    except OSError:
        return False


@functools.cache
def postgres_server() -> tuple[URL | None, str]:
    """The PostgreSQL URL to create test databases on (its database name is the prefix), or None
    and why not."""
    url = async_url(os.environ.get("ONCALL_TEST_PG_URL", DEFAULT_PG_URL))
    if _answers(url):
        return url, ""
    script = ROOT / "scripts" / "ensure-postgres.sh"
    try:
        done = subprocess.run([str(script)], capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"PostgreSQL at {url.host}:{url.port} does not answer and {script.name} failed: {exc}"
    lines = done.stdout.strip().splitlines()
    if done.returncode == 0 and lines:
        started = make_url(lines[-1])
        url = url.set(host=started.host, port=started.port, username=started.username,
                      password=started.password)
        if _answers(url):
            return url, ""
    return None, (f"PostgreSQL at {url.host}:{url.port} does not answer and {script.name} "
                  f"could not start one:\n{done.stderr.strip()}")


_swept: set[str] = set()


async def drop_leftovers(server: URL) -> None:
    """Once per run, drop test databases left by test processes of this machine that were killed
    before their teardown (the name carries the creating process id). Local servers only."""
    prefix = server.database or "test"
    if prefix in _swept or server.host not in ("127.0.0.1", "localhost", "::1"):
        return
    _swept.add(prefix)
    pattern = re.compile(rf"{re.escape(prefix)}_(\d+)_(?:[0-9a-f]{{8}}|tmpl|(?:seeded|empty)(?:_\w+)?)")
    conn = await _connect(server, "postgres")
    try:
        for (old,) in await conn.fetch("SELECT datname FROM pg_database"):
            m = pattern.fullmatch(old)
            if m and not _alive(int(m.group(1))):
                await conn.execute(f"DROP DATABASE IF EXISTS {_q(old)} WITH (FORCE)")
    finally:
        await conn.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process
    return True
