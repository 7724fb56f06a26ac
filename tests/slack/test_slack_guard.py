"""Issue 10 §3: nothing is trusted, parsed or logged before the signature is checked; bodies,
read time and connections are bounded. Every test speaks real HTTP (or raw TCP) to the server."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from aiohttp import web

from bot.config import Settings
from bot.render.changes import ChangeAction, ChangeView
from bot.render.ids import Action, Callback, CoverAction
from bot.slack.guard import MAX_BODY_BYTES, GuardedSite
from bot.slack.metrics import COMMAND_LABELS
from bot.slack.server import EVENTS_PATH, build_web_app
from bot.storage.bootstrap import Database
from tests.slack.harness import RunningBot, running_bot, slack_settings
from tests.support.fake_slack import FakeSlack
from tests.support.signing import TEST_SIGNING_SECRET, form_body, sign, slash_command_body

JUNK_HEADERS = {
    "no headers": {},
    "non-numeric timestamp": {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"},
    "empty timestamp": {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": "v0=00"},
    "huge timestamp": {"X-Slack-Request-Timestamp": "9" * 40, "X-Slack-Signature": "v0=00"},
    "negative timestamp": {"X-Slack-Request-Timestamp": "-5", "X-Slack-Signature": "v0=00"},
    "no signature": {"X-Slack-Request-Timestamp": str(int(time.time()))},
    "non-ascii signature": {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=é"},
}


def _log_text(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(f"{r.levelname} {r.name} {r.getMessage()}" for r in caplog.records)


async def _metrics(bot: RunningBot) -> str:
    async with aiohttp.ClientSession(trust_env=False) as session, session.get(f"{bot.url}/metrics") as res:
        return await res.text()


@pytest.mark.parametrize("case", list(JUNK_HEADERS))
async def test_junk_signature_headers_get_401_and_no_traceback(
    bot: RunningBot, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    caplog.set_level(logging.INFO)
    body = slash_command_body("/evil-command", "engagement") + "&token=legacy-verification-token"
    response = await bot.sim.post(bot.events_url, body, JUNK_HEADERS[case], signed=False)
    assert response.status == 401
    logged = _log_text(caplog)
    assert "Traceback" not in logged and not any(r.exc_info for r in caplog.records)
    assert not any(r.levelno >= logging.ERROR for r in caplog.records)
    assert "legacy-verification-token" not in logged and "evil-command" not in logged
    assert "evil-command" not in await _metrics(bot)
    assert [c.method for c in bot.slack.calls if c.method != "auth.test"] == []


async def test_a_big_unsigned_body_is_refused_unread_and_unlogged(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = form_body({"token": "legacy-verification-token", "text": "x" * (MAX_BODY_BYTES + 10)})
    response = await bot.sim.post(bot.events_url, body, signed=False)
    assert response.status == 401  # refused on its headers, before a byte of the body is read
    small = form_body({"token": "legacy-verification-token", "text": "y" * 500_000})
    response = await bot.sim.post(bot.events_url, small, {"X-Slack-Request-Timestamp": "1"}, signed=False)
    assert response.status == 401
    logged = _log_text(caplog)
    assert "legacy-verification-token" not in logged and "yyyy" not in logged
    assert len(logged) < 2_000


async def test_unknown_commands_are_counted_as_other(bot: RunningBot) -> None:
    for i in range(20):
        status, body = await bot.sim.post(bot.events_url, slash_command_body(f"/junk{i}", "x"))
        assert status == 200 and "/oncall help" in body["text"]
    bot.ctx.metrics.count_command("/junk-from-a-body", "weird-outcome", 0.0)
    page = await _metrics(bot)
    assert "junk" not in page and "weird-outcome" not in page
    assert 'oncall_commands_total{command="unknown_command",outcome="user_error"} 20.0' in page
    assert 'oncall_commands_total{command="other",outcome="other"} 1.0' in page


def test_every_label_the_bot_names_is_a_known_metric_label() -> None:
    names = {str(x) for enum in (Action, Callback, ChangeAction, ChangeView, CoverAction) for x in enum}
    assert names <= COMMAND_LABELS


MALFORMED = {
    "payload is not JSON": ("payload=%7Bnot-json", "application/x-www-form-urlencoded"),
    "payload is a JSON list": ("payload=%5B1%5D", "application/x-www-form-urlencoded"),
    "JSON sent as a form": ('{"type": "event_callback", "event": {}}', "application/x-www-form-urlencoded"),
    "JSON that is not an object": ("[1, 2]", "application/json"),
    "JSON that does not parse": ('{"type": ', "application/json"),
    "not UTF-8": (b"command=%2Foncall&text=\xff\xfe", "application/x-www-form-urlencoded"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
async def test_signed_malformed_bodies_get_400_and_one_log_line(
    bot: RunningBot, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    caplog.set_level(logging.INFO)
    body, content_type = MALFORMED[case]
    raw = body.encode() if isinstance(body, str) else body
    response = await bot.sim.post(bot.events_url, raw, {"Content-Type": content_type})
    assert response.status == 400
    guard_lines = [r for r in caplog.records if r.name == "bot.slack.guard"]
    assert len(guard_lines) == 1 and guard_lines[0].exc_info is None
    assert not any(r.exc_info for r in caplog.records)
    assert not any(r.levelno >= logging.ERROR for r in caplog.records)


async def test_a_signed_request_still_works(bot: RunningBot) -> None:
    status, body = await bot.sim.post(bot.events_url, slash_command_body("/oncall", "engagement"))
    assert status == 200 and "Engagement" in body["text"]


async def test_a_signed_body_over_the_cap_gets_413(bot: RunningBot) -> None:
    body = slash_command_body("/oncall", "e" * (MAX_BODY_BYTES + 1))
    response = await bot.sim.post(bot.events_url, body)
    assert response.status == 413


# --- slow and many connections -----------------------------------------------------------------

READ_TIMEOUT = 0.3


@pytest.fixture
async def guarded_url(bot: RunningBot) -> AsyncIterator[tuple[str, GuardedSite]]:
    """The same bot behind a second listener with a short read deadline and room for 4."""
    runner = web.AppRunner(build_web_app(bot.deps, bot.app), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = GuardedSite(runner, "127.0.0.1", 0, max_connections=4, read_timeout=READ_TIMEOUT)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}", site
    finally:
        await runner.cleanup()


async def _half_request(url: str, *, headers_only: bool = False) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    head = (f"POST {EVENTS_PATH} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            "Content-Length: 1000\r\n")
    writer.write(head.encode() if headers_only else (head + "\r\ncommand=%2Foncall&te").encode())
    await writer.drain()
    return reader, writer


async def _closed_by_server(reader: asyncio.StreamReader, within: float) -> float:
    """Seconds until the server closed the connection (EOF or reset); fails after ``within``."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(within):
            while await reader.read(1024):
                pass
    except ConnectionResetError:
        pass
    return time.perf_counter() - started


