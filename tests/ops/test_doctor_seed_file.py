"""``doctor`` reads the seed file as ``seed check`` does: a file that is not UTF-8 or names a key
twice is one failed check with its line, not a traceback."""

from __future__ import annotations

from pathlib import Path

from bot.ops.doctor import Report, Status
from bot.ops.doctor.seed import read_seed

ROOT = Path(__file__).resolve().parents[2]


def test_a_latin1_or_duplicate_key_seed_is_a_failed_check(tmp_path: Path) -> None:
    text = (ROOT / "data" / "seed.yaml").read_text(encoding="utf-8")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(text.replace("Dana Diaz", "Dana Díaz").encode("latin-1"))
    dup = tmp_path / "dup.yaml"
    dup.write_text(text.replace("announcement_channel:", "admins: [fin1]\nannouncement_channel:", 1), encoding="utf-8")
    for path, said in ((latin, "is not UTF-8"), (dup, "duplicate key 'admins'")):
        report = Report()
        assert read_seed(path, report) is None
        (result,) = report.results
        assert result.status is Status.FAIL and said in result.detail and "line " in result.detail
    report = Report()
    assert read_seed(ROOT / "data" / "examples" / "brauhaus-de.yaml", report) is not None
    assert [r.status for r in report.results] == [Status.OK]
