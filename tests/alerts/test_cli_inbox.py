"""``oncall-bot incidents`` tells the truth about the alert inbox, on SQLite and PostgreSQL: events
received and not applied yet (``queued``) and events that could not be applied (``failed``) are
counted in a line after the list; with ``--json`` on stderr, stdout staying the list it always was;
nothing is said when the inbox holds neither."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Settings
from bot.render.alerts import inbox_lines
from bot.storage import alert_inbox as inbox
from bot.storage.bootstrap import Database
from tests.support.clock import pinned

ROOT = Path(__file__).resolve().parents[2]
EXE = str(Path(sys.executable).with_name("oncall-bot"))
AT = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # Tue 10:00 EST
FIELDS = {"id", "pipeline", "summary", "severity", "state", "source", "opened_at", "fix_by", "alerts", "dedup_keys"}
QUEUED_LINE = "3 alert events received and not applied yet"
FAILED_LINE = "1 alert event could not be applied (outcome failed)"


def run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """``oncall-bot ARGS`` on the test's database (a process, its clock pinned at ``AT``); it must succeed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONCALL_", "SLACK_"))}
    env |= {"ONCALL_DATABASE_URL": settings.database_url, "HOME": str(ROOT)}
    out = subprocess.run([EXE, *args], env=pinned(env, AT), capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    return out


def event(dedup_key: str) -> dict[str, object]:
    return inbox.event_row(None, "engagement", "trigger", dedup_key, "error", f"{dedup_key} failed", "cron@etl-1",
                           None, [], AT)


@pytest.mark.e2e
async def test_incidents_counts_queued_and_failed_events(db: Database, settings: Settings) -> None:
    opened = run(settings, "alert", "engagement", "Nightly load failed", "--dedup-key", "nightly")
    assert "opened" in opened.stdout
    # nothing waits: the list, and not a word about the inbox
    quiet = run(settings, "incidents")
    assert "Nightly load failed" in quiet.stdout and "alert event" not in quiet.stdout + quiet.stderr
    assert "alert event" not in run(settings, "incidents", "--json").stderr

    # resolved now: ``alert`` applies whatever is queued, so it runs before the events below are put
    assert "resolved" in run(settings, "alert", "engagement", "ok", "--dedup-key", "nightly", "--resolve").stdout

    # as if the process that accepted them stopped before applying them (nothing runs an applier here)
    first, *_ = await inbox.accept(db, [event("a"), event("b"), event("c"), event("d")])
    async with db.sessions() as session, session.begin():
        await inbox.set_outcomes(session, [(first, "failed", None)])  # what the applier does to one that fails

    text = run(settings, "incidents")
    lines = text.stdout.splitlines()
    assert "Nightly load failed" in text.stdout
    assert lines[-2].startswith(QUEUED_LINE) and "within moments" in lines[-2] and "minute tick" in lines[-2]
    assert lines[-1].startswith(FAILED_LINE) and "log" in lines[-1]
    # the queued events are part of no incident yet: even the empty list says they are coming
    empty = run(settings, "incidents", "--open").stdout.splitlines()
    assert empty == ["No open incidents.", *lines[-2:]]

    as_json = run(settings, "incidents", "--json")
    (inc,) = json.loads(as_json.stdout)  # stdout is the list alone, in its shape
    assert set(inc) == FIELDS and inc["dedup_keys"] == ["nightly"]
    notice = as_json.stderr.splitlines()
    assert notice[-2].startswith(QUEUED_LINE) and notice[-1].startswith(FAILED_LINE)
    assert json.loads(run(settings, "incidents", "--open", "--json").stdout) == []


@pytest.mark.e2e
async def test_incidents_says_nothing_of_an_empty_inbox(db: Database, settings: Settings) -> None:
    assert run(settings, "incidents").stdout == "No incidents.\n"
    as_json = run(settings, "incidents", "--open", "--json")
    assert json.loads(as_json.stdout) == [] and "alert event" not in as_json.stderr


def test_inbox_lines_in_words() -> None:
    assert inbox_lines(0, 0) == []
    assert inbox_lines(1, 0) == ["1 alert event received and not applied yet: the bot applies it within moments "
                                 "(the next minute tick does, if the bot stopped first)."]
    (many,) = inbox_lines(3, 0)
    assert many.startswith(QUEUED_LINE + ": the bot applies them") and "minute tick" in many
    assert inbox_lines(0, 2) == ["2 alert events could not be applied (outcome failed): the bot's log names each "
                                 "and says why (search it for 'could not be applied')."]
    assert [line.split(" ")[3] for line in inbox_lines(5, 1)] == ["received", "could"]
