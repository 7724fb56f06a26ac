"""Prometheus metrics of the Slack transport, in a registry of their own (no process globals).

The client's retry handlers carry an observer (``SlackErrorObserver``) that sees every Web API
response, including those of the per-request clients bolt makes (they copy the handler list), so
Slack API errors are counted by method without wrapping any call site.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

# Seconds. Answers come back in the ack, so most of the interesting range is below 50 ms.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
OUTCOMES = ("ok", "user_error", "error", "refused")
OTHER = "other"
# Every label the bot itself counts under. Labels are bounded: a name from a request (a command,
# an action id, a callback id, an event type) outside this set is counted as ``other``, so unsigned
# or odd requests cannot grow the registry (one series per label).
COMMAND_LABELS = frozenset(
    {
        "/oncall", "/runbook", "/whoowns", "/incident",
        "share_in_channel", "run_command", "show_runbook", "show_schedule", "open_incident", "page_now",
        "incident_ack", "incident_escalate", "incident_resolve", "checklist_tick", "meeting_accept",
        "meeting_decline", "change_cancel", "change_open_modal", "change_override_modal", "change_swap_modal",
        "change_away_modal", "open_incident_shortcut", "open_incident_modal",
        "cover_take", "cover_take_all", "cover_untake", "cover_need", "cover_modal",
        "notify_test", "notify_remove", "notify_up", "notify_modal",
        "incident:open", "incident:modal", "incident:acknowledge", "incident:escalate", "incident:resolve",
        "app_mention", "app_home_opened", "unknown_action", "unknown_shortcut", "unknown_command", "url_verification",
        "block_actions", "view_submission", "shortcut", "message_action", "event_callback", "refused",
    }
)


ALERT_ROUTES = frozenset({"pagerduty", "generic", "alertmanager", "heartbeat"})


def command_label(name: str) -> str:
    """``name`` if the bot counts under it, else ``other``."""
    return name if name in COMMAND_LABELS else OTHER


class Metrics:
    """Commands by name and outcome, command latency, Slack API errors by method."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.commands = Counter(
            "oncall_commands",
            "Commands answered, by command and outcome (ok, user_error, error).",
            ["command", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "oncall_command_seconds",
            "Time from receiving a command to having its answer ready, by command.",
            ["command"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.slack_errors = Counter(
            "oncall_slack_api_errors",
            "Slack Web API calls that failed (HTTP error, ok=false or no answer), by method and error.",
            ["method", "error"],
            registry=self.registry,
        )
        self.alert_requests = Counter(
            "oncall_alert_requests",
            "Requests to the alert intake that carried a valid routing key, by route and HTTP status.",
            ["route", "status"],
            registry=self.registry,
        )
        self.alert_inbox = Gauge(
            "oncall_alert_inbox_events",
            "Alert events in the database not applied: queued (waiting) or failed (could not be applied).",
            ["outcome"],
            registry=self.registry,
        )

    def count_command(self, command: str, outcome: str, seconds: float) -> None:
        label = command_label(command)
        self.commands.labels(label, outcome if outcome in OUTCOMES else OTHER).inc()
        self.latency.labels(label).observe(seconds)

    @contextmanager
    def timed(self, command: str) -> Iterator[dict[str, str]]:
        """Time the block and count it with the ``outcome`` set in the yielded dict. An exception
        is not counted here: the app's error handler counts it (once) as ``error``."""
        state = {"outcome": "ok"}
        start = time.perf_counter()
        yield state
        self.count_command(command, state["outcome"], time.perf_counter() - start)

    def count_alert_request(self, route: str, status: int) -> None:
        """A request with a valid routing key answered ``status`` (labels: the intake's own routes
        and the few statuses it answers with, so no request can add series)."""
        self.alert_requests.labels(route if route in ALERT_ROUTES else OTHER, str(status)).inc()

    def set_alert_inbox(self, queued: int, failed: int) -> None:
        self.alert_inbox.labels("queued").set(queued)
        self.alert_inbox.labels("failed").set(failed)

    def count_slack_error(self, method: str, error: str) -> None:
        self.slack_errors.labels(method, error[:64]).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


def api_method(url: str) -> str:
    """``https://slack.com/api/chat.postMessage?x=1`` → ``chat.postMessage``."""
    path = url.split("?", 1)[0].rstrip("/")
    return path.rsplit("/", 1)[-1] or "unknown"


class SlackErrorObserver(AsyncRetryHandler):
    """A retry handler that never retries: it counts failed Web API calls in ``metrics``.

    Put it first in the client's ``retry_handlers`` so that it sees every attempt.
    """

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(max_retry_count=0)
        self.metrics = metrics

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        method = api_method(request.url)
        if error is not None:
            self.metrics.count_slack_error(method, type(error).__name__)
        elif response is not None:
            body: Any = response.body
            if response.status_code >= 400:
                self.metrics.count_slack_error(method, f"http_{response.status_code}")
            elif isinstance(body, dict) and body.get("ok") is False:
                self.metrics.count_slack_error(method, str(body.get("error", "unknown")))
        return False


def metrics_of(client: Any) -> Metrics:
    """The ``Metrics`` whose observer is in ``client.retry_handlers`` (one is added if none is)."""
    handlers: list[AsyncRetryHandler] = client.retry_handlers
    for handler in handlers:
        if isinstance(handler, SlackErrorObserver):
            return handler.metrics
    metrics = Metrics()
    handlers.insert(0, SlackErrorObserver(metrics))
    return metrics
