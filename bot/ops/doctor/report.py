"""What ``doctor`` reports: each check's status, detail and fix, the whole report, and the
helpers that run a check so that it can neither crash the others nor hang."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from bot.ops.logging import format_exception_safely, redact

if TYPE_CHECKING:

    pass



class Status(StrEnum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True)
class CheckResult:
    check: str
    status: Status
    detail: str
    fix: str | None = None

    def line(self) -> str:
        text = f"{self.status.value:<4} {self.check}: {self.detail}"
        if self.fix:
            text += f" -> {self.fix}"
        return redact(text)


@dataclass
class Report:
    results: list[CheckResult] = field(default_factory=list)

    def add(self, check: str, status: Status, detail: str, fix: str | None = None) -> CheckResult:
        result = CheckResult(check, status, detail, fix)
        self.results.append(result)
        return result

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if r.status is Status.FAIL]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def lines(self) -> list[str]:
        return [r.line() for r in self.results]

    def summary(self) -> str:
        counts = {s: sum(1 for r in self.results if r.status is s) for s in Status}
        verdict = "something needs attention" if self.failed else "all good"
        parts = [f"{counts[s]} {s.value.lower()}" for s in Status if counts[s]]
        return f"doctor: {verdict} ({', '.join(parts)})"



async def with_timeout(coro: Awaitable[Any], seconds: float) -> Any:
    return await asyncio.wait_for(coro, seconds)



async def run_sync(fn: Callable[..., None], *args: Any) -> None:
    fn(*args)


async def guarded(report: Report, name: str, run: Callable[[], Awaitable[None]]) -> None:
    try:
        await run()
    except Exception as exc:
        report.add(name, Status.FAIL, f"the check itself failed: {format_exception_safely(exc)}",
                   "report this with the output of `oncall-bot doctor`")


def print_report(report: Report, out: Callable[[str], None] = print, *, only: Iterable[Status] | None = None) -> None:
    shown = set(only) if only is not None else set(Status)
    for r in report.results:
        if r.status in shown:
            out(r.line())
    out(report.summary())


def names(results: Sequence[CheckResult]) -> list[str]:
    """The check names of ``results`` (for tests and summaries)."""
    return [r.check for r in results]
