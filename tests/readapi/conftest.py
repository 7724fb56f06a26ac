"""Fixtures for the machine-facing HTTP tests: the running bot (tests/slack/harness.py) on the
``db`` fixture's database (SQLite and PostgreSQL), with the seed's channels in its fake Slack."""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.append(_ROOT)

from tests.incidents.conftest import incident_bot, workspace  # noqa: E402, F401
from tests.slack.harness import RunningBot, bot  # noqa: E402, F401
from tests.support.fixtures import fake_slack, no_proxy_env  # noqa: E402, F401
