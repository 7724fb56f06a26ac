"""The applier in a child process (``alert_applier = process``, the default on PostgreSQL), over
real HTTP on SQLite and PostgreSQL: the child applies what the bot accepts (incidents opened, its
Slack messages sent by the child itself), the Alertmanager answer still reports outcomes, a child
that dies is replaced at the next event with nothing lost, and the bot's stop stops it."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator

import pytest_asyncio
from pydantic import SecretStr

from bot.config import Settings
from bot.services import alerts as svc
from bot.services.alerts.child import ApplierProcess
from bot.storage.bootstrap import Database
from tests.alerts.conftest import START, Bot, make_bot, pd
from tests.alerts.test_inbox import events, queued
from tests.support.fake_slack import FakeSlack

ENGAGE = "C0DENGAGE"


@pytest_asyncio.fixture
async def child_bot(db: Database, settings: Settings, fake_slack: FakeSlack) -> AsyncIterator[Bot]:
    async for bot in make_bot(db, settings, fake_slack, alert_applier="process", slack_api_url=fake_slack.api_url,
                              slack_bot_token=SecretStr(fake_slack.bot_token), clock_start=START):
        yield bot


def child(bot: Bot) -> ApplierProcess:
    loop = bot.routes.intake.loop
    assert isinstance(loop, ApplierProcess)
    return loop


async def until(check: object, seconds: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "not within the time allowed"
        await asyncio.sleep(0.05)


async def test_the_child_applies_what_the_bot_accepts(child_bot: Bot) -> None:
    key = child_bot.keys["engagement"]
    assert (await child_bot.post("/v2/enqueue", pd(key)))[0] == 202
    await child_bot.routes.intake.applied()
    assert child(child_bot).starts == 1 and child(child_bot).pid not in (None, os.getpid())
    assert await events(child_bot) == [("disk-full", "opened")]
    (inc,) = await svc.incidents(child_bot.deps.db)
    assert inc["source"] == "alert" and inc["state"] == "open"

    async def posted() -> bool:  # the channel post, sent by the child's own outbox kick
        return any("thread_ts" not in p for p in child_bot.posts(ENGAGE))

    await until(posted)
    hook = {"version": "4", "status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": "Lag"}, "fingerprint": "f1"}]}
    status, body, _ = await child_bot.post("/api/v1/alertmanager", hook, key=key)
    assert status == 202 and body["alerts"] == [{"dedup_key": "f1", "outcome": "joined"}]
    assert child(child_bot).starts == 1  # one child for every event


async def test_a_child_that_dies_is_replaced_and_nothing_is_lost(child_bot: Bot) -> None:
    key = child_bot.keys["engagement"]
    assert (await child_bot.post("/v2/enqueue", pd(key, dedup="a")))[0] == 202
    await child_bot.routes.intake.applied()
    first = child(child_bot).pid
    assert first is not None
    os.kill(first, signal.SIGKILL)

    async def gone() -> bool:
        return child(child_bot).pid is None

    await until(gone)
    for dedup in ("b", "c"):
        assert (await child_bot.post("/v2/enqueue", pd(key, dedup=dedup)))[0] == 202

    async def applied() -> bool:
        return await queued(child_bot) == 0

    await until(applied)
    assert child(child_bot).starts == 2 and child(child_bot).pid not in (None, first)
    assert await events(child_bot) == [("a", "opened"), ("b", "joined"), ("c", "joined")]


async def test_the_bots_stop_stops_the_child(db: Database, settings: Settings, fake_slack: FakeSlack) -> None:
    async for bot in make_bot(db, settings, fake_slack, alert_applier="process", slack_api_url=fake_slack.api_url,
                              slack_bot_token=SecretStr(fake_slack.bot_token)):
        assert (await bot.post("/v2/enqueue", pd(bot.keys["profit"])))[0] == 202
        await bot.routes.intake.applied()
        pid = child(bot).pid
        assert pid is not None
        await bot.routes.intake.close()
        assert child(bot).pid is None
        try:
            os.kill(pid, 0)
            alive = True
        except ProcessLookupError:
            alive = False
        assert not alive
        assert await events(bot) == [("disk-full", "opened")]


async def test_auto_is_a_child_on_postgresql_and_inline_on_sqlite(db: Database, settings: Settings,
                                                                  fake_slack: FakeSlack) -> None:
    async for bot in make_bot(db, settings, fake_slack, alert_applier="auto"):
        assert isinstance(bot.routes.intake.loop, ApplierProcess) == (db.dialect == "postgresql")
