"""A throwaway PostgreSQL cluster the tests may stop and start (never the shared server on 5432).

Made with the installed binaries (/usr/lib/postgresql/*/bin) in a temp dir, trust auth, on a
free port, listening on 127.0.0.1 only; run as the ``postgres`` user when the tests run as root
(initdb refuses root).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    return Path(found[-1]) if found and Path(found[-1], "initdb").exists() else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    bindir: Path
    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _as_owner(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        argv = list(args)
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        done = self._as_owner(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "30",
            "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off", "start",
        )
        if done.returncode != 0:
            log = (self.root / "server.log").read_text(errors="replace") if (self.root / "server.log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {done.stderr}\n{log[-2000:]}")

    def stop(self, mode: str = "fast") -> None:
        done = self._as_owner(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl stop failed: {done.stderr}")

    def running(self) -> bool:
        done = self._as_owner(str(self.bindir / "pg_ctl"), "-D", str(self.data), "status")
        return done.returncode == 0

    def destroy(self) -> None:
        if self.running():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def create_cluster() -> Cluster:
    """initdb and start a new cluster; ``RuntimeError`` when that is not possible here."""
    found = bindir()
    if found is None:
        raise RuntimeError("no PostgreSQL binaries under /usr/lib/postgresql/*/bin")
    root = Path(tempfile.mkdtemp(prefix="oncall-ops-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres")
    cluster = Cluster(found, root, _free_port())
    done = cluster._as_owner(str(found / "initdb"), "-D", str(cluster.data), "-U", "postgres", "--auth=trust",
                             "-E", "UTF8", timeout=120)
    if done.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {done.stdout[-1000:]}{done.stderr[-1000:]}")
    cluster.start()
    return cluster
