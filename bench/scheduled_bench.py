"""Benchmarks of the scheduled work. Prints figures; run with ``.venv/bin/python bench/scheduled_bench.py``.

1. Fan-out: a Monday announcement plus DMs to 1,000 people whose shift starts (1,000 team
   rotations of two), through a FakeSlack that enforces 1 message a second a channel and a
   workspace limit on chat.postMessage (429 + Retry-After beyond it). The figure is the time to
   deliver everything against the least time the limits allow (the ratio; "posting" counts from
   the first post to the last, "tick" from the start of the tick, claims and rendering included);
   lost and duplicated messages are counted (both must be 0). Run twice: with the workspace rate
   unknown to the bot (it learns it from the 429s) and with it configured at 95 % of the limit.
2. One tick's cost with 1,000 pipelines (each with a weekly and a monthly checklist, 2,000
   definitions): the first tick of a process (caches cold), the steady minute tick (nothing due,
   p50/p95 of 30) and the Monday 09:00 tick that opens 1,000 checklists (an unpaced port: the
   bot's own cost, not Slack's pacing).

SQLite in a temporary directory; ``--pg URL`` (postgresql+asyncpg://...) runs the database parts
on PostgreSQL instead.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
for _var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_var, None)

from slack_sdk.web.async_client import AsyncWebClient  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.core.model import Directory, Person, Pipeline, RecurringWork, Rotation, SlotRef, Team  # noqa: E402
from bot.seed.validate import load_seed_file  # noqa: E402
from bot.services.deliveries import DeliveryConfig, WebSlackPort  # noqa: E402
from bot.services.scheduled import ScheduleConfig, Ticker  # noqa: E402
from bot.services.snapshot import Snapshot  # noqa: E402
from bot.storage import scheduled as store  # noqa: E402
from bot.storage.bootstrap import Database, open_database  # noqa: E402
from tests.scheduled.helpers import RecordingPort  # noqa: E402
from tests.support.fake_slack import FakeSlack  # noqa: E402

SEED = load_seed_file(ROOT / "data" / "seed.yaml")
ANCHOR = datetime(2026, 11, 2, 9, 0)
MONDAY = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # 09:00 EST


def fanout_directory(n: int) -> Directory:
    """``n`` team rotations of two people: every Monday ``n`` people start a shift."""
    people: dict[str, Person] = {}
    rotations: dict[str, Rotation] = {}
    for i in range(n):
        members = []
        for half in "ab":
            pid = f"u{i:04d}{half}"
            people[pid] = Person(pid, f"User {i}{half}", "bench", f"U9{i:04d}{half.upper()}X", f"{pid}@example.com")
            members.append(pid)
        rotations[f"r{i:04d}"] = Rotation(f"r{i:04d}", f"Rotation {i}", "bench", tuple(members), ANCHOR)
    announcement = SEED.recurring["handoff-announcement"]
    return Directory(
        calendar=SEED.calendar,
        teams={"bench": Team("bench", "Bench Team", "Bench", "#bench", None)},
        people=people,
        rotations=rotations,
        pipelines={},
        recurring={announcement.id: announcement},
        announcement_channel="#data-oncall",
    )


def pipelines_directory(n: int) -> Directory:
    """The seed plus ``n`` copies of Growth, each with a weekly and a monthly checklist."""
    growth = SEED.pipelines["growth"]
    weekly = SEED.recurring["growth-weekly-status"]
    monthly = SEED.recurring["profit-month-close"]
    pipelines: dict[str, Pipeline] = dict(SEED.pipelines)
    recurring: dict[str, RecurringWork] = dict(SEED.recurring)
    for i in range(n):
        pid = f"p{i:04d}"
        pipelines[pid] = replace(growth, id=pid, name=f"Pipeline {i}", aliases=(), channel=f"#data-{pid}")
        recurring[f"{pid}-weekly"] = replace(weekly, id=f"{pid}-weekly", pipeline=pid)
        recurring[f"{pid}-monthly"] = replace(
            monthly, id=f"{pid}-monthly", pipeline=pid, assignees=(SlotRef("accounts"), SlotRef("data-eng", "R1"))
        )
    return replace(SEED, pipelines=pipelines, recurring=recurring)


async def fresh_db(pg: str | None, tmp: Path) -> tuple[Database, str]:
    if pg:
        from sqlalchemy.ext.asyncio import create_async_engine
        from sqlalchemy.pool import NullPool

        name = f"bench_{uuid.uuid4().hex[:10]}"
        server = pg.rsplit("/", 1)[0]
        admin = create_async_engine(server + "/postgres", isolation_level="AUTOCOMMIT", poolclass=NullPool)
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        await admin.dispose()
        url = pg.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite+aiosqlite:///{tmp / f'bench-{uuid.uuid4().hex[:8]}.db'}"
    settings = Settings(_env_file=None, database_url=url)
    return await open_database(settings, say=lambda _line: None), url


async def drop_db(pg: str | None, url: str) -> None:
    if not pg:
        return
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    admin = create_async_engine(pg.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT", poolclass=NullPool)
    async with admin.connect() as conn:
        await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    await admin.dispose()


async def fanout(n: int, workspace_rate: float, know_rate: bool, pg: str | None, tmp: Path) -> dict[str, Any]:
    directory = fanout_directory(n)
    snap = Snapshot.build(directory)
    db, url = await fresh_db(pg, tmp)
    burst = workspace_rate  # one second's worth, the fake's default
    async with FakeSlack() as slack:
        slack.add_channel(name="data-oncall")
        slack.rate_limit(
            "chat.postMessage", per_channel_per_second=1.0, burst=1.0,
            workspace_per_second=workspace_rate, workspace_burst=burst,
        )  # fmt: skip
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)

        async def snapshots() -> Snapshot:
            return snap

        config = ScheduleConfig(
            # configured a little under the limit, as an operator would (timing jitter otherwise costs 429s)
            delivery=DeliveryConfig(concurrency=16, workspace_per_second=0.95 * workspace_rate if know_rate else None)
        )
        ticker = Ticker(db, WebSlackPort(client), snapshots=snapshots, config=config)
        started = time.perf_counter()
        report = await ticker.tick(MONDAY)
        elapsed = time.perf_counter() - started
        posts = [c for c in slack.calls_to("chat.postMessage", ok_only=True)]
        first = min(c.at_monotonic for c in posts)
        last = max(c.at_monotonic for c in posts)
        keys = Counter(
            ((m.get("metadata") or {}).get("event_payload") or {}).get("key")
            for msgs in slack.messages.values()
            for m in msgs
        )
        async with db.sessions() as session:
            pending = (
                await session.execute(select(func.count()).where(store.DeliveryRow.status != "sent"))
            ).scalar_one()
        await db.close()
        await drop_db(pg, url)
    messages = n + 1
    least = max(0.0, (messages - burst) / workspace_rate)  # every message in its own channel: 1/s never binds
    # week 4 of each rotation: member 4 mod 2 = "a" starts (from "b")
    expected = {"handoff-announcement/data-oncall/2026-11-30|post"} | {
        f"handoff-announcement/data-oncall/2026-11-30|dm:u{i:04d}a" for i in range(n)
    }
    return {
        "messages": messages,
        "delivered": len(posts),
        "lost": len(expected - {k for k in keys if k}) + pending,
        "duplicates": sum(v - 1 for k, v in keys.items() if k and v > 1),
        "429s": len(slack.rate_limited),
        "tick_s": elapsed,
        "posting_s": last - first,
        "least_s": least,
        "ratio_tick": elapsed / least if least else float("nan"),
        "ratio_posting": (last - first) / least if least else float("nan"),
        "sent": report.deliveries.sent,
    }


async def tick_cost(n: int, pg: str | None, tmp: Path) -> dict[str, Any]:
    directory = pipelines_directory(n)
    snap = Snapshot.build(directory)
    db, url = await fresh_db(pg, tmp)

    async def snapshots() -> Snapshot:
        return snap

    ticker = Ticker(db, RecordingPort(), snapshots=snapshots)
    quiet = datetime(2026, 11, 26, 17, 0, tzinfo=UTC)  # Thanksgiving noon: nothing opens or is due
    t0 = time.perf_counter()
    await ticker.tick(quiet)
    cold = time.perf_counter() - t0
    steady = []
    for i in range(1, 31):
        t0 = time.perf_counter()
        await ticker.tick(quiet + timedelta(minutes=i))
        steady.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    busy_report = await ticker.tick(MONDAY)
    busy = time.perf_counter() - t0
    after = []
    for i in range(1, 11):
        t0 = time.perf_counter()
        await ticker.tick(MONDAY + timedelta(minutes=i))
        after.append(time.perf_counter() - t0)
    await db.close()
    await drop_db(pg, url)
    steady.sort()
    return {
        "pipelines": len(directory.pipelines),
        "definitions": len(directory.recurring),
        "cold_ms": cold * 1000,
        "steady_p50_ms": statistics.median(steady) * 1000,
        "steady_p95_ms": steady[int(len(steady) * 0.95) - 1] * 1000,
        "monday_ms": busy * 1000,
        "monday_claimed": len(busy_report.claimed),
        "monday_sent": busy_report.deliveries.sent,
        "after_monday_p50_ms": statistics.median(after) * 1000,
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--workspace-rate", type=float, default=100.0, help="chat.postMessage per second")
    parser.add_argument("--pipelines", type=int, default=1000)
    parser.add_argument("--pg", help="postgresql+asyncpg://user@host:port/db (a server to create databases on)")
    args = parser.parse_args()
    where = "PostgreSQL" if args.pg else "SQLite"
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        print(
            f"== fan-out: announcement + {args.people} DMs; 1 msg/s/channel, "
            f"workspace {args.workspace_rate:.0f} msg/s ({where})"
        )
        for know in (False, True):
            r = await fanout(args.people, args.workspace_rate, know, args.pg, tmp)
            label = "rate configured (95 %)" if know else "rate learned from 429"
            print(
                f"  {label:22s} {r['messages']} messages: tick {r['tick_s']:.2f} s (posting {r['posting_s']:.2f} s) "
                f"vs least {r['least_s']:.2f} s -> ratio {r['ratio_tick']:.2f} (posting {r['ratio_posting']:.2f}); "
                f"lost {r['lost']}, duplicates {r['duplicates']}, 429s {r['429s']}"
            )
        print(f"== one tick with {args.pipelines} pipelines ({where})")
        c = await tick_cost(args.pipelines, args.pg, tmp)
        print(
            f"  {c['pipelines']} pipelines, {c['definitions']} definitions: first tick {c['cold_ms']:.1f} ms; "
            f"steady tick p50 {c['steady_p50_ms']:.1f} ms, p95 {c['steady_p95_ms']:.1f} ms (target < 100 ms)"
        )
        print(
            f"  Monday 09:00 tick: {c['monday_claimed']} occurrences claimed, {c['monday_sent']} deliveries sent "
            f"(unpaced port) in {c['monday_ms']:.0f} ms; next ticks p50 {c['after_monday_p50_ms']:.1f} ms"
        )


if __name__ == "__main__":
    asyncio.run(main())
