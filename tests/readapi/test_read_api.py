"""The read API (issue 12 §6) over real HTTP against the running bot, on SQLite and PostgreSQL:
bearer tokens (401 first), the same JSON as the CLI's ``--json`` for the same instant, 404 for an
unknown pipeline, 400 with a located message, and the OpenAPI 3.1 document."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from bot.services import incidents as incidents_svc
from bot.services import readapi
from tests.slack.harness import NOW, RunningBot

ROOT = Path(__file__).resolve().parents[2]
EXE = str(Path(sys.executable).with_name("oncall-bot"))
AT = "2026-11-30T10:00"


async def get(bot: RunningBot, path: str, token: str | None = None, **params: str) -> tuple[int, Any, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with aiohttp.ClientSession() as http, http.get(bot.url + path, params=params, headers=headers) as r:
        return r.status, await r.json(), r.headers


async def token_for(bot: RunningBot, name: str = "grafana") -> str:
    _info, token = await readapi.add_token(bot.deps.db, name, NOW)
    return token


def run_cli(bot: RunningBot, *args: str) -> subprocess.CompletedProcess[str]:
    """``oncall-bot ARGS`` on the bot's own database (a process), its clock pinned at ``NOW``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONCALL_", "SLACK_"))}
    env |= {"ONCALL_DATABASE_URL": bot.deps.settings.database_url, "ONCALL_CLOCK_START": NOW.isoformat(),
            "HOME": str(ROOT)}
    return subprocess.run([EXE, *args], env=env, capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)


def cli(bot: RunningBot, *args: str) -> Any:
    """``run_cli``'s stdout as JSON (it must succeed)."""
    out = run_cli(bot, *args)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.usefixtures("no_proxy_env")
async def test_no_token_bad_token_revoked_token_get_401_before_the_query_is_read(bot: RunningBot) -> None:
    status, body, headers = await get(bot, "/api/v1/oncall/engagement", at="not a time")
    assert status == 401 and body["error"] == "unauthorized" and headers["WWW-Authenticate"].startswith("Bearer")
    status, body, _ = await get(bot, "/api/v1/oncall/nope", token="oncall_wrong", at="not a time")
    assert status == 401 and body["message"] == "Unknown or revoked token."
    async with aiohttp.ClientSession() as http, http.get(bot.url + "/api/v1/incidents",
                                                         headers={"Authorization": "Basic dXNlcjpwdw=="}) as r:
        assert r.status == 401
    info, token = await readapi.add_token(bot.deps.db, "ci", NOW)
    assert (await get(bot, "/api/v1/incidents", token))[0] == 200
    await readapi.revoke_token(bot.deps.db, info.id, NOW)
    assert (await get(bot, "/api/v1/incidents", token))[0] == 401


