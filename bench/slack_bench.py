"""Slack figures (issue 3 §6). Prints; is not a test.

A signed ``/oncall engagement`` over loopback HTTP, p50 and p99, against:

- the bot: ``build_app`` + ``build_web_app`` (answer in the ack, cached snapshot, the database
  fingerprint checked on every request), its Web API client on a FakeSlack;
- the floor: the same harness (aiohttp server, bolt's aiohttp adapter, signature check, the same
  ``process_before_response=True``) with a bolt app whose command only acks;
- for reference, a no-op app on bolt's default runner (which polls for the ack every 10 ms);
- and the bot "cold": every answer computed (no answer memo) and the database checked on every
  request (no one-second window), which is what a request that shares nothing with the ones
  before it costs (the benchmark repeats one command, so the shipped bot mostly reuses answers).

On SQLite and on PostgreSQL (skipped when no server answers at ONCALL_TEST_PG_URL, default
postgresql+asyncpg://postgres@127.0.0.1:5432/test), with 1 and 50 concurrent clients. Each server
runs in a process of its own; the clients run here. Targets: bot p50 within 1.5x of the floor;
bot p99 under 100 ms at 50 concurrent clients.

    .venv/bin/python bench/slack_bench.py [--requests 1000] [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for _var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_var, None)

import aiohttp  # noqa: E402

SECRET = "bench-signing-secret"
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
WARMUP = 100


# --- the servers (run in child processes) --------------------------------------------------------


async def serve(kind: str, database_url: str) -> None:
    """Serve ``kind`` (bot | bot-cold | floor | floor-default) on 127.0.0.1; print the port; run until
    SIGTERM."""
    from aiohttp import web
    from pydantic import SecretStr
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp

    from bot.clock import system_clock
    from bot.config import BUNDLED_SEED, Settings
    from bot.services.cache import SnapshotCache
    from bot.slack.app import build_app, context_of
    from bot.slack.client import close_client, make_client
    from bot.slack.deps import SlackDeps
    from bot.slack.memo import SecondMemo
    from bot.slack.server import build_web_app, prepare_for_traffic
    from bot.storage.bootstrap import open_database
    from tests.support.fake_slack import FakeSlack

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
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
        closers: list[Any] = [lambda: close_client(client)]
        if kind in ("bot", "bot-cold"):
            db = await open_database(settings, say=lambda _line: None)
            deps = SlackDeps(settings=settings, db=db, client=client, clock=system_clock)
            if kind == "bot-cold":
                app = build_app(deps, cache=SnapshotCache(db, max_staleness=0.0))
                context_of(app).answers = SecondMemo(size=0)
            else:
                app = build_app(deps)
            web_app = build_web_app(deps, app)
            await prepare_for_traffic(app)  # as run_slack does
            closers = [context_of(app).cache.close, *closers, db.close]
        else:
            app = AsyncApp(client=client, signing_secret=SECRET, process_before_response=(kind == "floor"))

            @app.command("/oncall")
            async def noop(ack: Any) -> None:
                await ack()

            async def events(request: web.Request) -> web.StreamResponse:
                return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

            web_app = web.Application()
            web_app.router.add_post("/slack/events", events)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(runner.addresses[0][1], flush=True)
        await stop.wait()
        await runner.cleanup()
        for close in closers:
            await close()


# --- the clients (this process) ------------------------------------------------------------------


def signed(body: str) -> dict[str, str]:
    import hashlib
    import hmac

    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}",
            "Content-Type": "application/x-www-form-urlencoded"}


def command_body(text: str) -> str:
    from urllib.parse import urlencode

    return urlencode({
        "token": "x", "team_id": "T0FAKE001", "team_domain": "fake", "channel_id": "C0CHAN001",
        "channel_name": "data-eng", "user_id": "U0DE00002", "user_name": "dev", "command": "/oncall",
        "text": text, "api_app_id": "A0APP0001", "is_enterprise_install": "false",
        "response_url": "http://127.0.0.1:9/unused", "trigger_id": "1.2.3",
    })


async def measure(url: str, requests: int, concurrency: int, check: bool, warmup: int = WARMUP) -> list[float]:
    """Latencies (seconds) of ``requests`` signed /oncall engagement, ``concurrency`` at a time."""
    body = command_body("engagement")
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, trust_env=False) as session:

        async def one() -> float:
            started = time.perf_counter()
            async with session.post(url, data=body, headers=signed(body)) as response:
                text = await response.text()
            elapsed = time.perf_counter() - started
            if response.status != 200 or (check and "Engagement" not in text):
                raise RuntimeError(f"bad answer {response.status}: {text[:200]}")
            return elapsed

        for _ in range(warmup):
            await one()
        per_worker = requests // concurrency

        async def worker() -> None:
            for _ in range(per_worker):
                latencies.append(await one())

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start(kind: str, database_url: str) -> Server:
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--database-url", database_url],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )
    assert process.stdout is not None
    port = process.stdout.readline().strip()
    if not port.isdigit():
        process.kill()
        raise RuntimeError(f"{kind} server did not start")
    return Server(process, f"http://127.0.0.1:{port}/slack/events")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def postgres_url(prefix: str = "oncall_bench") -> str | None:
    """A new PostgreSQL database for the run (named ``prefix`` and a random suffix), or None when
    no server answers."""
    import socket

    from sqlalchemy.engine import make_url

    base = make_url(os.environ.get("ONCALL_TEST_PG_URL", DEFAULT_PG)).set(drivername="postgresql+asyncpg")
    try:
        with socket.create_connection((base.host or "127.0.0.1", base.port or 5432), timeout=2):
            pass
    except OSError:
        return None
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    asyncio.run(pg_admin(base, f'CREATE DATABASE "{name}"'))
    return base.set(database=name).render_as_string(hide_password=False)


async def pg_admin(base: Any, sql: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    engine = create_async_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql(sql)
    finally:
        await engine.dispose()


def run(requests: int, rounds: int) -> None:
    print(f"signed /oncall engagement over loopback HTTP; {requests} requests per configuration and server, in "
          f"{rounds} alternating floor/bot runs after {WARMUP} warm-up requests; each server in its own process")
    print(f"{'db':<11}{'clients':>8}  {'floor p50':>9} {'p99':>7}  {'bot p50':>8} {'p99':>7}  "
          f"{'p50 ratio':>9}  targets  {'bot cold p50/p99':>17}  {'default-runner floor p50/p99':>28}")
    with tempfile.TemporaryDirectory() as tmp:
        dbs: list[tuple[str, str | None]] = [("sqlite", f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")]
        pg = postgres_url()
        dbs.append(("postgresql", pg))
        try:
            for name, url in dbs:
                if url is None:
                    print(f"{name:<11}  skipped: no PostgreSQL server answers")
                    continue
                servers = {kind: start(kind, url) for kind in ("floor", "bot", "bot-cold", "floor-default")}
                try:
                    for concurrency in (1, 50):
                        got: dict[str, list[float]] = {k: [] for k in servers}
                        for kind in ("floor", "bot"):  # warm both servers at this concurrency
                            asyncio.run(measure(servers[kind].url, 0, concurrency, check=False))
                        # short alternating runs, so that both servers see the same machine (at least 5
                        # requests per client per run)
                        runs = max(1, min(rounds, requests // (concurrency * 5)))
                        for _ in range(runs):
                            for kind in ("floor", "bot"):
                                got[kind] += asyncio.run(measure(servers[kind].url, requests // runs,
                                                                 concurrency, check=kind == "bot", warmup=10))
                        for kind in ("bot-cold", "floor-default"):
                            got[kind] = asyncio.run(measure(servers[kind].url, min(requests, 500), concurrency,
                                                            check=kind == "bot-cold"))
                        f50, f99 = pct(got["floor"], 0.5), pct(got["floor"], 0.99)
                        b50, b99 = pct(got["bot"], 0.5), pct(got["bot"], 0.99)
                        d50, d99 = pct(got["floor-default"], 0.5), pct(got["floor-default"], 0.99)
                        c50, c99 = pct(got["bot-cold"], 0.5), pct(got["bot-cold"], 0.99)
                        ratio = b50 / f50
                        ok = ratio <= 1.5 and (concurrency == 1 or b99 < 100)
                        print(f"{name:<11}{concurrency:>8}  {f50:>7.2f}ms {f99:>5.2f}ms  {b50:>6.2f}ms {b99:>5.2f}ms  "
                              f"{ratio:>8.2f}x  {'met' if ok else 'MISSED':>7}  {c50:>6.2f} / {c99:>6.2f}ms  "
                              f"{d50:>12.2f} / {d99:>6.2f}ms", flush=True)
                finally:
                    for server in servers.values():
                        server.stop()
        finally:
            if pg is not None:
                from sqlalchemy.engine import make_url

                parsed = make_url(pg)
                asyncio.run(pg_admin(parsed, f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000, help="requests per configuration (default 1000)")
    parser.add_argument("--rounds", type=int, default=10, help="alternating floor/bot runs (default 10)")
    parser.add_argument("--serve", choices=["bot", "bot-cold", "floor", "floor-default"], help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.database_url))
        return
    run(args.requests, args.rounds)


if __name__ == "__main__":
    main()
