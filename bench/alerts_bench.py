"""Alert intake figures (issue 12). Prints; is not a test.

Sustained PagerDuty-format triggers (``POST /v2/enqueue``) at ``--rate`` events a second (500)
for ``--seconds`` (30), open loop (each request sent at its scheduled time, whatever the answers
before it), over ``--keys`` distinct dedup keys (1,000) on ``--pipelines`` pipelines (20, from
``bench/gen_seed.py``, one routing key each), on PostgreSQL. Measured:

- p50 and p99 of the 202, against the floor: the same harness (the bot's ``build_web_app``, the
  same client) with a route that reads the body and answers 202 without work;
- events stored (``alert_events``) == events sent;
- Slack: the messages the storm rule let the bot owe (outbox rows for alert lines, their edits,
  incident posts, pages) and the calls the fake Slack received, against the bound: per incident
  its post, first thread line and page; one line per key; at most one edit per key per 30 s.

Targets: p99 under 50 ms; p50 within 3x of the floor. Each server runs in a process of its own,
the fake Slack in one more (Slack's work is not the bot's); the client runs here. ``--applier``
chooses where the bot applies events (the ``alert_applier`` setting: a child process by default
on PostgreSQL).

    .venv/bin/python bench/alerts_bench.py [--seconds 30] [--rate 500] [--keys 1000] [--pipelines 20]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for _var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_var, None)

import aiohttp  # noqa: E402

from bench.slack_bench import pg_admin, postgres_url  # noqa: E402


def seed_text(pipelines: int) -> str:
    """A generated seed of ``pipelines`` pipelines, each with a channel of its own."""
    import yaml

    from bench.gen_seed import generate

    seed = generate(pipelines=pipelines, people=max(40, pipelines * 4), teams=max(5, pipelines // 2))
    for p in seed["pipelines"]:
        p["channel"] = f"#{p['id']}"
    return yaml.safe_dump(seed, sort_keys=False)


# --- the servers (run in child processes) --------------------------------------------------------


async def serve_slack(seed_path: str) -> None:
    """The fake Slack workspace, in a process of its own (as Slack is elsewhere: its work is not
    the bot's): print its URL; on SIGTERM print its counts as JSON and stop."""
    import yaml

    from tests.support.fake_slack import FakeSlack

    slack = await FakeSlack().start()
    for p in yaml.safe_load(await asyncio.to_thread(Path(seed_path).read_text))["pipelines"]:
        slack.add_channel(name=p["channel"].lstrip("#"))
    print(slack.api_url, flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    posts = slack.calls_to("chat.postMessage", ok_only=True)
    print(json.dumps({"posts": len(posts), "updates": len(slack.calls_to("chat.update", ok_only=True))}), flush=True)
    await slack.stop()


async def serve(kind: str, database_url: str, seed_path: str, slack_url: str) -> None:
    """Serve ``kind`` (bot | floor) on 127.0.0.1 (Slack at ``slack_url``); print the port; on
    SIGTERM stop."""
    from aiohttp import web

    from bot.clock import system_clock
    from bot.config import Settings
    from bot.services import incidents as incident_service
    from bot.slack.client import close_client, make_client
    from bot.slack.deps import SlackDeps
    from bot.slack.server import build_web_app, freeze_heap
    from bot.storage.bootstrap import open_database

    if os.environ.get("ALERTS_BENCH_DEBUG"):
        import logging

        logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
        logging.getLogger("bot.alerts").setLevel(logging.DEBUG)
    # the bot's Slack client (and its applier child's, alert_applier: process) aims at the fake one
    settings = Settings(_env_file=None, database_url=database_url, seed_path=Path(seed_path),  # type: ignore[call-arg]
                        slack_api_url=slack_url, SLACK_BOT_TOKEN="xoxb-test")
    db = await open_database(settings, say=lambda _line: None)
    deps = SlackDeps(settings=settings, db=db, client=make_client(settings), clock=system_clock)
    if kind == "bot":
        web_app = build_web_app(deps, None)
        if os.environ.get("ALERTS_BENCH_NO_OUTBOX"):  # diagnosis: the intake alone, nothing sent to Slack
            from bot.http.alerts import ROUTES

            web_app[ROUTES].intake.kicker.kick = lambda _now: None  # type: ignore[method-assign]
        if os.environ.get("ALERTS_BENCH_NO_APPLY"):  # diagnosis: the accept alone, nothing applied
            from bot.http.alerts import ROUTES

            web_app[ROUTES].intake.loop.enabled = False
    else:
        web_app = web.Application()

        async def floor(request: web.Request) -> web.Response:
            await request.read()
            return web.json_response({"status": "success", "message": "Event processed", "dedup_key": "x"},
                                     status=202)

        web_app.router.add_post("/v2/enqueue", floor)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    freeze_heap()  # as run_slack does once the web app has started (and slack_bench, safety_bench)
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(runner.addresses[0][1], flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)

    async def minute_tick() -> None:  # the bot's periodic work: owed messages sent every minute
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), 60)
            except TimeoutError:
                await incident_service.run_periodic(deps, deps.clock())

    ticker = asyncio.create_task(minute_tick()) if kind == "bot" else None

    async def lag_watch() -> None:  # diagnosis: the event loop's stalls over 15 ms
        while not stop.is_set():
            t = time.perf_counter()
            await asyncio.sleep(0.005)
            lag = time.perf_counter() - t - 0.005
            if lag > 0.015:
                print(f"LAG {time.time():.3f} {lag * 1000:.0f} ms", file=sys.stderr, flush=True)

    watch = asyncio.create_task(lag_watch()) if os.environ.get("ALERTS_BENCH_LAG") else None
    await stop.wait()
    for task in (ticker, watch):
        if task is not None:
            await task
    await runner.cleanup()
    await deps.background.drain(5.0)
    await close_client(deps.client)
    await db.close()


