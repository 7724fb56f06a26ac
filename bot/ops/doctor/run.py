"""``run_doctor``: every check in order, each guarded, the Slack ones only with a token."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.ops.doctor.config import check_config
from bot.ops.doctor.database import DbState, check_database
from bot.ops.doctor.holidays import check_holidays
from bot.ops.doctor.inbox import check_alert_inbox
from bot.ops.doctor.report import Report, Status, guarded, run_sync
from bot.ops.doctor.seed import check_seed_loaded, read_seed
from bot.ops.doctor.slack import SlackIdentity, check_channels, check_people, check_scopes, check_slack_token
from bot.ops.doctor.topics import check_topics
from bot.ops.doctor.usergroups import check_usergroups

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.config import Settings
    from bot.seed.schema import SeedIn


ROOT = Path(__file__).resolve().parents[3]
DEFAULT_MANIFEST = ROOT / "manifest.yaml"


async def run_doctor(
    settings: Settings,
    *,
    today: date,
    now: datetime | None = None,
    client: AsyncWebClient | None = None,
    manifest: Path = DEFAULT_MANIFEST,
    seed_path: Path | None = None,
) -> Report:
    """Run every check; ``client`` defaults to the bot's own Web API client from ``settings``;
    ``now`` (aware) judges how long alert events have waited (None: not judged)."""
    report = Report()
    await guarded(report, "config", lambda: run_sync(check_config, settings, report))
    state = DbState()

    async def db() -> None:
        nonlocal state
        state = await check_database(settings, report)

    await guarded(report, "database", db)
    path = Path(seed_path or settings.seed_path)
    seed: SeedIn | None = None

    async def read() -> None:
        nonlocal seed
        seed = read_seed(path, report)

    await guarded(report, "seed file", read)
    try:
        await guarded(report, "seed loaded", lambda: check_seed_loaded(state, path, seed, report))
        await guarded(report, "holidays", lambda: run_sync(check_holidays, seed, today, report))
        await guarded(report, "alert inbox", lambda: check_alert_inbox(state, now, report))
        await _check_slack(settings, report, state, seed, client, manifest)
    finally:
        if state.engine is not None:
            await state.engine.dispose()
    return report


async def _check_slack(
    settings: Settings,
    report: Report,
    state: DbState,
    seed: SeedIn | None,
    client: AsyncWebClient | None,
    manifest: Path,
) -> None:
    slack_checks = ("slack token", "slack scopes", "channels", "people", "user groups", "channel topics")

    if settings.slack_bot_token is None:
        for name in slack_checks:
            report.add(name, Status.SKIP, "skipped: no SLACK_BOT_TOKEN")
        return
    own_client = client is None
    if client is None:
        from bot.slack.client import make_client

        client = make_client(settings)
    web: AsyncWebClient = client
    try:
        ident = None

        async def token() -> None:
            nonlocal ident
            ident = await check_slack_token(web, report)

        await guarded(report, "slack token", token)
        if ident is None:
            for name in slack_checks[1:]:
                report.add(name, Status.SKIP, "skipped: the Slack token does not work")
            return
        found: SlackIdentity = ident
        await guarded(report, "slack scopes", lambda: run_sync(check_scopes, found, manifest, report))
        if seed is None:
            for name in slack_checks[2:]:
                report.add(name, Status.SKIP, "skipped: the seed file is not valid")
            return
        valid: SeedIn = seed
        db = None
        if state.engine is not None and state.at_head:
            from bot.storage.bootstrap import Database
            from bot.storage.db import session_factory

            db = Database(state.engine, session_factory(state.engine))
        await guarded(report, "channels", lambda: check_channels(web, valid, found, report))
        await guarded(report, "people", lambda: check_people(web, valid, report))
        await guarded(report, "user groups", lambda: check_usergroups(web, valid, report, db))
        await guarded(report, "channel topics", lambda: run_sync(check_topics, valid, found, report))
    finally:
        if own_client:
            from bot.slack.client import close_client

            await close_client(web)