@pytest.mark.usefixtures("no_proxy_env")
async def test_a_token_is_stored_hashed_and_never_logged(bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = await token_for(bot)
    assert (await get(bot, "/api/v1/oncall", token))[0] == 200
    assert (await get(bot, "/api/v1/oncall", token + "x"))[0] == 401
    assert token not in caplog.text
    async with bot.deps.db.engine.connect() as conn:
        from sqlalchemy import text

        rows = (await conn.execute(text("SELECT name, digest FROM api_tokens"))).all()
    assert rows == [("grafana", readapi.repo.digest(token))] and token not in str(rows)


@pytest.mark.e2e
@pytest.mark.usefixtures("no_proxy_env")
async def test_oncall_and_schedule_are_the_cli_json(bot: RunningBot) -> None:
    token = await token_for(bot)
    status, one, _ = await get(bot, "/api/v1/oncall/engagement", token, at=AT)
    assert status == 200 and one == cli(bot, "oncall", "engagement", "--at", AT, "--json")
    assert one["primary"]["id"] == "de2" and one["until"] == "2026-11-30T23:00:00+00:00"
    status, every, _ = await get(bot, "/api/v1/oncall", token, at="2026-11-26T12:00-05:00")
    assert status == 200 and every == cli(bot, "oncall", "--at", "2026-11-26T12:00-05:00", "--json")
    status, now_answer, _ = await get(bot, "/api/v1/oncall/Engagement", token)  # no at: the bot's now
    assert now_answer["at"] == NOW.isoformat()
    status, segs, _ = await get(bot, "/api/v1/schedule/growth", token, **{"from": "2026-11-27", "to": "2026-12-01"})
    assert status == 200 and segs == cli(bot, "schedule", "growth", "--from", "2026-11-27", "--to", "2026-12-01",
                                         "--json")
    assert [s["covered"] for s in segs] == [False, True, False, True, False]


@pytest.mark.usefixtures("no_proxy_env")
async def test_unknown_pipeline_is_404_with_suggestions(bot: RunningBot) -> None:
    token = await token_for(bot)
    status, body, _ = await get(bot, "/api/v1/oncall/engagment", token)
    assert status == 404 and body["error"] == "not_found" and body["location"] == "path.pipeline"
    assert "engagement" in body["suggestions"]
    assert (await get(bot, "/api/v1/schedule/zzz", token, **{"from": "2026-11-27", "to": "2026-12-01"}))[0] == 404


@pytest.mark.usefixtures("no_proxy_env")
@pytest.mark.parametrize(("path", "params", "location"), [
    ("/api/v1/oncall/engagement", {"at": "tuesday-ish"}, "query.at"),
    ("/api/v1/oncall", {"at": "2026-13-40T10:00"}, "query.at"),
    ("/api/v1/oncall", {"when": "2026-11-30T10:00"}, "query.when"),
    ("/api/v1/schedule/growth", {"from": "2026-11-27"}, "query.to"),
    ("/api/v1/schedule/growth", {"from": "2026-12-02", "to": "2026-12-01"}, "query.to"),
    ("/api/v1/schedule/growth", {"from": "2026-01-01", "to": "2028-01-01"}, "query.to"),
    ("/api/v1/incidents", {"state": "closed"}, "query.state"),
])
async def test_bad_parameters_are_400_with_a_located_message(
    bot: RunningBot, path: str, params: dict[str, str], location: str
) -> None:
    status, body, _ = await get(bot, path, await token_for(bot), **params)
    assert status == 400 and body["error"] == "bad_request" and body["location"] == location
    assert location.split(".")[1] in body["message"]


@pytest.mark.e2e
@pytest.mark.usefixtures("no_proxy_env")
async def test_incidents_with_their_fix_by(incident_bot: RunningBot) -> None:
    bot = incident_bot
    token = await token_for(bot)
    assert (await get(bot, "/api/v1/incidents", token, state="open"))[1] == []
    opened = await incidents_svc.open_incident(bot.deps, "engagement", "Clickstream gap", False, None, NOW)
    other = await incidents_svc.open_incident(bot.deps, "profit", "Totals off", True, None, NOW)
    assert isinstance(opened, incidents_svc.Opened) and isinstance(other, incidents_svc.Opened)
    await incidents_svc.resolve(bot.deps, other.incident.id, None, NOW)
    await bot.settle()
    status, rows, _ = await get(bot, "/api/v1/incidents", token, state="open")
    assert status == 200 and [r["id"] for r in rows] == [opened.incident.id]
    assert rows[0]["fix_by"] == "2026-12-08T15:00:00+00:00" and rows[0]["overdue"] is False
    assert rows[0]["state"] == "open" and rows[0]["severity"] == "normal"
    assert rows == cli(bot, "sla", "--json")
    every = (await get(bot, "/api/v1/incidents", token))[1]
    assert {r["id"]: r["state"] for r in every} == {opened.incident.id: "open", other.incident.id: "resolved"}
    resolved = (await get(bot, "/api/v1/incidents", token, state="resolved"))[1]
    assert [r["fix_by"] for r in resolved] == [None]


@pytest.mark.usefixtures("no_proxy_env")
async def test_openapi_document_is_valid_3_1_and_describes_the_answers(bot: RunningBot) -> None:
    status, doc, _ = await get(bot, "/api/v1/openapi.json")  # public: no data in it
    assert status == 200
    validate(doc)  # openapi-spec-validator: a valid OpenAPI 3.1 document
    assert doc["openapi"] == "3.1.0"
    assert set(doc["paths"]) == {"/api/v1/oncall", "/api/v1/oncall/{pipeline}", "/api/v1/schedule/{pipeline}",
                                 "/api/v1/incidents", "/api/v1/openapi.json"}
    assert doc["components"]["securitySchemes"]["bearer"] == doc["components"]["securitySchemes"]["bearer"] | {
        "type": "http", "scheme": "bearer"}
    schedule = doc["paths"]["/api/v1/schedule/{pipeline}"]["get"]
    assert [(p["name"], p["in"], p["required"]) for p in schedule["parameters"]] == [
        ("pipeline", "path", True), ("from", "query", True), ("to", "query", True)]
    assert set(schedule["responses"]) == {"200", "400", "401", "404"}
    # real answers validate against the document's own schemas
    token = await token_for(bot)

    def check(path: str, data: Any) -> None:
        schema = doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        Draft202012Validator({**schema, "components": doc["components"]}).validate(data)

    check("/api/v1/oncall", (await get(bot, "/api/v1/oncall", token, at=AT))[1])
    check("/api/v1/oncall/{pipeline}", (await get(bot, "/api/v1/oncall/growth", token, at="2026-11-28T10:00"))[1])
    check("/api/v1/schedule/{pipeline}",
          (await get(bot, "/api/v1/schedule/profit", token, **{"from": "2026-11-27", "to": "2026-11-30"}))[1])
    error = (await get(bot, "/api/v1/oncall/x", token))[1]
    Draft202012Validator({"$ref": "#/components/schemas/ErrorOut", "components": doc["components"]}).validate(error)


@pytest.mark.e2e
@pytest.mark.usefixtures("no_proxy_env")
async def test_tokens_cli_add_list_revoke(bot: RunningBot) -> None:
    made = cli(bot, "tokens", "add", "--name", "grafana", "--json")
    assert set(made) == {"id", "name", "token"} and made["name"] == "grafana" and len(made["token"]) >= 40
    assert (await get(bot, "/api/v1/oncall", made["token"], at=AT))[0] == 200
    listed = cli(bot, "tokens", "list", "--json")
    assert [(t["id"], t["name"], t["revoked_at"]) for t in listed] == [(made["id"], "grafana", None)]
    assert made["token"] not in json.dumps(listed)
    out = run_cli(bot, "tokens", "revoke", str(made["id"]))
    assert out.returncode == 0 and "revoked" in out.stdout
    assert (await get(bot, "/api/v1/oncall", made["token"]))[0] == 401
    out = run_cli(bot, "tokens", "revoke", "999")
    assert out.returncode == 2 and "no token 999" in out.stderr


@pytest.mark.e2e
@pytest.mark.usefixtures("no_proxy_env")
async def test_handoff_cli(bot: RunningBot) -> None:
    out = run_cli(bot, "handoff", "Kafka", "lag", "on", "clickstream", "--as", "de2")
    assert out.returncode == 0 and "Noted." in out.stdout, out.stdout + out.stderr
    out = run_cli(bot, "handoff", "not my week", "--as", "fin3")
    assert out.returncode == 2 and "Only someone on call this week" in out.stdout
