"""A real ``oncall-bot run``: console mode serves /healthz, /metrics and the calendar feeds it hands
out; a token Slack refuses stops the bot with one line (never "connected"); SIGTERM with Slack
hanging exits within 10 s, the unsent work left in the outbox."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sqlite3
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from tests.ops.test_shutdown import Logs
from tests.ops.workspace import ScopedFakeSlack, populate
from tests.support.clock import pinned
from tests.support.procs import communicate, stop
from tests.support.signing import TEST_SIGNING_SECRET

EXE = str(Path(sys.executable).with_name("oncall-bot"))
BUSY = datetime(2026, 11, 30, 14, 0, 20, tzinfo=UTC)  # Monday 09:00:20 in New York: the weekly handoff


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONCALL_", "SLACK_"))}
    env.update(HOME=str(tmp_path), ONCALL_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/oncall.db")
    return env


@pytest.mark.e2e
async def test_console_mode_serves_health_metrics_and_the_feeds_it_hands_out(
    tmp_path: Path, no_proxy_env: None
) -> None:
    port = free_port()
    env = pinned({**base_env(tmp_path), "ONCALL_HTTP_PORT": str(port)})
    proc = await asyncio.create_subprocess_exec(EXE, "run", "--user", "de1", env=env, cwd=tmp_path,
                                                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    logs = Logs(proc.stderr)
    try:
        await logs.wait_for(rf"^Serving /healthz, /metrics and calendar feeds on http://localhost:{port}$")
        proc.stdin.write(b"/oncall calendar\n")
        await proc.stdin.drain()
        link = None
        while link is None:
            line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
            assert line, "the console ended without a calendar link"
            found = re.search(rf"http://localhost:{port}/calendar/[\w-]+\.ics", line)
            link = found.group(0) if found else None
        async with aiohttp.ClientSession(trust_env=False) as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as res:
                assert res.status == 200
                body = await res.json()
                assert body["database"]["ok"] is True and body["slack"]["mode"] == "console"
            async with http.get(f"http://127.0.0.1:{port}/healthz?details=1") as res:
                details = (await res.json())["details"]
                checks = {c["check"]: c["status"] for c in details["checks"]}
                assert checks["seed loaded"] == "OK" and checks["slack token"] == "SKIP", details
            async with http.get(f"http://127.0.0.1:{port}/metrics") as res:
                assert res.status == 200 and "text/plain" in res.headers["Content-Type"]
            async with http.get(link.replace("localhost", "127.0.0.1")) as res:
                assert res.status == 200 and res.content_type == "text/calendar"
                assert (await res.text()).startswith("BEGIN:VCALENDAR")
            async with http.post(f"http://127.0.0.1:{port}/slack/events", data=b"{}") as res:
                assert res.status in (404, 405)  # no Slack, no events endpoint
        proc.stdin.close()  # end of input: the console exits, the server with it
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        await stop(proc)


@pytest.mark.e2e
async def test_a_refused_token_is_one_error_line_and_a_non_zero_exit(tmp_path: Path, no_proxy_env: None) -> None:
    async with ScopedFakeSlack(check_tokens=True) as slack:
        env = pinned({**base_env(tmp_path), "ONCALL_HTTP_PORT": "0", "ONCALL_SLACK_API_URL": slack.api_url,
                      "SLACK_BOT_TOKEN": "xoxb-revoked", "SLACK_SIGNING_SECRET": TEST_SIGNING_SECRET})
        proc = await asyncio.create_subprocess_exec(EXE, "run", env=env, cwd=tmp_path,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        _out, err = await communicate(proc, 60)
    text = err.decode()
    assert proc.returncode == 1, text
    assert "connected to Slack" not in text and "Traceback" not in text
    errors = [line for line in text.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and "Slack refused: SLACK_BOT_TOKEN (invalid_auth): not starting" in errors[0], text
    assert [c.method for c in slack.calls] == ["auth.test"]  # nothing else was tried


@pytest.mark.e2e
async def test_sigterm_with_slack_hanging_exits_within_10_s_leaving_the_outbox(
    tmp_path: Path, no_proxy_env: None
) -> None:
    async with ScopedFakeSlack() as slack:
        populate(slack)
        env = pinned({**base_env(tmp_path), "ONCALL_HTTP_PORT": "0", "ONCALL_LOG_FORMAT": "json",
                      "ONCALL_SLACK_API_URL": slack.api_url, "SLACK_BOT_TOKEN": slack.bot_token,
                      "SLACK_SIGNING_SECRET": TEST_SIGNING_SECRET}, BUSY)
        gate = slack.hold("chat.postMessage")  # Slack takes the posts and never answers
        proc = await asyncio.create_subprocess_exec(EXE, "run", env=env, cwd=tmp_path,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        assert proc.stderr is not None
        logs = Logs(proc.stderr)
        try:
            ready = await logs.wait_for(r"connected to Slack in HTTP mode \(/slack/events\) as @.* on [\d.]+:(\d+)")
            url = f"http://127.0.0.1:{ready.group(1)}/healthz?details=1"  # the doctor's checks, with the token
            async with aiohttp.ClientSession(trust_env=False) as http, http.get(url) as res:
                details = (await res.json())["details"]
            checks = {c["check"]: (c["status"], c["detail"]) for c in details["checks"]}
            assert checks["people"] == ("OK", "15 of 15 people resolve to active Slack users"), details
            assert checks["user groups"][0] == "OK" and checks["channel #data-oncall"][0] == "OK", details
            for _ in range(500):  # the Monday tick is posting, and hangs
                if gate.waiting >= 1:
                    break
                await asyncio.sleep(0.02)
            assert gate.waiting >= 1, "\n".join(logs.raw)
            sent_at = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), 30)
            took = time.monotonic() - sent_at
        finally:
            await stop(proc)
            gate.release()
    assert code == 0, "\n".join(logs.raw)
    assert took < 10.0, f"exited {took:.1f} s after SIGTERM:\n" + "\n".join(logs.raw)
    with sqlite3.connect(tmp_path / "oncall.db") as conn:
        statuses = Counter(s for (s,) in conn.execute("SELECT status FROM scheduled_deliveries"))
    assert statuses["pending"] + statuses["failed"] > 0, statuses  # unsent work stays in the outbox
    assert statuses["expired"] == 0, statuses
