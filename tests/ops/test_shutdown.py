"""SIGTERM to a real ``oncall-bot run`` (HTTP mode, against the fake Slack): it stops taking
requests, finishes the work in flight, and exits 0.

The bot's clock is pinned to ``QUIET`` (``ONCALL_CLOCK_START``): its scheduler ticks at start, and
at a busy instant (a Monday morning) that tick posts announcements and before-shift DMs through
the same ``chat.postMessage`` this test holds and counts."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.ops.workspace import ScopedFakeSlack, populate
from tests.support.clock import QUIET, pinned
from tests.support.procs import stop
from tests.support.signing import TEST_SIGNING_SECRET, SlackClientSim, app_mention_body

EXE = str(Path(sys.executable).with_name("oncall-bot"))
BOT_USER = "U0BOT0001"


class Logs:
    """The bot's stderr, read as it comes (JSON lines), so the pipe never fills."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.events: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._read(stream))

    async def _read(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            text = line.decode(errors="replace").rstrip("\n")
            self.raw.append(text)
            try:
                self.events.append(json.loads(text))
            except ValueError:
                self.events.append({"msg": text, "level": "RAW"})
            self._changed.set()

    async def wait_for(self, pattern: str, timeout: float = 60.0) -> re.Match[str]:  # noqa: ASYNC109
        async def look() -> re.Match[str]:
            seen = 0
            while True:
                for event in self.events[seen:]:
                    found = re.search(pattern, str(event.get("msg", "")))
                    if found:
                        return found
                seen = len(self.events)
                if self._task.done():
                    raise AssertionError(f"the bot exited before logging {pattern!r}:\n" + "\n".join(self.raw))
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(look(), timeout)
        except TimeoutError:
            raise AssertionError(f"no log line matching {pattern!r}:\n" + "\n".join(self.raw)) from None

    def count(self, pattern: str) -> int:
        return sum(1 for e in self.events if re.search(pattern, str(e.get("msg", ""))))

    async def between_ticks(self, margin: float = 5.0, timeout: float = 120.0) -> None:  # noqa: ASYNC109
        """Return when no scheduler tick is running and the next (second 0 of a minute, on the
        wall clock the bot's timer reads too) is more than ``margin`` seconds away. SIGTERM in the
        middle of a tick is another story (APScheduler logs the cancelled job as an error)."""

        async def idle() -> None:
            while True:
                started = self.count(r'^Running job "ScheduledJobs\._job')
                ended = self.count(r'^Job "ScheduledJobs\._job .*" (executed successfully|raised)')
                now = datetime.now(UTC)
                if started == ended and now.second + now.microsecond / 1e6 < 60 - margin:
                    return
                await asyncio.sleep(0.05)

        try:
            await asyncio.wait_for(idle(), timeout)
        except TimeoutError:
            raise AssertionError("the scheduler's tick did not end:\n" + "\n".join(self.raw)) from None


async def _until(predicate: Any, what: str, attempts: int = 500) -> None:
    """Poll ``predicate`` (a sync or async callable) every 20 ms, at most ``attempts`` times."""
    for _ in range(attempts):
        got = predicate()
        if await got if asyncio.iscoroutine(got) else got:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.e2e
async def test_sigterm_finishes_in_flight_work_and_exits_0(tmp_path: Path, no_proxy_env: None) -> None:
    async with ScopedFakeSlack() as slack:
        populate(slack)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ONCALL_", "SLACK_"))}
        env.update(
            HOME=str(tmp_path),
            ONCALL_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/oncall.db",
            ONCALL_HTTP_PORT="0",
            ONCALL_LOG_FORMAT="json",
            ONCALL_SLACK_API_URL=slack.api_url,
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_SIGNING_SECRET=TEST_SIGNING_SECRET,
        )
        proc = await asyncio.create_subprocess_exec(EXE, "run", env=pinned(env), cwd=tmp_path,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        assert proc.stderr is not None
        logs = Logs(proc.stderr)
        try:
            ready = await logs.wait_for(r"connected to Slack in HTTP mode .* on [\d.]+:(\d+)")
            base = f"http://127.0.0.1:{ready.group(1)}"
            # The scheduler's first tick runs at start, at the pinned instant.
            # It posts nothing; what it sends is the channel topics of the seed (no chat.postMessage).
            tick = await logs.wait_for(
                r"^tick (\S+): claimed 0, skipped \d+, reminded 0, escalated 0, sent (\d+)(?:, topics (\d+))?$")
            assert QUIET <= datetime.fromisoformat(tick.group(1)) < QUIET + timedelta(minutes=5), tick.group(0)
            assert tick.group(2) == (tick.group(3) or "0"), tick.group(0)
            async with aiohttp.ClientSession(trust_env=False) as http:
                async with http.get(f"{base}/healthz") as res:
                    assert res.status == 200, await res.text()

                # A mention whose reply is held by Slack: work in flight when SIGTERM comes.
                gate = slack.hold("chat.postMessage")
                async with SlackClientSim(signing_secret=TEST_SIGNING_SECRET) as sim:
                    acked = await sim.post(f"{base}/slack/events",
                                           app_mention_body(f"<@{BOT_USER}> who is on call for growth?"))
                assert acked.status == 200
                await _until(lambda: gate.waiting == 1, "the reply to be held by Slack")

                await logs.between_ticks()
                proc.send_signal(signal.SIGTERM)
                await logs.wait_for(r"stopping: no new requests")

                async def refused() -> bool:
                    try:
                        async with http.get(f"{base}/healthz") as res:
                            return res.status >= 500
                    except aiohttp.ClientError:
                        return True

                await _until(refused, "the HTTP server to stop taking requests")
                assert proc.returncode is None, "it must wait for the reply in flight"

                gate.release()
                code = await asyncio.wait_for(proc.wait(), 60)
        finally:
            await stop(proc)
        assert code == 0, "\n".join(logs.raw)
        [posted] = await slack.wait_for("chat.postMessage", ok_only=True)
        assert "Growth" in str(posted.params.get("text")), posted.params
        assert all(e.get("level") != "ERROR" for e in logs.events), "\n".join(logs.raw)
        assert all(e.get("level") != "RAW" for e in logs.events), "every log line is JSON:\n" + "\n".join(logs.raw)
