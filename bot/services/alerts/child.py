"""The applier in a child process of the bot's own (``alert_applier = process``).

The bot's event loop answers the intake: a 202 waits for one INSERT, nothing more. Applying the
events (alerts, incidents, the outbox, Slack) costs far more CPU than accepting them; in the same
loop, a storm's applying held every next 202 up behind it (at 500 events a second the median 202
took 2-5x longer with the applier inline than without it). In a process of its own, the operating
system shares the cores between the two, and the intake's answers wait for nothing but their
INSERT.

The child is ``python -m bot.jobs.alert_applier``, started at the first wake (the intake wakes it
when the bot's web app starts), with exactly this
process's settings (``bot.config.environment_for``; a pinned clock passed on at the instant it
has reached). They talk over the child's standard streams, a line each:

- this process writes ``N`` to its stdin when woken (N counts the wakes; those of a few
  milliseconds go as one line);
- the child applies everything queued, then writes ``idle N`` to its stdout, N being the last
  wake it had read when it started that pass.

So ``idle()`` waits until the child has applied what was accepted before the call. A child that
dies is started again at the next wake (at most one start a second); meanwhile nothing accepted
is lost: it stays queued, and the minute tick or the next child applies it. Closing stdin asks the
child to finish what it is applying and stop; one that does not within ``stop_wait`` is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from datetime import datetime

from bot.config import Settings, environment_for

log = logging.getLogger("bot.alerts")

COMMAND = (sys.executable, "-m", "bot.jobs.alert_applier")
RESTART_PAUSE = 1.0  # seconds: at most one start a second, should the child keep dying
# The wakes of this long go to the child as one line: under a storm, a write and a read a few
# milliseconds, not one per event (the child's passes are 0.25 s apart under load anyway)
WAKE_GATHER = 0.01


class ApplierProcess:
    """The applier loop of ``bot.services.alerts.Intake``, run by a child process: ``wake()``,
    ``idle()`` and ``enabled`` as the in-process ``Drainer`` has them, and ``close()``."""

    def __init__(self, environment: Callable[[], Mapping[str, str]], *, command: tuple[str, ...] = COMMAND,
                 stop_wait: float = 5.0) -> None:
        self.environment = environment  # read at each start (a pinned clock moves on)
        self.command = command
        self.stop_wait = stop_wait
        self.enabled = True
        self._process: asyncio.subprocess.Process | None = None
        self._starting: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._sent = 0  # wakes so far
        self._done = 0  # the last wake the child has reported applied
        self._changed = asyncio.Condition()
        self._last_start = -RESTART_PAUSE
        self._flush: asyncio.TimerHandle | None = None  # the write of the wakes gathered
        self.starts = 0  # children started (tests, logs)

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.returncode is None else None

    def _alive(self) -> bool:
        return self._process is not None and self._process.returncode is None

    def wake(self) -> None:
        if not self.enabled:
            return
        self._sent += 1
        if self._alive() and self._starting is None:
            if self._flush is None:
                self._flush = asyncio.get_running_loop().call_later(WAKE_GATHER, self._write_gathered)
        elif self._starting is None or self._starting.done():
            self._starting = asyncio.get_running_loop().create_task(self._start(), name="alerts:applier-start")

    def _write_gathered(self) -> None:
        self._flush = None
        if self._alive():
            self._write(self._sent)

    def _write(self, n: int) -> None:
        assert self._process is not None and self._process.stdin is not None
        # it may be dying: its reader then sees its end, and the next wake starts another
        with contextlib.suppress(ConnectionError, RuntimeError):
            self._process.stdin.write(b"%d\n" % n)

    async def _start(self) -> None:
        try:
            pause = self._last_start + RESTART_PAUSE - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            self._last_start = time.monotonic()
            self._process = await asyncio.create_subprocess_exec(
                *self.command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                env=dict(self.environment()))
            self.starts += 1
            log.info("alert applier: started process %s", self._process.pid)
            self._reader = asyncio.get_running_loop().create_task(self._read(self._process), name="alerts:applier")
            self._write(self._sent)
        except Exception:
            log.exception("alert applier: its process could not be started; events stay queued for the minute tick")
            async with self._changed:
                self._changed.notify_all()
        finally:
            self._starting = None

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        """The child's reports, until it ends."""
        assert process.stdout is not None
        while line := await process.stdout.readline():
            word, _, n = line.decode("ascii", "replace").strip().partition(" ")
            if word == "idle" and n.isdigit():
                async with self._changed:
                    self._done = max(self._done, int(n))
                    self._changed.notify_all()
        code = await process.wait()
        if self.enabled:
            log.warning("alert applier: process %s ended (exit %s); the next event starts another", process.pid, code)
        async with self._changed:
            self._changed.notify_all()

    async def idle(self) -> None:
        """Wait until the child has applied everything queued before this call (or is gone:
        not started, or ended; the events then wait for the next one or the minute tick)."""
        target = self._sent
        async with self._changed:
            await self._changed.wait_for(
                lambda: self._done >= target or not self.enabled
                or (not self._alive() and (self._starting is None or self._starting.done())))

    async def close(self) -> None:
        """Ask the child to finish and stop (killed after ``stop_wait`` seconds)."""
        self.enabled = False
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        if self._starting is not None:
            with contextlib.suppress(Exception):
                await self._starting
        process = self._process
        if process is not None and process.returncode is None:
            assert process.stdin is not None
            process.stdin.close()
            try:
                await asyncio.wait_for(process.wait(), self.stop_wait)
            except TimeoutError:
                log.warning("alert applier: process %s did not stop in %.0f s; killed", process.pid, self.stop_wait)
                process.kill()
                await process.wait()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
        async with self._changed:
            self._changed.notify_all()


def child_environment(settings: Settings, clock: Callable[[], datetime]) -> Callable[[], dict[str, str]]:
    """The child's environment at each start: this process's, with exactly ``settings``; a pinned
    clock (``clock_start``) is passed on at the instant this process's clock has reached, so both
    read the same time; the log level is this process's unless ``ONCALL_LOG_LEVEL`` says."""

    def environment() -> dict[str, str]:
        current = settings
        if settings.clock_start is not None:
            current = settings.model_copy(update={"clock_start": clock()})
        env = environment_for(current, os.environ)
        # it logs at this process's level (the console's quiet terminal stays quiet)
        env.setdefault("ONCALL_LOG_LEVEL", logging.getLevelName(logging.getLogger().getEffectiveLevel()))
        return env

    return environment
