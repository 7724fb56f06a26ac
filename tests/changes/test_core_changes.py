"""Planning overrides, swaps and absences at explicit instants on the shipped seed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.changes import (
    Away,
    ChangeKind,
    ChangeRecord,
    ChangeRequest,
    NewOverride,
    Plan,
    Refusal,
    RefusalKind,
    Target,
    find_target,
    plan_cancel,
    plan_change,
    week_of,
)
from bot.core.coverage import oncall_at
from bot.core.model import Override

from .helpers import ADMINS, NOW, TZ, applied, local, seed


def _plan(request: ChangeRequest, overrides: list[Override] | None = None, aways: list[Away] | None = None,
          now=NOW) -> Plan | Refusal:
    d, cal = seed()
    return plan_change(d, cal, ADMINS, request, overrides or [], aways or [], now)


def override(actor: str, target: Target, who: str, start, end, reason: str = "") -> ChangeRequest:
    return ChangeRequest(ChangeKind.OVERRIDE, actor, start, end, who, target=target, reason=reason)


def away(actor: str, who: str, start, end, cover: str | None = None) -> ChangeRequest:
    return ChangeRequest(ChangeKind.AWAY, actor, start, end, who, other=cover)


# --- targets ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("finance", Target(rotation="finance")),
        ("Finance on-call", Target(rotation="finance")),
        ("data-eng:R1", Target(rotation="data-eng", role="R1")),
        ("r2", Target(rotation="data-eng", role="R2")),
        ("DE R3", Target(rotation="data-eng", role="R3")),
        ("data-eng", Target(rotation="data-eng")),
        ("profit", Target(pipeline="profit")),
        ("P&L", Target(pipeline="profit")),
        ("Aggregate Engagement to Investors", Target(pipeline="aggregate-engagement")),
        ("nothing", None),
    ],
)
def test_find_target(text: str, target: Target | None) -> None:
    assert find_target(seed()[0], text) == target


# --- override -----------------------------------------------------------------------------------


def test_override_of_a_team_rotation_for_a_day() -> None:
    # Tue Nov 3 (week 0: fin1 on Finance): fin3 covers that day.
    plan = _plan(override("fin2", Target(rotation="finance"), "fin3", local(2026, 11, 3), local(2026, 11, 4),
                          "dentist"))
    assert isinstance(plan, Plan)
    assert plan.overrides == (NewOverride(local(2026, 11, 3), local(2026, 11, 4), "fin3", rotation="finance",
                                          reason="dentist"),)
    assert [(c.pipeline, c.role, c.start, c.end, c.before, c.after) for c in plan.impact] == [
        ("profit", "primary", local(2026, 11, 3, 8), local(2026, 11, 3, 18), "fin1", "fin3"),
    ]
    assert set(plan.affected) == {"fin1", "fin3"}
    assert plan.permission == "member of Finance on-call"


def test_override_of_a_role_moves_every_pipeline_it_serves() -> None:
    # DE R1 is secondary of Profit and Growth on weekdays, primary of Profit weekend support.
    plan = _plan(override("de2", Target("data-eng", "R1"), "de4", local(2026, 11, 6), local(2026, 11, 8)))
    assert isinstance(plan, Plan)
    changed = {(c.pipeline, c.role, c.before, c.after) for c in plan.impact}
    assert changed == {
        ("profit", "secondary", "de1", "de4"),  # Friday weekday
        ("growth", "secondary", "de1", "de4"),
        ("profit", "primary", "de1", "de4"),  # Saturday support 09:00-15:00
    }


def test_override_of_a_pipeline_covers_both_seats() -> None:
    plan = _plan(override("de1", Target(pipeline="growth"), "acc2", local(2026, 11, 3, 9), local(2026, 11, 3, 17)))
    assert isinstance(plan, Plan)
    assert {(c.role, c.before, c.after) for c in plan.impact} == {
        ("primary", "acc1", "acc2"), ("secondary", "de1", "acc2")}
    assert any("both primary and backup" in n for n in plan.notes)


def test_a_role_rotation_needs_a_role() -> None:
    r = _plan(override("de1", Target(rotation="data-eng"), "de3", local(2026, 11, 3), local(2026, 11, 4)))
    assert isinstance(r, Refusal) and r.kind == RefusalKind.INVALID
    assert "R1" in r.reason


def test_an_override_that_changes_nothing_is_refused() -> None:
    # Finance has no window on a Saturday.
    r = _plan(override("fin2", Target(rotation="finance"), "fin3", local(2026, 11, 7), local(2026, 11, 8)))
    assert isinstance(r, Refusal) and r.kind == RefusalKind.NO_CHANGE
    # fin1 already holds it.
    r = _plan(override("fin2", Target(rotation="finance"), "fin1", local(2026, 11, 3), local(2026, 11, 4)))
    assert isinstance(r, Refusal) and r.kind == RefusalKind.NO_CHANGE


@pytest.mark.parametrize(
    ("start", "end", "why"),
    [
        (local(2026, 11, 4), local(2026, 11, 3), "after the start"),
        (local(2026, 10, 1), local(2026, 10, 2), "already over"),
        (local(2026, 11, 3), local(2027, 12, 3), "at most"),
    ],
)
def test_bad_ranges(start, end, why: str) -> None:
    r = _plan(override("fin2", Target(rotation="finance"), "fin3", start, end))
    assert isinstance(r, Refusal) and r.kind == RefusalKind.INVALID and why in r.reason


def test_a_start_in_the_past_starts_now() -> None:
    now = local(2026, 11, 3, 10)
    plan = _plan(override("fin2", Target(rotation="finance"), "fin3", local(2026, 11, 3), local(2026, 11, 4)), now=now)
    assert isinstance(plan, Plan)
    assert plan.request.start == now
    assert plan.impact[0].start == now


def test_unknown_people_are_refused() -> None:
    r = _plan(override("fin2", Target(rotation="finance"), "nobody", local(2026, 11, 3), local(2026, 11, 4)))
    assert isinstance(r, Refusal) and r.kind == RefusalKind.INVALID
    r = _plan(override("stranger", Target(rotation="finance"), "fin3", local(2026, 11, 3), local(2026, 11, 4)))
    assert isinstance(r, Refusal) and r.kind == RefusalKind.FORBIDDEN


def test_overlapping_overrides_newest_wins() -> None:
    d, cal = seed()
    first = _plan(override("fin2", Target(rotation="finance"), "fin3", local(2026, 11, 3), local(2026, 11, 6)))
    assert isinstance(first, Plan)
    ov = applied([], first, NOW)
    second = _plan(override("fin1", Target(rotation="finance"), "fin2", local(2026, 11, 4), local(2026, 11, 5)), ov)
    assert isinstance(second, Plan)
    # the second only changes Wednesday, from fin3 (the first override) to fin2
    assert [(c.start, c.before, c.after) for c in second.impact] == [
        (local(2026, 11, 4, 8), "fin3", "fin2")]
    ov = applied(ov, second, NOW + timedelta(minutes=1))
    who = {day: oncall_at(d, cal, "profit", local(2026, 11, day, 12), ov).primary for day in (3, 4, 5, 6)}
    assert {day: h.person for day, h in who.items() if h} == {3: "fin3", 4: "fin2", 5: "fin3", 6: "fin1"}
    # same created_at: the higher id wins
    tie = applied([], first, NOW)
    tie = applied(tie, second, NOW)
    assert oncall_at(d, cal, "profit", local(2026, 11, 4, 12), tie).primary.person == "fin2"


# --- away -----------------------------------------------------------------------------------------


def test_away_without_cover_goes_to_the_next_member() -> None:
    # week 0: de2 holds R2 (Engagement primary on weekdays); the next member is de3
    plan = _plan(away("de2", "de2", local(2026, 11, 3), local(2026, 11, 5)))
    assert isinstance(plan, Plan)
    assert plan.overrides == (NewOverride(local(2026, 11, 3), local(2026, 11, 5), "de3", rotation="data-eng",
                                          role="R2"),)
    assert {(c.pipeline, c.role, c.before, c.after) for c in plan.impact} == {("engagement", "primary", "de2", "de3")}


def test_away_with_a_named_cover() -> None:
    plan = _plan(away("de2", "de2", local(2026, 11, 3), local(2026, 11, 5), cover="de4"))
    assert isinstance(plan, Plan)
    assert [o.person for o in plan.overrides] == ["de4"]
    assert {c.after for c in plan.impact} == {"de4"}


def test_away_skips_members_who_are_away_too() -> None:
    gone = [Away("de3", local(2026, 11, 1), local(2026, 11, 10), 7)]
    plan = _plan(away("de2", "de2", local(2026, 11, 3), local(2026, 11, 5)), aways=gone)
    assert isinstance(plan, Plan)
    assert [o.person for o in plan.overrides] == ["de4"]


def test_away_cover_is_picked_per_stretch_of_other_absences() -> None:
    # de3 is away only on Wednesday: Tuesday goes to de3, Wednesday to de4
    gone = [Away("de3", local(2026, 11, 4), local(2026, 11, 5), 7)]
    plan = _plan(away("de2", "de2", local(2026, 11, 3), local(2026, 11, 5)), aways=gone)
    assert isinstance(plan, Plan)
    assert [(o.person, o.start, o.end) for o in plan.overrides] == [
        ("de3", local(2026, 11, 3), local(2026, 11, 4)), ("de4", local(2026, 11, 4), local(2026, 11, 5))]


def test_away_across_a_handoff_follows_each_week() -> None:
    # de2: R2 in week 0, R1 in week 1 (from Mon Nov 9 09:00)
    plan = _plan(away("de2", "de2", local(2026, 11, 6), local(2026, 11, 11)))
    assert isinstance(plan, Plan)
    assert [(o.role, o.person, o.start, o.end) for o in plan.overrides] == [
        ("R2", "de3", local(2026, 11, 6), local(2026, 11, 9, 9)),
        ("R1", "de3", local(2026, 11, 9, 9), local(2026, 11, 11)),
    ]


def test_away_that_leaves_a_window_with_nobody_is_refused() -> None:
    # Accounts has two members: acc1 holds week 0, acc2 is away: nobody covers Growth.
    gone = [Away("acc2", local(2026, 11, 1), local(2026, 11, 8), 3)]
    r = _plan(away("acc1", "acc1", local(2026, 11, 3), local(2026, 11, 4)), aways=gone)
    assert isinstance(r, Refusal) and r.kind == RefusalKind.NOBODY
    assert (r.person, r.pipeline, r.role) == ("acc1", "growth", "primary")
    assert r.others_away == ("acc2",)
    assert r.start == local(2026, 11, 3, 9)


def test_away_with_nothing_held_is_recorded() -> None:
    plan = _plan(away("fin2", "fin2", local(2026, 11, 3), local(2026, 11, 5)))
    assert isinstance(plan, Plan)
    assert plan.overrides == () and plan.impact == ()
    assert plan.notes


def test_a_cover_who_is_away_is_refused() -> None:
    gone = [Away("de4", local(2026, 11, 1), local(2026, 11, 10), 9)]
    r = _plan(away("de2", "de2", local(2026, 11, 3), local(2026, 11, 5), cover="de4"), aways=gone)
    assert isinstance(r, Refusal) and r.kind == RefusalKind.AWAY
    assert r.person == "de4" and r.away == gone[0]


def test_an_override_onto_someone_away_is_refused() -> None:
    gone = [Away("fin3", local(2026, 11, 4), local(2026, 11, 5), 2)]
    r = _plan(override("fin2", Target(rotation="finance"), "fin3", local(2026, 11, 3), local(2026, 11, 6)),
              aways=gone)
    assert isinstance(r, Refusal) and r.kind == RefusalKind.AWAY
    assert (r.person, r.pipeline, r.role, r.start) == ("fin3", "profit", "primary", local(2026, 11, 4, 8))


def test_away_moves_a_slot_held_by_an_override() -> None:
    # fin3 covers Finance on Tuesday by an override, then is away Tuesday: the next member after
    # fin3 is fin1.
    first = _plan(override("fin2", Target(rotation="finance"), "fin3", local(2026, 11, 3), local(2026, 11, 4)))
    assert isinstance(first, Plan)
    ov = applied([], first, NOW)
    plan = _plan(away("fin3", "fin3", local(2026, 11, 3), local(2026, 11, 4)), ov)
    assert isinstance(plan, Plan)
    assert [(o.rotation, o.person) for o in plan.overrides] == [("finance", "fin1")]
    assert [(c.before, c.after) for c in plan.impact] == [("fin3", "fin1")]


# --- swap ---------------------------------------------------------------------------------------


def test_week_of() -> None:
    d, _ = seed()
    assert week_of(d, TZ, ["fin1", "fin2"], local(2026, 11, 4, 12)) == (local(2026, 11, 2, 9), local(2026, 11, 9, 9))
    assert isinstance(week_of(d, TZ, ["risk1"], local(2026, 11, 4)), str)


def test_swap_exchanges_every_slot_for_the_week() -> None:
    # week 0: de1 R1, de2 R2 -> de2 R1, de1 R2
    start, end = local(2026, 11, 2, 9), local(2026, 11, 9, 9)
    plan = _plan(ChangeRequest(ChangeKind.SWAP, "de2", start, end, "de1", other="de2"))
    assert isinstance(plan, Plan)
    assert {(o.role, o.person, o.start, o.end) for o in plan.overrides} == {
        ("R1", "de2", start, end), ("R2", "de1", start, end)}
    d, cal = seed()
    ov = applied([], plan, NOW)
    a = oncall_at(d, cal, "profit", local(2026, 11, 7, 10), ov)  # Saturday support: R1 primary, R2 backup
    assert (a.primary.person, a.secondary.person) == ("de2", "de1")


def test_swap_with_nothing_to_swap() -> None:
    # risk1 holds nothing, and fin2 holds nothing in week 0
    r = _plan(ChangeRequest(ChangeKind.SWAP, "de1", local(2026, 11, 2, 9), local(2026, 11, 9, 9), "risk1", "fin2"))
    assert isinstance(r, Refusal) and r.kind == RefusalKind.NO_CHANGE


# --- cancel -------------------------------------------------------------------------------------


def _record(plan: Plan, ids: tuple[int, ...], change_id: int = 1) -> ChangeRecord:
    r = plan.request
    return ChangeRecord(change_id, r.kind, r.actor, NOW, r.start, r.end, r.person, r.other, r.target, r.reason, ids)


def test_cancel_an_ongoing_change_keeps_its_history() -> None:
    d, cal = seed()
    plan = _plan(override("fin2", Target(rotation="finance"), "fin3", local(2026, 11, 3), local(2026, 11, 6)))
    assert isinstance(plan, Plan)
    ov = applied([], plan, NOW)
    record = _record(plan, (1,))
    now = local(2026, 11, 4, 12)
    cp = plan_cancel(d, cal, ADMINS, "fin3", record, ov, [], now)
    assert not isinstance(cp, Refusal)
    assert cp.remove == (1,)
    assert [(o.start, o.end, o.person) for o in cp.keep] == [(local(2026, 11, 3), now, "fin3")]
    assert [(c.start, c.end, c.before, c.after) for c in cp.impact] == [
        (now, local(2026, 11, 4, 18), "fin3", "fin1"), (local(2026, 11, 5, 8), local(2026, 11, 5, 18), "fin3", "fin1")]


def test_cancel_refused_for_outsiders_and_when_over() -> None:
    d, cal = seed()
    plan = _plan(override("fin2", Target(rotation="finance"), "fin3", local(2026, 11, 3), local(2026, 11, 4)))
    assert isinstance(plan, Plan)
    ov = applied([], plan, NOW)
    record = _record(plan, (1,))
    r = plan_cancel(d, cal, ADMINS, "acc2", record, ov, [], NOW)
    assert isinstance(r, Refusal) and r.kind == RefusalKind.FORBIDDEN
    r = plan_cancel(d, cal, ADMINS, "fin2", record, ov, [], local(2026, 11, 5))
    assert isinstance(r, Refusal) and r.kind == RefusalKind.INVALID


def test_cancelling_the_cover_of_an_absence_is_refused() -> None:
    d, cal = seed()
    gone = [Away("fin1", local(2026, 11, 3), local(2026, 11, 4), 5)]
    plan = _plan(override("fin2", Target(rotation="finance"), "fin3", local(2026, 11, 3), local(2026, 11, 4)),
                 aways=gone)
    assert isinstance(plan, Plan)
    ov = applied([], plan, NOW)
    r = plan_cancel(d, cal, ADMINS, "fin2", _record(plan, (1,)), ov, gone, NOW)
    assert isinstance(r, Refusal) and r.kind == RefusalKind.AWAY and r.person == "fin1"
