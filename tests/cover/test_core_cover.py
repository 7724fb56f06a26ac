"""Cover requests and the pager, pure (bot.core.cover), on the shipped seed at explicit instants:
slots across DST and holidays, eligibility, double duty, away, un-take, the lead notice, expiry."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.core.changes import Away, RefusalKind, Target
from bot.core.cover import (
    CoverRequest,
    RequestStatus,
    SlotStatus,
    TakeDecision,
    cover_slots,
    decide_pager,
    decide_take,
    expired,
    lead_notice_due,
    may_untake,
    pager_span,
)
from tests.changes.helpers import TZ, local, seed

# Week 3 (from Mon 2026-11-23 09:00): R1 de4, R2 de1, R3 de2, R4 de3; Finance fin1; Thanksgiving
# Thu 26 and the day after (Fri 27) are holidays.
NOW = local(2026, 11, 20, 12)


def _request(person: str, start_day: int, end_day: int) -> CoverRequest:
    d, cal = seed()
    slots = cover_slots(d, cal, person, local(2026, 11, start_day), local(2026, 11, end_day))
    return CoverRequest(1, person, person, NOW, local(2026, 11, start_day), local(2026, 11, end_day), "",
                        RequestStatus.OPEN, slots)


def test_slots_join_the_duties_of_a_seat_and_follow_holiday_windows() -> None:
    req = _request("de4", 25, 28)
    got = [(s.n, s.rotation, s.role, s.start.astimezone(TZ).strftime("%a %H:%M"),
            s.end.astimezone(TZ).strftime("%a %H:%M"), [(x.pipeline, x.role, x.window) for x in s.duties])
           for s in req.slots]
    assert got == [
        (1, "data-eng", "R1", "Wed 08:00", "Wed 18:00",
         [("profit", "secondary", "weekday"), ("growth", "secondary", "business-hours")]),
        (2, "data-eng", "R1", "Thu 09:00", "Thu 15:00", [("profit", "primary", "weekend-holiday-support")]),
        (3, "data-eng", "R1", "Fri 09:00", "Fri 15:00", [("profit", "primary", "weekend-holiday-support")]),
    ]
    assert {s.channel for s in req.slots} == {"#data-eng"}


def test_a_weekend_slot_across_the_dst_change_is_49_hours() -> None:
    d, cal = seed()
    # fe3 holds Frontend in week -1; DST ends Sun 2026-11-01 02:00 (the day is 25 h long)
    slots = cover_slots(d, cal, "fe3", local(2026, 10, 31), local(2026, 11, 2))
    assert [(s.start, s.end - s.start, [x.window for x in s.duties]) for s in slots] == [
        (local(2026, 10, 31), timedelta(hours=49), ["weekend-holiday"])]


def test_nothing_to_cover_gives_no_slot() -> None:
    d, cal = seed()
    assert cover_slots(d, cal, "risk1", local(2026, 11, 23), local(2026, 11, 30)) == ()


def test_take_is_an_override_of_the_seat_for_the_slot() -> None:
    d, cal = seed()
    req = _request("de4", 25, 28)
    got = decide_take(d, cal, req, req.slots[1], "de2", [], [], NOW)
    assert isinstance(got, TakeDecision)
    assert got.request.target == Target(rotation="data-eng", role="R1")
    assert (got.request.person, got.request.start, got.request.end) == ("de2", req.slots[1].start, req.slots[1].end)


def test_refusals_outsider_other_team_own_slot_taken_started() -> None:
    d, cal = seed()
    req = _request("de4", 25, 28)
    slot = req.slots[1]
    assert _kind(decide_take(d, cal, req, slot, None, [], [], NOW)) == RefusalKind.FORBIDDEN
    assert _kind(decide_take(d, cal, req, slot, "fin2", [], [], NOW)) == RefusalKind.FORBIDDEN
    assert _kind(decide_take(d, cal, req, slot, "de4", [], [], NOW)) == RefusalKind.INVALID
    taken = replace(slot, status=SlotStatus.TAKEN, taker="de2")
    assert _kind(decide_take(d, cal, req, taken, "de3", [], [], NOW)) == RefusalKind.TAKEN
    assert _kind(decide_take(d, cal, req, slot, "de3", [], [], slot.start)) == RefusalKind.TAKEN


def test_a_take_by_the_backup_of_the_same_pipeline_is_double_duty() -> None:
    d, cal = seed()
    req = _request("de4", 25, 28)
    # Thanksgiving: Profit primary R1 (de4), backup R2 (de1): de1 taking R1 would be both
    got = decide_take(d, cal, req, req.slots[1], "de1", [], [], NOW)
    assert _kind(got) == RefusalKind.DOUBLE_DUTY


def test_a_taker_away_then_would_leave_the_window_with_nobody() -> None:
    d, cal = seed()
    req = _request("de4", 25, 28)
    away = Away("de3", local(2026, 11, 26), local(2026, 11, 27))
    assert _kind(decide_take(d, cal, req, req.slots[1], "de3", [], [away], NOW)) == RefusalKind.NOBODY
    assert isinstance(decide_take(d, cal, req, req.slots[2], "de3", [], [away], NOW), TakeDecision)


def test_untake_by_the_taker_before_the_start_or_by_the_lead() -> None:
    d, _ = seed()
    req = _request("de4", 25, 28)
    slot = replace(req.slots[1], status=SlotStatus.TAKEN, taker="de2")
    lead = d.teams["data-eng"].lead
    assert lead is not None and lead != "de2"
    assert may_untake(d, (), req, slot, "de2", NOW)
    assert not may_untake(d, (), req, slot, "de2", slot.start)
    assert may_untake(d, (), req, slot, lead, slot.start)
    assert not may_untake(d, (), req, slot, "fin1", NOW)
    assert not may_untake(d, (), req, req.slots[1], "de2", NOW)  # open: nothing to give back


def test_lead_notice_24h_before_and_expiry_at_the_start() -> None:
    req = _request("de4", 25, 28)
    slot = req.slots[1]
    assert not lead_notice_due(slot, slot.start - timedelta(hours=24, seconds=1))
    assert lead_notice_due(slot, slot.start - timedelta(hours=24))
    assert not lead_notice_due(replace(slot, lead_notified_at=NOW), slot.start - timedelta(hours=1))
    assert not lead_notice_due(slot, slot.start)
    assert not expired(slot, slot.start - timedelta(seconds=1))
    assert expired(slot, slot.start)
    assert not expired(replace(slot, status=SlotStatus.TAKEN, taker="de2"), slot.start)


def test_pager_span_ends_with_the_current_window_or_when_asked() -> None:
    d, cal = seed()
    at = local(2026, 11, 24, 10)  # Tuesday: Profit primary Finance (fin1), backup R1 (de4)
    span = pager_span(d, cal, "profit", at, [])
    assert not isinstance(span, type(None))
    assert not hasattr(span, "kind")
    assert (span.holder, span.secondary, span.end) == ("fin1", "de4", local(2026, 11, 24, 18))  # type: ignore[union-attr]
    later = pager_span(d, cal, "profit", at, [], until=local(2026, 11, 24, 12))
    assert later.end == local(2026, 11, 24, 12)  # type: ignore[union-attr]
    night = pager_span(d, cal, "growth", local(2026, 11, 24, 20), [])
    assert _kind(night) == RefusalKind.INVALID


def test_take_and_give_the_pager() -> None:
    d, cal = seed()
    at = local(2026, 11, 24, 10)
    span = pager_span(d, cal, "profit", at, [])
    assert not hasattr(span, "kind")
    took = decide_pager(d, cal, (), span, "fin2", "fin2", [], [], at)  # type: ignore[arg-type]
    assert isinstance(took, TakeDecision) and took.request.end == local(2026, 11, 24, 18)
    assert _kind(decide_pager(d, cal, (), span, "de1", "de1", [], [], at)) == RefusalKind.FORBIDDEN  # type: ignore[arg-type]
    assert _kind(decide_pager(d, cal, (), span, "fin3", "fin2", [], [], at)) == RefusalKind.FORBIDDEN  # type: ignore[arg-type]
    assert isinstance(decide_pager(d, cal, (), span, "fin1", "fin2", [], [], at), TakeDecision)  # type: ignore[arg-type]


def _kind(x: object) -> object:
    return getattr(x, "kind", None)
