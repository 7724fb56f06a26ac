"""The incident state machine at explicit instants, on the shipped seed (rules §3-§4)."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest

from bot.core.calendar import CompanyCalendar
from bot.core.escalation import escalation_chain
from bot.core.incident import (
    Change,
    EventKind,
    Incident,
    PageKind,
    Refusal,
    Refused,
    Status,
    acknowledge,
    auto_due,
    auto_escalate,
    deliver_queued,
    escalate,
    open_incident,
    resolve,
)
from bot.core.model import Directory, SlotRef
from bot.seed.validate import load_seed_file

TZ = ZoneInfo("America/New_York")
AUTO = 15


@cache
def seed() -> tuple[Directory, CompanyCalendar]:
    d = load_seed_file("data/seed.yaml")
    return d, CompanyCalendar.from_spec(d.calendar)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)  # type: ignore[misc]


def chain(pipeline: str, at: datetime, critical: bool = False):  # type: ignore[no-untyped-def]
    d, cal = seed()
    return escalation_chain(d, cal, pipeline, at, critical=critical)


def opened(pipeline: str, at: datetime, critical: bool = False, reporter: str = "U0ANA") -> Incident:
    result = open_incident(pipeline, "Revenue totals don't match the filing", critical, reporter,
                           chain(pipeline, at, critical), at, AUTO)
    assert not isinstance(result, Refused)
    inc, event = result
    assert event.kind == EventKind.OPENED and event.level == 1 and event.page == inc.page
    return inc


def step(inc: Incident, at: datetime, actor: str | None = "U0ANA") -> Incident:
    out = escalate(inc, chain(inc.pipeline, at, inc.critical), inc.level, actor, at, AUTO)
    assert isinstance(out, Change), out
    assert out.event.kind == EventKind.ESCALATED and out.event.page == out.after.page
    return out.after


# --- opening ----------------------------------------------------------------------------------


def test_open_covered_pages_the_primary() -> None:
    at = local(2026, 12, 1, 10, 0)  # Tuesday, finance rotation week 4: fin2
    inc = opened("profit", at)
    assert inc.status == Status.OPEN and inc.level == 1 and inc.chain_length == 4
    assert inc.page.kind == PageKind.PERSON and inc.page.person == "fin2"
    assert inc.page.slot == SlotRef("finance") and inc.page.label == "primary"
    assert inc.reached == ("fin2",)
    assert inc.next_auto_at is None  # not critical


def test_open_critical_sets_the_auto_escalation_time() -> None:
    at = local(2026, 12, 1, 10, 0)
    inc = opened("profit", at, critical=True)
    assert inc.next_auto_at == at + timedelta(minutes=AUTO)
    assert auto_due(inc, 0) is None


def test_open_uncovered_profit_critical_pages_de_r1_at_once() -> None:
    at = local(2026, 12, 1, 22, 0)  # Tuesday night: no Profit window
    inc = opened("profit", at, critical=True)
    assert inc.page.kind == PageKind.PERSON and inc.page.person == "de1"
    assert inc.page.slot == SlotRef("data-eng", "R1")
    assert inc.page.label.startswith("after hours: critical")


def test_open_uncovered_profit_normal_pages_the_next_windows_secondary() -> None:
    inc = opened("profit", local(2026, 12, 1, 22, 0))
    assert inc.page.kind == PageKind.PERSON and inc.page.person == "de1"  # DE R1 Wed 08:00
    assert inc.page.label == "after hours: next window's secondary"


def test_growth_on_a_saturday_is_queued_for_monday_0900() -> None:
    at = local(2026, 11, 28, 11, 0)  # Saturday after Thanksgiving
    inc = opened("growth", at)
    assert inc.page.kind == PageKind.QUEUED
    assert inc.page.person == "de1"  # DE R1 from the Monday 09:00 handoff (week 4)
    assert inc.page.due == local(2026, 11, 30, 9, 0)
    assert inc.reached == ("de1",)


def test_growth_friday_evening_before_a_monday_holiday_is_queued_for_tuesday() -> None:
    at = local(2027, 1, 15, 18, 0)  # Friday; Monday Jan 18 is Martin Luther King Jr. Day
    inc = opened("growth", at)
    assert inc.page.kind == PageKind.QUEUED
    assert inc.page.due == local(2027, 1, 19, 9, 0)
    assert inc.page.person == "de4"  # DE R1 in the week that starts Mon Jan 18 09:00


def test_growth_critical_after_hours_pages_de_r1_now() -> None:
    at = local(2027, 1, 15, 18, 0)
    inc = opened("growth", at, critical=True)
    assert inc.page.kind == PageKind.PERSON and inc.page.person == "de3"  # R1 this week
    assert inc.page.due is None


def test_an_empty_chain_is_refused() -> None:
    out = open_incident("profit", "x", False, None, [], local(2026, 12, 1, 10, 0), AUTO)
    assert isinstance(out, Refused) and out.reason == Refusal.NO_CHAIN


# --- escalating -------------------------------------------------------------------------------


def test_covered_chain_to_the_end_then_channels() -> None:
    at = local(2026, 12, 1, 10, 0)
    inc = opened("profit", at)
    inc = step(inc, at + timedelta(minutes=5))
    assert (inc.level, inc.page.person, inc.page.slot) == (2, "de1", SlotRef("data-eng", "R1"))
    inc = step(inc, at + timedelta(minutes=10))
    assert (inc.level, inc.page.person, inc.page.label) == (3, "de2", "escalation contact (data-eng:R2)")
    inc = step(inc, at + timedelta(minutes=15))
    assert inc.level == 4 and inc.page.kind == PageKind.CHANNEL
    assert inc.page.channels == ("#finance", "#risk")
    assert not inc.can_escalate
    end = escalate(inc, chain("profit", at), 4, "U0ANA", at + timedelta(minutes=20), AUTO)
    assert isinstance(end, Refused) and end.reason == Refusal.END_OF_CHAIN
    assert inc.reached == ("fin2", "de1", "de2")


def test_a_stale_press_is_refused() -> None:
    at = local(2026, 12, 1, 10, 0)
    inc = step(opened("profit", at), at)
    again = escalate(inc, chain("profit", at), 1, "U0ANA", at, AUTO)  # the button still said level 1
    assert isinstance(again, Refused) and again.reason == Refusal.STALE


def test_chain_is_taken_at_the_press_instant_and_never_goes_back() -> None:
    # Opened Friday 17:30 (covered: fin2), escalated Friday 18:30 when Profit is uncovered.
    opened_at = local(2026, 12, 4, 17, 30)
    inc = opened("profit", opened_at)
    assert inc.page.person == "fin2"
    press = local(2026, 12, 4, 18, 30)
    after = step(inc, press)
    # The chain at 18:30 is the after-hours one: level 1 the next window's secondary (DE R2 on
    # Saturday's support window), level 2 the next window's primary (DE R1). The level moves on.
    now_chain = chain("profit", press)
    assert now_chain[0].holder is not None and now_chain[0].holder.person == "de2"
    assert after.level == 2 and after.page.person == "de1"
    assert after.page.label == "next window primary"


def test_a_person_already_reached_is_skipped() -> None:
    # Growth on a Saturday: level 1 queued for de1, level 2 the Accounts primary (queued too),
    # level 3 (next window secondary) is de1 again: skipped, straight to the channel.
    at = local(2026, 11, 28, 11, 0)
    inc = opened("growth", at)
    inc = step(inc, at + timedelta(minutes=1))
    assert inc.level == 2 and inc.page.person == "acc1"
    assert inc.page.kind == PageKind.QUEUED and inc.page.due == local(2026, 11, 30, 9, 0)
    inc = step(inc, at + timedelta(minutes=2))
    assert inc.level == 4 and inc.page.kind == PageKind.CHANNEL and inc.page.channels == ("#accounts",)


def test_growth_escalation_in_business_hours_pages_at_once() -> None:
    at = local(2026, 12, 1, 10, 0)
    inc = step(opened("growth", at), at + timedelta(minutes=3))
    assert inc.page.kind == PageKind.PERSON and inc.page.person == "de1" and inc.page.due is None


def test_escalating_a_resolved_incident_is_refused() -> None:
    at = local(2026, 12, 1, 10, 0)
    done = resolve(opened("profit", at), "U0DE1", at)
    assert isinstance(done, Change)
    out = escalate(done.after, chain("profit", at), 1, "U0ANA", at, AUTO)
    assert isinstance(out, Refused) and out.reason == Refusal.ALREADY_RESOLVED


# --- acknowledging and resolving --------------------------------------------------------------


def test_acknowledge_once_then_refused() -> None:
    at = local(2026, 12, 1, 10, 0)
    inc = opened("profit", at, critical=True)
    out = acknowledge(inc, "U0FIN2", at + timedelta(minutes=4))
    assert isinstance(out, Change)
    assert out.after.status == Status.ACKNOWLEDGED and out.after.acknowledged_by == "U0FIN2"
    assert out.after.next_auto_at is None
    assert out.event.kind == EventKind.ACKNOWLEDGED and out.event.level == 1
    again = acknowledge(out.after, "U0FIN2", at + timedelta(minutes=5))
    assert isinstance(again, Refused) and again.reason == Refusal.ALREADY_ACKNOWLEDGED


def test_acknowledged_incident_can_still_escalate_but_not_automatically() -> None:
    at = local(2026, 12, 1, 10, 0)
    acked = acknowledge(opened("profit", at, critical=True), "U0FIN2", at)
    assert isinstance(acked, Change)
    inc = step(acked.after, at + timedelta(minutes=1))
    assert inc.level == 2 and inc.status == Status.ACKNOWLEDGED and inc.next_auto_at is None


def test_resolve_from_open_or_acknowledged_once() -> None:
    at = local(2026, 12, 1, 10, 0)
    inc = opened("profit", at, critical=True)
    out = resolve(inc, "U0DE1", at + timedelta(hours=1, minutes=12))
    assert isinstance(out, Change)
    assert out.after.status == Status.RESOLVED and out.after.resolved_by == "U0DE1"
    assert out.after.next_auto_at is None and not out.after.can_escalate
    again = resolve(out.after, "U0DE1", at + timedelta(hours=2))
    assert isinstance(again, Refused) and again.reason == Refusal.ALREADY_RESOLVED
    assert isinstance(acknowledge(out.after, "U0X", at), Refused)


def test_naive_instants_are_refused() -> None:
    inc = opened("profit", local(2026, 12, 1, 10, 0))
    with pytest.raises(ValueError, match="aware"):
        acknowledge(inc, "U0X", datetime(2026, 12, 1, 10, 0))


# --- auto-escalation --------------------------------------------------------------------------


def test_auto_escalation_runs_to_the_end_of_the_chain() -> None:
    at = local(2026, 12, 1, 22, 0)  # Profit after hours, critical: de1 paged
    inc = opened("profit", at, critical=True)
    early = auto_escalate(inc, chain("profit", at, True), at + timedelta(minutes=14), AUTO)
    assert isinstance(early, Refused) and early.reason == Refusal.NOT_DUE
    t = at
    levels = []
    while inc.next_auto_at is not None:
        t = inc.next_auto_at
        out = auto_escalate(inc, chain("profit", t, True), t, AUTO)
        assert isinstance(out, Change) and out.event.auto and out.event.actor is None
        inc = out.after
        levels.append((inc.level, inc.page.person or inc.page.channels))
    assert levels == [(2, "fin2"), (3, "de2"), (4, ("#finance", "#risk"))]
    assert t == at + timedelta(minutes=3 * AUTO)


def test_no_auto_escalation_for_a_normal_incident() -> None:
    at = local(2026, 12, 1, 10, 0)
    inc = opened("profit", at)
    out = auto_escalate(inc, chain("profit", at), at + timedelta(hours=5), AUTO)
    assert isinstance(out, Refused) and out.reason == Refusal.NOT_DUE


def test_a_manual_escalation_restarts_the_auto_timer() -> None:
    at = local(2026, 12, 1, 10, 0)
    inc = step(opened("profit", at, critical=True), at + timedelta(minutes=10))
    assert inc.next_auto_at == at + timedelta(minutes=10 + AUTO)


def test_delivering_a_queued_page_makes_it_a_page() -> None:
    inc = opened("growth", local(2026, 11, 28, 11, 0))
    delivered = deliver_queued(inc, inc.page)
    assert delivered.page.kind == PageKind.PERSON and delivered.page.person == "de1"
    other = deliver_queued(delivered, inc.page)
    assert other == delivered
