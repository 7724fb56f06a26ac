"""Engine and CLI figures (issue: foundation). Prints; is not a test.

- every pipeline's answer at one instant, from a loaded directory of 1,000 pipelines and 500 people;
- one pipeline's schedule for a year;
- `oncall-bot oncall engagement --json` end to end on SQLite (a fresh process each run).
Targets: < 1 ms per pipeline answer; < 1 s end to end.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.chdir(Path(__file__).resolve().parent.parent)

from bench.gen_seed import generate_yaml  # noqa: E402
from bot.core.calendar import CompanyCalendar  # noqa: E402
from bot.core.coverage import oncall_at, schedule  # noqa: E402
from bot.seed.validate import load_seed_text  # noqa: E402


def main() -> None:
    t0 = time.perf_counter()
    d = load_seed_text(generate_yaml(1000, 500), "generated")
    print(f"generated seed: {len(d.pipelines)} pipelines, {len(d.people)} people, "
          f"validated and loaded in {time.perf_counter() - t0:.2f} s")
    cal = CompanyCalendar.from_spec(d.calendar)
    at = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)
    oncall_at(d, cal, "pipe0000", at)  # warm the holiday table
    runs = []
    for i in range(5):
        t = time.perf_counter()
        for pid in d.pipelines:
            oncall_at(d, cal, pid, at + timedelta(minutes=i))
        runs.append((time.perf_counter() - t) / len(d.pipelines))
    print(f"answer per pipeline (1,000 pipelines, one instant): median {statistics.median(runs) * 1e3:.3f} ms "
          f"(target < 1 ms)")
    t = time.perf_counter()
    segs = schedule(d, cal, "pipe0001", at, at + timedelta(days=365))
    print(f"one pipeline's schedule for a year: {(time.perf_counter() - t) * 1e3:.1f} ms, {len(segs)} segments")

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ONCALL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.db"}
        exe = str(Path(sys.executable).with_name("oncall-bot"))
        subprocess.run([exe, "oncall", "engagement", "--json"], env=env, check=True, capture_output=True)
        times = []
        for _ in range(7):
            t = time.perf_counter()
            subprocess.run([exe, "oncall", "engagement", "--json"], env=env, check=True, capture_output=True)
            times.append(time.perf_counter() - t)
        print("`oncall-bot oncall engagement --json` end to end on SQLite: "
              f"median {statistics.median(times) * 1e3:.0f} ms, max {max(times) * 1e3:.0f} ms (target < 1 s)")


if __name__ == "__main__":
    main()
