"""Rotations of small companies built in code: offsets on a team of three, one-member and empty
rotations, aware anchors, other periods, overrides in every order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.answer import Holder
from bot.core.model import SlotRef
from bot.core.rotation import (
    apply_overrides,
    handoff_changes,
    member_for,
    resolve_slot,
    roles_of,
    rotation_holder,
    slots_of,
    week_index,
    week_start,
)

from .companies import ANCHOR, BERLIN, acme, berlin, override

DIRECTORY = acme().rotation("empty", []).directory()
TRIO = DIRECTORY.rotations["trio"]
SOLO = DIRECTORY.rotations["solo"]
PAIR = DIRECTORY.rotations["pair"]
WEEK1 = berlin(2027, 1, 11, 10)  # Monday 10:00 local, week 1


@pytest.mark.parametrize(("k", "plus", "minus"), [(0, "a2", "a3"), (1, "a3", "a1"), (2, "a1", "a2"), (-1, "a1", "a2")])
def test_a_team_of_three_tells_plus_one_from_minus_one(k: int, plus: str, minus: str) -> None:
    assert member_for(TRIO, None, 0, k) == ["a1", "a2", "a3"][k % 3]
    assert member_for(TRIO, None, 1, k) == plus
    assert member_for(TRIO, None, -1, k) == minus


def test_role_rotation_with_offsets() -> None:
    assert [member_for(PAIR, r, 0, 0) for r in ("P", "S")] == ["p1", "p2"]
    assert [member_for(PAIR, r, 0, 1) for r in ("P", "S")] == ["p2", "p3"]
    assert member_for(PAIR, "S", 1, 1) == "p1"
    assert member_for(PAIR, "S", -1, 1) == "p2"
    assert member_for(PAIR, "P", -1, 0) == "p3"


def test_one_member_rotation_always_answers_that_member() -> None:
    for k in (-1, 0, 1, 2):
        for offset in (-1, 0, 1):
            assert member_for(SOLO, None, offset, k) == "s1"


def test_empty_rotation_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match=r"^rotation 'empty' has no members$"):
        member_for(DIRECTORY.rotations["empty"], None, 0, 0)


def test_role_errors_name_the_rotation_and_the_roles() -> None:
    with pytest.raises(ValueError, match=r"^rotation 'trio' has no roles \(got role 'P'\)$"):
        member_for(TRIO, "P", 0, 0)
    with pytest.raises(ValueError, match=r"^rotation 'pair' has roles P, S; got 'Z'$"):
        member_for(PAIR, "Z", 0, 0)
    with pytest.raises(ValueError, match=r"^rotation 'pair' has roles P, S; got None$"):
        member_for(PAIR, None, 0, 0)


def test_weeks_start_at_the_local_handoff() -> None:
    assert week_start(TRIO, 0, BERLIN) == datetime(2027, 1, 4, 8, tzinfo=UTC)
    assert week_start(TRIO, 0, BERLIN).tzinfo is UTC
    assert week_start(TRIO, 13, BERLIN) == datetime(2027, 4, 5, 7, tzinfo=UTC)  # summer time
    assert week_index(TRIO, berlin(2027, 1, 4, 9), BERLIN) == 0
    assert week_index(TRIO, berlin(2027, 1, 4, 9) - timedelta(microseconds=1), BERLIN) == -1
    assert week_index(TRIO, berlin(2027, 1, 11, 8, 59), BERLIN) == 0
    assert week_index(TRIO, berlin(2026, 12, 28, 9), BERLIN) == -1
    assert week_index(TRIO, berlin(2026, 12, 28, 8), BERLIN) == -2


@pytest.mark.parametrize(
    ("zone", "anchor"),
    [
        ("Asia/Tokyo", datetime(2027, 1, 4, 6, 0)),  # 21:00 UTC the day before: the UTC date lags
        ("Pacific/Kiritimati", datetime(2027, 1, 4, 9, 0)),  # UTC+14
        ("America/New_York", datetime(2027, 1, 4, 21, 0)),  # 02:00 UTC the day after: the UTC date leads
        ("Pacific/Pago_Pago", datetime(2027, 1, 4, 9, 0)),  # UTC-11
    ],
)
def test_week_index_on_either_side_of_utc(zone: str, anchor: datetime) -> None:
    tz = ZoneInfo(zone)
    rot = acme().rotation("far", ["f1", "f2", "f3"], anchor=anchor).rotations["far"]
    for k in (-8, -1, 0, 1, 2, 30):
        start = week_start(rot, k, tz)
        assert start.astimezone(tz).replace(tzinfo=None) == anchor + timedelta(days=7 * k)
        for at in (start, start + timedelta(minutes=1), start + timedelta(hours=3), start + timedelta(days=1)):
            assert week_index(rot, at, tz) == k
        for at in (start - timedelta(microseconds=1), start - timedelta(hours=3), start - timedelta(days=1)):
            assert week_index(rot, at, tz) == k - 1
    daily = acme().rotation("d", ["d1"], anchor=anchor, period_days=1).rotations["d"]
    start = week_start(daily, 5, tz)
    assert week_index(daily, start, tz) == 5 and week_index(daily, start - timedelta(seconds=1), tz) == 4


def test_other_periods() -> None:
    d = acme().rotation("fortnight", ["f1", "f2"], period_days=14).rotation("daily", ["d1", "d2", "d3"], period_days=1)
    fortnight, daily = d.rotations["fortnight"], d.rotations["daily"]
    assert week_start(fortnight, 1, BERLIN) == berlin(2027, 1, 18, 9)
    assert week_index(fortnight, berlin(2027, 1, 18, 8), BERLIN) == 0
    assert week_index(fortnight, berlin(2027, 1, 18, 9), BERLIN) == 1
    assert week_index(fortnight, berlin(2026, 12, 21, 9), BERLIN) == -1
    assert week_index(daily, berlin(2027, 1, 7, 12), BERLIN) == 3
    assert week_index(daily, berlin(2027, 1, 7, 8), BERLIN) == 2
    directory = d.directory()
    assert resolve_slot(directory, SlotRef("daily"), berlin(2027, 1, 7, 12)).person == "d1"
    assert resolve_slot(directory, SlotRef("fortnight"), berlin(2027, 1, 17, 12)).person == "f1"


@pytest.mark.parametrize(
    "anchor",
    [
        datetime(2027, 1, 4, 8, tzinfo=UTC),  # 09:00 CET
        datetime(2027, 1, 4, 3, tzinfo=ZoneInfo("America/New_York")),  # 03:00 EST = 09:00 CET
        datetime(2027, 1, 4, 9, tzinfo=BERLIN),
    ],
)
def test_an_aware_anchor_is_read_as_berlin_wall_clock(anchor: datetime) -> None:
    company = acme().rotation("aware", ["w1", "w2", "w3"], anchor=anchor)
    rot = company.rotations["aware"]
    naive = company.rotations["trio"]
    for k in (-2, 0, 1, 13, 40):  # across both DST changes: the handoff stays 09:00 local
        assert week_start(rot, k, BERLIN) == week_start(naive, k, BERLIN)
        assert week_start(rot, k, BERLIN).astimezone(BERLIN).strftime("%a %H:%M") == "Mon 09:00"
    for at in (berlin(2027, 1, 4, 9), berlin(2027, 1, 4, 8, 59), berlin(2027, 7, 5, 8), berlin(2026, 12, 30, 23)):
        assert week_index(rot, at, BERLIN) == week_index(naive, at, BERLIN)
    directory = company.directory()
    assert resolve_slot(directory, SlotRef("aware", None, 1), berlin(2027, 4, 5, 9)).person == "w3"  # week 13: 14 mod 3


def test_resolve_slot_counts_weeks_in_the_company_zone() -> None:
    # the same UTC instant is before the Monday 09:00 handoff in Berlin but after it in Tokyo
    at = datetime(2027, 1, 11, 7, 30, tzinfo=UTC)  # 08:30 Berlin, 16:30 Tokyo
    assert resolve_slot(DIRECTORY, SlotRef("trio"), at).person == "a1"
    tokyo = acme()
    tokyo.spec = type(tokyo.spec)("Asia/Tokyo", "JP")
    assert resolve_slot(tokyo.directory(), SlotRef("trio"), at).person == "a2"


def test_person_slots() -> None:
    assert rotation_holder(DIRECTORY, SlotRef("@person", "zed"), WEEK1, BERLIN) == "zed"
    with pytest.raises(ValueError, match=r"^a person slot needs the person id as its role$"):
        rotation_holder(DIRECTORY, SlotRef("@person"), WEEK1, BERLIN)
    with pytest.raises(KeyError):
        rotation_holder(DIRECTORY, SlotRef("nope"), WEEK1, BERLIN)


# -- overrides ------------------------------------------------------------------------------


T = berlin(2027, 1, 12, 12)  # week 1: trio a2, pair P p2 / S p3
DAY = (berlin(2027, 1, 12), berlin(2027, 1, 13))


def test_an_override_covers_start_but_not_end() -> None:
    o = override(1, "zed", T, T + timedelta(hours=1), rotation="trio")
    assert resolve_slot(DIRECTORY, SlotRef("trio"), T, [o]) == Holder("zed", SlotRef("trio"), 1)
    end = T + timedelta(hours=1)
    assert resolve_slot(DIRECTORY, SlotRef("trio"), end, [o]) == Holder("a2", SlotRef("trio"), None)
    assert resolve_slot(DIRECTORY, SlotRef("trio"), T - timedelta(microseconds=1), [o]).person == "a2"


@pytest.mark.parametrize("order", [1, -1])
def test_overrides_that_do_not_apply_never_hide_one_that_does(order: int) -> None:
    good = override(3, "zed", *DAY, rotation="trio")
    not_now = override(4, "yan", berlin(2027, 1, 13), berlin(2027, 1, 14), created=9, rotation="trio")
    other_rotation = override(5, "xia", *DAY, created=9, rotation="solo")
    other_person = override(6, "wu", *DAY, created=9, replaces="a3")
    offset_seat = override(7, "vic", *DAY, created=9, rotation="pair", role="P")
    overrides = [not_now, other_rotation, other_person, offset_seat, good][::order]
    h = resolve_slot(DIRECTORY, SlotRef("trio"), T, overrides)
    assert h == Holder("zed", SlotRef("trio"), 3)


@pytest.mark.parametrize("order", [1, -1])
def test_when_none_applies_the_rotation_decides_and_the_slot_is_kept(order: int) -> None:
    seat = SlotRef("trio", None, 1)  # trio+1 in week 1: a3
    overrides = [
        override(1, "zed", *DAY, rotation="trio"),  # covers the current seat, not +1
        override(2, "yan", *DAY, replaces="a2"),
        override(3, "xia", berlin(2027, 1, 11), T, replaces="a3"),  # over before T
        override(4, "wu", *DAY, pipeline="other"),
        override(5, "vic", *DAY, pipeline="p", rotation="solo"),  # names a rotation: not pipeline-wide
        override(6, "uma", *DAY, pipeline="p", replaces="a1"),  # names a person: not pipeline-wide
    ][::order]
    assert resolve_slot(DIRECTORY, seat, T, overrides, pipeline="p") == Holder("a3", seat, None)
    assert apply_overrides(seat, "a3", T, overrides, "p").slot == seat


@pytest.mark.parametrize("order", [1, -1])
def test_the_newest_applicable_override_wins_in_either_order(order: int) -> None:
    old = override(8, "zed", *DAY, created=1, rotation="trio")
    new = override(2, "yan", *DAY, created=2, replaces="a2")
    same_time_higher_id = override(9, "xia", *DAY, created=2, pipeline="p")
    assert resolve_slot(DIRECTORY, SlotRef("trio"), T, [old, new][::order]) == Holder("yan", SlotRef("trio"), 2)
    three = [old, new, same_time_higher_id][::order]
    assert resolve_slot(DIRECTORY, SlotRef("trio"), T, three, pipeline="p").via_override == 9


def test_which_seats_an_override_names() -> None:
    p, s = SlotRef("pair", "P"), SlotRef("pair", "S")
    role = override(1, "zed", *DAY, rotation="pair", role="S")
    whole = override(2, "yan", *DAY, rotation="pair")
    assert resolve_slot(DIRECTORY, p, T, [role]).person == "p2"
    assert resolve_slot(DIRECTORY, s, T, [role]).person == "zed"
    assert resolve_slot(DIRECTORY, p, T, [whole]).person == "yan"
    assert resolve_slot(DIRECTORY, SlotRef("pair", "S", -1), T, [whole]).person == "p2"
    assert resolve_slot(DIRECTORY, SlotRef("trio"), T, [role, whole]).person == "a2"
    away = override(3, "zed", *DAY, replaces="p3")
    assert resolve_slot(DIRECTORY, s, T, [away]) == Holder("zed", s, 3)
    assert resolve_slot(DIRECTORY, SlotRef("pair", "P", 1), T, [away]).person == "zed"  # p3 is P+1
    wide = override(4, "wu", *DAY, pipeline="p")
    assert resolve_slot(DIRECTORY, SlotRef("trio", None, -1), T, [wide], pipeline="p").person == "wu"
    assert resolve_slot(DIRECTORY, SlotRef("trio"), T, [wide]).person == "a2"


def test_slots_roles_and_handoffs() -> None:
    assert slots_of(PAIR) == [SlotRef("pair", "P"), SlotRef("pair", "S")]
    assert slots_of(SOLO) == [SlotRef("solo")]
    directory = acme().directory()
    assert roles_of(directory, "p3", T) == [SlotRef("pair", "S")]
    assert roles_of(directory, "s1", T) == [SlotRef("solo")]
    cover = override(1, "s1", *DAY, rotation="pair", role="P")
    wide = override(2, "s1", *DAY, pipeline="p")  # pipeline-level: not a seat of its own
    assert roles_of(directory, "s1", T, [cover, wide]) == [SlotRef("solo"), SlotRef("pair", "P")]
    assert roles_of(directory, "p2", T, [cover]) == []
    changes = handoff_changes(directory, 1, BERLIN)
    assert changes == [
        (SlotRef("trio"), "a1", "a2"),
        (SlotRef("pair", "P"), "p1", "p2"),
        (SlotRef("pair", "S"), "p2", "p3"),
    ]  # the one-member rotation never changes hands
    assert handoff_changes(directory, 0, BERLIN)[0] == (SlotRef("trio"), "a3", "a1")


def test_week_start_is_the_anchor_plus_whole_periods_of_wall_clock() -> None:
    for k in range(-3, 60, 7):
        local = week_start(TRIO, k, BERLIN).astimezone(BERLIN).replace(tzinfo=None)
        assert local == ANCHOR + timedelta(days=7 * k)
