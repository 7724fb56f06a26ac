"""Logs: one line per event, JSON on request, request/delivery ids, and no secret ever printed."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.ops.logging import (
    REDACTED,
    bolt_log_context,
    configure_logging,
    format_exception_safely,
    log_context,
    redact,
    register_settings_secrets,
    safe_url,
)

ROOT = Path(__file__).resolve().parents[2]
EXE = str(Path(sys.executable).with_name("oncall-bot"))

BOT_TOKEN = "xoxb-1111111111-2222222222-AbCdEfGhIjKlMnOpQrStUvWx"
USER_TOKEN = "xoxp-1111111111-2222222222-3333333333-0123456789abcdef"
APP_TOKEN = "xapp-1-A0123456789-1234567890123-0123456789abcdef0123456789abcdef"
REFRESH_TOKEN = "xoxe-1-My0xLTExMTEtMjIyMi0zMzMz"
ROTATED = "xoxe.xoxp-1-Mi0yLTExMTEtMjIyMi0zMzMz"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DB_PASSWORD = "pg-Pa55w0rd-do-not-print"
SECRETS = (BOT_TOKEN, USER_TOKEN, APP_TOKEN, REFRESH_TOKEN, ROTATED, SIGNING_SECRET, DB_PASSWORD)


def settings_with_secrets(**extra: object) -> Settings:
    values: dict[str, object] = {
        "database_url": f"postgresql+asyncpg://oncall:{DB_PASSWORD}@127.0.0.1:9/oncall",
        "slack_bot_token": SecretStr(BOT_TOKEN),
        "slack_signing_secret": SecretStr(SIGNING_SECRET),
        "slack_app_token": SecretStr(APP_TOKEN),
    }
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret[:6]}... leaked in:\n{text}"


@pytest.fixture
def capture() -> Iterator[io.StringIO]:
    """The bot's handler writing to a buffer; the root logger restored afterwards."""
    root = logging.getLogger()
    before = (list(root.handlers), root.level, sys.excepthook)
    stream = io.StringIO()
    yield stream
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in before[0]:
        root.addHandler(h)
    root.setLevel(before[1])
    sys.excepthook = before[2]


def test_redact_removes_every_kind_of_secret() -> None:
    register_settings_secrets(settings_with_secrets())
    text = (
        f"bot {BOT_TOKEN} user {USER_TOKEN} app {APP_TOKEN} refresh {REFRESH_TOKEN} rotated {ROTATED} "
        f"secret {SIGNING_SECRET} url postgresql://u:{DB_PASSWORD}@h/db dsn password={DB_PASSWORD} "
        "other url https://svc:hunter2hunter2@example.com/x json {\"password\": \"s3cr3t-value\"}"
    )
    out = redact(text)
    assert_clean(out)
    assert "hunter2hunter2" not in out and "s3cr3t-value" not in out
    assert out.count(REDACTED) >= 9
    # What is not secret stays readable.
    assert "postgresql://u:" in out and "@h/db" in out and "https://svc:" in out
    plain = "no secrets: xoxo kisses, 12:30, user@example.com"
    assert redact(plain) == plain


def test_safe_url_hides_the_password_only() -> None:
    shown = safe_url(f"postgresql+asyncpg://oncall:{DB_PASSWORD}@db.internal:5432/oncall")
    assert shown == "postgresql+asyncpg://oncall:***@db.internal:5432/oncall"
    assert safe_url("sqlite+aiosqlite:////data/oncall.db") == "sqlite+aiosqlite:////data/oncall.db"


def test_json_lines_carry_ids_and_no_secrets(capture: io.StringIO) -> None:
    configure_logging(settings_with_secrets(log_format="json"), stream=capture, level="DEBUG")
    log = logging.getLogger("bot.test")

    async def delivery() -> None:
        log.info("delivering with %s", BOT_TOKEN, extra={"channel": "C1", "auth": f"Bearer {BOT_TOKEN}"})

    async def main() -> None:
        with log_context(request_id="req-1"):
            log.info("asked by %s", "U1")
            with log_context(delivery_id="dlv-7"):
                await asyncio.create_task(delivery())  # a task copies the context
        log.warning("outside")
        try:
            raise RuntimeError(f"Slack said invalid_auth for {BOT_TOKEN}; db {DB_PASSWORD}")
        except RuntimeError:
            log.exception("call failed (signing secret %s)", SIGNING_SECRET)

    asyncio.run(main())
    text = capture.getvalue()
    assert_clean(text)
    lines = text.splitlines()
    assert len(lines) == 4, text
    events = [json.loads(line) for line in lines]
    assert [e["msg"] for e in events[:3]] == ["asked by U1", f"delivering with {REDACTED}", "outside"]
    assert [(e["request_id"], e["delivery_id"]) for e in events] == [
        ("req-1", None), ("req-1", "dlv-7"), (None, None), (None, None)
    ]
    assert events[1]["channel"] == "C1" and events[1]["auth"] == f"Bearer {REDACTED}"
    assert events[3]["level"] == "ERROR" and "RuntimeError" in events[3]["exc"] and "\n" in events[3]["exc"]
    assert set(events[0]) >= {"ts", "level", "logger", "msg", "request_id", "delivery_id"}
    assert events[0]["ts"].endswith("Z")


