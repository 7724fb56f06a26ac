"""The Slack harness's fixtures for tests/changes (``bot``: build_app, which wires bot.slack.changes)."""

from tests.slack.harness import bot  # noqa: F401
from tests.support.fixtures import fake_slack, no_proxy_env  # noqa: F401
