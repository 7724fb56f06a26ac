"""Text no database can store (NUL, an unpaired surrogate from a ``\\ud800`` escape) anywhere in an
event is a located 400 on every intake route, never a 500 (PostgreSQL refused the write) and
never an error logged; nothing is stored. Found by the property test on PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.http.common import unstorable_text
from bot.storage import alerts as repo
from tests.alerts.conftest import Bot, pd
from tests.slack.test_slack_properties import ErrorLog, errors, no_errors  # noqa: F401


def test_where_the_bad_text_is() -> None:
    assert unstorable_text({"a": [1, {"b": "x\x00"}]}) == "a.1.b"
    assert unstorable_text({"a\x00": 1}) == "body"
    assert unstorable_text(["ok", "\ud800"]) == "1"
    assert unstorable_text({"a": ["fine", "é", "🙂"], "n": None}) is None


def _events(key: str) -> list[tuple[str, dict[str, Any], str]]:
    return [
        ("/v2/enqueue", pd(key, summary="Load \x00 failed"), "payload.summary"),
        ("/v2/enqueue", pd(key, dedup="k\x00"), "dedup_key"),
        ("/v2/enqueue", {**pd(key), "links": [{"href": "https://x\ud800"}]}, "links.0.href"),
        ("/api/v1/alerts", {"summary": "dbt \x00", "dedup_key": "d"}, "summary"),
        ("/api/v1/alertmanager", {"version": "4", "alerts": [{"status": "firing", "fingerprint": "f",
                                                             "labels": {"alertname": "A\x00"}}]},
         "alerts.0.labels.alertname"),
    ]


@pytest.mark.parametrize("case", range(5))
async def test_nul_and_surrogates_are_a_located_400(alert_bot: Bot, errors: ErrorLog, case: int) -> None:  # noqa: F811
    key = alert_bot.keys["engagement"]
    route, body, where = _events(key)[case]
    raw = json.dumps(body).encode()  # json escapes them as \u0000 and \ud800, as a monitor would send them
    status, answer, _ = await alert_bot.post(route, raw=raw, key=None if route == "/v2/enqueue" else key,
                                             headers={"Content-Type": "application/json"})
    assert status == 400, answer
    assert answer["status"] == "invalid event"
    assert answer["errors"] == [f"{where}: text may not contain NUL (\\u0000) or unpaired surrogates"]
    async with alert_bot.deps.db.sessions() as session:
        assert await repo.event_count(session) == 0
    no_errors(errors)
