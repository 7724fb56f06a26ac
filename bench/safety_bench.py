"""Safety figures (issue 10 §3, §4): the bot in HTTP mode under junk and slow connections. Prints;
is not a test.

The bot (``build_app`` + ``build_web_app`` behind ``GuardedSite``, as ``run_slack`` serves it, on a
SQLite file, its Web API client on a FakeSlack, logging at INFO to a file) runs in a process of
its own on 127.0.0.1, the attacker in another. This process measures signed ``/oncall engagement`` at 10 concurrent
clients, quiet and then while it sends, all at once:

- 10,000 unsigned junk requests (a non-numeric timestamp, a forged signature, a 64 KB body with a
  legacy ``token=``, random command names) 50 at a time (each 401 is answered
  ``ONCALL_REFUSED_DELAY_SECONDS`` late, 0.2 s by default: the tarpit bounds the rate at which
  they arrive; ``ONCALL_REFUSED_DELAY_SECONDS=0 .venv/bin/python bench/safety_bench.py`` shows
  the bot without it);
- 1,000 slow connections: 900 that send half a body and stop, 100 that trickle headers a byte a
  second (each held until the server closes it, at most 20 s).

It prints p50/p99 quiet and under attack, the server's RSS growth, the log bytes written, the
/metrics size, how long the slowest slow connection was held, and errors seen by the measuring
client. Target: p99 under attack within 2x of quiet; memory and log growth bounded.

    .venv/bin/python bench/safety_bench.py [--requests 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for _var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_var, None)

import aiohttp  # noqa: E402

from bench.slack_bench import SECRET, command_body, pct, signed  # noqa: E402

JUNK = 10_000
JUNK_CONCURRENCY = 50
SLOW = 1_000
TRICKLE = 100
CONCURRENCY = 10


async def serve(database_url: str, log_path: str) -> None:
    """The bot on 127.0.0.1 behind a GuardedSite; prints its port, runs until SIGTERM."""
    from aiohttp import web
    from pydantic import SecretStr

    from bot.clock import system_clock
    from bot.config import BUNDLED_SEED, Settings
    from bot.slack.app import build_app, context_of
    from bot.slack.client import close_client, make_client
    from bot.slack.deps import SlackDeps
    from bot.slack.guard import GuardedSite
    from bot.slack.server import build_web_app, prepare_for_traffic
    from bot.storage.bootstrap import open_database
    from tests.support.fake_slack import FakeSlack

    logging.basicConfig(filename=log_path, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with FakeSlack() as slack:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=database_url,
            seed_path=BUNDLED_SEED,
            slack_api_url=slack.api_url,
            slack_bot_token=SecretStr(slack.bot_token),
            slack_signing_secret=SecretStr(SECRET),
        )
        client = make_client(settings)
        db = await open_database(settings, say=lambda _line: None)
        deps = SlackDeps(settings=settings, db=db, client=client, clock=system_clock)
        app = build_app(deps)
        web_app = build_web_app(deps, app)
        await prepare_for_traffic(app)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        site = GuardedSite(runner, "127.0.0.1", 0)
        await site.start()
        print(runner.addresses[0][1], flush=True)
        await stop.wait()
        guard = site.guard
        if guard is not None:
            print(json.dumps({"evicted": guard.evicted_by_trust, "refused": guard.refused,
                              "expired": guard.expired}), flush=True)
        await runner.cleanup()
        await context_of(app).cache.close()
        await close_client(client)
        await db.close()


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def measure(url: str, requests: int) -> tuple[list[float], int]:
    """Latencies of ``requests`` signed /oncall engagement, 10 at a time, and the errors seen."""
    body = command_body("engagement")
    latencies: list[float] = []
    errors = 0
    kinds: dict[str, int] = {}
    opened = 0

    async def counted(*_args: object) -> None:
        nonlocal opened
        opened += 1

    trace = aiohttp.TraceConfig()
    trace.on_connection_create_end.append(counted)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY), trust_env=False,
                                     trace_configs=[trace]) as session:

        async def worker(n: int) -> None:
            nonlocal errors
            for _ in range(n):
                started = time.perf_counter()
                try:
                    async with session.post(url, data=body, headers=signed(body)) as response:
                        text = await response.text()
                    if response.status != 200 or "Engagement" not in text:
                        errors += 1
                        kinds[f"http {response.status}"] = kinds.get(f"http {response.status}", 0) + 1
                        continue
                except aiohttp.ClientError as exc:
                    errors += 1
                    kinds[type(exc).__name__] = kinds.get(type(exc).__name__, 0) + 1
                    continue
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(worker(requests // CONCURRENCY) for _ in range(CONCURRENCY)))
    if kinds:
        print(f"  errors seen by the measuring client: {kinds}")
    if opened > CONCURRENCY:  # keep-alive: 10 connections, unless the server closed some
        print(f"  the measuring client opened {opened} connections (the server closed {opened - CONCURRENCY})")
    return latencies, errors


def junk_request(i: int) -> tuple[bytes, dict[str, str]]:
    kind = i % 4
    if kind == 0:
        return f"command=%2Fjunk{i}&text=x".encode(), {"X-Slack-Request-Timestamp": "abc",
                                                        "Content-Type": "application/x-www-form-urlencoded"}
    if kind == 1:
        return f"command=%2Foncall{i}&text=engagement".encode(), {
            "X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=" + "0" * 64,
            "Content-Type": "application/x-www-form-urlencoded"}
    if kind == 2:
        return b"token=legacy-token&text=" + b"A" * 65_536, {"Content-Type": "application/x-www-form-urlencoded"}
    return f'{{"type":"event_callback","event":{{"type":"x{i}"}}}}'.encode(), {"Content-Type": "application/json"}


async def junk(url: str) -> dict[int, int]:
    statuses: dict[int, int] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=JUNK_CONCURRENCY),
                                     trust_env=False) as session:
        queue = iter(range(JUNK))

        async def worker() -> None:
            for i in queue:
                body, headers = junk_request(i)
                try:
                    async with session.post(url, data=body, headers=headers) as response:
                        await response.read()
                        statuses[response.status] = statuses.get(response.status, 0) + 1
                except aiohttp.ClientError:
                    statuses[0] = statuses.get(0, 0) + 1

        await asyncio.gather(*(worker() for _ in range(JUNK_CONCURRENCY)))
    return statuses


async def slow_connection(port: int, trickle: bool) -> float:
    """Open, send part of a request, hold; seconds until the server closed it (<= 20)."""
    started = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return 0.0
    head = (b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 4000\r\n")
    try:
        async with asyncio.timeout(20):
            if trickle:
                for byte in head:
                    writer.write(bytes([byte]))
                    await writer.drain()
                    try:
                        async with asyncio.timeout(1.0):
                            if not await reader.read(1024):
                                break
                    except TimeoutError:
                        continue
            else:
                writer.write(head + b"\r\ncommand=%2Foncall&text=")
                await writer.drain()
            while await reader.read(1024):
                pass
    except (TimeoutError, ConnectionError):
        pass
    finally:
        writer.close()
    return time.perf_counter() - started


async def attack(port: int) -> None:
    """The attacker (a process of its own, so that its work does not slow the measuring client):
    prints the junk answers' statuses and the longest hold of a slow connection."""
    url = f"http://127.0.0.1:{port}/slack/events"
    slow_tasks = [asyncio.create_task(slow_connection(port, trickle=i < TRICKLE)) for i in range(SLOW)]
    started = time.perf_counter()
    statuses = await junk(url)
    junk_seconds = time.perf_counter() - started
    held = await asyncio.gather(*slow_tasks)
    print(json.dumps({"statuses": statuses, "held": max(held), "junk_seconds": junk_seconds}), flush=True)


