"""The guard behind the ``e2e`` mark, and the clock pin a bot process honours."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import clock_from, running_clock, system_clock
from bot.config import Settings
from tests.support.clock import QUIET, pinned
from tests.support.e2e import starts_bot

EXE = str(Path(sys.executable).with_name("oncall-bot"))


def test_what_counts_as_starting_the_bot() -> None:
    assert starts_bot([EXE, "run"]) and starts_bot(("/usr/bin/python3", "-m", "bot", "tick"))
    assert not starts_bot([sys.executable, "-m", "bot.ops.healthcheck"])
    assert not starts_bot([sys.executable, "-m", "alembic", "upgrade"]) and not starts_bot("sh")


def test_an_unmarked_test_cannot_start_the_bot() -> None:
    with pytest.raises(AssertionError, match=r"mark it @pytest.mark.e2e"):
        subprocess.run([EXE, "--help"], capture_output=True, check=False)


async def test_nor_through_asyncio() -> None:
    with pytest.raises(AssertionError, match=r"mark it @pytest.mark.e2e"):
        await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "--help")


def test_the_clock_setting_starts_the_clock_there_and_runs_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONCALL_CLOCK_START", "2026-12-13T03:00:00-05:00")
    assert Settings(_env_file=None).clock_start == QUIET  # type: ignore[call-arg]
    ticks = iter([100.0, 100.0, 161.5])
    clock = running_clock(QUIET, monotonic=lambda: next(ticks))
    assert clock() == QUIET and clock() == QUIET + timedelta(seconds=61.5)
    assert clock_from(None) is system_clock
    with pytest.raises(ValueError, match="aware"):
        running_clock(datetime(2026, 12, 13, 8, 0))
    with pytest.raises(ValueError):
        Settings(_env_file=None, clock_start="2026-12-13T03:00")  # type: ignore[call-arg]


@pytest.mark.e2e
def test_a_bot_process_reads_its_clock_from_the_setting(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONCALL_", "SLACK_"))}
    env.update(ONCALL_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/clock.db", HOME=str(tmp_path))
    done = subprocess.run([EXE, "oncall", "engagement", "--json"], env=pinned(env), capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    at = datetime.fromisoformat(json.loads(done.stdout)["at"]).astimezone(UTC)
    assert QUIET <= at < QUIET + timedelta(minutes=1)