def test_text_lines_are_one_line_per_event_too(capture: io.StringIO) -> None:
    configure_logging(settings_with_secrets(log_format="text"), stream=capture)
    log = logging.getLogger("bot.test")
    with log_context(request_id="abc123"):
        try:
            {}["missing"]
        except KeyError:
            log.exception("lookup failed\nsecond line with %s", APP_TOKEN)
    text = capture.getvalue()
    assert_clean(text)
    assert text.count("\n") == 1
    assert " ERROR bot.test [req=abc123] lookup failed\\nsecond line with [REDACTED]" in text
    assert "exc=\"Traceback" in text and "KeyError" in text


def test_bolt_middleware_gives_each_request_an_id(capture: io.StringIO) -> None:
    configure_logging(fmt="json", stream=capture)
    log = logging.getLogger("bot.test")

    async def listener() -> None:
        log.info("handled")
        await asyncio.create_task(asyncio.sleep(0))

    async def main() -> None:
        await bolt_log_context({"event_id": "Ev0001"}, listener)
        await bolt_log_context({"command": "/oncall"}, listener)

    asyncio.run(main())
    ids = [json.loads(line)["request_id"] for line in capture.getvalue().splitlines()]
    assert ids[0] == "Ev0001" and ids[1] and ids[1] != "Ev0001" and len(ids[1]) == 12


def test_format_exception_safely() -> None:
    register_settings_secrets(settings_with_secrets())
    line = format_exception_safely(ValueError(f"bad token {BOT_TOKEN}"))
    assert line == f"ValueError: bad token {REDACTED}"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONCALL_", "SLACK_"))}
    env.update(extra)
    return env


@pytest.mark.e2e
def test_run_that_crashes_logs_one_json_line_without_secrets(tmp_path: Path) -> None:
    """`oncall-bot run` with every secret set and a database that is down: it fails, says so in
    JSON lines, and no token, signing secret or password is in its output."""
    env = _env(
        HOME=str(tmp_path),
        ONCALL_LOG_FORMAT="json",
        ONCALL_DATABASE_URL=f"postgresql+asyncpg://oncall:{DB_PASSWORD}@127.0.0.1:9/oncall",
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        ONCALL_SLACK_API_URL=f"http://127.0.0.1:9/api/{BOT_TOKEN}/",
        ONCALL_HTTP_PORT="0",
    )
    done = subprocess.run([EXE, "run"], env=env, capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode != 0
    assert_clean(done.stdout + done.stderr)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines, "it must say why it stopped"
    events = [json.loads(line) for line in lines]  # every line is a JSON event
    assert events[-1]["level"] == "CRITICAL" and "ConnectionRefusedError" in events[-1]["exc"]


@pytest.mark.e2e
def test_doctor_output_has_no_secrets(tmp_path: Path) -> None:
    env = _env(
        HOME=str(tmp_path),
        ONCALL_DATABASE_URL=f"postgresql+asyncpg://oncall:{DB_PASSWORD}@127.0.0.1:9/oncall",
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        ONCALL_SLACK_API_URL=f"http://127.0.0.1:9/api/{BOT_TOKEN}/",
    )
    done = subprocess.run([EXE, "doctor"], env=env, capture_output=True, text=True, cwd=tmp_path, timeout=90)
    assert done.returncode == 1
    assert_clean(done.stdout + done.stderr)
    assert "FAIL database: cannot connect to postgresql+asyncpg://oncall:***@127.0.0.1:9/oncall" in done.stdout
    assert "FAIL slack token: Slack not reachable" in done.stdout


@pytest.mark.e2e
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_start_up_line_does_not_show_the_database_password(db_url: str, tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    with_password = make_url(db_url).set(password=DB_PASSWORD).render_as_string(hide_password=False)
    env = _env(HOME=str(tmp_path), ONCALL_DATABASE_URL=with_password)  # trust auth: the password is ignored
    done = subprocess.run([EXE, "oncall", "growth", "--json"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "New database at" in done.stderr
    assert_clean(done.stdout + done.stderr)
