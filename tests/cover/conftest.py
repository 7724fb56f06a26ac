"""The Slack harness's fixtures for tests/cover (``bot``: build_app, which wires bot.slack.cover)."""

from tests.slack.harness import bot  # noqa: F401
from tests.support.fixtures import fake_slack, no_proxy_env  # noqa: F401
