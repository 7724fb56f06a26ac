"""``oncall-bot tick --at T`` is a preview that writes and sends nothing (issue 10 §7); ``--apply``
acts as if at T. Real processes on both dialects; the rows of every table are counted before and
after."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.storage.tables import Base
from tests.support.clock import pinned

from .test_cli_and_jobs import EXE, ROOT


def _env(db_url: str, home: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("ONCALL_", "SLACK_"))}
    return pinned({**e, "ONCALL_DATABASE_URL": db_url, "HOME": str(home)})


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], env=env, capture_output=True, text=True, cwd=ROOT, timeout=120)


async def _counts(db_url: str) -> dict[str, int]:
    engine = create_async_engine(db_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return {t.name: (await conn.execute(select(func.count()).select_from(t))).scalar_one()
                    for t in Base.metadata.sorted_tables}
    finally:
        await engine.dispose()


@pytest.mark.e2e
async def test_tick_at_previews_and_changes_nothing_then_apply_acts(db_url: str, tmp_path: Path) -> None:
    env = _env(db_url, tmp_path)
    loaded = await asyncio.to_thread(_run, env, "seed", "load")
    assert loaded.returncode == 0, loaded.stderr
    before = await _counts(db_url)

    preview = await asyncio.to_thread(_run, env, "tick", "--at", "2026-11-30T09:00")
    assert preview.returncode == 0, preview.stderr
    out = preview.stdout
    assert out.startswith("Preview of a tick at Mon Nov 30") and "nothing was written or sent" in out
    assert "would open announcement handoff-announcement" in out and "in #data-oncall" in out
    assert "would open checklist growth-weekly-status (Growth weekly account status updates)" in out
    assert "would open meeting engagement-onboarding" in out
    assert "would set the topic of #data-engagement: On call: Dev Desai, backup Fay Ellis, until 18:00 ET." in out
    assert "── to" not in out  # nothing posted, not even to the console
    assert await _counts(db_url) == before

    applied = await asyncio.to_thread(_run, env, "tick", "--at", "2026-11-30T09:00", "--apply")
    assert applied.returncode == 0, applied.stderr
    # the preview took nothing away (16 posts and DMs, and the seed's 4 channel topics)
    assert "claimed 6" in applied.stderr and "sent 20, topics 4" in applied.stderr
    after = await _counts(db_url)
    assert after["scheduled_deliveries"] == 16 + 4 and after["audit_log"] > before["audit_log"]  # + 4 topics

    again = await asyncio.to_thread(_run, env, "tick", "--at", "2026-11-30T09:00")
    assert again.returncode == 0 and "nothing to do" in again.stdout
    assert await _counts(db_url) == after


@pytest.mark.e2e
async def test_calendar_tokens_list_and_revoke(db_url: str, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from bot.storage.tables.calendar_tokens import CalendarTokenRow

    env = _env(db_url, tmp_path)
    assert (await asyncio.to_thread(_run, env, "seed", "load")).returncode == 0
    engine = create_async_engine(db_url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(CalendarTokenRow.__table__.insert().values(
                person="de2", token="secret-token-value", created_at=datetime(2026, 11, 2, 15, 0, tzinfo=UTC)))
    finally:
        await engine.dispose()
    listed = await asyncio.to_thread(_run, env, "calendar-tokens", "list")
    assert listed.returncode == 0, listed.stderr
    assert "de2  issued 2026-11-02T15:00" in listed.stdout and "secret-token-value" not in listed.stdout
    revoked = await asyncio.to_thread(_run, env, "calendar-tokens", "revoke", "de2")
    assert revoked.returncode == 0 and "Revoked de2's calendar feed" in revoked.stdout
    again = await asyncio.to_thread(_run, env, "calendar-tokens", "revoke", "de2")
    assert again.returncode == 1 and "nothing to revoke" in again.stdout
    assert (await _counts(db_url))["calendar_tokens"] == 0
