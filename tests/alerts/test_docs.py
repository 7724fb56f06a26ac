"""The snippets of docs/alerts.md, run as they are against the running bot (its web app on
127.0.0.1): curl, the Airflow callback, the Dagster sensor (with a stand-in ``dagster`` module),
the dbt step, and the Alertmanager receiver (what Alertmanager sends to it)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from bot.services import alerts as svc
from tests.alerts.conftest import Bot

DOC = Path(__file__).resolve().parents[2] / "docs" / "alerts.md"


def snippet(name: str) -> str:
    """The fenced block after ``<!-- snippet: NAME -->`` in docs/alerts.md."""
    found = re.search(rf"<!-- snippet: {name} -->\n```\w*\n(.*?)\n```", DOC.read_text(encoding="utf-8"), re.S)
    assert found, f"no snippet {name} in {DOC}"
    return found.group(1)


async def run(args: list[str], bot: Bot, key: str, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update(ONCALL_URL=bot.base, ONCALL_ROUTING_KEY=key, PYTHONPATH=str(cwd))
    proc = await asyncio.create_subprocess_exec(*args, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def by_pipeline(bot: Bot, pipeline: str) -> list[dict]:
    return [i for i in await svc.incidents(bot.deps.db) if i["pipeline"] == pipeline]


async def test_curl(alert_bot: Bot, tmp_path: Path) -> None:
    out = await run(["bash", "-c", snippet("curl")], alert_bot, alert_bot.keys["engagement"], tmp_path)
    decoder = json.JSONDecoder()
    first, end = decoder.raw_decode(out)
    second, _ = decoder.raw_decode(out[end:].strip())
    assert first == {"status": "success", "message": "Event processed", "dedup_key": "nightly-load"}
    assert second["pipeline"] == "engagement"
    await alert_bot.settle()  # a 202 means stored; applied moments later
    (inc,) = await by_pipeline(alert_bot, "engagement")
    assert inc["dedup_keys"] == ["nightly-load"]


async def test_airflow_callback(alert_bot: Bot, tmp_path: Path) -> None:
    (tmp_path / "oncall_airflow.py").write_text(snippet("airflow"))
    call = ("import types, oncall_airflow\n"
            "ti = types.SimpleNamespace(dag_id='engagement_daily', task_id='load_clicks', try_number=2,\n"
            "                           log_url='https://airflow.example.com/log?t=1')\n"
            "print(oncall_airflow.oncall_on_failure({'task_instance': ti, 'run_id': 'r1',\n"
            "                                        'exception': ValueError('boom')}))\n")
    out = await run([sys.executable, "-c", call], alert_bot, alert_bot.keys["engagement"], tmp_path)
    assert "engagement_daily" in out and "success" in out
    await alert_bot.settle()
    (inc,) = await by_pipeline(alert_bot, "engagement")
    assert inc["dedup_keys"] == ["airflow:engagement_daily:load_clicks"]
    assert inc["summary"] == "Airflow task engagement_daily.load_clicks failed"


async def test_dagster_sensor(alert_bot: Bot, tmp_path: Path) -> None:
    (tmp_path / "dagster.py").write_text(  # a stand-in for what the snippet imports
        "class RunFailureSensorContext: ...\n\ndef run_failure_sensor(fn):\n    return fn\n")
    (tmp_path / "oncall_dagster.py").write_text(snippet("dagster"))
    call = ("import types, oncall_dagster\n"
            "ctx = types.SimpleNamespace(dagster_run=types.SimpleNamespace(job_name='profit_close', run_id='abc'),\n"
            "                            failure_event=types.SimpleNamespace(message='step failed'))\n"
            "oncall_dagster.oncall_on_run_failure(ctx)\n")
    await run([sys.executable, "-c", call], alert_bot, alert_bot.keys["profit"], tmp_path)
    await alert_bot.settle()
    (inc,) = await by_pipeline(alert_bot, "profit")
    assert inc["dedup_keys"] == ["dagster:profit_close"] and inc["source"] == "alert"


async def test_dbt_step(alert_bot: Bot, tmp_path: Path) -> None:
    (tmp_path / "oncall_dbt.py").write_text(snippet("dbt"))
    results = {"results": [
        {"unique_id": "model.growth.accounts", "status": "error", "message": "Database Error"},
        {"unique_id": "test.growth.not_null_id", "status": "fail", "failures": 3, "message": "Got 3 results"},
        {"unique_id": "model.growth.ok", "status": "success", "message": None},
    ]}
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "run_results.json").write_text(json.dumps(results))
    out = await run([sys.executable, "oncall_dbt.py", "target/run_results.json"], alert_bot,
                    alert_bot.keys["growth"], tmp_path)
    assert out.strip() == "2 dbt failures sent"
    await alert_bot.settle()
    (inc,) = await by_pipeline(alert_bot, "growth")
    assert inc["dedup_keys"] == ["dbt:model.growth.accounts", "dbt:test.growth.not_null_id"]
    results["results"] = [{**r, "status": "success"} for r in results["results"]]
    (tmp_path / "target" / "run_results.json").write_text(json.dumps(results))
    await run([sys.executable, "oncall_dbt.py", "target/run_results.json"], alert_bot, alert_bot.keys["growth"],
              tmp_path)
    await alert_bot.settle()
    (inc,) = await by_pipeline(alert_bot, "growth")
    assert inc["state"] == "resolved"


async def test_alertmanager_receiver(alert_bot: Bot) -> None:
    config = yaml.safe_load(snippet("alertmanager"))
    (receiver,) = config["receivers"]
    assert config["route"]["receiver"] == receiver["name"]
    (hook,) = receiver["webhook_configs"]
    assert hook["send_resolved"] is True and hook["http_config"]["authorization"]["type"] == "Bearer"
    assert hook["http_config"]["authorization"]["credentials"] == "ROUTING_KEY"
    path = urlsplit(hook["url"]).path
    sent = {"version": "4", "status": "firing", "receiver": receiver["name"], "groupKey": "{}:{}",
            "alerts": [{"status": "firing", "labels": {"alertname": "EngagementLag", "severity": "critical"},
                        "annotations": {"summary": "Clickstream 3 h behind"}, "fingerprint": "6f1e2a",
                        "startsAt": "2026-12-01T14:55:00Z", "endsAt": "0001-01-01T00:00:00Z",
                        "generatorURL": "http://prometheus:9090/graph"}]}
    status, body, _ = await alert_bot.post(path, sent, key=alert_bot.keys["engagement"])
    assert status == 202 and body["alerts"] == [{"dedup_key": "6f1e2a", "outcome": "opened"}]
    (inc,) = await by_pipeline(alert_bot, "engagement")
    assert inc["severity"] == "critical"
