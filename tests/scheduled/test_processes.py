"""Real processes (``python -m bot tick --at ...``) against one database and one FakeSlack: three
replicas ticking the same minute post each occurrence once (PostgreSQL); a replica killed between
claim and post, or between post and record, still ends with exactly one post (both dialects)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.services.deliveries import FAULT_ENV
from bot.storage import scheduled as store
from bot.storage.bootstrap import Database
from tests.support.fake_slack import FakeSlack
from tests.support.procs import communicate

from .helpers import DIRECTORY, posted_keys, seed_workspace

pytestmark = pytest.mark.e2e  # bot processes; each tick says its instant (--at)

ROOT = Path(__file__).resolve().parents[2]
PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
STARTING = {"fin2", "acc1", "fe2", "ba1", "de1", "de2", "de3", "de4"}
EXPECTED = {
    "handoff-announcement/data-oncall/2026-11-30|post",
    "engagement-onboarding/engagement/2026-11-30|post",
    "growth-weekly-status/growth/2026-11-30|post",
    "aggregate-engagement-weekly-review/aggregate-engagement/2026-11-30|post",
    "aggregate-profit-growth-daily/aggregate-profit-growth/2026-11-30|post",
    "aggregate-engagement-daily/aggregate-engagement/2026-11-30|post",
} | {f"handoff-announcement/data-oncall/2026-11-30|dm:{p}" for p in STARTING}


@pytest.fixture
async def live_slack(monkeypatch: pytest.MonkeyPatch) -> FakeSlack:  # type: ignore[misc]
    for name in PROXIES:
        monkeypatch.delenv(name, raising=False)
    async with FakeSlack() as fake:
        seed_workspace(fake)
        yield fake


def _env(db_url: str, slack: FakeSlack, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROXIES and not k.startswith(("ONCALL_", "SLACK_"))}
    env.update(
        ONCALL_DATABASE_URL=db_url,
        SLACK_BOT_TOKEN=slack.bot_token,
        ONCALL_SLACK_API_URL=slack.api_url,
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


async def tick_process(db_url: str, slack: FakeSlack, at: str, **env: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "tick", "--at", at, "--apply",
        cwd=str(ROOT), env=_env(db_url, slack, **env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await communicate(proc, 120)
    return proc.returncode or 0, out.decode(errors="replace")


async def claimed_once(db: Database) -> None:
    async with db.sessions() as session:
        rows = (
            await session.execute(select(store.OccurrenceRow.key, func.count()).group_by(store.OccurrenceRow.key))
        ).all()
        sent = (
            await session.execute(select(store.DeliveryRow.key).where(store.DeliveryRow.status == "sent"))
        ).scalars()
        assert all(n == 1 for _k, n in rows)
        assert set(sent) >= EXPECTED


async def test_three_replicas_ticking_the_same_minute_post_once(
    db_url: str, db: Database, live_slack: FakeSlack
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("the multi-replica run is the PostgreSQL deployment")
    results = await asyncio.gather(*(tick_process(db_url, live_slack, "2026-11-30T09:00") for _ in range(3)))
    for code, out in results:
        assert code == 0, out
    assert Counter(posted_keys(live_slack)) == Counter(EXPECTED)
    assert len([f for f in live_slack.files.values() if f["completed"]]) == 1
    updates = live_slack.calls_to("usergroups.users.update", ok_only=True)
    assert len(updates) == 1
    await claimed_once(db)
    # which replica did what is spread (claims are won by whoever inserts first)
    async with db.sessions() as session:
        owners = set((await session.execute(select(store.OccurrenceRow.claimed_by))).scalars())
    assert len(owners) >= 1


@pytest.mark.parametrize("fault", ["after_lease", "after_post"])
async def test_a_killed_replica_ends_with_exactly_one_post(
    db_url: str, db: Database, live_slack: FakeSlack, fault: str
) -> None:
    code, out = await tick_process(db_url, live_slack, "2026-11-30T09:00", **{FAULT_ENV: fault})
    assert code == -9, out  # SIGKILL: no cleanup, no record of what it did
    first = posted_keys(live_slack)
    # after_post: killed right after its first post returned (others may have been in flight too)
    assert (len(first) >= 1) if fault == "after_post" else first == []
    async with db.sessions() as session:
        row = store.DeliveryRow
        query = select(func.count()).where(row.lease_owner.is_not(None), row.status == "pending")
        leased = (await session.execute(query)).scalar_one()
    assert leased > 0  # claimed and leased by the dead replica

    # another replica within the lease leaves the work alone; after it, finishes it once
    code, out = await tick_process(db_url, live_slack, "2026-11-30T09:02")
    assert code == 0, out
    assert Counter(posted_keys(live_slack)) == Counter(first)
    code, out = await tick_process(db_url, live_slack, "2026-11-30T09:06")
    assert code == 0, out
    assert Counter(posted_keys(live_slack)) == Counter(EXPECTED)
    await claimed_once(db)
    assert DIRECTORY.announcement_channel == "#data-oncall"
