"""Rotations: week numbers at handoffs and across DST, slot holders, overrides, handoffs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.model import Override, SlotRef
from bot.core.rotation import (
    handoff_changes,
    member_for,
    resolve_slot,
    roles_of,
    week_index,
    week_start,
)

from .helpers import DIRECTORY, NY, US, de, ny, utc

FINANCE = DIRECTORY.rotations["finance"]
DATA_ENG = DIRECTORY.rotations["data-eng"]
R1, R2 = SlotRef("data-eng", "R1"), SlotRef("data-eng", "R2")


def test_week_zero_starts_at_the_anchor() -> None:
    assert week_start(FINANCE, 0, NY) == ny(2026, 11, 2, 9)
    assert week_start(FINANCE, 0, NY).tzinfo is UTC
    assert week_index(FINANCE, ny(2026, 11, 2, 9), NY) == 0
    assert week_index(FINANCE, ny(2026, 11, 2, 9) - US, NY) == -1


def test_week_minus_one_spans_the_fall_back() -> None:
    # DST ended on 2026-11-01, so week -1 (from Monday 2026-10-26 09:00 EDT) lasts 7 days + 1 h
    assert week_start(FINANCE, -1, NY) == utc(2026, 10, 26, 13)
    assert week_start(FINANCE, 0, NY) == utc(2026, 11, 2, 14)
    assert week_index(FINANCE, ny(2026, 10, 26, 9), NY) == -1
    assert week_index(FINANCE, ny(2026, 10, 26, 8, 59, 59), NY) == -2
    assert member_for(FINANCE, None, 0, -1) == "fin3"
    assert member_for(DATA_ENG, "R1", 0, -1) == "de4"
    assert resolve_slot(DIRECTORY, SlotRef("finance"), ny(2026, 11, 1, 12)).person == "fin3"
    assert resolve_slot(DIRECTORY, R1, ny(2026, 11, 2, 8, 59, 59)).person == "de4"
    assert resolve_slot(DIRECTORY, SlotRef("accounts"), ny(2026, 11, 2, 8, 59, 59)).person == "acc2"


def test_handoff_monday_0900_nov_30() -> None:
    before, after = ny(2026, 11, 30, 8, 59, 59), ny(2026, 11, 30, 9)
    assert week_index(FINANCE, before, NY) == 3
    assert week_index(FINANCE, after, NY) == 4
    assert resolve_slot(DIRECTORY, SlotRef("finance"), before).person == "fin1"  # 3 mod 3
    assert resolve_slot(DIRECTORY, SlotRef("finance"), after).person == "fin2"  # 4 mod 3
    for role in (1, 2, 3, 4):
        slot = SlotRef("data-eng", f"R{role}")
        assert resolve_slot(DIRECTORY, slot, before).person == de(3, role)
        assert resolve_slot(DIRECTORY, slot, after).person == de(4, role)
    assert resolve_slot(DIRECTORY, R1, after).person == "de1"


def test_role_rotation_matches_the_rules_table() -> None:
    week0 = [member_for(DATA_ENG, f"R{j}", 0, 0) for j in (1, 2, 3, 4)]
    week1 = [member_for(DATA_ENG, f"R{j}", 0, 1) for j in (1, 2, 3, 4)]
    assert week0 == ["de1", "de2", "de3", "de4"]
    assert week1 == ["de2", "de3", "de4", "de1"]
    assert member_for(DATA_ENG, "R2", -1, 1) == "de2"  # the outgoing R2
    assert member_for(DIRECTORY.rotations["analytics"], None, 1, 4) == "ba2"  # analytics+1


def test_member_for_rejects_bad_roles() -> None:
    with pytest.raises(ValueError):
        member_for(DATA_ENG, None, 0, 0)
    with pytest.raises(ValueError):
        member_for(DATA_ENG, "R9", 0, 0)
    with pytest.raises(ValueError):
        member_for(FINANCE, "R1", 0, 0)


def test_handoff_stays_at_0900_local_across_dst() -> None:
    # 2027-03-14 spring forward: the handoff the day after is 09:00 EDT = 13:00 UTC
    k = week_index(FINANCE, ny(2027, 3, 15, 9), NY)
    assert week_start(FINANCE, k, NY) == utc(2027, 3, 15, 13)
    assert week_start(FINANCE, k - 1, NY) == utc(2027, 3, 8, 14)
    assert week_index(FINANCE, utc(2027, 3, 15, 12, 59), NY) == k - 1
    # 2027-11-07 fall back: 09:00 EST = 14:00 UTC
    k = week_index(FINANCE, ny(2027, 11, 8, 9), NY)
    assert week_start(FINANCE, k, NY) == utc(2027, 11, 8, 14)
    assert week_start(FINANCE, k - 1, NY) == utc(2027, 11, 1, 13)
    assert week_index(FINANCE, utc(2027, 11, 8, 13, 30), NY) == k - 1


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)))
def test_week_index_brackets_the_instant(at: datetime) -> None:
    k = week_index(FINANCE, at, NY)
    assert week_start(FINANCE, k, NY) <= at < week_start(FINANCE, k + 1, NY)
    assert week_start(FINANCE, k, NY).astimezone(NY).strftime("%a %H:%M") == "Mon 09:00"


T0 = utc(2026, 11, 1)


def _ov(i: int, person: str, start: datetime, end: datetime, created: int = 0, **kw: str | None) -> Override:
    return Override(i, start, end, person, T0 + timedelta(hours=created), **kw)  # type: ignore[arg-type]


def test_rotation_override_and_newest_wins() -> None:
    at = ny(2026, 12, 1, 10)
    a = _ov(1, "fin3", ny(2026, 12, 1), ny(2026, 12, 2), created=1, rotation="finance")
    b = _ov(2, "risk1", ny(2026, 12, 1, 9), ny(2026, 12, 1, 12), created=2, rotation="finance")
    assert resolve_slot(DIRECTORY, SlotRef("finance"), at, [a]) .person == "fin3"
    h = resolve_slot(DIRECTORY, SlotRef("finance"), at, [b, a])
    assert (h.person, h.via_override) == ("risk1", 2)
    # same created_at: the higher id wins
    c = _ov(3, "fin1", ny(2026, 12, 1), ny(2026, 12, 2), created=2, rotation="finance")
    assert resolve_slot(DIRECTORY, SlotRef("finance"), at, [c, b, a]).person == "fin1"
    # outside [start, end) the rotation decides
    assert resolve_slot(DIRECTORY, SlotRef("finance"), ny(2026, 12, 1, 12), [b]).person == "fin2"
    assert resolve_slot(DIRECTORY, SlotRef("finance"), ny(2026, 12, 1, 12), [b]).via_override is None


def test_role_override_only_touches_that_role_and_not_offset_slots() -> None:
    at = ny(2026, 12, 1, 10)  # week 4: R1 de1, R2 de2
    o = _ov(1, "de4", ny(2026, 12, 1), ny(2026, 12, 2), rotation="data-eng", role="R2")
    assert resolve_slot(DIRECTORY, R2, at, [o]).person == "de4"
    assert resolve_slot(DIRECTORY, R1, at, [o]).person == "de1"
    assert resolve_slot(DIRECTORY, SlotRef("data-eng", "R2", -1), at, [o]).person == "de1"  # outgoing R2


def test_person_override_replaces_the_holder_in_every_slot() -> None:
    at = ny(2026, 12, 1, 10)  # week 4: de1 is R1
    o = _ov(5, "de3", ny(2026, 11, 30), ny(2026, 12, 5), replaces="de1")
    h = resolve_slot(DIRECTORY, R1, at, [o])
    assert (h.person, h.via_override, h.slot) == ("de3", 5, R1)
    assert resolve_slot(DIRECTORY, R2, at, [o]).person == "de2"


def test_pipeline_override_needs_the_pipeline() -> None:
    at = ny(2026, 12, 1, 10)
    o = _ov(7, "risk1", ny(2026, 12, 1), ny(2026, 12, 2), pipeline="profit")
    assert resolve_slot(DIRECTORY, R1, at, [o]).person == "de1"
    assert resolve_slot(DIRECTORY, R1, at, [o], pipeline="growth").person == "de1"
    assert resolve_slot(DIRECTORY, R1, at, [o], pipeline="profit").person == "risk1"


def test_person_slot() -> None:
    assert resolve_slot(DIRECTORY, SlotRef("@person", "risk1"), ny(2026, 12, 1)).person == "risk1"


def test_roles_of() -> None:
    assert roles_of(DIRECTORY, "de1", ny(2026, 11, 30, 10)) == [R1]
    assert roles_of(DIRECTORY, "de1", ny(2026, 11, 30, 8)) == [R2]
    assert roles_of(DIRECTORY, "fin2", ny(2026, 11, 30, 10)) == [SlotRef("finance")]
    assert roles_of(DIRECTORY, "risk1", ny(2026, 11, 30, 10)) == []
    o = _ov(1, "risk1", ny(2026, 11, 30), ny(2026, 12, 1), rotation="finance")
    assert roles_of(DIRECTORY, "risk1", ny(2026, 11, 30, 10), [o]) == [SlotRef("finance")]
    assert roles_of(DIRECTORY, "fin2", ny(2026, 11, 30, 10), [o]) == []


def test_handoff_changes_week_4() -> None:
    changes = {(str(s), a, b) for s, a, b in handoff_changes(DIRECTORY, 4, NY)}
    assert changes == {
        ("finance", "fin1", "fin2"),
        ("accounts", "acc2", "acc1"),
        ("frontend", "fe1", "fe2"),
        ("analytics", "ba2", "ba1"),
        ("data-eng:R1", "de4", "de1"),
        ("data-eng:R2", "de1", "de2"),
        ("data-eng:R3", "de2", "de3"),
        ("data-eng:R4", "de3", "de4"),
    }


def test_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError):
        week_index(FINANCE, datetime(2026, 12, 1, 10), NY)
