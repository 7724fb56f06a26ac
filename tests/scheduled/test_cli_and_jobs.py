"""``oncall-bot tick|calendar|checklists|deliveries`` as a user runs them, and the minute scheduler."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.triggers.cron import CronTrigger

from bot.clock import fixed_clock
from bot.config import Settings
from bot.jobs import scheduler as jobs_module
from bot.slack.deps import SlackDeps
from bot.storage.bootstrap import Database

from .helpers import RecordingPort, ny

ROOT = Path(__file__).resolve().parents[2]
EXE = str(Path(sys.executable).with_name("oncall-bot"))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("ONCALL_", "SLACK_"))}
    e["ONCALL_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    e["HOME"] = str(tmp_path)
    return e


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], env=env, capture_output=True, text=True, cwd=ROOT, timeout=120)


@pytest.mark.e2e
def test_calendar_json_lists_occurrences_with_stable_keys(env: dict[str, str]) -> None:
    out = run(env, "calendar", "--from", "2027-05-31", "--to", "2027-06-02", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert all(set(o) == {"id", "kind", "definition", "at", "due", "pipeline", "assignees", "channel"} for o in data)
    by_def = {o["definition"]: o for o in data}
    assert by_def["engagement-onboarding"] == {
        "id": "engagement-onboarding/engagement/2027-05-31",
        "kind": "meeting",
        "definition": "engagement-onboarding",
        "at": "2027-05-31T13:00:00+00:00",
        "due": None,
        "pipeline": "engagement",
        "assignees": ["de3", "de4", "fe1"],
        "channel": None,
    }
    assert by_def["profit-month-close"]["due"] == "2027-06-03T21:00:00+00:00"
    assert by_def["handoff-announcement"]["channel"] == "#data-oncall"
    table = run(env, "calendar", "--from", "2027-05-31", "--to", "2027-06-02")
    assert "meeting Tue Jun 1" in table.stdout  # the Memorial Day invite: the meeting is Tuesday


@pytest.mark.e2e
def test_tick_without_slack_prints_what_would_be_posted_once(env: dict[str, str]) -> None:
    first = run(env, "tick", "--at", "2026-11-30T09:00", "--apply")
    assert first.returncode == 0, first.stderr
    assert "── to #data-oncall" in first.stdout and "Rotation for the week of Nov 30" in first.stdout
    assert "DE R1 (Primary for Profit and Growth): @Dana Diaz (from @Drew Doyle)" in first.stdout
    assert "── to DM Dana Diaz, Dev Desai, Fay Ellis" in first.stdout
    assert "engagement-onboarding-2026-11-30.ics" in first.stdout
    assert "user group @oncall-engagement := Dev Desai, Fay Ellis" in first.stdout
    assert "[ ] Upgrades and downgrades updated" in first.stdout
    assert "topic of #data-engagement := On call: Dev Desai, backup Fay Ellis, until 18:00 ET." in first.stdout
    assert "claimed 6" in first.stderr and "sent 20, topics 4" in first.stderr  # 16 + the seed's 4 channel topics
    again = run(env, "tick", "--at", "2026-11-30T09:00", "--apply")
    assert again.returncode == 0 and "── to" not in again.stdout and "claimed 0" in again.stderr

    lists = json.loads(run(env, "checklists", "--open", "--json").stdout)
    assert sorted(c["definition"] for c in lists) == [
        "aggregate-engagement-daily", "aggregate-engagement-weekly-review",
        "aggregate-profit-growth-daily", "growth-weekly-status",
    ]  # fmt: skip
    growth = next(c for c in lists if c["definition"] == "growth-weekly-status")
    assert growth["done"] == 0 and growth["total"] == 3 and growth["status"] == "open"
    assert growth["due"] == "2026-12-04T22:00:00+00:00" and growth["assignees"] == ["acc1"]

    deliveries = json.loads(run(env, "deliveries", "--json").stdout)
    assert len(deliveries) == 16 + 4 and {d["status"] for d in deliveries} == {"sent"}  # + the channel topics
    assert sum(d["op"] == "topic" for d in deliveries) == 4
    failed = run(env, "deliveries", "--failed")
    assert failed.returncode == 0 and "(0)" in failed.stdout

    # that evening the dailies are overdue: escalated to DE R3/R4 and #analytics
    evening = run(env, "tick", "--at", "2026-11-30T17:00", "--apply")
    assert "escalated 2" in evening.stderr and "── to #analytics" in evening.stdout


@pytest.mark.e2e
def test_bad_range_is_a_user_error(env: dict[str, str]) -> None:
    out = run(env, "calendar", "--from", "2027-06-02", "--to", "2027-05-31")
    assert out.returncode == 2 and "--to must be after --from" in out.stderr


async def test_scheduler_ticks_every_minute_in_utc_with_no_job_store(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    deps = SlackDeps(settings=settings, db=db, client=None, clock=fixed_clock(ny(2026, 11, 30, 9)))  # type: ignore[arg-type]
    periodic: list[Any] = []

    async def run_periodic(d: Any, now: Any, *, snapshots: Any = None) -> None:
        periodic.append(now)

    notices: list[Any] = []

    async def before_shift_dms(d: Any, now: Any) -> list[str]:
        notices.append(now)
        return []

    import bot.services.changes as changes
    import bot.services.incidents as incidents

    monkeypatch.setattr(incidents, "run_periodic", run_periodic)
    monkeypatch.setattr(changes, "before_shift_dms", before_shift_dms)
    port = RecordingPort()
    jobs = await jobs_module.start(deps, port=port, run_now=False)
    # The timer fires at second 0 of the wall clock: paused (before this test yields to the loop),
    # it cannot add a tick of its own when the test happens to cross a minute.
    jobs.scheduler.pause()
    try:
        sched = jobs.scheduler
        assert sched.running and str(sched.timezone) == "UTC"
        assert list(sched._jobstores) == ["default"] and isinstance(sched._jobstores["default"], MemoryJobStore)
        [job] = sched.get_jobs()
        assert job.id == jobs_module.JOB_ID and isinstance(job.trigger, CronTrigger)
        assert job.trigger.timezone == UTC and str(job.trigger).startswith("cron[") and "second='0'" in str(job.trigger)
        assert job.max_instances == 1 and job.coalesce

        await jobs.run_once()  # the clock is read once: the same instant for both
        assert periodic == [ny(2026, 11, 30, 9)] and notices == periodic
        assert "handoff-announcement/data-oncall/2026-11-30|post" in port.post_keys()
        await jobs.run_once()
        assert port.post_keys().count("handoff-announcement/data-oncall/2026-11-30|post") == 1
        assert jobs.ticks == 2
    finally:
        await jobs.stop()
    assert not jobs.scheduler.running


def test_schedule_config_from_the_environment() -> None:
    from datetime import timedelta

    from bot.services.scheduled import ScheduleConfig

    default = ScheduleConfig.from_env({})
    assert default.grace == timedelta(hours=6) and default.delivery.workspace_per_second is None
    assert default.delivery.per_channel_interval == 1.0  # Slack's one post a second per channel
    tuned = ScheduleConfig.from_env(
        {"ONCALL_SCHEDULE_GRACE_MINUTES": "90", "ONCALL_SLACK_WORKSPACE_RATE": "20", "ONCALL_SLACK_CONCURRENCY": "4",
         "ONCALL_SLACK_CHANNEL_INTERVAL": "0"}
    )
    assert tuned.grace == timedelta(minutes=90)
    assert tuned.delivery.workspace_per_second == 20 and tuned.delivery.concurrency == 4
    assert tuned.delivery.per_channel_interval == 0
    with pytest.raises(ValueError, match="ONCALL_SCHEDULE_GRACE_MINUTES"):
        ScheduleConfig.from_env({"ONCALL_SCHEDULE_GRACE_MINUTES": "soon"})
    with pytest.raises(ValueError, match="ONCALL_SLACK_CHANNEL_INTERVAL must be zero or more"):
        ScheduleConfig.from_env({"ONCALL_SLACK_CHANNEL_INTERVAL": "-1"})
    with pytest.raises(ValueError, match="ONCALL_SLACK_WORKSPACE_RATE must be positive"):
        ScheduleConfig.from_env({"ONCALL_SLACK_WORKSPACE_RATE": "0"})


@pytest.mark.e2e
def test_bad_grace_is_a_user_error(env: dict[str, str]) -> None:
    out = run({**env, "ONCALL_SCHEDULE_GRACE_MINUTES": "-5"}, "tick", "--at", "2026-11-30T09:00", "--apply")
    assert out.returncode == 2 and "ONCALL_SCHEDULE_GRACE_MINUTES must be positive" in out.stderr


def test_scheduled_posts_go_through_a_client_without_blind_retries() -> None:
    from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
    from slack_sdk.web.async_client import AsyncWebClient

    base = AsyncWebClient(
        token="xoxb-1", base_url="http://127.0.0.1:9/api/", retry_handlers=[AsyncRateLimitErrorRetryHandler()]
    )
    client = jobs_module.posting_client(base)
    assert client.retry_handlers == [] and client.token == "xoxb-1" and client.base_url == base.base_url