class Server:
    def __init__(self, kind: str, database_url: str, seed_path: str, slack_url: str = "") -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", kind, "--database-url", database_url, "--seed", seed_path,
             "--slack-url", slack_url], stdout=subprocess.PIPE, text=True, cwd=ROOT,
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline().strip()
        if not (first.isdigit() or first.startswith("http")):
            self.process.kill()
            raise RuntimeError(f"{kind} server did not start")
        self.url = first if kind == "slack" else f"http://127.0.0.1:{first}/v2/enqueue"

    def stop(self) -> dict[str, Any]:
        self.process.send_signal(signal.SIGTERM)
        try:
            out, _ = self.process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return {}
        lines = [x for x in out.strip().splitlines() if x.startswith("{")]
        return json.loads(lines[-1]) if lines else {}


# --- the client ----------------------------------------------------------------------------------


WARMUP = 50


async def load(url: str, rate: float, seconds: float, events: list[bytes]) -> tuple[list[float], int, dict[int, int]]:
    """Send ``WARMUP`` events one by one (not measured), then ``rate`` events a second for
    ``seconds`` (open loop); latencies of the 202s, how many were sent (warm-up included), and
    the answers by status."""
    total = int(rate * seconds)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=256)
    headers = {"Content-Type": "application/json"}
    trace: list[tuple[float, float]] | None = [] if os.environ.get("ALERTS_BENCH_TRACE") else None
    t0 = time.perf_counter()
    async with aiohttp.ClientSession(connector=connector, trust_env=False) as session:
        for i in range(WARMUP):
            async with session.post(url, data=events[-1 - i % 10], headers=headers) as response:
                await response.read()

        async def one(body: bytes) -> None:
            started = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    status = response.status
            except aiohttp.ClientError:
                status = 0
            if status == 202:
                latencies.append(time.perf_counter() - started)
                if trace is not None:
                    trace.append((started - t0, latencies[-1]))
            statuses[status] = statuses.get(status, 0) + 1

        tasks = []
        # the client's own garbage collections (its heap grows with every request's task) would
        # pause it mid-request and count against whichever server it measures
        gc.collect()
        gc.disable()
        t0 = time.perf_counter()
        for i in range(total):
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(events[i % len(events)])))
        await asyncio.gather(*tasks)
        gc.enable()
    if trace is not None:  # diagnosis: when the slow answers came (seconds into the run, latency)
        slow = sorted(trace, key=lambda x: -x[1])[: max(1, len(trace) // 100)]
        print("slowest 1%:", " ".join(f"{at:.1f}s:{lat * 1000:.0f}" for at, lat in sorted(slow)), flush=True)
    return latencies, total + WARMUP, statuses


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


async def prepare(database_url: str, seed_path: str, pipelines: int) -> list[str]:
    """Migrate and seed the database; a routing key per pipeline."""
    from bot.clock import system_clock
    from bot.config import Settings
    from bot.services import alerts as svc
    from bot.storage.bootstrap import open_database

    settings = Settings(_env_file=None, database_url=database_url, seed_path=Path(seed_path))  # type: ignore[call-arg]
    db = await open_database(settings, say=lambda _line: None)
    try:
        return [(await svc.add(db, f"pipe{n:04d}", "bench", system_clock())).routing_key for n in range(pipelines)]
    finally:
        await db.close()


async def stored(database_url: str) -> tuple[int, int, dict[str, int]]:
    """Events stored, incidents, and the owed Slack messages by kind (outbox rows)."""
    from sqlalchemy import func, select

    from bot.storage.db import create_engine
    from bot.storage.tables import AlertEventRow, DeliveryRow, IncidentRow

    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            events = (await conn.execute(select(func.count()).select_from(AlertEventRow))).scalar_one()
            incidents = (await conn.execute(select(func.count()).select_from(IncidentRow))).scalar_one()
            keys = list((await conn.execute(select(DeliveryRow.key))).scalars())
    finally:
        await engine.dispose()
    kinds = {"alert lines": sum(1 for k in keys if ":alert:" in k and ":edit:" not in k),
             "alert edits": sum(1 for k in keys if ":edit:" in k), "other": 0}
    kinds["other"] = len(keys) - kinds["alert lines"] - kinds["alert edits"]
    return int(events), int(incidents), kinds


def run(seconds: float, rate: float, keys: int, pipelines: int, sqlite: bool) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        seed_path = str(Path(tmp) / "seed.yaml")
        Path(seed_path).write_text(seed_text(pipelines))
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}" if sqlite else postgres_url("oncall_alerts_bench")
        if url is None:
            print("skipped: no PostgreSQL server answers at ONCALL_TEST_PG_URL")
            return 1
        try:
            routing = asyncio.run(prepare(url, seed_path, pipelines))
            events = [json.dumps({"routing_key": routing[i % pipelines], "event_action": "trigger",
                                  "dedup_key": f"bench-{i}",
                                  "payload": {"summary": f"Load {i} failed", "source": "bench", "severity": "error",
                                              "custom_details": {"n": i}}}).encode() for i in range(keys)]
            print(f"{'sqlite' if sqlite else 'postgresql'}: {rate:.0f} PD triggers/s for {seconds:.0f} s, {keys} dedup "
                  f"keys over {pipelines} pipelines; open loop; servers in their own processes; applier "
                  f"{os.environ.get('ONCALL_ALERT_APPLIER', 'auto')}", flush=True)
            fake_slack = Server("slack", url, seed_path)
            try:
                floor = Server("floor", url, seed_path, fake_slack.url)
                try:
                    f_lat, f_sent, f_status = asyncio.run(load(floor.url, rate, min(seconds, 10.0), events))
                finally:
                    floor.stop()
                bot = Server("bot", url, seed_path, fake_slack.url)
                try:
                    b_lat, b_sent, b_status = asyncio.run(load(bot.url, rate, seconds, events))
                    time.sleep(1.0)
                finally:
                    bot.stop()
            finally:
                slack = fake_slack.stop()
            n_events, n_incidents, owed = asyncio.run(stored(url))
        finally:
            if not sqlite and url is not None:
                from sqlalchemy.engine import make_url

                parsed = make_url(url)
                asyncio.run(pg_admin(parsed, f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    f50, f99, b50, b99 = pct(f_lat, 0.5), pct(f_lat, 0.99), pct(b_lat, 0.5), pct(b_lat, 0.99)
    accepted = b_status.get(202, 0)
    windows = math.ceil(seconds / 30) + 1
    bound_lines, bound_edits = min(keys, b_sent), min(keys, b_sent) * windows
    print(f"floor: {f_sent} sent, p50 {f50:.2f} ms, p99 {f99:.2f} ms, answers {f_status}")
    print(f"bot:   {b_sent} sent, p50 {b50:.2f} ms, p99 {b99:.2f} ms, answers {b_status}")
    print(f"events stored {n_events} of {b_sent} sent ({accepted} measured 202s + {WARMUP} warm-up): "
          f"{'equal' if n_events == b_sent == accepted + WARMUP else 'NOT EQUAL'}")
    print(f"incidents {n_incidents}; owed Slack messages: {owed['alert lines']} alert lines (bound {bound_lines}), "
          f"{owed['alert edits']} edits (bound {bound_edits}), {owed['other']} incident posts/threads/pages; "
          f"fake Slack received {slack.get('posts', '?')} posts and {slack.get('updates', '?')} updates "
          f"(for {b_sent} events)")
    ok_p99, ok_p50 = b99 < 50.0, b50 <= 3 * f50
    ok_bound = owed["alert lines"] <= bound_lines and owed["alert edits"] <= bound_edits
    print(f"targets: p99 < 50 ms {'met' if ok_p99 else 'MISSED'}; p50 within 3x floor ({b50 / f50:.2f}x) "
          f"{'met' if ok_p50 else 'MISSED'}; stored == sent {'met' if n_events == b_sent else 'MISSED'}; "
          f"Slack bounded {'met' if ok_bound else 'MISSED'}")
    return 0 if ok_p99 and ok_p50 and n_events == b_sent and ok_bound else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--keys", type=int, default=1000)
    parser.add_argument("--pipelines", type=int, default=20)
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--applier", choices=["auto", "process", "inline"],
                        help="where the bot applies events (ONCALL_ALERT_APPLIER; default: the setting's own)")
    parser.add_argument("--serve", choices=["bot", "floor", "slack"], help=argparse.SUPPRESS)
    parser.add_argument("--slack-url", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--seed", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.applier:
        os.environ["ONCALL_ALERT_APPLIER"] = args.applier  # the server processes inherit it
    if args.serve == "slack":
        asyncio.run(serve_slack(args.seed))
        return
    if args.serve:
        asyncio.run(serve(args.serve, args.database_url, args.seed, args.slack_url))
        return
    sys.exit(run(args.seconds, args.rate, args.keys, args.pipelines, args.sqlite))


if __name__ == "__main__":
    main()