@pytest.mark.parametrize("headers_only", [False, True], ids=["half a body", "half the headers"])
async def test_a_slow_sender_is_cut_off_at_the_read_deadline(
    guarded_url: tuple[str, GuardedSite], headers_only: bool
) -> None:
    url, site = guarded_url
    reader, writer = await _half_request(url, headers_only=headers_only)
    took = await _closed_by_server(reader, within=READ_TIMEOUT + 5)
    assert took < READ_TIMEOUT + 5
    assert site.guard is not None and site.guard.expired == 1
    writer.close()


async def test_when_full_the_slowest_connection_makes_room_for_a_real_request(
    guarded_url: tuple[str, GuardedSite],
) -> None:
    url, site = guarded_url
    assert site.guard is not None
    site.guard.read_timeout = 60.0  # the slow ones would hold on: only eviction frees a place
    slow = [await _half_request(url) for _ in range(4)]
    body = slash_command_body("/oncall", "engagement")
    headers = {**sign(body, TEST_SIGNING_SECRET), "Content-Type": "application/x-www-form-urlencoded"}
    async with aiohttp.ClientSession(trust_env=False) as session, \
            session.post(url + EVENTS_PATH, data=body, headers=headers) as res:
        assert res.status == 200
        assert "Engagement" in (await res.json())["text"]
    assert site.guard.evicted >= 1
    assert len(site.guard.open) <= 4
    # the oldest slow one was closed by the server
    await _closed_by_server(slow[0][0], within=5)
    for _, writer in slow:
        writer.close()


