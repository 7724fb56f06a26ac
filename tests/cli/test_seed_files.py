"""Reading seed files: keys named twice and bytes that are not UTF-8 are refused with where."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.seed.validate import SeedError, decode_seed_bytes, parse_seed_text, read_seed_file

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "data" / "seed.yaml").read_text(encoding="utf-8")


def problems(text: str) -> list[str]:
    with pytest.raises(SeedError) as err:
        parse_seed_text(text, "s.yaml")
    return err.value.problems


def test_a_key_named_twice_anywhere_is_refused() -> None:
    # in a block mapping (a second `admins:` would silently replace the first)
    lines = TEXT.splitlines()
    n = lines.index("admins: [de1]") + 1
    assert problems(TEXT.replace("admins: [de1]\n", "admins: [de1]\nadmins: [fin1]\n", 1)) == [
        f"line {n + 1}, column 1: invalid YAML: duplicate key 'admins' (first at line {n})"
    ]
    # in a flow mapping on one line
    row = next(i for i, ln in enumerate(lines, 1) if "id: acc2," in ln)
    one_line = TEXT.replace("{id: acc2, name: Alice Archer,", "{id: acc2, name: Alice Archer, id: acc3,", 1)
    (problem,) = problems(one_line)
    assert problem.startswith(f"line {row}, column ") and "duplicate key 'id' (first at line " in problem
    assert f"line {row}, column 6)" in problem
    # in a nested mapping
    nested = TEXT.replace('    short_name: Finance\n', '    short_name: Finance\n    short_name: Fin\n', 1)
    assert "duplicate key 'short_name'" in problems(nested)[0]
    # the same word as a key of different mappings, or as a value, is fine
    assert parse_seed_text(TEXT, "s.yaml").admins == ["de1"]


def test_bytes_that_are_not_utf8_are_located() -> None:
    data = "version: 1\nteams:\n  - {id: a, name: Müller}\n".encode("latin-1")
    with pytest.raises(SeedError) as err:
        decode_seed_bytes(data, "m.yaml")
    assert str(err.value) == "m.yaml: line 3, column 20: byte 0xfc is not UTF-8 (save the file as UTF-8)"
    assert decode_seed_bytes(b"\xef\xbb\xbfversion: 1\n") == "version: 1\n"  # a byte-order mark is fine
    assert decode_seed_bytes("name: Müller\n".encode()) == "name: Müller\n"


def test_read_seed_file_refuses_latin1(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(TEXT.replace("Dana Diaz", "Dana Díaz").encode("latin-1"))
    with pytest.raises(SeedError, match=r"line \d+, column \d+: byte 0xed is not UTF-8"):
        read_seed_file(path)