def attack_and_measure(url: str, port: int, requests: int) -> tuple[list[float], int, dict[int, int], float, float]:
    attacker = subprocess.Popen([sys.executable, __file__, "--attack", str(port)], stdout=subprocess.PIPE,
                                text=True, cwd=ROOT)
    time.sleep(1.0)  # the attack under way (connections opened, junk flowing)
    latencies, errors = asyncio.run(measure(url, requests))
    out, _ = attacker.communicate(timeout=120)
    result = json.loads(out.strip().splitlines()[-1])
    return (latencies, errors, {int(k): v for k, v in result["statuses"].items()}, float(result["held"]),
            float(result["junk_seconds"]))


async def metrics_size(port: int) -> int:
    async with aiohttp.ClientSession(trust_env=False) as session, \
            session.get(f"http://127.0.0.1:{port}/metrics") as response:
        return len(await response.read())


def run(requests: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        log_path = str(Path(tmp) / "bot.log")
        database_url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        process = subprocess.Popen([sys.executable, __file__, "--serve", "--database-url", database_url,
                                    "--log", log_path], stdout=subprocess.PIPE, text=True, cwd=ROOT)
        assert process.stdout is not None
        port = int(process.stdout.readline().strip())
        url = f"http://127.0.0.1:{port}/slack/events"
        try:
            started = time.perf_counter()
            asyncio.run(measure(url, 200))  # warm-up
            quiet, quiet_errors = asyncio.run(measure(url, requests))
            rss_before, log_before = rss_kb(process.pid), Path(log_path).stat().st_size
            latencies, errors, statuses, held, junk_seconds = attack_and_measure(url, port, requests)
            rss_after, log_after = rss_kb(process.pid), Path(log_path).stat().st_size
            metrics = asyncio.run(metrics_size(port))
            took = time.perf_counter() - started
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                rest, _ = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                rest = ""
        guard = json.loads(rest.strip().splitlines()[-1]) if rest.strip() else {}
    print(f"signed /oncall at {CONCURRENCY} concurrent, {requests} requests each run")
    print(f"  quiet:        p50 {pct(quiet, 0.5):7.2f} ms  p99 {pct(quiet, 0.99):7.2f} ms  errors {quiet_errors}")
    print(f"  under attack: p50 {pct(latencies, 0.5):7.2f} ms  p99 {pct(latencies, 0.99):7.2f} ms  errors {errors}")
    print(f"  p99 ratio attack/quiet: {pct(latencies, 0.99) / pct(quiet, 0.99):.2f} (target <= 2)")
    print(f"attack: {JUNK} unsigned junk requests -> {dict(sorted(statuses.items()))} in {junk_seconds:.1f} s "
          f"({JUNK / junk_seconds:.0f}/s, {JUNK_CONCURRENCY} at a time; each 401 answered "
          f"ONCALL_REFUSED_DELAY_SECONDS late); "
          f"{SLOW} slow connections ({TRICKLE} trickling), longest held {held:.1f} s")
    print(f"server RSS {rss_before / 1024:.1f} MB -> {rss_after / 1024:.1f} MB "
          f"(+{(rss_after - rss_before) / 1024:.1f} MB); log +{log_after - log_before:,} bytes "
          f"({(log_after - log_before) / (JUNK + SLOW):.0f} B per bad request); /metrics {metrics:,} bytes")
    if guard:
        low, unsigned, verified = guard["evicted"]
        print(f"connections closed for newcomers: {low} unproven, {unsigned} with unsigned successes, "
              f"{verified} verified; newcomers refused {guard['refused']}; cut at the read deadline {guard['expired']}")
    print(f"total {took:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)  # p99 of 1,000 is the 10th worst: noisy
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--log", help=argparse.SUPPRESS)
    parser.add_argument("--attack", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.attack:
        asyncio.run(attack(args.attack))
    elif args.serve:
        asyncio.run(serve(args.database_url, args.log))
    else:
        random.seed(0)
        run(args.requests)


if __name__ == "__main__":
    main()

