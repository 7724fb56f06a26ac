"""The image and the compose file, checked without a Docker engine (none runs here).

* The Dockerfile's build stage is replayed into a temp dir: its COPY lines (through
  .dockerignore) make the /app it would make, its RUN lines run with /app and /opt/venv mapped to
  temp paths. The one step not replayed is ``apt-get install binutils`` (root and Debian's
  mirrors; ``strip`` is on this machine already). Then the bot runs from that layout, from
  another working directory, on a new SQLite database: the install, the migrations and the
  bundled seed all work from the image's files alone. pip installs from a wheelhouse of the
  dependencies that is kept between runs (``wheelhouse``: made by ``pip wheel`` from the index the
  first time, and again whenever pyproject.toml changes).
* The final stage is checked statically (non-root, no pip or build tools, health check, ...).
* docker-compose.yml, the env file example and nginx.conf are parsed and cross-checked.
* deploy/entrypoint.sh runs against a scratch PostgreSQL database (with a stand-in for
  ``oncall-bot run``).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from bot.slack.server import DRAIN_SECONDS
from tests.support.procs import finish, run_bounded

from .dockerfile import Stage, copy_into, env_pairs, exec_form, ignore_patterns, parse

# One xdist worker for the module: `built` (a pip install) is made once, not once a worker;
# slow (that install takes a minute or two): collected first.
pytestmark = [pytest.mark.xdist_group("deploy-image"), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / "deploy" / "oncall.env.example"
NGINX = ROOT / "deploy" / "nginx.conf"
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
VENV_BIN = Path(sys.executable).parent

# python:3.11-slim-bookworm is about 125 MB (debian:bookworm-slim 75 MB + Python 3.11); the
# issue's budget is 200 MB for the whole image.
BASE_IMAGE_MB = 125
IMAGE_BUDGET_MB = 200


def stages() -> list[Stage]:
    return parse(DOCKERFILE.read_text(encoding="utf-8"))[1]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ONCALL_", "SLACK_", "PYTHON", "VIRTUAL_ENV", "PIP_"))}
    env.update(extra)
    return env


def _map_paths(text: str, app: Path, venv: Path) -> str:
    text = re.sub(r"(?<![\w/.-])/opt/venv\b", str(venv), text)
    return re.sub(r"(?<![\w/.-])/app\b", str(app), text)


def wheelhouse(env: dict[str, str]) -> Path:
    """A directory of wheels for pyproject.toml's dependencies and build requirements (resolved by
    ``pip wheel`` against the index the build stage uses), kept between runs under the user's cache
    directory (or ONCALL_TEST_WHEELHOUSE) for this pyproject.toml, Python and platform.

    The build stage's ``pip install -e /app`` runs against it alone (``--no-index``): the same
    install, without downloading some forty wheels each run (pip's HTTP cache does not help where
    the index's answers come without cache headers). Made again when pyproject.toml changes."""
    pyproject = (ROOT / "pyproject.toml").read_bytes()
    key = hashlib.sha256(pyproject + f"{sys.version} {sysconfig.get_platform()}".encode()).hexdigest()[:16]
    base = os.environ.get("ONCALL_TEST_WHEELHOUSE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "oncall-bot-tests", "wheelhouse")
    house = Path(base) / key
    if (house / "complete").exists():
        return house
    project = tomllib.loads(pyproject.decode("utf-8"))
    wanted = [*project["project"]["dependencies"], *project["build-system"]["requires"]]
    house.parent.mkdir(parents=True, exist_ok=True)
    making = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=house.parent))
    try:
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "-w", str(making), *wanted], env=env,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, f"pip wheel {wanted}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        (making / "complete").touch()
        with contextlib.suppress(OSError):  # another run made it first: use theirs
            making.rename(house)
    finally:
        shutil.rmtree(making, ignore_errors=True)
    return house


