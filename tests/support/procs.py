"""Run a command tree with a bound that holds; wait for a process a test started, never for ever.

``subprocess.run(..., timeout=N)`` kills only the direct child on time-out and then waits for its
pipes to close: when that child was ``sh -c`` and a grandchild (pip, a server) still holds
stdout, the wait never ends. Here the command gets its own process group and the whole group is
killed, so a time-out is a failure with the output so far, never a hang.

A test that times out waiting for a process it started kills it (``communicate``, ``finish``):
left running, it goes on writing to a database the next test gets (PostgreSQL test databases are
reset and reused, see ``pg_databases.py``) or holding a port or a lock. And the wait after the
kill is bounded too (``stop``): in Python 3.11 ``asyncio.subprocess.Process.wait()`` returns only
once every pipe of the process is closed, which a grandchild holding one (or a pipe nobody reads)
delays for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
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


KILL_WAIT = 10.0


async def stop(proc: asyncio.subprocess.Process, wait: float = KILL_WAIT) -> None:
    """Kill ``proc`` unless it has exited, and wait for it at most ``wait`` seconds."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(proc.wait(), wait)


async def communicate(proc: asyncio.subprocess.Process, timeout: float) -> tuple[bytes, bytes]:  # noqa: ASYNC109
    """``proc.communicate()`` within ``timeout`` seconds; past it, the process is killed and
    ``TimeoutError`` raised."""
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        await stop(proc)
        raise
    return out or b"", err or b""


def finish(proc: subprocess.Popen[str], timeout: float) -> tuple[str, str]:
    """``proc.communicate()`` within ``timeout`` seconds; past it, the process is killed and
    ``subprocess.TimeoutExpired`` raised."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.communicate(timeout=KILL_WAIT)
        raise
