"""``oncall-bot doctor``: check a deployment and say, line by line, what is fine and what to do.

Checks, in order: the configuration (which Slack mode the credentials select), the database
(reachable, schema at head), the seed file (valid) and the seed loaded in the database (equal to
the file), holiday data (this year and next), then Slack: the token (``auth.test``), its scopes
against ``manifest.yaml`` (the ``X-OAuth-Scopes`` header), each channel the seed names (exists,
not archived, the bot is a member) and each person (``users.info`` on their Slack id, else
``users.lookupByEmail`` on their email to suggest the right id).

Read-only: it never migrates, loads a seed or creates a database file. Every check runs even
when an earlier one failed (a check that cannot run says "skipped" and why); a check that
crashes is reported as a failure rather than stopping the rest. Without SLACK_BOT_TOKEN the Slack
checks say "skipped: no SLACK_BOT_TOKEN". Exit status: 1 when any check failed, else 0.
"""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.ops.logging import format_exception_safely, redact, safe_url

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.config import Settings
    from bot.seed.schema import SeedIn

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MANIFEST = ROOT / "manifest.yaml"
DB_TIMEOUT = 10.0
SLACK_CONCURRENCY = 4


class Status(StrEnum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True)
class CheckResult:
    check: str
    status: Status
    detail: str
    fix: str | None = None

    def line(self) -> str:
        text = f"{self.status.value:<4} {self.check}: {self.detail}"
        if self.fix:
            text += f" -> {self.fix}"
        return redact(text)


@dataclass
class Report:
    results: list[CheckResult] = field(default_factory=list)

    def add(self, check: str, status: Status, detail: str, fix: str | None = None) -> CheckResult:
        result = CheckResult(check, status, detail, fix)
        self.results.append(result)
        return result

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if r.status is Status.FAIL]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def lines(self) -> list[str]:
        return [r.line() for r in self.results]

    def summary(self) -> str:
        counts = {s: sum(1 for r in self.results if r.status is s) for s in Status}
        verdict = "something needs attention" if self.failed else "all good"
        parts = [f"{counts[s]} {s.value.lower()}" for s in Status if counts[s]]
        return f"doctor: {verdict} ({', '.join(parts)})"


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


def check_config(settings: Settings, report: Report) -> None:
    bot = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    app = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
    signing = settings.slack_signing_secret
    if bot is None:
        if app or signing:
            report.add("config", Status.FAIL,
                       "SLACK_APP_TOKEN or SLACK_SIGNING_SECRET is set but SLACK_BOT_TOKEN is not",
                       "set SLACK_BOT_TOKEN (the Bot User OAuth Token, xoxb-...)")
        else:
            report.add("config", Status.WARN, "no Slack credentials: `oncall-bot run` starts the local console",
                       "set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode)")
        return
    problems = []
    if not bot.startswith("xoxb-"):
        problems.append("SLACK_BOT_TOKEN does not start with xoxb- (a bot token is needed, not a user or app token)")
    if app is not None and not app.startswith("xapp-"):
        problems.append("SLACK_APP_TOKEN does not start with xapp- (an app-level token with connections:write)")
    if app is None and signing is None:
        problems.append("neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP) is set")
    if problems:
        report.add("config", Status.FAIL, "; ".join(problems), "fix the variables in the env file and restart")
        return
    mode = ("Socket Mode (SLACK_APP_TOKEN)" if app is not None
            else f"HTTP mode on port {settings.http_port}, request URL https://YOUR-HOST/slack/events")
    report.add("config", Status.OK, f"Slack in {mode}; log format {settings.log_format}")


# --------------------------------------------------------------------------------------------
# Database and seed
# --------------------------------------------------------------------------------------------


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL or an in-memory database)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    db = parsed.database or ""
    if db in ("", ":memory:") or db.startswith("file::memory:"):
        return None
    return Path(db).expanduser()


async def _with_timeout(coro: Awaitable[Any], seconds: float) -> Any:
    return await asyncio.wait_for(coro, seconds)


