"""Waiting for the processes a test starts, never for ever.

A test that times out waiting for a process kills it: left running, it goes on writing to a
database the next test gets (PostgreSQL test databases are reset and reused, see
``pg_databases.py``) or holding a port or a lock. And the wait after the kill is bounded too:
in Python 3.11 ``asyncio.subprocess.Process.wait()`` returns only once every pipe of the process
is closed, which a grandchild holding one (or a pipe nobody reads) delays for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess

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
