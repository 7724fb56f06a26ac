"""A small reader of our Dockerfile and .dockerignore, to replay the build stage without Docker.

It understands what the Dockerfile uses (ARG, FROM ... AS, ENV, WORKDIR, COPY, RUN, USER,
HEALTHCHECK, ENTRYPOINT, CMD, EXPOSE, VOLUME, STOPSIGNAL) and refuses anything else, so a new
instruction makes the test fail rather than be skipped silently.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

KNOWN = {"ARG", "FROM", "ENV", "WORKDIR", "COPY", "RUN", "USER", "HEALTHCHECK", "ENTRYPOINT", "CMD", "EXPOSE",
         "VOLUME", "STOPSIGNAL", "LABEL"}


@dataclass
class Instruction:
    op: str
    args: str


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, op: str) -> list[Instruction]:
        return [i for i in self.instructions if i.op == op]

    def one(self, op: str) -> Instruction:
        found = self.all(op)
        assert len(found) == 1, f"expected one {op} in stage {self.name or self.base}, got {len(found)}"
        return found[0]


def logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        lines.append(current)
        current = ""
    if current:
        lines.append(current)
    return lines


def parse(text: str) -> tuple[dict[str, str], list[Stage]]:
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical_lines(text):
        op, _, rest = line.partition(" ")
        op = op.upper()
        assert op in KNOWN, f"the test does not know Dockerfile instruction {op}"
        if op == "ARG" and not stages:
            name, _, default = rest.partition("=")
            args[name.strip()] = default.strip()
            continue
        if op == "FROM":
            words = rest.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), ""), words[0])
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base, name))
            continue
        assert stages, f"{op} before FROM"
        stages[-1].instructions.append(Instruction(op, rest.strip()))
    return args, stages


def exec_form(args: str) -> list[str]:
    """The JSON (exec) form of CMD/ENTRYPOINT/HEALTHCHECK CMD."""
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value)
    return value


def env_pairs(args: str) -> dict[str, str]:
    """``ENV A=1 B=2`` (the key=value form)."""
    out: dict[str, str] = {}
    for word in shlex.split(args):
        key, sep, value = word.partition("=")
        assert sep, f"ENV {args!r}: use the KEY=VALUE form"
        out[key] = value
    return out


# -- .dockerignore --------------------------------------------------------------------------


def ignore_patterns(text: str) -> list[tuple[bool, str]]:
    """(negated, pattern) in file order."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        out.append((negated, line.lstrip("!").rstrip("/")))
    return out


def _matches(pattern: str, path: str) -> bool:
    if pattern.startswith("**/"):
        tail = pattern[3:]
        parts = path.split("/")
        return any(fnmatch.fnmatchcase("/".join(parts[i:]), tail) or fnmatch.fnmatchcase(parts[i], tail)
                   for i in range(len(parts)))
    return fnmatch.fnmatchcase(path, pattern)


def ignored(path: str, patterns: list[tuple[bool, str]]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = path.split("/")
    result = False
    for negated, pattern in patterns:
        for i in range(1, len(parts) + 1):
            if _matches(pattern, "/".join(parts[:i])):
                result = not negated
                break
    return result


def copy_into(context: Path, sources: list[str], dest: Path, patterns: list[tuple[bool, str]]) -> list[str]:
    """COPY ``sources`` (relative to ``context``) to ``dest``; the files copied (context-relative)."""
    copied: list[str] = []
    many = len(sources) > 1 or str(dest).endswith("/")
    for src in sources:
        path = context / src.rstrip("/")
        assert path.exists(), f"COPY {src}: not in the build context"
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for f in files:
            rel = f.relative_to(context).as_posix()
            if ignored(rel, patterns):
                continue
            if path.is_file():
                target = dest / f.name if many or dest.is_dir() else dest
            else:
                target = dest / f.relative_to(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, target)
            copied.append(rel)
        assert any(c == src.rstrip("/") or c.startswith(src.rstrip("/") + "/") for c in copied) or path.is_dir(), (
            f"COPY {src}: excluded by .dockerignore"
        )
    return copied
