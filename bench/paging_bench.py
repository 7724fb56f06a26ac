"""Paging figures (issue 13 §4). Prints; is not a test.

The time from an incoming critical alert (``open_incident`` for Profit at 03:00, after hours,
reported by the bot itself as a machine alert would be) to the e-mail page accepted by a local
SMTP server (aiosmtpd on 127.0.0.1, no TLS), p50/p99 over ``--alerts`` alerts sent one after the
other. The bot sends the first steps of a page at once (the outbox is kicked right after the
incident is stored), not at the next minute tick: the target is under 2 s, far under the tick.

Runs in process on a temporary SQLite file (or ``--pg``: a scratch database on the PostgreSQL server
of ONCALL_TEST_PG_URL, dropped after),
with the bot's Web API client on a FakeSlack and de1 (DE R1, paged at 03:00) having one
``mailto://`` contact method.

    .venv/bin/python bench/paging_bench.py [--alerts 200] [--pg]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for _var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_var, None)

NIGHT = datetime(2026, 12, 1, 3, 0, tzinfo=ZoneInfo("America/New_York"))
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


async def run(alerts: int, database_url: str) -> list[float]:
    import socket

    from aiosmtpd.controller import Controller
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.clock import fixed_clock
    from bot.config import Settings
    from bot.services import incidents as svc
    from bot.services.paging import contacts
    from bot.slack.deps import SlackDeps
    from bot.storage.bootstrap import open_database
    from tests.incidents.conftest import add_channels
    from tests.support.fake_slack import FakeSlack

    accepted: dict[str, float] = {}

    class Handler:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            content = getattr(envelope, "content", b"")
            subject = next((line for line in content.decode(errors="replace").splitlines()
                            if line.startswith("Subject:")), "")
            accepted[subject.split("alert ", 1)[-1].split(" ", 1)[0]] = time.perf_counter()
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    latencies: list[float] = []
    try:
        async with FakeSlack() as slack:
            add_channels(slack)
            slack.add_user(id="U0DE00001", name="de1")  # dnd.info answers for the paged person
            settings = Settings(_env_file=None, database_url=database_url,  # type: ignore[call-arg]
                                secret_key="bench-secret-key-0123456789", public_url="https://oncall.bench",
                                outbox_kick_wait=0.0)
            db = await open_database(settings, say=lambda _line: None)
            client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
            deps = SlackDeps(settings=settings, db=db, client=client, clock=fixed_clock(NIGHT))
            try:
                await contacts.add(deps, "de1", f"mailto://127.0.0.1:{port}?from=oncall@example.com"
                                   "&to=de1@example.com&secure=no", NIGHT, label="e-mail")
                for i in range(alerts):
                    key = f"{i:05d}"
                    t0 = time.perf_counter()
                    at = NIGHT + timedelta(seconds=i)
                    opened = await svc.open_incident(deps, "profit", f"alert {key} revenue feed stale", True, None, at)
                    assert isinstance(opened, svc.Opened)
                    while key not in accepted:
                        await asyncio.sleep(0.001)
                        if time.perf_counter() - t0 > 30:
                            raise RuntimeError(f"alert {key}: no e-mail within 30 s")
                    latencies.append((accepted[key] - t0) * 1000)
                    # resolve it: the next alert starts from the same state (one open incident)
                    await svc.resolve(deps, opened.incident.id, None, at)
                    await deps.background.drain(timeout=10)
            finally:
                await deps.background.drain(timeout=10)
                await db.close()
    finally:
        controller.stop()
    return latencies


async def _scratch(server: str, name: str, *, create: bool) -> None:
    """Create (or drop) a scratch PostgreSQL database ``name`` on ``server``: the bench never
    writes into a database someone else uses."""
    import asyncpg

    conn = await asyncpg.connect(server.replace("postgresql+asyncpg", "postgresql") + "/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=200)
    parser.add_argument("--pg", action="store_true", help="PostgreSQL at ONCALL_TEST_PG_URL instead of SQLite")
    args = parser.parse_args()
    if args.pg:
        server = os.environ.get("ONCALL_TEST_PG_URL", DEFAULT_PG).rsplit("/", 1)[0]
        name = f"paging_bench_{os.getpid()}"
        asyncio.run(_scratch(server, name, create=True))
        try:
            latencies = asyncio.run(run(args.alerts, f"{server}/{name}"))
        finally:
            asyncio.run(_scratch(server, name, create=False))
    else:
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='paging-bench-')}/bench.db"
        latencies = asyncio.run(run(args.alerts, url))
    print(f"paging: critical alert -> e-mail page accepted by the local SMTP server, {len(latencies)} alerts "
          f"({'PostgreSQL' if args.pg else 'SQLite'})")
    print(f"  p50 {pct(latencies, 0.5):8.1f} ms   p99 {pct(latencies, 0.99):8.1f} ms   "
          f"max {max(latencies):8.1f} ms   (target p99 < 2000 ms)")


if __name__ == "__main__":
    main()
