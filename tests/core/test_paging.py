"""Notification rules as pure step planning (``bot.core.paging``), at explicit instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.paging import (
    ContactMethod,
    NotifyRules,
    PageStart,
    in_dnd,
    next_step_at,
    offsets,
    plan,
    rules_for,
    usable,
)

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 03:00 in New York
RULES = NotifyRules((0, 5), 10)
EMAIL = ContactMethod(1, "de1", "e-mail", "mailto", None, 1)
PUSH = ContactMethod(2, "de1", "phone push", "ntfy", None, 2)
SMS = ContactMethod(3, "de1", "sms", "twilio", None, 3)


def start(*, critical: bool = True, may_wake: bool = True, dnd: bool = False) -> PageStart:
    return PageStart(T0, critical, may_wake, dnd)


def minutes(steps: tuple[object, ...]) -> list[tuple[int, str, int]]:
    return [(int((s.at - T0) / timedelta(minutes=1)), s.method.scheme, s.repeat) for s in steps]  # type: ignore[attr-defined]


def test_each_method_at_its_default_minutes_then_the_last_repeats_every_ten() -> None:
    steps = plan([EMAIL, PUSH], RULES, start(), T0 + timedelta(minutes=30))
    assert minutes(steps) == [(0, "mailto", 0), (5, "ntfy", 0), (15, "ntfy", 1), (25, "ntfy", 2)]
    assert [s.key for s in steps] == ["1", "2", "2:r1", "2:r2"]


def test_only_steps_due_by_until_are_planned() -> None:
    assert minutes(plan([EMAIL, PUSH], RULES, start(), T0 + timedelta(minutes=4, seconds=59))) == [(0, "mailto", 0)]
    assert plan([EMAIL, PUSH], RULES, start(), T0 - timedelta(seconds=1)) == ()


def test_a_person_may_only_make_it_faster() -> None:
    slow = ContactMethod(2, "de1", "push", "ntfy", 30, 2)
    fast = ContactMethod(2, "de1", "push", "ntfy", 2, 2)
    assert offsets([EMAIL, slow], RULES, False) == (0, 5)
    assert offsets([EMAIL, fast], RULES, False) == (0, 2)


def test_steps_never_go_back_in_time() -> None:
    late_first = ContactMethod(1, "de1", "mail", "mailto", None, 1)
    early_second = ContactMethod(2, "de1", "push", "ntfy", 0, 2)
    assert offsets([late_first, early_second], NotifyRules((7, 10), 10), False) == (7, 7)


def test_do_not_disturb_sends_the_first_method_at_once_the_others_at_their_minutes() -> None:
    rules = NotifyRules((5, 10), 10)
    assert offsets([EMAIL, PUSH], rules, True) == (0, 10)
    assert minutes(plan([EMAIL, PUSH], rules, start(dnd=True), T0)) == [(0, "mailto", 0)]


def test_phone_type_methods_are_never_used_when_the_page_may_not_wake() -> None:
    assert usable([SMS, EMAIL], start(critical=False, may_wake=False)) == (EMAIL,)
    assert usable([SMS, EMAIL], start()) == (EMAIL, SMS)


def test_order_is_position_then_id() -> None:
    assert usable([PUSH, ContactMethod(9, "de1", "x", "json", None, 0)], start())[0].id == 9


def test_no_methods_no_steps() -> None:
    assert plan([], RULES, start(), T0 + timedelta(hours=1)) == ()
    assert next_step_at([], RULES, start(), T0) is None


def test_next_step_at() -> None:
    assert next_step_at([EMAIL, PUSH], RULES, start(), T0) == T0 + timedelta(minutes=5)
    assert next_step_at([EMAIL, PUSH], RULES, start(), T0 + timedelta(minutes=6)) == T0 + timedelta(minutes=15)


def test_rules_from_the_seed_or_defaults() -> None:
    assert rules_for((("critical", (1, 2), 3),), True) == NotifyRules((1, 2), 3)
    assert rules_for((("critical", (1, 2), 3),), False).method_minutes == (15, 30)


@pytest.mark.parametrize(("info", "expected"), [
    ({"dnd_enabled": True, "next_dnd_start_ts": T0.timestamp() - 60, "next_dnd_end_ts": T0.timestamp() + 60}, True),
    ({"dnd_enabled": True, "next_dnd_start_ts": T0.timestamp() + 60, "next_dnd_end_ts": T0.timestamp() + 120}, False),
    ({"dnd_enabled": False, "snooze_enabled": True, "snooze_endtime": T0.timestamp() + 60}, True),
    ({"dnd_enabled": False, "snooze_enabled": True, "snooze_endtime": T0.timestamp() - 60}, False),
    ({"dnd_enabled": False}, False),
])
def test_do_not_disturb_from_dnd_info(info: dict[str, object], expected: bool) -> None:
    assert in_dnd(info, T0) is expected


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError):
        plan([EMAIL], RULES, PageStart(datetime(2026, 12, 1), True, True, False), T0)
