"""Parsing ``/oncall override|swap|away|changes|cancel|calendar|fairness`` and resolving them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.commands.changes import (
    AwayCommand,
    CalendarCommand,
    CancelCommand,
    ChangeModal,
    ChangesCommand,
    FairnessCommand,
    OverrideCommand,
    SwapCommand,
    fairness_range,
    parse_change,
    resolve_request,
    split_range,
    week_instant,
)
from bot.commands.parse import OncallPipeline, UsageError, parse_command
from bot.commands.results import NotFound, Problem
from bot.core.changes import ChangeKind, ChangeRequest, Target
from bot.services.snapshot import Snapshot

from .helpers import TZ, local, seed

THU = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)  # Thanksgiving, 10:00 in New York
DEV = "<@U0DE00002|dev>"
DORA = "<@U0DE00003>"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("override", ChangeModal(ChangeKind.OVERRIDE)),
        ("swap", ChangeModal(ChangeKind.SWAP)),
        ("Away", ChangeModal(ChangeKind.AWAY)),
        ("override R1 @dev fri 09:00 mon 09:00 the release",
         OverrideCommand("R1", "@dev", "fri 09:00 mon 09:00 the release")),
        (f"override DE R1 {DEV} tomorrow 9:00 friday 17:00",
         OverrideCommand("DE R1", DEV, "tomorrow 9:00 friday 17:00")),
        (f"swap {DEV} {DORA} next week", SwapCommand(DEV, DORA, "next week")),
        (f"swap {DEV} {DORA}", SwapCommand(DEV, DORA, "this week")),
        ("away dec 24 dec 31 @dev", AwayCommand("dec 24 dec 31", None, "@dev")),
        ("away dec 24 dec 31", AwayCommand("dec 24 dec 31")),
        (f"away {DEV} dec 24 dec 31", AwayCommand("dec 24 dec 31", DEV)),
        (f"away {DEV} dec 24 dec 31 {DORA} flu", AwayCommand("dec 24 dec 31 flu", DEV, DORA)),
        ("changes", ChangesCommand()),
        ("changes aggregate profit", ChangesCommand("aggregate profit")),
        ("cancel 12", CancelCommand(12)),
        ("changes cancel #12", CancelCommand(12)),
        ("calendar", CalendarCommand()),
        ("calendar reset", CalendarCommand(reset=True)),
        ("fairness", FairnessCommand()),
        ("fairness 2026-11-01 2026-11-30", FairnessCommand("2026-11-01 2026-11-30")),
        ("engagement", None),
        ("schedule profit 3", None),
        ("", None),
    ],
)
def test_parse_change(text: str, expected: object) -> None:
    assert parse_change(text) == expected


@pytest.mark.parametrize(
    "text",
    ["override R1 tomorrow friday", "override @dev tomorrow friday", "override R1 @dev", "swap @dev",
     "cancel", "cancel twelve", "calendar please", "away @dev"],
)
def test_parse_change_usage_errors(text: str) -> None:
    with pytest.raises(UsageError) as exc:
        parse_change(text)
    assert exc.value.command == "/oncall" and "`/oncall" in str(exc.value)


def test_parse_command_routes_changes_and_leaves_the_rest() -> None:
    assert parse_command("/oncall", "override R1 @dev mon tue") == OverrideCommand("R1", "@dev", "mon tue")
    assert parse_command("/oncall", "calendar") == CalendarCommand()
    assert parse_command("/oncall", "engagement at saturday") == OncallPipeline("engagement", "saturday")


@pytest.mark.parametrize(
    ("text", "start", "end", "rest"),
    [
        ("dec 24 dec 26", local(2026, 12, 24), local(2026, 12, 27), ""),  # dates are whole days
        ("tomorrow 09:00 friday 17:00 dentist", local(2026, 11, 27, 9), local(2026, 11, 27, 17), "dentist"),
        ("from 2026-12-01T09:00 to 2026-12-02T09:00 cover", local(2026, 12, 1, 9), local(2026, 12, 2, 9), "cover"),
        ("tomorrow 09:00 17:00", local(2026, 11, 27, 9), local(2026, 11, 27, 17), ""),  # a time alone: same day
        ("tomorrow 18:00 - 8am", local(2026, 11, 27, 18), local(2026, 11, 28, 8), ""),  # or the next
        ("mon tue", local(2026, 11, 30), local(2026, 12, 2), ""),
        ("now tomorrow", THU, local(2026, 11, 28), ""),
        ("2026-11-28 until 2026-11-29 long weekend", local(2026, 11, 28), local(2026, 11, 30), "long weekend"),
    ],
)
def test_split_range(text: str, start: datetime, end: datetime, rest: str) -> None:
    got = split_range(text, THU, TZ)
    assert not isinstance(got, str), got
    assert (got[0], got[1], got[2]) == (start, end, rest)


@pytest.mark.parametrize("text", ["", "whenever", "soon later"])
def test_split_range_says_what_it_accepts(text: str) -> None:
    got = split_range(text, THU, TZ)
    assert isinstance(got, str) and "dec 24 dec 31" in got


def test_week_instant() -> None:
    assert week_instant("this week", THU, TZ) == THU
    assert week_instant("next week", THU, TZ) == local(2026, 12, 3, 10)
    assert week_instant("week of dec 7", THU, TZ) == local(2026, 12, 7, 12)
    assert isinstance(week_instant("blursday", THU, TZ), str)


def test_fairness_range() -> None:
    assert fairness_range(FairnessCommand(), THU, TZ) == (local(2026, 9, 4), local(2026, 11, 27))
    assert fairness_range(FairnessCommand("2026-11-01 2026-11-30"), THU, TZ) == (local(2026, 11, 1), local(2026, 12, 1))
    assert isinstance(fairness_range(FairnessCommand("2026-11-01 2026-11-30 please"), THU, TZ), str)


def _snap() -> Snapshot:
    return Snapshot.build(seed()[0])


def test_resolve_override() -> None:
    cmd = parse_change(f"override DE R1 {DORA} tomorrow 09:00 friday 17:00 covering the release")
    assert isinstance(cmd, OverrideCommand)
    assert resolve_request(cmd, _snap(), THU, "de2") == ChangeRequest(
        ChangeKind.OVERRIDE, "de2", local(2026, 11, 27, 9), local(2026, 11, 27, 17), "de3",
        target=Target("data-eng", "R1"), reason="covering the release")
    unknown = resolve_request(OverrideCommand("R9", DORA, "mon tue"), _snap(), THU, "de2")
    assert isinstance(unknown, NotFound) and unknown.kind == "target"
    bad_time = resolve_request(OverrideCommand("R1", DORA, "whenever"), _snap(), THU, "de2")
    assert isinstance(bad_time, Problem)
    nobody = resolve_request(OverrideCommand("R1", "<@U0NOBODY>", "mon tue"), _snap(), THU, "de2")
    assert isinstance(nobody, Problem)


def test_resolve_swap_takes_the_rotation_week() -> None:
    got = resolve_request(SwapCommand(DEV, "@de3", "next week"), _snap(), THU, "de1")
    # Thu Dec 3 is in the week Mon Nov 30 09:00 - Mon Dec 7 09:00
    assert got == ChangeRequest(ChangeKind.SWAP, "de1", local(2026, 11, 30, 9), local(2026, 12, 7, 9), "de2",
                                other="de3")
    assert isinstance(resolve_request(SwapCommand("@risk1", "@risk1", "this week"), _snap(), THU, "de1"), Problem)


def test_resolve_away_defaults_to_the_requester() -> None:
    got = resolve_request(AwayCommand("dec 24 dec 26 family", None, DORA), _snap(), THU, "de2")
    assert got == ChangeRequest(ChangeKind.AWAY, "de2", local(2026, 12, 24), local(2026, 12, 27), "de2",
                                other="de3", reason="family")
    someone = resolve_request(AwayCommand("dec 24 dec 26", "@fin2"), _snap(), THU, "fin1")
    assert isinstance(someone, ChangeRequest) and someone.person == "fin2" and someone.actor == "fin1"
    stranger = resolve_request(AwayCommand("dec 24 dec 26"), _snap(), THU, None)
    assert isinstance(stranger, Problem)