@dataclass
class DbState:
    engine: AsyncEngine | None = None
    at_head: bool = False
    display: str = ""


async def check_database(settings: Settings, report: Report) -> DbState:
    from sqlalchemy import text

    from bot.storage.db import create_engine
    from bot.storage.migrate import current_revision, head_revision, is_known_revision

    state = DbState()
    try:
        state.display = safe_url(settings.database_url)
    except Exception as exc:
        report.add("database", Status.FAIL, f"ONCALL_DATABASE_URL cannot be parsed: {format_exception_safely(exc)}",
                   "use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER:PASSWORD@HOST:5432/DB")
        return state
    sqlite_file = _sqlite_file(settings.database_url)
    if sqlite_file is not None and not sqlite_file.exists():
        report.add("database", Status.WARN, f"no SQLite file at {sqlite_file} yet",
                   "`oncall-bot run` (or any command) creates it, migrates it and loads the seed")
        report.add("schema", Status.SKIP, "skipped: no database yet")
        return state
    try:
        engine = create_engine(settings.database_url)
    except Exception as exc:
        report.add("database", Status.FAIL, f"{state.display}: {format_exception_safely(exc)}",
                   "use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER:PASSWORD@HOST:5432/DB")
        return state
    state.engine = engine

    async def ping() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    try:
        await _with_timeout(ping(), DB_TIMEOUT)
    except Exception as exc:
        what = "timed out" if isinstance(exc, TimeoutError) else format_exception_safely(exc)
        report.add("database", Status.FAIL, f"cannot connect to {state.display}: {what}",
                   "check ONCALL_DATABASE_URL, that the server is running and reachable, and the credentials")
        report.add("schema", Status.SKIP, "skipped: database not reachable")
        return state
    report.add("database", Status.OK, f"reachable: {state.display} ({engine.dialect.name})")

    head = head_revision()
    try:
        current = await _with_timeout(current_revision(engine), DB_TIMEOUT)
    except Exception as exc:
        report.add("schema", Status.FAIL, f"cannot read the schema revision: {format_exception_safely(exc)}",
                   "check the database user's permissions")
        return state
    if current == head:
        state.at_head = True
        report.add("schema", Status.OK, f"at head ({head})")
    elif current is not None and not is_known_revision(current):
        report.add("schema", Status.FAIL, f"at {current}, which this bot does not know (its head is {head})",
                   "run the newer bot that migrated it (never downgrade the image below the schema)")
    elif engine.dialect.name == "sqlite":
        report.add("schema", Status.WARN, f"at {current or 'empty'}, head is {head}",
                   "the bot migrates SQLite by itself when it starts; or run `oncall-bot db upgrade`")
    elif current is None:
        report.add("schema", Status.WARN, f"empty database, head is {head}",
                   "the bot migrates an empty database at start; or run `oncall-bot db upgrade`")
    else:
        report.add("schema", Status.FAIL, f"at {current}, head is {head}: the bot will refuse to start",
                   "run `oncall-bot db upgrade` (the container entrypoint does it under a lock)")
    return state


def read_seed(path: Path, report: Report) -> SeedIn | None:
    from bot.seed.validate import SeedError, parse_seed_text

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        report.add("seed file", Status.FAIL, f"cannot read {path}: {exc.strerror}",
                   "set ONCALL_SEED_PATH to the seed file (or mount it where it points)")
        return None
    try:
        seed = parse_seed_text(text, str(path))
    except SeedError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "invalid"
        report.add("seed file", Status.FAIL, first,
                   f"fix {path}; `oncall-bot seed check {path}` lists every problem")
        return None
    report.add("seed file", Status.OK,
               f"{path}: valid ({len(seed.pipelines)} pipelines, {len(seed.people)} people, {len(seed.teams)} teams)")
    return seed