@dataclass
class Built:
    root: Path
    app: Path
    venv: Path
    copied: list[str]

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The build stage replayed: /app and /opt/venv as the image would have them."""
    root = tmp_path_factory.mktemp("image")
    app, venv = root / "app", root / "opt" / "venv"
    build = stages()[0]
    patterns = ignore_patterns((ROOT / ".dockerignore").read_text(encoding="utf-8"))
    # `python` in RUN lines is the base image's Python 3.11: here, this interpreter.
    shim = root / "shim"
    shim.mkdir()
    (shim / "python").symlink_to(sys.executable)
    env = clean_env(PATH=f"{shim}{os.pathsep}{os.environ['PATH']}", HOME=str(root))
    env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheelhouse(env)))
    workdir = root
    copied: list[str] = []
    for ins in build.instructions:
        if ins.op == "ENV":
            pairs = env_pairs(ins.args)
            pairs.pop("PIP_NO_CACHE_DIR", None)  # here the pip cache keeps the test fast
            env.update({k: _map_paths(v, app, venv) for k, v in pairs.items()})
        elif ins.op == "WORKDIR":
            workdir = Path(_map_paths(ins.args, app, venv))
            workdir.mkdir(parents=True, exist_ok=True)
        elif ins.op == "COPY":
            words = shlex.split(ins.args)
            assert not any(w.startswith("--") for w in words), "the build stage copies from the context only"
            *sources, dest = words
            target = Path(dest) if dest.startswith("/") else workdir / dest
            target = Path(_map_paths(str(target), app, venv)) if dest.startswith("/") else target
            if dest.endswith("/"):
                target.mkdir(parents=True, exist_ok=True)
            copied += copy_into(ROOT, sources, target, patterns)
        elif ins.op == "RUN":
            if ins.args.startswith("apt-get"):
                installs = re.findall(r"install\s+(?:-\S+\s+)*([^&]+)", ins.args)
                assert [p.split() for p in installs] == [["binutils"]], ins.args
                continue  # needs root and Debian's mirrors; `strip` is on this machine
            command = _map_paths(ins.args, app, venv)
            done = run_bounded(["sh", "-c", command], cwd=workdir, env=env, timeout=600)
            assert done.returncode == 0, f"RUN {ins.args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        else:
            raise AssertionError(f"unexpected {ins.op} in the build stage")
    return Built(root, app, venv, copied)


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


# --------------------------------------------------------------------------------------------
# The build stage, replayed
# --------------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_the_image_layout_runs_the_bot_on_a_new_database(built: Built, tmp_path: Path) -> None:
    env = clean_env(HOME=str(tmp_path), ONCALL_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/oncall.db",
                    PYTHONPYCACHEPREFIX=str(tmp_path / "pycache"))
    where = subprocess.run([built.bin("python"), "-c", "import bot; print(bot.__file__)"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=60)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(built.app), "the bot must come from /app, not the checkout"

    done = subprocess.run([built.bin("oncall-bot"), "oncall", "engagement", "--at", "2026-11-30T10:00", "--json"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert '"pipeline": "engagement"' in done.stdout
    assert "migrated and loaded" in done.stderr  # migrations/ and data/seed.yaml came with /app


def test_the_image_has_no_pip_tests_or_bytecode(built: Built) -> None:
    assert not (built.venv / "bin" / "pip").exists()
    site = next(built.venv.glob("lib/python3*/site-packages"))
    assert not (site / "pip").exists() and not (site / "setuptools").exists()
    assert not list(site.rglob("__pycache__"))
    assert not [p for p in site.rglob("tests") if p.is_dir()]
    locales = sorted(p.name for p in (site / "holidays" / "locale").iterdir())
    assert locales == ["en_US"]


def test_the_image_fits_the_size_budget(built: Built) -> None:
    app_mb = (_du(built.venv) + _du(built.app)) / 1e6
    total = BASE_IMAGE_MB + app_mb
    assert app_mb < IMAGE_BUDGET_MB - BASE_IMAGE_MB - 10, f"venv + app = {app_mb:.1f} MB: image about {total:.0f} MB"


def test_time_zones_work_without_system_zone_files(built: Built, tmp_path: Path) -> None:
    code = ("import zoneinfo, datetime as d; z = zoneinfo.ZoneInfo('America/New_York');"
            "print(d.datetime(2026, 7, 1, 12, tzinfo=z).utcoffset())")
    done = subprocess.run([built.bin("python"), "-c", code], env=clean_env(PYTHONTZPATH=str(tmp_path / "none")),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "-1 day, 20:00:00"


def test_the_only_files_copied_are_the_ones_the_bot_needs(built: Built) -> None:
    tops = {c.split("/", 1)[0] for c in built.copied}
    assert tops == {"pyproject.toml", "README.md", "alembic.ini", "manifest.yaml", "bot", "migrations", "data",
                    "deploy"}
    assert not [c for c in built.copied if "__pycache__" in c or c.endswith((".pyc", ".db"))]
    entrypoint = built.app / "deploy" / "entrypoint.sh"
    assert os.access(entrypoint, os.X_OK), "ENTRYPOINT must be executable in the image"


# --------------------------------------------------------------------------------------------
# The final stage
# --------------------------------------------------------------------------------------------


def test_the_final_stage_is_slim_non_root_and_healthchecked() -> None:
    build, final = stages()
    assert build.name == "build" and final.name is None
    assert build.base == final.base and re.fullmatch(r"python:3\.11-slim(-\w+)?", final.base), final.base
    assert not final.all("RUN") or all("apt-get" not in r.args and "pip" not in r.args for r in final.all("RUN"))
    for copy in final.all("COPY"):
        assert copy.args.startswith("--from=build "), copy.args
    user = final.one("USER").args
    assert re.fullmatch(r"[1-9]\d*(:[1-9]\d*)?", user), "numeric non-root user (Kubernetes runAsNonRoot)"
    health = final.one("HEALTHCHECK").args
    cmd = exec_form(health.split(" CMD ", 1)[1])
    assert cmd == ["python", "-m", "bot.ops.healthcheck"]
    assert exec_form(final.one("ENTRYPOINT").args) == ["/app/deploy/entrypoint.sh"]
    assert exec_form(final.one("CMD").args) == ["oncall-bot", "run"]
    env: dict[str, str] = {}
    for e in final.all("ENV"):
        env.update(env_pairs(e.args))
    assert env["PATH"].startswith("/opt/venv/bin:")
    assert env["PYTHONPYCACHEPREFIX"].startswith("/tmp/")
    assert final.one("EXPOSE").args == env["ONCALL_HTTP_PORT"] == "3000"


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        body = b'{"ok": true}' if self.status == 200 else b'{"database": "unreachable"}'
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[http.server.HTTPServer]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    _Health.status = 200


def test_the_healthcheck_command(built: Built, health_server: http.server.HTTPServer) -> None:
    cmd = exec_form(stages()[1].one("HEALTHCHECK").args.split(" CMD ", 1)[1])
    argv = [built.bin(cmd[0]), *cmd[1:]]
    env = clean_env(ONCALL_HTTP_PORT=str(health_server.server_address[1]), HTTP_PROXY="http://127.0.0.1:9")
    ok = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0, ok.stderr
    _Health.status = 503
    sick = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
    assert sick.returncode == 1 and "HTTP 503" in sick.stderr and "unreachable" in sick.stderr
    health_server.shutdown()
    health_server.server_close()
    down = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
    assert down.returncode == 1 and "not reachable" in down.stderr


# --------------------------------------------------------------------------------------------
# Compose, env file, proxy
# --------------------------------------------------------------------------------------------


def env_example() -> dict[str, str]:
    out = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def interpolate(value: str, env: dict[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3)
        if name in env and env[name] != "":
            return env[name]
        assert op != ":?", f"${{{name}}} is required and the env file example does not set it"
        return arg or ""

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", sub, value)


def compose() -> dict[str, object]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def bot_services(data: dict[str, object]) -> dict[str, dict[str, object]]:
    services = data["services"]
    assert isinstance(services, dict)
    return {name: svc for name, svc in services.items() if svc.get("build") or "oncall-bot" in str(svc.get("image"))}


def test_compose_runs_postgres_and_two_http_replicas_with_one_signing_secret() -> None:
    data = compose()
    bots = bot_services(data)
    assert len(bots) == 2, sorted(bots)
    example = env_example()
    assert "SLACK_APP_TOKEN" not in example, "HTTP mode: the example leaves Socket Mode commented out"
    assert example["SLACK_SIGNING_SECRET"] and example["SLACK_BOT_TOKEN"].startswith("xoxb-")
    for name, svc in bots.items():
        assert svc["env_file"] == ["deploy/oncall.env"], name
        env = svc["environment"]
        assert isinstance(env, dict)
        assert not any(k.startswith("SLACK_") for k in env), f"{name}: Slack settings come from the shared env file"
        url = interpolate(str(env["ONCALL_DATABASE_URL"]), example)
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        assert parsed.drivername == "postgresql+asyncpg" and parsed.host == "postgres"
        assert parsed.password == example["POSTGRES_PASSWORD"]
        assert env["ONCALL_HTTP_PORT"] == "3000"
        assert svc["depends_on"] == {"postgres": {"condition": "service_healthy"}}
        assert svc["healthcheck"]["test"] == ["CMD", "python", "-m", "bot.ops.healthcheck"]
        grace = int(str(svc["stop_grace_period"]).rstrip("s"))
        assert grace > DRAIN_SECONDS, "the drain of in-flight work must end before SIGKILL"
        assert "command" not in svc, "the image's CMD (oncall-bot run) is the bot"
    postgres = data["services"]["postgres"]  # type: ignore[index]
    assert "pg_isready" in str(postgres["healthcheck"]["test"])
    assert "POSTGRES_PASSWORD" in postgres["environment"]


def test_the_proxy_sends_slack_to_both_replicas() -> None:
    conf = NGINX.read_text(encoding="utf-8")
    for name in bot_services(compose()):
        assert f"server {name}:3000" in conf
    assert "location = /slack/events" in conf and "proxy_next_upstream" in conf
    # the calendar-feed links `/oncall calendar` hands out reach a replica (issue 10 §7)
    calendar = conf.split("location /calendar/", 1)[1].split("}", 1)[0]
    assert "proxy_pass http://oncall_bots;" in calendar
    proxy = compose()["services"]["proxy"]  # type: ignore[index]
    assert "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in proxy["volumes"]


def test_every_variable_is_known_to_the_bot() -> None:
    from bot.config import Settings

    settings_vars = {f"ONCALL_{name.upper()}" for name in Settings.model_fields}
    settings_vars |= {str(f.validation_alias) for f in Settings.model_fields.values() if f.validation_alias}
    ops_vars = {"ONCALL_LOG_LEVEL", "ONCALL_DB_WAIT_SECONDS",
                "ONCALL_MIGRATE_LOCK_TIMEOUT", "POSTGRES_USER", "POSTGRES_DB", "POSTGRES_PASSWORD"}
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(encoding="utf-8"), re.M))
    assert documented - settings_vars - ops_vars == set()
    entrypoint = ENTRYPOINT.read_text(encoding="utf-8")
    for name in ("ONCALL_DB_WAIT_SECONDS", "ONCALL_MIGRATE_LOCK_TIMEOUT"):
        assert name in entrypoint
    used = set(re.findall(r"\$\{(\w+)", COMPOSE.read_text(encoding="utf-8")))
    assert used - set(env_example()) <= {"ONCALL_PUBLIC_PORT"}


# --------------------------------------------------------------------------------------------
# The entrypoint, on PostgreSQL
# --------------------------------------------------------------------------------------------


@pytest.fixture
def fake_bin(tmp_path: Path) -> Path:
    """A PATH dir whose ``oncall-bot`` runs the real one for ``db ...`` and records anything else."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "oncall-bot"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = db ]; then exec "$REAL_ONCALL_BOT" "$@"; fi\n'
        'echo "$*" >> "$RAN_LOG"\n',
        encoding="utf-8",
    )
    script.chmod(0o755)
    return bindir


