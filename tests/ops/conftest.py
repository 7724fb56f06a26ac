"""The Slack harness's fixtures for the operations tests."""

from __future__ import annotations

from tests.support.fixtures import fake_slack, fake_slack_factory, no_proxy_env

__all__ = ["fake_slack", "fake_slack_factory", "no_proxy_env"]
