"""Make ``tests.support`` importable however pytest was started, and expose its fixtures here.

The repository root is put on sys.path when missing (``tests`` then imports as a namespace
package if it has no ``__init__.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.append(_ROOT)

from tests.support.fixtures import (  # noqa: E402
    fake_slack,
    fake_slack_factory,
    no_proxy_env,
    slack_sim,
    slack_web_client,
)

__all__ = ["fake_slack", "fake_slack_factory", "no_proxy_env", "slack_sim", "slack_web_client"]