async def check_seed_loaded(state: DbState, path: Path, seed: SeedIn | None, report: Report) -> None:
    from bot.seed.validate import dump_seed
    from bot.storage.bootstrap import Database, export_seed_text
    from bot.storage.db import session_factory
    from bot.storage.seedstore import NoSeed

    if state.engine is None or not state.at_head:
        report.add("seed loaded", Status.SKIP, "skipped: the database is not reachable or not at head")
        return
    if seed is None:
        report.add("seed loaded", Status.SKIP, "skipped: the seed file is not valid")
        return
    db = Database(state.engine, session_factory(state.engine))
    try:
        loaded = await _with_timeout(export_seed_text(db), DB_TIMEOUT)
    except NoSeed:
        report.add("seed loaded", Status.WARN, "the database holds no seed yet",
                   f"the bot loads {path} at start; or run `oncall-bot seed load {path}`")
        return
    expected = dump_seed(seed)
    if loaded == expected:
        report.add("seed loaded", Status.OK, f"the database holds exactly {path}")
        return
    diff = [
        line for line in difflib.unified_diff(
            loaded.splitlines(), expected.splitlines(), "database", str(path), n=0, lineterm=""
        )
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    first = "; ".join(d.strip() for d in diff[:2])
    report.add("seed loaded", Status.FAIL,
               f"the database's seed differs from {path} ({len(diff)} lines differ, e.g. {first[:160]})",
               f"run `oncall-bot seed load {path}` to load the file, or `oncall-bot seed export -o FILE` "
               "to see what the database holds")


def check_holidays(seed: SeedIn | None, today: date, report: Report) -> None:
    if seed is None:
        report.add("holidays", Status.SKIP, "skipped: the seed file is not valid")
        return
    import holidays

    cal = seed.calendar
    where = cal.holiday_country + (f"-{cal.holiday_subdivision}" if cal.holiday_subdivision else "")
    version = getattr(holidays, "__version__", "?")
    counts = {}
    for year in (today.year, today.year + 1):
        try:
            table = holidays.country_holidays(
                cal.holiday_country, subdiv=cal.holiday_subdivision, years=year, language="en_US", observed=True
            )
            counts[year] = sum(1 for d in table if d.year == year)
        except Exception as exc:
            report.add("holidays", Status.FAIL, f"{where} {year}: {format_exception_safely(exc)}",
                       "fix calendar.holiday_country / holiday_subdivision in the seed, or upgrade the bot")
            return
    missing = [y for y, n in counts.items() if n == 0]
    if missing:
        report.add("holidays", Status.FAIL,
                   f"the holidays package {version} has no {where} holidays for {', '.join(map(str, missing))}",
                   "upgrade the bot image (it pins a holidays release that covers the years ahead)")
        return
    shown = ", ".join(f"{n} in {y}" for y, n in counts.items())
    report.add("holidays", Status.OK, f"{where}: {shown} (holidays {version})")
    extra_years = {h.date.year for h in cal.extra_holidays}
    if extra_years:
        lacking = [y for y in (today.year, today.year + 1) if y not in extra_years]
        if lacking:
            report.add("company holidays", Status.WARN,
                       f"calendar.extra_holidays has days for {', '.join(map(str, sorted(extra_years)))} "
                       f"but none for {', '.join(map(str, lacking))}",
                       "add the company's days off for those years to the seed and load it")


# --------------------------------------------------------------------------------------------
# Slack
# --------------------------------------------------------------------------------------------


def manifest_scopes(path: Path) -> list[str] | None:
    """The bot scopes ``manifest.yaml`` asks for (None when there is no manifest)."""
    import yaml

    if not path.is_file():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    scopes = (((data.get("oauth_config") or {}).get("scopes") or {}).get("bot")) or []
    return [str(s) for s in scopes]


def seed_channels(seed: SeedIn) -> list[tuple[str, str]]:
    """(channel, where the seed names it), each channel once, in seed order."""
    found: dict[str, list[str]] = {}

    def note(channel: str | None, where: str) -> None:
        if channel:
            found.setdefault(channel.strip(), []).append(where)

    note(seed.announcement_channel, "announcement_channel")
    for t in seed.teams:
        note(t.channel, f"team {t.id}")
    for p in seed.pipelines:
        note(p.channel, f"pipeline {p.id}")
    for r in seed.recurring:
        note(r.channel, f"recurring {r.id}")
    return [(ch, ", ".join(w[:3]) + (f" and {len(w) - 3} more" if len(w) > 3 else "")) for ch, w in found.items()]


def _slack_error(exc: BaseException) -> str:
    """What went wrong with a Web API call, in a few words (never the token)."""
    from slack_sdk.errors import SlackApiError

    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", None)
        error = exc.response.get("error") if exc.response is not None else None
        return f"{error or 'error'}" + (f" (HTTP {status})" if status and status != 200 else "")
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "timed out"
    return format_exception_safely(exc)


def _retry_hint(exc: BaseException) -> str:
    from slack_sdk.errors import SlackApiError

    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200) or 200
        if status >= 500 or status == 429:
            return "Slack is failing or rate limiting right now: try again in a minute (status.slack.com)"
    if not isinstance(exc, SlackApiError):
        return "check the network path to Slack (proxy, firewall, ONCALL_SLACK_API_URL), then try again"
    return ""


