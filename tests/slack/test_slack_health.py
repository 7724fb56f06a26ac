"""Issue 10 §7: /healthz says 503 when the database answers reads but takes no writes (a
read-only SQLite file, a read-only PostgreSQL session), over real HTTP, on both dialects."""

from __future__ import annotations

import aiohttp
from sqlalchemy.ext.asyncio import create_async_engine

from bot.clock import fixed_clock
from bot.config import Settings
from bot.slack.app import build_app, context_of
from bot.slack.client import close_client, make_client
from bot.slack.deps import SlackDeps
from bot.slack.server import DatabaseProbe, build_web_app
from bot.storage.bootstrap import Database
from bot.storage.db import session_factory
from tests.slack.harness import NOW, RunningBot, serve, slack_settings
from tests.support.fake_slack import FakeSlack


async def _healthz(url: str) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession(trust_env=False) as session, session.get(f"{url}/healthz") as res:
        return res.status, await res.json()


def _read_only(db: Database) -> Database:
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(f"sqlite+aiosqlite:///file:{url.database}?mode=ro&uri=true")
    else:
        engine = create_async_engine(url.render_as_string(hide_password=False),
                                     connect_args={"server_settings": {"default_transaction_read_only": "on"}})
    return Database(engine, session_factory(engine))


async def test_healthz_503_when_the_database_takes_no_writes(db: Database, settings: Settings,
                                                             fake_slack: FakeSlack) -> None:
    read_only = _read_only(db)
    config = slack_settings(settings, fake_slack)
    client = make_client(config)
    deps = SlackDeps(settings=config, db=read_only, client=client, clock=fixed_clock(NOW))
    app = build_app(deps)
    runner, url = await serve(build_web_app(deps, app))
    try:
        status, body = await _healthz(url)
        assert status == 503
        database = body["database"]
        assert isinstance(database, dict) and database["ok"] is False
        assert "read" in str(database["error"]).lower()  # "readonly database" / "read-only transaction"
        slack = body["slack"]
        assert isinstance(slack, dict) and slack["ok"] is True  # only the database is at fault
    finally:
        await runner.cleanup()
        await context_of(app).cache.close()
        await close_client(client)
        await read_only.close()


async def test_healthz_200_on_a_writable_database_and_the_probe_is_cached(bot: RunningBot) -> None:
    status, body = await _healthz(bot.url)
    assert status == 200 and body["status"] == "ok"
    probe = DatabaseProbe(bot.deps, seconds=3600.0)
    first = await probe.check()
    await bot.deps.db.engine.dispose()
    calls = 0
    real = probe.deps

    class Counting:
        def __getattr__(self, name: str) -> object:
            nonlocal calls
            calls += 1
            return getattr(real, name)

    probe.deps = Counting()  # type: ignore[assignment]
    assert await probe.check() == first  # within the period: the cached answer, no query
    assert calls == 0
