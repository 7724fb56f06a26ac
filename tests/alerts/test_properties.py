"""Whatever a monitor sends: never a 5xx, never an error logged; every accepted event stored."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.alerts.conftest import Bot
from tests.slack.test_slack_properties import ErrorLog, errors, no_errors  # noqa: F401

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
TEXT = st.one_of(st.text(max_size=60), st.text(min_size=250, max_size=300), st.just(""), st.just("x" * 1025))
PAYLOAD = st.fixed_dictionaries({}, optional={
    "summary": TEXT | JSON, "source": TEXT, "severity": st.sampled_from(["critical", "error", "warning", "info",
                                                                         "fatal", "", "CRITICAL"]) | JSON,
    "custom_details": JSON, "timestamp": TEXT, "component": TEXT, "class": TEXT, "group": TEXT,
})
LINKS = st.lists(st.fixed_dictionaries({"href": TEXT}, optional={"text": TEXT}) | JSON, max_size=3)


def pd_event(key: str) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries(
        {"routing_key": st.just(key) | TEXT},
        optional={"event_action": st.sampled_from(["trigger", "acknowledge", "resolve", "TRIGGER"]) | JSON,
                  "dedup_key": st.text(max_size=8) | st.text(min_size=255, max_size=260) | JSON,
                  "payload": PAYLOAD | JSON, "links": LINKS, "images": LINKS, "client": TEXT, "client_url": TEXT},
    )


def generic_event() -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries({}, optional={
        "summary": TEXT | JSON, "severity": st.sampled_from(["critical", "error", "bad"]) | JSON,
        "dedup_key": st.text(max_size=8) | JSON, "action": st.sampled_from(["trigger", "resolve", "x"]),
        "details": JSON, "links": LINKS})


def am_hook() -> st.SearchStrategy[Any]:
    alert = st.fixed_dictionaries({"status": st.sampled_from(["firing", "resolved", "odd"])}, optional={
        "labels": st.dictionaries(st.text(max_size=8), st.text(max_size=8) | JSON, max_size=3),
        "annotations": st.dictionaries(st.sampled_from(["summary", "description", "x"]), TEXT, max_size=2),
        "fingerprint": st.text(max_size=8) | JSON, "generatorURL": TEXT})
    return st.fixed_dictionaries({"alerts": st.lists(alert, max_size=3) | JSON},
                                 optional={"version": st.sampled_from(["4", "3"]), "externalURL": TEXT})



@PROPERTY
@given(data=st.data())
async def test_any_event_is_answered_without_a_5xx(alert_bot: Bot, errors: ErrorLog, data: st.DataObject) -> None:  # noqa: F811
    key = alert_bot.keys["engagement"]
    route, body = data.draw(st.sampled_from([
        ("/v2/enqueue", pd_event(key)), ("/api/v1/alerts", generic_event()), ("/api/v1/alertmanager", am_hook()),
        ("/v2/enqueue", JSON), ("/api/v1/alerts", JSON),
    ]).flatmap(lambda rb: st.tuples(st.just(rb[0]), rb[1])))
    raw = data.draw(st.booleans())
    payload = json.dumps(body).encode() if not raw else data.draw(st.binary(max_size=64))
    status, answer, _ = await alert_bot.post(route, raw=payload, key=key,
                                             headers={"Content-Type": "application/json"})
    assert status in (202, 400, 413), (status, answer)
    if status == 400:
        assert answer["status"] == "invalid event" and isinstance(answer["errors"], list)
    no_errors(errors)
