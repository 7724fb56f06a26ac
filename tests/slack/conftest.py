"""Fixtures of the Slack tests (see ``harness.py``); the repository root goes on sys.path so that
``tests.support`` imports however pytest was started."""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.append(_ROOT)

from tests.slack.harness import bot  # noqa: E402, F401
from tests.support.fixtures import fake_slack, fake_slack_factory, no_proxy_env  # noqa: E402, F401
