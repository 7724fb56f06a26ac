"""Read a seed file into core values, or say exactly where and what is wrong.

Nothing is loaded from a file with any error: ``load_seed_text`` either returns a complete
``Directory`` or raises ``SeedError`` listing every problem as ``path: message`` (with the YAML
line where it is known).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.core.model import Directory
from bot.seed.convert import Checker, to_directory
from bot.seed.schema import SeedIn

# libyaml when it is there: the pure-Python parser takes seconds on a 1,000-pipeline file.
_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_BASE_LOADER):  # type: ignore[misc]
    """The safe loader, refusing a mapping that names a key twice (YAML says keys are unique;
    PyYAML would silently keep the last one, e.g. a second ``admins:`` replacing the first)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[tuple[str, str], yaml.Mark] = {}
        for key_node, _value in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue  # (seed files have scalar keys only; the schema refuses anything else)
            key = (key_node.tag, key_node.value)
            first = seen.get(key)
            if first is not None:
                where = f"line {first.line + 1}" + (f", column {first.column + 1}"
                                                    if first.line == key_node.start_mark.line else "")
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key_node.value}' (first at {where})", key_node.start_mark
                )
            seen[key] = key_node.start_mark
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


_LOADER: Any = _UniqueKeyLoader


class SeedError(ValueError):
    """A seed file that cannot be loaded; ``problems`` are ``path: message`` lines."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__(f"{source}: " + "; ".join(self.problems) if len(self.problems) == 1 else
                         f"{source}: {len(self.problems)} problems:\n  " + "\n  ".join(self.problems))


def _fmt_loc(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


class _Lines:
    """Maps a path in the YAML document to its line number, for messages."""

    def __init__(self, text: str) -> None:
        try:
            self.root: yaml.Node | None = yaml.compose(text, Loader=_LOADER)
        except yaml.YAMLError:
            self.root = None

    def line(self, loc: Sequence[str | int]) -> int | None:
        node = self.root
        best = None
        for part in loc:
            if node is None:
                break
            best = node.start_mark.line + 1
            nxt = None
            if isinstance(node, yaml.MappingNode) and isinstance(part, str):
                for k, v in node.value:
                    if getattr(k, "value", None) == part:
                        nxt = v
                        best = k.start_mark.line + 1
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                nxt = node.value[part]
            node = nxt
        if node is not None:
            best = node.start_mark.line + 1
        return best


def parse_seed_text(text: str, source: str = "seed") -> SeedIn:
    """Validate seed YAML; raise ``SeedError`` naming every problem's path (and line)."""
    try:
        raw = yaml.load(text, Loader=_LOADER)  # _LOADER is a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise SeedError(source, [f"{where}: invalid YAML: {exc.problem}"]) from None
    except yaml.YAMLError as exc:
        raise SeedError(source, [f"invalid YAML: {exc}"]) from None
    if not isinstance(raw, dict):
        raise SeedError(source, ["the file must be a mapping with calendar, teams, people, ..."])
    lines: list[_Lines] = []

    def located(loc: Sequence[str | int], msg: str) -> str:
        if not lines:  # composing the node tree again costs; only on the error path
            lines.append(_Lines(text))
        line = lines[0].line(loc)
        return f"{_fmt_loc(loc)}: {msg}" + (f" (line {line})" if line else "")

    try:
        seed = SeedIn.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for e in exc.errors(include_url=False, include_input=False):
            loc = [p for p in e["loc"] if not (isinstance(p, str) and p.startswith(("function-", "literal[")))]
            msg = str(e["msg"]).removeprefix("Value error, ")
            problems.append(located(loc, msg))
        raise SeedError(source, problems) from None
    checker = Checker(seed, [])
    checker.run()
    if checker.problems:
        raise SeedError(source, [located(loc, msg) for loc, msg in checker.problems])
    return seed


def load_seed_text(text: str, source: str = "seed") -> Directory:
    """A ``Directory`` from seed YAML text, or ``SeedError``."""
    return to_directory(parse_seed_text(text, source))


def read_seed_file(path: str | Path) -> SeedIn:
    """Read and validate a seed file; ``SeedError`` names every problem (or a missing file)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise SeedError(str(p), [f"cannot read: {exc.strerror}"]) from None
    return parse_seed_text(decode_seed_bytes(data, str(p)), str(p))


def decode_seed_bytes(data: bytes, source: str = "seed") -> str:
    """The text of a seed file, which must be UTF-8 (a leading byte-order mark is dropped);
    ``SeedError`` with the line and column of the first byte that is not."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        line = data.count(b"\n", 0, start) + 1
        column = start - (data.rfind(b"\n", 0, start) + 1) + 1
        raise SeedError(source, [
            f"line {line}, column {column}: byte 0x{data[start]:02x} is not UTF-8 "
            "(save the file as UTF-8)"
        ]) from None


def load_seed_file(path: str | Path) -> Directory:
    """A ``Directory`` from a seed file, or ``SeedError`` (also for a missing file)."""
    return to_directory(read_seed_file(path))


def dump_seed(seed: SeedIn) -> str:
    """Deterministic YAML of a seed, in the file's shape (defaults left out)."""
    data = seed.model_dump(mode="json", exclude_defaults=True)
    data = {"version": 1, **data}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