async def test_a_flood_of_junk_writes_a_bounded_log(bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    for i in range(40):
        response = await bot.sim.post(bot.events_url, slash_command_body(f"/junk{i}"), signed=False)
        assert response.status == 401
    lines = [r for r in caplog.records if r.name == "bot.slack.guard"]
    assert 1 <= len(lines) <= 10


async def test_a_proven_keep_alive_client_is_not_the_one_evicted(guarded_url: tuple[str, GuardedSite]) -> None:
    """Slack keeps its connections open: one that has completed requests outlives newcomers that
    have not, when the server is full."""
    url, site = guarded_url
    assert site.guard is not None
    site.guard.read_timeout = 60.0
    body = slash_command_body("/oncall", "engagement")

    def headers() -> dict[str, str]:
        return {**sign(body, TEST_SIGNING_SECRET), "Content-Type": "application/x-www-form-urlencoded"}

    async with aiohttp.ClientSession(trust_env=False, connector=aiohttp.TCPConnector(limit=1)) as session:
        async with session.post(url + EVENTS_PATH, data=body, headers=headers()) as res:
            assert res.status == 200
        slow = [await _half_request(url) for _ in range(8)]  # twice the room: newcomers evict newcomers
        assert site.guard.evicted >= 4
        assert any(h.served >= 1 for h in site.guard.open)
        async with session.post(url + EVENTS_PATH, data=body, headers=headers()) as res:
            assert res.status == 200
        assert max(h.served for h in site.guard.open) >= 2  # the same connection answered again
    for _, writer in slow:
        writer.close()


def _signed_request(host: str) -> tuple[bytes, bytes]:
    """A signed ``/oncall engagement`` as raw HTTP/1.1 (keep-alive): (head, body)."""
    body = slash_command_body("/oncall", "engagement")
    data = body.encode() if isinstance(body, str) else body
    headers = {**sign(body, TEST_SIGNING_SECRET), "Content-Type": "application/x-www-form-urlencoded"}
    head = f"POST {EVENTS_PATH} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(data)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode(), data


async def _response_status(reader: asyncio.StreamReader) -> int:
    """Read one whole response (a Content-Length body); its status."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    lines = head.decode().split("\r\n")
    length = next((int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")), 0)
    await asyncio.wait_for(reader.readexactly(length), 5)
    return int(lines[0].split()[1])


async def _until(condition: Callable[[], bool]) -> None:
    """Let the server run until ``condition`` holds (a few event-loop turns; fails after 5 s)."""
    async with asyncio.timeout(5):
        while True:  # server state, with no event to wait on
            if condition():
                return
            await asyncio.sleep(0)


async def _junk_keep_alive(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection that got a 401 for an unsigned request and stays open (keep-alive)."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"POST {EVENTS_PATH} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n".encode())
    await writer.drain()
    assert await _response_status(reader) == 401
    return reader, writer


@pytest.mark.parametrize("mid_request", [False, True], ids=["idle", "in the middle of a request"])
async def test_a_verified_keep_alive_connection_outlives_junk_answered_401(
    guarded_url: tuple[str, GuardedSite], mid_request: bool
) -> None:
    """Under attack the junk clients are answered too (401) and keep their connections: having
    been answered proves nothing. The connection that carried a signed request is not the one
    evicted for newcomers, idle or halfway through its next request (bench/safety_bench.py saw
    its measuring client's connections reset)."""
    url, site = guarded_url
    guard = site.guard
    assert guard is not None
    guard.read_timeout = 60.0
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    head, body = _signed_request(host)
    writer.write(head + body)
    await writer.drain()
    assert await _response_status(reader) == 200  # verified, now the oldest idle connection
    junk = [await _junk_keep_alive(url) for _ in range(3)]  # full: 4 of 4
    head, body = _signed_request(host)
    if mid_request:
        writer.write(head + body[: len(body) // 2])
        await writer.drain()
        await _until(lambda: any(h.verified and h.reading_since is not None for h in guard.open))
    newcomers = [await _half_request(url) for _ in range(6)]  # each evicts someone
    await _until(lambda: guard.evicted >= 6)
    writer.write(body[len(body) // 2:] if mid_request else head + body)
    await writer.drain()
    assert await _response_status(reader) == 200  # the same connection, never reset
    assert max(h.verified for h in guard.open) == 2
    for _, w in [*junk, *newcomers, (reader, writer)]:
        w.close()


async def test_a_refused_request_waits_for_its_401_while_signed_ones_do_not(
    settings: Settings, db: Database, fake_slack: FakeSlack
) -> None:
    # The tarpit (ONCALL_REFUSED_DELAY_SECONDS): junk is answered late, so a junk sender over a
    # few connections cannot take the event loop from signed requests. Order, not timing, proves
    # that the signed request never waits behind it.
    config = slack_settings(settings, fake_slack).model_copy(update={"refused_delay_seconds": 0.5})
    async with running_bot(config, db, fake_slack) as bot:
        done: list[str] = []

        async def junk() -> int:
            response = await bot.sim.post(bot.events_url, slash_command_body("/oncall", "x"), signed=False)
            done.append("junk")
            return response.status

        async def signed() -> int:
            await asyncio.sleep(0)  # the junk request goes out first
            response = await bot.sim.post(bot.events_url, slash_command_body("/oncall", "engagement"))
            done.append("signed")
            return response.status

        started = time.monotonic()
        assert await asyncio.gather(junk(), signed()) == [401, 200]
        assert done == ["signed", "junk"]
        assert time.monotonic() - started >= 0.5  # the 401 came no sooner than the delay
