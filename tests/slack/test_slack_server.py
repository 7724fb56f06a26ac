"""The server around the app: /healthz, /metrics, Socket Mode, ``run_slack`` and SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from bot.clock import fixed_clock
from bot.config import Settings
from bot.slack.app import build_app
from bot.slack.client import close_client, make_client
from bot.slack.context import context_of
from bot.slack.deps import SlackDeps
from bot.slack.server import EVENTS_PATH, build_web_app, run_slack
from bot.storage.bootstrap import Database
from bot.storage.db import create_engine, session_factory
from tests.slack.harness import NOW, RunningBot, serve, slack_settings
from tests.support import payloads as p
from tests.support.clock import QUIET, pinned
from tests.support.fake_slack import FakeSlack
from tests.support.signing import TEST_SIGNING_SECRET, SlackClientSim, slash_command_body

ROOT = Path(__file__).resolve().parents[2]


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession(trust_env=False) as session, session.get(url) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.text()


async def get_json(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession(trust_env=False) as session, session.get(url) as response:
        return response.status, await response.json()


# --- /healthz and /metrics ---------------------------------------------------------------------


async def test_healthz_ok(bot: RunningBot) -> None:
    status, body = await get_json(f"{bot.url}/healthz")
    assert status == 200
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True and body["database"]["dialect"] in ("sqlite", "postgresql")
    assert body["slack"] == {"ok": True, "mode": "http", "team": p.TEAM_ID, "bot": p.BOT_USER_ID}


async def test_healthz_503_when_slack_refuses_the_token(bot: RunningBot) -> None:
    bot.slack.fail_next("auth.test", 200, error="invalid_auth")
    status, body = await get_json(f"{bot.url}/healthz")
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["database"]["ok"] is True
    assert "invalid_auth" in body["slack"]["error"]


async def test_healthz_503_when_slack_is_gone(bot: RunningBot) -> None:
    await bot.slack.stop()
    status, body = await get_json(f"{bot.url}/healthz")
    assert status == 503
    assert body["slack"]["ok"] is False


async def test_healthz_503_when_the_database_is_gone(fake_slack: FakeSlack, settings: Settings) -> None:
    engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:9/nothing")  # nothing listens on port 9
    db = Database(engine, session_factory(engine))
    config = slack_settings(settings, fake_slack)
    client = make_client(config)
    deps = SlackDeps(settings=config, db=db, client=client, clock=fixed_clock(NOW))
    app = build_app(deps)
    runner, url = await serve(build_web_app(deps, app))
    try:
        status, body = await get_json(f"{url}/healthz")
        assert status == 503
        assert body["database"]["ok"] is False
        assert body["slack"]["ok"] is True
    finally:
        await runner.cleanup()
        await close_client(client)
        await db.close()


async def test_metrics_count_commands_by_name_and_outcome(bot: RunningBot) -> None:
    await bot.sim.post(bot.events_url, slash_command_body("/oncall", "engagement"))
    await bot.sim.post(bot.events_url, slash_command_body("/oncall", "no-such-pipeline"))
    await bot.sim.post(bot.events_url, slash_command_body("/runbook", "profit"))
    status, content_type, text = await get(f"{bot.url}/metrics")
    assert status == 200
    assert content_type.startswith("text/plain")
    assert 'oncall_commands_total{command="/oncall",outcome="ok"} 1.0' in text
    assert 'oncall_commands_total{command="/oncall",outcome="user_error"} 1.0' in text
    assert 'oncall_commands_total{command="/runbook",outcome="ok"} 1.0' in text
    assert 'oncall_command_seconds_count{command="/oncall"} 2.0' in text
    # the buckets are there; how many answers fell under 0.1 s depends on the machine's load
    assert 'oncall_command_seconds_bucket{command="/oncall",le="+Inf"} 2.0' in text
    assert 'oncall_command_seconds_bucket{command="/oncall",le="0.1"} ' in text


async def test_metrics_count_slack_api_errors_by_method(bot: RunningBot) -> None:
    bot.slack.fail_next("views.publish", 200, error="invalid_arguments")
    from tests.support.signing import app_home_opened_body

    await bot.sim.post(bot.events_url, app_home_opened_body())
    await bot.slack.wait_for("views.publish")
    await bot.settle()
    _, _, text = await get(f"{bot.url}/metrics")
    assert 'oncall_slack_api_errors_total{error="invalid_arguments",method="views.publish"} 1.0' in text
    assert 'oncall_commands_total{command="app_home_opened",outcome="error"} 1.0' in text


async def test_rate_limited_calls_are_retried_after_retry_after(bot: RunningBot) -> None:
    bot.slack.fail_next("chat.postMessage", 429, retry_after=1)
    from tests.support.signing import app_mention_body

    await bot.sim.post(bot.events_url, app_mention_body(f"<@{p.BOT_USER_ID}> who is on call for growth"))
    calls = await bot.slack.wait_for("chat.postMessage", count=2, timeout=10)
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].at_monotonic - calls[0].at_monotonic >= 0.9  # it waited for Retry-After
    assert calls[1].params["text"].startswith("Growth: ")


# --- Socket Mode and run_slack -----------------------------------------------------------------


class Job:
    def __init__(self) -> None:
        self.deps: SlackDeps | None = None
        self.stopped = False

    def start(self, deps: SlackDeps) -> Job:
        self.deps = deps
        return self

    async def stop(self) -> None:
        self.stopped = True


async def test_socket_mode_answers_a_slash_command_in_the_ack(settings: Settings, fake_slack: FakeSlack) -> None:
    config = slack_settings(settings, fake_slack, slack_app_token=SecretStr(fake_slack.app_token),
                            slack_signing_secret=None, clock_start=QUIET)
    stop = asyncio.Event()
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    job = Job()

    def on_ready(_host: str, port: int) -> None:
        ready.set_result(port)

    task = asyncio.create_task(run_slack(config, host="127.0.0.1", stop=stop, on_ready=on_ready, jobs=[job.start]))
    try:
        port = await asyncio.wait_for(ready, 30)
        [opened] = fake_slack.calls_to("apps.connections.open")
        assert opened.token == fake_slack.app_token
        payload = p.slash_command_payload("/oncall", "engagement")
        ack = await fake_slack.socket_request(p.slash_commands_envelope(payload))
        assert ack.payload["response_type"] == "ephemeral"
        assert ack.payload["text"].startswith("Engagement: ")  # run_slack reads its clock (clock_start)
        assert ack.payload["blocks"][0]["text"]["text"].startswith("*Engagement*")
        status, health = await get_json(f"http://127.0.0.1:{port}/healthz")
        assert status == 200 and health["slack"]["mode"] == "socket"
        status, _, _ = await get(f"http://127.0.0.1:{port}{EVENTS_PATH}")
        assert status in (404, 405)  # no request URL without a signing secret
        assert job.deps is not None and not job.stopped
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 30) == 0
    assert job.stopped


async def test_run_slack_in_http_mode(settings: Settings, fake_slack: FakeSlack) -> None:
    config = slack_settings(settings, fake_slack, clock_start=QUIET)
    stop = asyncio.Event()
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_slack(config, host="127.0.0.1", stop=stop, jobs=[],
                                         on_ready=lambda _h, port: ready.set_result(port)))
    try:
        port = await asyncio.wait_for(ready, 30)
        async with SlackClientSim(signing_secret=TEST_SIGNING_SECRET) as sim:
            url = f"http://127.0.0.1:{port}{EVENTS_PATH}"
            status, body = await sim.post(url, slash_command_body("/whoowns", "churn"))
        assert status == 200
        assert "owned by" in body["text"]
        status, _ = await get_json(f"http://127.0.0.1:{port}/healthz")
        assert status == 200
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 30) == 0


async def test_run_slack_needs_credentials(settings: Settings) -> None:
    assert await run_slack(settings.model_copy(update={"slack_bot_token": SecretStr("xoxb-x")})) == 2


@pytest.mark.e2e
async def test_sigterm_stops_the_bot_cleanly(tmp_path: Path, fake_slack: FakeSlack) -> None:
    """``oncall-bot run`` in Socket Mode, as a process: SIGTERM → exit code 0. Its scheduler ticks
    at start: the clock is pinned to a quiet instant so that the tick has nothing to post."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and not k.startswith(("ONCALL_", "SLACK_"))}
    env.update({
        "ONCALL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "ONCALL_SLACK_API_URL": fake_slack.api_url,
        "ONCALL_HTTP_PORT": "0",
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_APP_TOKEN": fake_slack.app_token,
    })
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=pinned(env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        await fake_slack.socket_wait_connected(1, timeout=60)
        ack = await fake_slack.socket_request(p.slash_commands_envelope(p.slash_command_payload("/runbook", "growth")))
        assert ack.payload["text"] == "Runbook: Growth"
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, stderr.decode()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_build_app_needs_no_globals(bot: RunningBot) -> None:
    """Two apps side by side keep their own caches and metrics."""
    other_client = make_client(bot.deps.settings)
    other = build_app(SlackDeps(bot.deps.settings, bot.deps.db, other_client, bot.deps.clock))
    try:
        assert context_of(other).cache is not bot.ctx.cache
        assert context_of(other).metrics is not bot.ctx.metrics
    finally:
        await context_of(other).cache.close()
        await close_client(other_client)
