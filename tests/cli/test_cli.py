"""The CLI as a user runs it: a real process, a fresh database, the bundled seed."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e  # every test here runs the bot as a process

ROOT = Path(__file__).resolve().parents[2]
EXE = str(Path(sys.executable).with_name("oncall-bot"))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("ONCALL_", "SLACK_"))}
    e["ONCALL_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    e["HOME"] = str(tmp_path)
    return e


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], env=env, capture_output=True, text=True, input=stdin, cwd=ROOT, timeout=60)


def test_new_database_migrates_and_loads_the_seed_once(env: dict[str, str]) -> None:
    first = run(env, "oncall", "engagement", "--at", "2026-11-30T10:00", "--json")
    assert first.returncode == 0, first.stderr
    assert first.stderr.count("\n") == 1 and "loaded" in first.stderr
    second = run(env, "oncall", "engagement", "--at", "2026-11-30T10:00", "--json")
    assert second.returncode == 0 and second.stderr == ""
    assert first.stdout == second.stdout


def test_oncall_json_keys_and_values(env: dict[str, str]) -> None:
    out = run(env, "oncall", "engagement", "--at", "2026-11-30T10:00", "--json")
    data = json.loads(out.stdout)
    assert set(data) == {"pipeline", "at", "day_type", "holiday", "covered", "window", "primary", "secondary",
                         "until", "next"}
    # Week 4 (Nov 30): DE R2 = de((1 + 4) mod 4 + 1) = de2; frontend member 4 mod 3 = fe2.
    assert data["pipeline"] == "engagement" and data["covered"] is True and data["day_type"] == "business"
    assert data["window"] == "weekday"
    assert data["primary"] == {"id": "de2", "name": "Dev Desai", "team": "data-eng", "slack_user_id": "U0DE00002"}
    assert data["secondary"]["id"] == "fe2"
    assert data["until"] == "2026-11-30T23:00:00+00:00"  # 18:00 EST
    assert data["next"]["at"] == data["until"]


def test_oncall_all_pipelines_on_thanksgiving(env: dict[str, str]) -> None:
    data = json.loads(run(env, "oncall", "--at", "2026-11-26T12:00", "--json").stdout)
    assert [a["pipeline"] for a in data] == ["profit", "growth", "engagement", "aggregate-profit-growth",
                                             "aggregate-engagement"]
    assert {a["day_type"] for a in data} == {"holiday"}
    assert {a["holiday"] for a in data} == {"Thanksgiving Day"}
    growth = data[1]
    assert growth["covered"] is False and growth["next"]["at"] == "2026-11-30T14:00:00+00:00"


def test_schedule_tiles_the_range(env: dict[str, str]) -> None:
    segs = json.loads(run(env, "schedule", "growth", "--from", "2026-11-27", "--to", "2026-12-01", "--json").stdout)
    # Dates alone are whole days: from Nov 27 00:00 EST to the end of Dec 1 (Dec 2 00:00 EST).
    assert segs[0]["start"] == "2026-11-27T05:00:00+00:00" and segs[-1]["end"] == "2026-12-02T05:00:00+00:00"
    for a, b in itertools.pairwise(segs):
        assert a["end"] == b["start"]
    assert [s["covered"] for s in segs] == [False, True, False, True, False]
    assert segs[3] == segs[3] | {"start": "2026-12-01T14:00:00+00:00", "end": "2026-12-01T22:00:00+00:00"}


def test_human_output_names_the_zone(env: dict[str, str]) -> None:
    out = run(env, "oncall", "profit", "--at", "2026-11-28T10:00")
    assert out.returncode == 0
    assert "On call at Sat Nov 28 10:00 EST" in out.stdout
    assert "Profit" in out.stdout and "Drew Doyle (de4)" in out.stdout and "│ weekend │" in out.stdout


def test_ask_renders_as_slack_would(env: dict[str, str]) -> None:
    out = run(env, "ask", "/oncall growth at 2026-11-28T10:00")
    assert out.returncode == 0, out.stderr
    assert "Growth: no one is on call" in out.stdout
    assert "queued for @" in out.stdout and "Mon Nov 30 09:00 EST" in out.stdout


def test_unknown_pipeline_is_one_line_and_exit_2(env: dict[str, str]) -> None:
    out = run(env, "oncall", "engagment")
    assert out.returncode == 2
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("oncall-bot: unknown pipeline 'engagment'. Did you mean engagement")
    assert "Traceback" not in out.stderr


def test_owners(env: dict[str, str]) -> None:
    data = json.loads(run(env, "owners", "clickstream", "--json").stdout)
    assert data[0]["pipeline"] == "engagement"
    assert [t["id"] for t in data[0]["owners"]["primary"]] == ["frontend"]


def test_runbook_json(env: dict[str, str]) -> None:
    data = json.loads(run(env, "runbook", "PROFIT", "--json").stdout)
    assert data["pipeline"] == "profit"
    assert "Pipeline checks must complete by the 3rd business day of the month." in data["slas"]


def test_bad_seed_changes_nothing(env: dict[str, str], tmp_path: Path) -> None:
    run(env, "oncall", "--json")
    before = run(env, "seed", "export").stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text((ROOT / "data/seed.yaml").read_text().replace("primary: finance\n", "primary: finanse\n", 1))
    out = run(env, "seed", "load", str(bad))
    assert out.returncode == 2
    assert "unknown rotation 'finanse' (did you mean 'finance'?)" in out.stderr
    assert "pipelines[0].windows[0].primary" in out.stderr
    assert run(env, "seed", "export").stdout == before


def test_console_reads_commands_until_exit(env: dict[str, str]) -> None:
    out = run(env, "console", "--user", "de2", stdin="/oncall me\n/whoowns churn\nhelp\nexit\n")
    assert out.returncode == 0, out.stderr
    assert "You this week" in out.stdout
    assert "Growth" in out.stdout and "Accounts Team" in out.stdout
    assert "/runbook PIPELINE" in out.stdout


def test_run_without_slack_credentials_runs_the_console(env: dict[str, str]) -> None:
    out = run(env, "run", stdin="/oncall engagement\nexit\n")
    assert out.returncode == 0, out.stderr
    assert "No Slack credentials" in out.stderr and "Engagement" in out.stdout


def test_python_dash_m(env: dict[str, str]) -> None:
    out = subprocess.run([sys.executable, "-m", "bot", "seed", "check", "data/seed.yaml"], env=env,
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and "OK (5 pipelines" in out.stdout


EXAMPLE_DE = "data/examples/brauhaus-de.yaml"


def test_seed_load_on_a_new_database_loads_that_file_then_replaces_and_back(env: dict[str, str]) -> None:
    first = run(env, "seed", "load", EXAMPLE_DE)
    assert first.returncode == 0, first.stderr
    # the new database got this file as its first seed (never the bundled one)
    assert first.stderr.count("\n") == 1 and f"loaded {EXAMPLE_DE} (2 pipelines, 10 people)" in first.stderr
    assert first.stdout == f"{EXAMPLE_DE}: no changes (the database already holds this seed)\n"
    # Epiphany (a Bavarian holiday) 2027 at noon: weekend/holiday window, Platform primary of week
    # 9 (Wed 6 Jan 10:30) = pl((0 + 9) mod 5 + 1) = pl5
    data = json.loads(run(env, "oncall", "umsatz", "--at", "2027-01-06T12:00", "--json").stdout)
    assert data["day_type"] == "holiday" and data["holiday"] == "Epiphany"
    assert data["window"] == "weekend-holiday" and data["primary"]["id"] == "pl5"
    exported = run(env, "seed", "export").stdout
    assert "holiday_subdivision: BY" in exported and "id: controlling" in exported

    bundled = run(env, "seed", "load", "data/seed.yaml")
    assert bundled.returncode == 0, bundled.stderr
    assert bundled.stdout.startswith("data/seed.yaml: loaded (") and "SeedChanges" not in bundled.stdout
    assert "teams: 6 added, 3 removed" in bundled.stdout and "pipelines: 5 added, 2 removed" in bundled.stdout
    assert json.loads(run(env, "oncall", "growth", "--at", "2026-11-30T10:00", "--json").stdout)["covered"]

    again = run(env, "seed", "load", EXAMPLE_DE)
    assert again.returncode == 0 and "teams: 3 added, 6 removed" in again.stdout
    assert run(env, "seed", "export").stdout == exported
    assert run(env, "oncall", "growth", "--json").returncode != 0


def test_seed_files_with_duplicate_keys_or_latin1_are_refused_in_one_line(env: dict[str, str], tmp_path: Path) -> None:
    text = (ROOT / "data/seed.yaml").read_text(encoding="utf-8")
    dup = tmp_path / "dup.yaml"
    dup.write_text(text.replace("admins: [de1]\n", "admins: [de1]\nadmins: [fin1]\n", 1), encoding="utf-8")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(text.replace("Aaron Abbott", "Aarón Abbott", 1).encode("latin-1"))
    line_of_admins = text.splitlines().index("admins: [de1]") + 2
    line_of_aaron = next(i for i, ln in enumerate(text.splitlines(), 1) if "Aaron Abbott" in ln)
    for command in ("check", "load"):
        out = run(env, "seed", command, str(dup))
        assert out.returncode == 2 and "Traceback" not in out.stderr
        assert out.stderr == (f"oncall-bot: {dup}: line {line_of_admins}, column 1: invalid YAML: "
                              f"duplicate key 'admins' (first at line {line_of_admins - 1})\n")
        out = run(env, "seed", command, str(latin))
        assert out.returncode == 2 and "Traceback" not in out.stderr and out.stderr.count("\n") == 1
        assert f"{latin}: line {line_of_aaron}, column " in out.stderr
        assert "byte 0xf3 is not UTF-8 (save the file as UTF-8)" in out.stderr
    assert not (tmp_path / "cli.db").exists()  # a refused file does not even create the database


def test_seed_check_refuses_an_unknown_holiday_subdivision(env: dict[str, str], tmp_path: Path) -> None:
    text = (ROOT / EXAMPLE_DE).read_text(encoding="utf-8")
    for wrong, hint in (("XX", ""), ("by", " (did you mean 'BY'?)"), ("Bayrn", " (did you mean 'Bayern'?)")):
        bad = tmp_path / f"{wrong}.yaml"
        bad.write_text(text.replace("holiday_subdivision: BY", f"holiday_subdivision: {wrong}"), encoding="utf-8")
        out = run(env, "seed", "check", str(bad))
        assert out.returncode == 2
        line = next(i for i, ln in enumerate(text.splitlines(), 1) if ln.startswith("  holiday_subdivision:"))
        assert out.stderr.startswith(f"oncall-bot: {bad}: calendar.holiday_subdivision: unknown subdivision "
                                     f"'{wrong}' of holiday country DE{hint}; one of BB, BE, BW, BY,")
        assert out.stderr.endswith(f"(line {line})\n")
    nosub = tmp_path / "nosub.yaml"
    nosub.write_text((ROOT / "data/seed.yaml").read_text(encoding="utf-8").replace(
        "holiday_country: US\n", "holiday_country: IS\n  holiday_subdivision: NY\n"), encoding="utf-8")
    out = run(env, "seed", "check", str(nosub))
    assert out.returncode == 2 and "holiday country IS has no subdivisions" in out.stderr


def test_seed_check_passes_every_example(env: dict[str, str]) -> None:
    for path in sorted((ROOT / "data" / "examples").glob("*.yaml")):
        out = run(env, "seed", "check", str(path))
        assert out.returncode == 0 and out.stdout.endswith("OK (2 pipelines, 10 people, 3 rotations)\n"), out.stderr


# --- issue 11 §4: a console and CLI that understand people ---------------------------------------


def test_console_answers_mentions_people_and_times(env: dict[str, str]) -> None:
    lines = ["@oncall who owns clickstream?", "@oncall who is on call for growth?", "/oncall @fe2",
             "/oncall @Fay Ellis", "/oncall growth at saturday noon", "/oncall growth at yesterday", "exit"]
    out = run(env, "console", stdin="\n".join(lines) + "\n")
    assert out.returncode == 0, out.stderr
    assert "I don't know a pipeline" not in out.stdout and "is not a time" not in out.stdout
    assert "Frontend" in out.stdout  # clickstream's owners
    assert "Growth" in out.stdout
    assert out.stdout.count("Fay Ellis") >= 2  # both person lines answered about her


def test_console_me_without_user_says_how_to_be_someone(env: dict[str, str]) -> None:
    out = run(env, "console", stdin="/oncall me\n")
    assert out.returncode == 0
    assert "I don't know who you are" in out.stdout and "--user" in out.stdout
    assert run(env, "ask", "/oncall me").returncode == 2
    wrong = run(env, "ask", "/oncall me", "--user", "nobody")
    assert wrong.returncode == 2 and "'nobody' is not a person id of the seed" in wrong.stdout


def test_console_fairness_and_calendar_are_terminal_text(env: dict[str, str]) -> None:
    out = run(env, "console", "--user", "de2", stdin="/oncall fairness\n/oncall calendar\n")
    assert out.returncode == 0, out.stderr
    assert "```" not in out.stdout and "Finance Team" in out.stdout
    links = [w for w in out.stdout.split() if w.startswith(("http://", "(http://"))]
    assert links and len(links) == len(set(links))  # every link once


def test_ask_not_understood_mention_is_a_user_error(env: dict[str, str]) -> None:
    out = run(env, "ask", "@oncall what is the weather")
    assert out.returncode == 2 and "I did not catch that" in out.stdout


def test_nothing_found_exits_1_with_one_line(env: dict[str, str]) -> None:
    text = run(env, "owners", "nonsense")
    assert text.returncode == 1 and len(text.stdout.strip().splitlines()) == 1
    assert "nonsense" in text.stdout
    js = run(env, "owners", "nonsense", "--json")
    assert js.returncode == 1 and json.loads(js.stdout) == []
    assert js.stderr.strip().splitlines()[-1] == "oncall-bot: nothing I know of holds 'nonsense'"
    assert run(env, "ask", "/whoowns nonsense").returncode == 1
    assert run(env, "owners", "clickstream").returncode == 0


def test_closed_pipe_ends_quietly(env: dict[str, str]) -> None:
    run(env, "oncall", "--json")  # create the database first
    for args in (["seed", "schema"], ["seed", "export"]):
        proc = subprocess.Popen([EXE, *args], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.read(10)
        proc.stdout.close()  # as `| head -c 10` does
        err = proc.stderr.read().decode()
        proc.wait(timeout=60)
        assert "Traceback" not in err and "BrokenPipeError" not in err, err
        assert proc.returncode in (0, 141)


def test_a_bare_date_is_a_whole_day_in_every_range(env: dict[str, str]) -> None:
    # calendar --to DATE includes that day: the Dec 31 occurrences are there.
    day = json.loads(run(env, "calendar", "--from", "2026-12-31", "--to", "2026-12-31", "--json").stdout)
    wider = json.loads(run(env, "calendar", "--from", "2026-12-31T00:00", "--to", "2027-01-01T00:00", "--json").stdout)
    assert day == wider and len(day) == 2 and {o["at"] for o in day} == {"2026-12-31T14:00:00+00:00"}
    # fairness: the same range whether said with dates or with the days' midnights
    dates = json.loads(run(env, "fairness", "--from", "2026-11-02", "--to", "2026-11-08", "--json").stdout)
    times = json.loads(run(env, "fairness", "--from", "2026-11-02T00:00", "--to", "2026-11-09T00:00", "--json").stdout)
    assert dates == times and dates["to"] == "2026-11-09T05:00:00+00:00"
    # schedule --to DATE ends at the next midnight; --at DATE is that day's 12:00
    segs = json.loads(run(env, "schedule", "profit", "--from", "2026-12-31", "--to", "2026-12-31", "--json").stdout)
    assert segs[0]["start"] == "2026-12-31T05:00:00+00:00" and segs[-1]["end"] == "2027-01-01T05:00:00+00:00"
    at = json.loads(run(env, "oncall", "profit", "--at", "2026-12-31", "--json").stdout)
    assert at["at"] == "2026-12-31T17:00:00+00:00"
