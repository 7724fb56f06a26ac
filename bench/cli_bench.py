"""How long a one-shot CLI answer takes: ``oncall-bot oncall engagement --json`` on SQLite.

Creates a database with the bundled seed in a temporary directory (not timed), then runs the
command ``--runs`` times (default 10) as a user would, each a new process, and prints the median
and the maximum wall time, the median CPU time of the child (user + system: less sensitive to
other work on the machine than wall time) and the load average, so figures taken on a busy
machine can be read for what they are. The target is a median under 0.5 s on an idle machine.

    .venv/bin/python bench/cli_bench.py [--runs 10] [--command "oncall engagement --json"]
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("oncall-bot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--command", default="oncall engagement --json")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cli-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONCALL_")}
    env["ONCALL_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    command = [*_cli(), *shlex.split(args.command)]
    try:
        subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)  # migrate + seed
        walls: list[float] = []
        cpus: list[float] = []
        for _ in range(args.runs):
            cpu0, t0 = _children_cpu(), time.perf_counter()
            done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True)
            walls.append(time.perf_counter() - t0)
            cpus.append(_children_cpu() - cpu0)
            if done.returncode != 0:
                print(done.stderr.decode(errors="replace"), file=sys.stderr)
                return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"oncall-bot {args.command} on SQLite, {args.runs} runs: median {statistics.median(walls):.3f} s, "
          f"max {max(walls):.3f} s wall; median CPU {statistics.median(cpus):.3f} s; "
          f"load average {load} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