def _entrypoint(args: list[str], url: str, fake_bin: Path, tmp_path: Path, **extra: str) -> subprocess.Popen[str]:
    env = clean_env(
        PATH=f"{fake_bin}{os.pathsep}{os.environ['PATH']}",
        REAL_ONCALL_BOT=str(VENV_BIN / "oncall-bot"),
        RAN_LOG=str(tmp_path / "ran.log"),
        ONCALL_DATABASE_URL=url,
        HOME=str(tmp_path),
        **extra,
    )
    return subprocess.Popen(["sh", str(ENTRYPOINT), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = finish(proc, 120)
    return proc.returncode, out, err


@pytest.mark.e2e
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_entrypoint_migrates_once_then_runs_the_bot(db_url: str, fake_bin: Path, tmp_path: Path) -> None:
    from bot.storage.db import create_engine
    from bot.storage.migrate import current_revision, head_revision

    # Two replicas starting together: both end up running the bot, one of them migrated.
    procs = [_entrypoint([], db_url, fake_bin, tmp_path) for _ in range(2)]
    results = [_finish(p) for p in procs]
    for code, _out, err in results:
        assert code == 0, err
    outs = "".join(out for _c, out, _e in results)
    assert outs.count("Database migrated from empty") == 1, outs
    assert (tmp_path / "ran.log").read_text(encoding="utf-8").splitlines() == ["run", "run"]
    engine = create_engine(db_url)
    try:
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()

    # A restart: nothing to migrate. A subcommand: no migration, runs as `oncall-bot doctor`.
    code, out, err = _finish(_entrypoint([], db_url, fake_bin, tmp_path))
    assert code == 0 and "nothing to do" in out, err
    code, out, err = _finish(_entrypoint(["doctor", "--problems"], db_url, fake_bin, tmp_path))
    assert code == 0 and out == "", err
    assert (tmp_path / "ran.log").read_text(encoding="utf-8").splitlines()[-1] == "doctor --problems"
    code, out, err = _finish(_entrypoint(["sh", "-c", "echo direct"], db_url, fake_bin, tmp_path))
    assert (code, out) == (0, "direct\n"), err


@pytest.mark.e2e
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_entrypoint_exec_override_and_failed_migration(db_url: str, fake_bin: Path, tmp_path: Path) -> None:
    code, out, err = _finish(_entrypoint([], db_url, fake_bin, tmp_path, ONCALL_ENTRYPOINT_EXEC="true"))
    assert code == 0 and "migrated" in out, err
    assert not (tmp_path / "ran.log").exists()

    # A database that never answers: the entrypoint gives up after the wait and does not run the bot.
    dead = "postgresql+asyncpg://oncall:Sup3rSecretPw@127.0.0.1:9/oncall"
    code, out, err = _finish(_entrypoint([], dead, fake_bin, tmp_path, ONCALL_DB_WAIT_SECONDS="1"))
    assert code != 0 and not (tmp_path / "ran.log").exists()
    assert "cannot migrate" in err and "Sup3rSecretPw" not in err + out
