"""Edit a seed file's text in place: read the people (tolerantly, before the file validates) and
set their ``slack_user_id`` values, keeping every other byte (comments, order, quoting, layout).

Pure: text in, text out. The YAML node positions (``yaml.compose``) say where each value is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import yaml

from bot.seed.validate import SeedError

_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


@dataclass(frozen=True)
class SeedPerson:
    """A person as the file has them: ``slack_user_id`` None when missing or empty; ``line`` 1-based."""

    id: str
    name: str
    email: str | None
    slack_user_id: str | None
    line: int


def _compose(text: str, source: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise SeedError(source, [f"{where}not valid YAML: {getattr(exc, 'problem', None) or exc}"]) from None


def _people_node(root: yaml.Node | None, source: str) -> yaml.SequenceNode:
    if not isinstance(root, yaml.MappingNode):
        raise SeedError(source, ["the seed is not a mapping of sections"])
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "people":
            if not isinstance(value, yaml.SequenceNode):
                line = value.start_mark.line + 1
                raise SeedError(source, [f"line {line}: people: must be a list of people"])
            return value
    raise SeedError(source, ["no people: section"])


def _fields(node: yaml.Node) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                out[str(key.value)] = (key, value)
    return out


def _scalar(fields: Mapping[str, tuple[yaml.Node, yaml.Node]], name: str) -> str | None:
    pair = fields.get(name)
    if pair is None or not isinstance(pair[1], yaml.ScalarNode):
        return None
    value = str(pair[1].value).strip()
    return value or None


def people_in_text(text: str, source: str = "seed") -> list[SeedPerson]:
    """The people of a seed file's text, in file order. A person without an ``id`` raises
    ``SeedError`` with its line; a missing name or email is None/the id (``seed check`` says more)."""
    seq = _people_node(_compose(text, source), source)
    out: list[SeedPerson] = []
    for item in seq.value:
        fields = _fields(item)
        pid = _scalar(fields, "id")
        line = item.start_mark.line + 1
        if pid is None:
            raise SeedError(source, [f"line {line}: a person without an id"])
        out.append(SeedPerson(pid, _scalar(fields, "name") or pid, _scalar(fields, "email"),
                              _scalar(fields, "slack_user_id"), line))
    return out


def _offsets(text: str) -> list[int]:
    """The character offset of each line's start."""
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    return starts


def set_slack_ids(text: str, ids: Mapping[str, str], source: str = "seed") -> str:
    """``text`` with each person in ``ids`` (person id -> Slack id) given that ``slack_user_id``.

    Only those values change: an existing value is replaced where it stands (keeping its quotes);
    a missing key is added to the person's mapping (``, slack_user_id: X`` in a ``{...}`` mapping,
    else a line with the mapping's indentation). Raises ``SeedError`` for a Slack id that is not
    one, or a person ``ids`` names that the file lacks."""
    for who, sid in ids.items():
        if not _SLACK_ID.match(sid):
            raise SeedError(source, [f"{sid!r} (for {who}) is not a Slack user id"])
    seq = _people_node(_compose(text, source), source)
    starts = _offsets(text)

    def at(mark: yaml.Mark) -> int:
        return starts[mark.line] + mark.column

    edits: list[tuple[int, int, str]] = []  # (start, end, replacement), applied from the end
    seen: set[str] = set()
    for item in seq.value:
        fields = _fields(item)
        pid = _scalar(fields, "id")
        if pid is None or pid not in ids:
            continue
        seen.add(pid)
        new = ids[pid]
        pair = fields.get("slack_user_id")
        if pair is not None:
            key, value = pair
            style = value.style if isinstance(value, yaml.ScalarNode) else None
            quote = style if style in ("'", '"') else ""
            start, end = at(value.start_mark), at(value.end_mark)
            if start == end:  # `slack_user_id:` with nothing after it: the value goes after the colon
                colon = text.index(":", at(key.end_mark)) + 1
                edits.append((colon, colon, f" {new}"))
            else:
                edits.append((start, end, f"{quote}{new}{quote}"))
            continue
        if not isinstance(item, yaml.MappingNode):
            continue
        if item.flow_style:
            end = at(item.end_mark) - 1  # the closing brace
            while end > 0 and text[end] != "}":
                end -= 1
            edits.append((end, end, f", slack_user_id: {new}"))
        else:
            first_key = item.value[0][0]
            indent = " " * first_key.start_mark.column
            end = at(item.value[-1][1].end_mark)
            if item.value[-1][1].end_mark.column == 0 and end > 0:  # a nested block ends at the next line
                edits.append((end, end, f"{indent}slack_user_id: {new}\n"))
            else:
                line_end = text.find("\n", end)
                line_end = len(text) if line_end == -1 else line_end
                edits.append((line_end, line_end, f"\n{indent}slack_user_id: {new}"))
    missing = sorted(set(ids) - seen)
    if missing:
        raise SeedError(source, [f"no person {', '.join(missing)} in people:"])
    for start, end, new_text in sorted(edits, reverse=True):
        text = text[:start] + new_text + text[end:]
    return text
