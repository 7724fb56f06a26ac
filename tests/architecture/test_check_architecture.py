"""``scripts/check_architecture.py``: the checker finds what it should on small made-up trees,
and the real ``bot/`` has no cycle, no module over 500 lines and no layer violation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "check_architecture.py"

# Every ast.parse runs in a process of its own: on Python 3.11 a parse in the test process can
# meet another ast.parse (3.11's tracebacks parse to place their ^^^; a finalizer run by the
# garbage collector mid-parse) and fail with "AST constructor recursion depth mismatch"
# (CPython gh-106905). It did, in the test with the 501-line module.


def _findings(root: Path) -> list[str]:
    """What ``check(root)`` finds, computed by the script in a child process."""
    done = subprocess.run([sys.executable, str(SCRIPT), str(root)], capture_output=True, text=True, check=False,
                          timeout=120)
    assert done.returncode in (0, 1), done.stderr
    return [line for line in done.stdout.splitlines() if not line.startswith("check_architecture:")]


def _graph(root: Path) -> dict[str, set[str]]:
    """``build_graph(root)``'s import graph, computed in a child process."""
    code = ("import importlib.util, json, sys; from pathlib import Path;"
            "spec = importlib.util.spec_from_file_location('check_architecture', sys.argv[1]);"
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m);"
            "g, _ = m.build_graph(Path(sys.argv[2])); print(json.dumps({k: sorted(v) for k, v in g.items()}))")
    done = subprocess.run([sys.executable, "-c", code, str(SCRIPT), str(root)], capture_output=True, text=True,
                          check=True, timeout=120)
    return {k: set(v) for k, v in json.loads(done.stdout).items()}


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in {"bot/__init__.py": "", **files}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_a_cycle_through_an_import_inside_a_function_is_found(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "bot/a.py": "from bot.b import x\n",
        "bot/b.py": "def x():\n    from bot import a\n    return a\n",
    })
    assert _findings(root) == ["cycle: bot.a <-> bot.b"]


def test_type_checking_imports_and_relative_imports(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "bot/pkg/__init__.py": "from .one import y\n",
        "bot/pkg/one.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.pkg import two\ny = 1\n",
        "bot/pkg/two.py": "from . import one\n",
    })
    graph = _graph(root)
    assert graph["bot.pkg"] == {"bot.pkg.one"}
    assert graph["bot.pkg.one"] == set()
    assert graph["bot.pkg.two"] == {"bot.pkg.one"}
    assert _findings(root) == []


def test_sizes_and_layers(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "bot/core/__init__.py": "",
        "bot/core/model.py": "from bot.storage.db import x\n",
        "bot/storage/__init__.py": "",
        "bot/storage/db.py": "x = 1\n" * 501,
        "bot/slack/__init__.py": "",
        "bot/slack/home.py": "def f():\n    from bot.storage import db\n",
        "bot/cli/__init__.py": "import typing\nif typing.TYPE_CHECKING:\n    from bot.storage.db import x\n",
    })
    assert _findings(root) == [
        "size: bot.storage.db has 501 lines (at most 500)",
        "layer: bot.core.model (core) imports bot.storage.db: the core imports only bot.core",
        "layer: bot.slack.home (transport) imports bot.storage.db: transports call services, not storage",
    ]


def test_the_script_exits_1_listing_problems_and_0_on_a_clean_tree(tmp_path: Path) -> None:
    bad = _tree(tmp_path / "bad", {"bot/a.py": "import bot.b\n", "bot/b.py": "import bot.a\n"})
    done = subprocess.run([sys.executable, str(SCRIPT), str(bad)], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (1, "cycle: bot.a <-> bot.b\n")
    good = _tree(tmp_path / "good", {"bot/a.py": "import bot.b\n", "bot/b.py": "x = 1\n"})
    done = subprocess.run([sys.executable, str(SCRIPT), str(good)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout


def test_bot_has_no_cycle_no_long_module_and_keeps_its_layers() -> None:
    # In a process of its own: on Python 3.11 an ast.parse of hundreds of files in the test
    # process can meet another thread's ast.parse (3.11's tracebacks parse to place their ^^^)
    # and fail with "AST constructor recursion depth mismatch" (CPython gh-106905).
    done = subprocess.run([sys.executable, str(SCRIPT), str(ROOT)], capture_output=True, text=True, check=False,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no cycle, no module over 500 lines, layers respected" in done.stdout
