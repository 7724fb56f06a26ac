"""The ``e2e`` mark's guard: a test that starts a bot process must carry ``@pytest.mark.e2e`` (.ci/run
runs those a second time under faketime), so that none escapes the fake-time run unseen."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest


def starts_bot(args: object) -> bool:
    """Whether a ``Popen`` argv runs the bot: the ``oncall-bot`` script or ``python -m bot``."""
    argv = [str(a) for a in args] if isinstance(args, list | tuple) else [str(args)]
    return any(Path(a).name == "oncall-bot" for a in argv) or any(
        argv[i : i + 2] == ["-m", "bot"] for i in range(len(argv) - 1)
    )


def refuse_bot_processes(monkeypatch: pytest.MonkeyPatch, nodeid: str) -> None:
    """Make starting a bot process raise for the rest of the test (``subprocess.run``,
    ``Popen`` and asyncio's subprocesses all go through ``subprocess.Popen.__init__``)."""
    original = subprocess.Popen.__init__

    def guarded(self: subprocess.Popen[Any], args: Any, *rest: Any, **kwargs: Any) -> None:
        if starts_bot(args):
            raise AssertionError(f"{nodeid} starts a bot process ({args!r}): mark it @pytest.mark.e2e and pin "
                                 "its clock (tests/support/clock.py) unless it does not depend on the time")
        original(self, args, *rest, **kwargs)

    monkeypatch.setattr(subprocess.Popen, "__init__", guarded)