@dataclass
class SlackIdentity:
    user_id: str | None = None
    user: str | None = None
    team: str | None = None
    scopes: list[str] | None = None


async def check_slack_token(client: AsyncWebClient, report: Report) -> SlackIdentity | None:
    from slack_sdk.errors import SlackApiError

    try:
        resp = await client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        if error in ("invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"):
            report.add("slack token", Status.FAIL, f"Slack refused SLACK_BOT_TOKEN ({error})",
                       "copy the Bot User OAuth Token (xoxb-...) from the app's OAuth & Permissions page "
                       "(reinstall the app if it was revoked)")
        else:
            report.add("slack token", Status.FAIL, f"auth.test failed: {_slack_error(exc)}", _retry_hint(exc) or None)
        return None
    except Exception as exc:
        report.add("slack token", Status.FAIL, f"Slack not reachable: {_slack_error(exc)}", _retry_hint(exc))
        return None
    headers = {str(k).lower(): v for k, v in (resp.headers or {}).items()}
    raw = headers.get("x-oauth-scopes")
    if isinstance(raw, list):
        raw = ",".join(raw)
    ident = SlackIdentity(
        user_id=resp.get("user_id"),
        user=resp.get("user"),
        team=resp.get("team"),
        scopes=[s.strip() for s in str(raw).split(",") if s.strip()] if raw is not None else None,
    )
    report.add("slack token", Status.OK, f"valid: @{ident.user} ({ident.user_id}) in {ident.team}")
    return ident


def check_scopes(ident: SlackIdentity, manifest: Path, report: Report) -> None:
    try:
        wanted = manifest_scopes(manifest)
    except Exception as exc:
        report.add("slack scopes", Status.FAIL, f"{manifest} cannot be read: {format_exception_safely(exc)}",
                   "restore manifest.yaml from the release")
        return
    if wanted is None:
        report.add("slack scopes", Status.SKIP, f"skipped: no manifest at {manifest}")
        return
    if ident.scopes is None:
        report.add("slack scopes", Status.WARN, "Slack did not report the token's scopes (no X-OAuth-Scopes header)",
                   f"compare the app's OAuth & Permissions page with {manifest.name}")
        return
    missing = sorted(set(wanted) - set(ident.scopes))
    extra = sorted(set(ident.scopes) - set(wanted))
    if missing:
        report.add("slack scopes", Status.FAIL, f"the token lacks {', '.join(missing)}",
                   f"add them to the app (they are in {manifest.name}: update the app's manifest) and reinstall it "
                   "to the workspace; then update SLACK_BOT_TOKEN if it changed")
        return
    note = f"; also has {', '.join(extra)} (not needed)" if extra else ""
    report.add("slack scopes", Status.OK, f"all {len(wanted)} scopes of {manifest.name}{note}")


