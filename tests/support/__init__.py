"""Test harness standing in for Slack: FakeSlack (Web API, response_url, Socket Mode), signed
request builders and a Slack-side HTTP client, pytest fixtures."""

from .fake_slack import Call, FakeSlack, Gate, ManualClock, ResponseCall, SocketAck
from .signing import TEST_SIGNING_SECRET, SimResponse, SlackClientSim, sign

__all__ = [
    "TEST_SIGNING_SECRET",
    "Call",
    "FakeSlack",
    "Gate",
    "ManualClock",
    "ResponseCall",
    "SimResponse",
    "SlackClientSim",
    "SocketAck",
    "sign",
]
