"""Graceful shutdown: SIGTERM stops new work, in-flight work finishes within a bound, exit 0.

The pieces a long-running process needs::

    shutdown = Shutdown()
    shutdown.install()                      # SIGTERM/SIGINT -> shutdown.requested is set
    ...
    async with shutdown.work("delivery"):   # raises ShuttingDown once a stop was requested
        await deliver(...)
    ...
    await shutdown.wait()                   # the main task parks here
    await shutdown.drain(within=20)        # wait for in-flight work, then cancel the rest

A second signal while draining stops waiting at once. ``DEFAULT_DRAIN_SECONDS`` (20 s) stays
under Docker's and Kubernetes' default grace periods (10 s / 30 s: set ``stop_grace_period``
or ``terminationGracePeriodSeconds`` above ONCALL_SHUTDOWN_SECONDS).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator, Iterable

log = logging.getLogger(__name__)

DEFAULT_DRAIN_SECONDS = 20.0


def drain_seconds(default: float = DEFAULT_DRAIN_SECONDS) -> float:
    """ONCALL_SHUTDOWN_SECONDS, or ``default``."""
    try:
        return max(0.0, float(os.environ.get("ONCALL_SHUTDOWN_SECONDS", default)))
    except ValueError:
        return default


class ShuttingDown(RuntimeError):
    """New work refused: the process is stopping."""


class Shutdown:
    """A stop request plus the work in flight when it came."""

    def __init__(self) -> None:
        self.requested = asyncio.Event()
        self._force = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._in_flight: dict[str, int] = {}
        self.signal_name: str | None = None
        self._installed: list[int] = []

    # -- signals ------------------------------------------------------------------------------

    def install(self, signals: Iterable[int] = (signal.SIGTERM, signal.SIGINT)) -> None:
        """Handle ``signals`` on the running loop (Unix); safe to call once per loop."""
        loop = asyncio.get_running_loop()
        for sig in signals:
            loop.add_signal_handler(sig, self.request, signal.Signals(sig).name)
            self._installed.append(sig)

    def uninstall(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in self._installed:
            loop.remove_signal_handler(sig)
        self._installed.clear()

    def request(self, reason: str = "request") -> None:
        """Ask to stop (what a signal does); a second request stops the drain early."""
        if self.requested.is_set():
            log.warning("second stop request (%s): not waiting for in-flight work any longer", reason)
            self._force.set()
            return
        self.signal_name = reason
        log.info("stop requested (%s): taking no new work, finishing %d in flight", reason, self.in_flight)
        self.requested.set()

    @property
    def stopping(self) -> bool:
        return self.requested.is_set()

    async def wait(self) -> None:
        await self.requested.wait()

    # -- work ---------------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        return sum(self._in_flight.values())

    @contextlib.asynccontextmanager
    async def work(self, kind: str = "work") -> AsyncIterator[None]:
        """Count the block as in-flight work; refuse it with ``ShuttingDown`` once stopping."""
        if self.stopping:
            raise ShuttingDown(f"stopping: no new {kind}")
        self._in_flight[kind] = self._in_flight.get(kind, 0) + 1
        self._idle.clear()
        try:
            yield
        finally:
            self._in_flight[kind] -= 1
            if self.in_flight == 0:
                self._idle.set()

    async def drain(self, within: float | None = None, tasks: Iterable[asyncio.Task[object]] = ()) -> bool:
        """Wait up to ``within`` seconds for the work in flight and ``tasks``; cancel what is left.

        True when everything finished in time.
        """
        limit = drain_seconds() if within is None else within
        pending = {t for t in tasks if not t.done()}

        async def everything() -> None:
            await self._idle.wait()
            if pending:
                await asyncio.wait(pending)

        all_done = asyncio.ensure_future(everything())
        force = asyncio.ensure_future(self._force.wait())
        try:
            done, _ = await asyncio.wait({all_done, force}, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
            finished = all_done in done
        finally:
            all_done.cancel()
            force.cancel()
        left = [t for t in pending if not t.done()]
        for t in left:
            t.cancel()
        if left:
            await asyncio.gather(*left, return_exceptions=True)
        if not finished or left:
            log.warning("shutdown: %d in flight and %d task(s) cut off after %.1fs", self.in_flight, len(left), limit)
            return False
        return True