async def _paged(call: Callable[..., Awaitable[Any]], key: str, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(200):  # 200 pages of 1,000: far beyond any workspace; no endless loop on a bad cursor
        resp = await call(cursor=cursor, **kwargs) if cursor else await call(**kwargs)
        items.extend(resp.get(key) or [])
        cursor = ((resp.get("response_metadata") or {}).get("next_cursor")) or None
        if not cursor:
            break
    return items


async def check_channels(client: AsyncWebClient, seed: SeedIn, ident: SlackIdentity, report: Report) -> None:
    wanted = seed_channels(seed)
    if not wanted:
        report.add("channels", Status.OK, "the seed names no channels")
        return
    try:
        listed = await _paged(
            client.conversations_list, "channels", types="public_channel,private_channel", limit=1000,
            exclude_archived=False,
        )
    except Exception as exc:
        error = _slack_error(exc)
        fix = ("add the channels:read and groups:read scopes and reinstall the app"
               if "missing_scope" in error else _retry_hint(exc) or None)
        report.add("channels", Status.FAIL, f"conversations.list failed: {error}", fix)
        return
    by_name = {str(c.get("name")): c for c in listed}
    by_id = {str(c.get("id")): c for c in listed}
    bot = f"@{ident.user}" if ident.user else "the bot"
    for ref, where in wanted:
        key = ref.lstrip("#")
        channel = by_id.get(key) or by_name.get(key)
        if channel is None and key[:1] in ("C", "G") and key.isupper():
            try:
                channel = (await client.conversations_info(channel=key)).get("channel")
            except Exception:
                channel = None
        label = f"channel {ref}"
        if channel is None:
            report.add(label, Status.FAIL, f"not found in Slack (named by {where})",
                       f"create #{key}, or invite {bot} if it is private, or fix the seed")
        elif channel.get("is_archived"):
            report.add(label, Status.FAIL, f"is archived (named by {where})", f"unarchive #{key} or fix the seed")
        elif not channel.get("is_member"):
            report.add(label, Status.FAIL, f"the bot is not a member (named by {where})", f"in #{key}: /invite {bot}")
        else:
            report.add(label, Status.OK, f"exists ({channel.get('id')}) and the bot is in it")


async def _resolve_person(
    client: AsyncWebClient, person_id: str, name: str, slack_id: str, email: str
) -> CheckResult | None:
    """None when the person resolves; otherwise the failure to report."""
    from slack_sdk.errors import SlackApiError

    check = f"person {person_id}"
    try:
        user = (await client.users_info(user=slack_id)).get("user") or {}
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        if error not in ("user_not_found", "users_not_found"):
            return CheckResult(check, Status.FAIL, f"users.info {slack_id} failed: {_slack_error(exc)}",
                               _retry_hint(exc) or None)
        user = None
    if user:
        if user.get("deleted"):
            return CheckResult(check, Status.FAIL, f"{name}'s Slack user {slack_id} is deactivated",
                               "give their on-call shifts to someone else or update slack_user_id in the seed")
        return None
    try:
        found = (await client.users_lookupByEmail(email=email)).get("user") or {}
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        if error == "users_not_found":
            return CheckResult(check, Status.FAIL,
                               f"{name}: no Slack user {slack_id}, and no Slack user has the email {email}",
                               "fix slack_user_id (Slack profile > ... > Copy member ID) and email in the seed")
        hint = "add the users:read.email scope and reinstall the app" if error == "missing_scope" else None
        return CheckResult(check, Status.FAIL, f"{name}: no Slack user {slack_id}; users.lookupByEmail failed: "
                           f"{_slack_error(exc)}", hint or _retry_hint(exc) or None)
    return CheckResult(check, Status.FAIL, f"{name}: no Slack user {slack_id}, but {email} is {found.get('id')}",
                       f"set slack_user_id: {found.get('id')} for {person_id} in the seed and load it")


async def check_people(client: AsyncWebClient, seed: SeedIn, report: Report) -> None:
    if not seed.people:
        report.add("people", Status.OK, "the seed names no people")
        return
    gate = asyncio.Semaphore(SLACK_CONCURRENCY)

    async def one(pid: str, name: str, sid: str, email: str) -> CheckResult | None:
        async with gate:
            try:
                return await _resolve_person(client, pid, name, sid, email)
            except Exception as exc:
                return CheckResult(f"person {pid}", Status.FAIL, f"{name}: {_slack_error(exc)}",
                                   _retry_hint(exc) or None)

    results = await asyncio.gather(*(one(p.id, p.name, p.slack_user_id, p.email) for p in seed.people))
    problems = [r for r in results if r is not None]
    good = len(results) - len(problems)
    report.add("people", Status.OK if not problems else Status.FAIL,
               f"{good} of {len(results)} people resolve to active Slack users",
               None if not problems else "see the lines below")
    report.results.extend(problems)


# --------------------------------------------------------------------------------------------
# All of it
# --------------------------------------------------------------------------------------------


async def run_doctor(
    settings: Settings,
    *,
    today: date,
    client: AsyncWebClient | None = None,
    manifest: Path = DEFAULT_MANIFEST,
    seed_path: Path | None = None,
) -> Report:
    """Run every check; ``client`` defaults to the bot's own Web API client from ``settings``."""
    report = Report()
    await _guarded(report, "config", lambda: _sync(check_config, settings, report))
    state = DbState()

    async def db() -> None:
        nonlocal state
        state = await check_database(settings, report)

    await _guarded(report, "database", db)
    path = Path(seed_path or settings.seed_path)
    seed: SeedIn | None = None

    async def read() -> None:
        nonlocal seed
        seed = read_seed(path, report)

    await _guarded(report, "seed file", read)
    try:
        await _guarded(report, "seed loaded", lambda: check_seed_loaded(state, path, seed, report))
    finally:
        if state.engine is not None:
            await state.engine.dispose()
    await _guarded(report, "holidays", lambda: _sync(check_holidays, seed, today, report))

    if settings.slack_bot_token is None:
        for name in ("slack token", "slack scopes", "channels", "people"):
            report.add(name, Status.SKIP, "skipped: no SLACK_BOT_TOKEN")
        return report
    own_client = client is None
    if client is None:
        from bot.slack.client import make_client

        client = make_client(settings)
    try:
        ident = None

        async def token() -> None:
            nonlocal ident
            ident = await check_slack_token(client, report)

        await _guarded(report, "slack token", token)
        if ident is None:
            for name in ("slack scopes", "channels", "people"):
                report.add(name, Status.SKIP, "skipped: the Slack token does not work")
            return report
        found: SlackIdentity = ident
        await _guarded(report, "slack scopes", lambda: _sync(check_scopes, found, manifest, report))
        if seed is None:
            for name in ("channels", "people"):
                report.add(name, Status.SKIP, "skipped: the seed file is not valid")
            return report
        valid: SeedIn = seed
        await _guarded(report, "channels", lambda: check_channels(client, valid, found, report))
        await _guarded(report, "people", lambda: check_people(client, valid, report))
    finally:
        if own_client:
            from bot.slack.client import close_client

            await close_client(client)
    return report


async def _sync(fn: Callable[..., None], *args: Any) -> None:
    fn(*args)


async def _guarded(report: Report, name: str, run: Callable[[], Awaitable[None]]) -> None:
    try:
        await run()
    except Exception as exc:
        report.add(name, Status.FAIL, f"the check itself failed: {format_exception_safely(exc)}",
                   "report this with the output of `oncall-bot doctor`")


def print_report(report: Report, out: Callable[[str], None] = print, *, only: Iterable[Status] | None = None) -> None:
    shown = set(only) if only is not None else set(Status)
    for r in report.results:
        if r.status in shown:
            out(r.line())
    out(report.summary())


def names(results: Sequence[CheckResult]) -> list[str]:
    """The check names of ``results`` (for tests and summaries)."""
    return [r.check for r in results]
