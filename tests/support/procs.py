"""Run a command tree with a bound that holds.

``subprocess.run(..., timeout=N)`` kills only the direct child on time-out and then waits for its
pipes to close: when that child was ``sh -c`` and a grandchild (pip, a server) still holds
stdout, the wait never ends. Here the command gets its own process group and the whole group is
killed, so a time-out is a failure with the output so far, never a hang.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Sequence
from typing import Any


def run_bounded(args: Sequence[str], *, timeout: float, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Like ``subprocess.run(args, capture_output=True, text=True, timeout=...)``; on time-out the
    process group is killed and ``subprocess.TimeoutExpired`` is raised with what was printed."""
    with subprocess.Popen(list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          start_new_session=True, **kwargs) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            raise subprocess.TimeoutExpired(proc.args, timeout, output=out, stderr=err) from None
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
