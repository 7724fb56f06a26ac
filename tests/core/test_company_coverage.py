"""oncall_at and schedule for small companies built in code: every after-hours action, windows
without a secondary, ``@person`` slots, adjacent windows with the same people, month-end
conditions, the 60-day horizon and UTC output for a company outside UTC."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.core.answer import Holder, OnCallAnswer
from bot.core.calendar import CompanyCalendar
from bot.core.coverage import HORIZON, UnknownPipeline, oncall_at, schedule
from bot.core.model import DayType, Directory, Override, SlotRef

from .companies import (
    EVERY_DAY,
    HOLIDAY,
    WEEKEND,
    Company,
    acme,
    after_hours,
    berlin,
    override,
    slot,
    window,
)

US = timedelta(microseconds=1)


def company() -> Company:
    c = acme()
    c.pipeline("adjacent", window("morning", "trio", "solo", hours="09:00-12:00"),
               window("afternoon", "trio", "solo", hours="12:00-17:00", label="afternoon 12-17"))
    c.pipeline("lonely", window("day", "trio"))  # no secondary; pages the next primary after hours
    c.pipeline("boss", window("always", "@person:boss", "trio", days=EVERY_DAY, hours="00:00-24:00"))
    c.pipeline("paging", window("day", "trio"), after=after_hours("page", "trio+1", critical="solo", note="call"))
    c.pipeline("page-nobody", window("day", "trio"), after=after_hours("page"))
    c.pipeline("queue", window("day", "trio", "pair:P"),
               after=after_hours("queue_next_business_day", "trio", queue_at=time(9, 0), critical="pair:S"))
    c.pipeline("early", window("day", "trio"),
               after=after_hours("queue_next_business_day", "solo", queue_at=time(8, 0, 30)))
    c.pipeline("resume", window("day", "trio"), after=after_hours("queue_next_business_day", "trio-1"))
    c.pipeline("queue-nobody", window("day", "trio"), after=after_hours("queue_next_business_day"))
    c.pipeline("holidays", window("holiday", "trio", days=HOLIDAY),
               after=after_hours("queue_next_business_day", "solo"))
    c.pipeline("monthly", window("month-end", "solo", hours="08:00-18:00", month_end=True),
               window("normal", "trio", month_end=False))
    c.pipeline("overlap", window("weekend-late", "solo", days=WEEKEND, hours="10:00-12:00"),
               window("daily", "trio", "trio+1", days=EVERY_DAY))
    c.rotation("slow", ["x1", "x2"], period_days=70)
    c.pipeline("slow", window("always", "slow", days=EVERY_DAY, hours="00:00-24:00"))
    return c


DIRECTORY, CAL = company().build()


def ask(pipeline: str, at: datetime, overrides: tuple[Override, ...] = (),
        directory: Directory = DIRECTORY, cal: CompanyCalendar = CAL) -> OnCallAnswer:
    return oncall_at(directory, cal, pipeline, at, overrides)


def who(h: Holder | None) -> str | None:
    return None if h is None else h.person


def test_adjacent_windows_with_the_same_people_still_hand_over() -> None:
    a = ask("adjacent", berlin(2027, 1, 5, 10))
    assert (a.window, who(a.primary), who(a.secondary)) == ("morning", "a1", "s1")
    assert a.window_label == "morning"  # no label: the name
    assert a.until == berlin(2027, 1, 5, 12)
    assert a.next is not None and (a.next.window, who(a.next.primary)) == ("afternoon", "a1")
    b = ask("adjacent", a.until)
    assert b.window_label == "afternoon 12-17" and b.until == berlin(2027, 1, 5, 17)
    segs = schedule(DIRECTORY, CAL, "adjacent", berlin(2027, 1, 5, 9), berlin(2027, 1, 5, 17))
    assert [(s.start, s.end, s.window) for s in segs] == [
        (berlin(2027, 1, 5, 9), berlin(2027, 1, 5, 12), "morning"),
        (berlin(2027, 1, 5, 12), berlin(2027, 1, 5, 17), "afternoon"),
    ]


def test_a_window_without_secondary_pages_the_next_primary_as_it_will_be() -> None:
    a = ask("lonely", berlin(2027, 1, 5, 10))
    assert a.primary == Holder("a1", SlotRef("trio")) and a.secondary is None
    sunday = ask("lonely", berlin(2027, 1, 10, 20))  # week 0; coverage resumes Monday 09:00, week 1
    assert not sunday.covered and sunday.after_hours is not None
    assert sunday.after_hours.action == "page_next_secondary" and sunday.after_hours.note == ""
    assert sunday.after_hours.page_now == Holder("a2", SlotRef("trio"))
    assert sunday.after_hours.queued_for is None and sunday.after_hours.queued_until is None
    assert sunday.after_hours.critical is None
    assert sunday.until == berlin(2027, 1, 11, 9)
    assert sunday.next is not None and sunday.next.secondary is None


def test_page_next_secondary_pages_the_secondary_when_there_is_one() -> None:
    a = ask("queue", berlin(2027, 1, 5, 10))
    assert (who(a.primary), who(a.secondary)) == ("a1", "p1")
    b = ask("overlap", berlin(2027, 1, 5, 18))
    assert b.after_hours is not None and b.after_hours.page_now == Holder("a2", SlotRef("trio", None, 1))


def test_a_person_slot_names_that_person_and_the_rotation_still_hands_over() -> None:
    a = ask("boss", berlin(2027, 1, 10, 12))
    assert a.primary == Holder("boss", SlotRef("@person", "boss"))
    assert who(a.secondary) == "a1"
    assert a.until == berlin(2027, 1, 11, 9)  # trio's handoff, the secondary changes
    assert a.next is not None and (who(a.next.primary), who(a.next.secondary)) == ("boss", "a2")
    o = override(1, "zed", berlin(2027, 1, 10), berlin(2027, 1, 11), replaces="boss")
    assert ask("boss", berlin(2027, 1, 10, 12), (o,)).primary == Holder("zed", SlotRef("@person", "boss"), 1)
    nobody = acme().pipeline("nobody", window("w", "@person", days=EVERY_DAY))
    with pytest.raises(ValueError, match=r"^a person slot needs the person id as its role$"):
        oncall_at(*nobody.build(), "nobody", berlin(2027, 1, 10, 12))


def test_page_pages_the_target_as_it_is_now() -> None:
    a = ask("paging", berlin(2027, 1, 10, 20))  # Sunday, week 0: trio+1 is a2 (a3 from Monday 09:00)
    ah = a.after_hours
    assert ah is not None and (ah.action, ah.note) == ("page", "call")
    assert ah.page_now == Holder("a2", SlotRef("trio", None, 1))
    assert ah.critical == Holder("s1", SlotRef("solo"))
    assert ah.queued_for is None and ah.queued_until is None
    nobody = ask("page-nobody", berlin(2027, 1, 10, 20)).after_hours
    assert nobody is not None and nobody.page_now is None and nobody.critical is None


def test_queue_to_queue_at_on_the_next_business_day() -> None:
    friday = ask("queue", berlin(2027, 1, 8, 18))
    ah = friday.after_hours
    assert ah is not None and ah.action == "queue_next_business_day" and ah.page_now is None
    assert ah.queued_until == berlin(2027, 1, 11, 9) and ah.queued_until.tzinfo is UTC
    assert ah.queued_for == Holder("a2", SlotRef("trio"))  # resolved when the queue is worked: week 1
    assert ah.critical == Holder("p2", SlotRef("pair", "S"))  # resolved now: week 0 S is p2
    holiday = ask("queue", berlin(2027, 3, 25, 18))  # Good Friday and Easter Monday follow
    assert holiday.after_hours is not None and holiday.after_hours.queued_until == berlin(2027, 3, 30, 9)
    new_year = ask("queue", berlin(2027, 1, 1, 12))
    assert new_year.day_type is DayType.HOLIDAY and new_year.holiday == "New Year's Day"
    assert new_year.after_hours is not None and new_year.after_hours.queued_until == berlin(2027, 1, 4, 9)


def test_queue_today_only_while_queue_at_is_still_ahead() -> None:
    before = ask("early", berlin(2027, 1, 5, 8))
    assert before.after_hours is not None and before.after_hours.queued_until == berlin(2027, 1, 5, 8) + timedelta(
        seconds=30)
    assert before.after_hours.queued_for == Holder("s1", SlotRef("solo"))
    exactly = ask("early", berlin(2027, 1, 5, 8) + timedelta(seconds=30))
    assert exactly.after_hours is not None
    assert exactly.after_hours.queued_until == berlin(2027, 1, 6, 8) + timedelta(seconds=30)
    saturday = ask("early", berlin(2027, 1, 9, 7))
    assert saturday.after_hours is not None
    assert saturday.after_hours.queued_until == berlin(2027, 1, 11, 8) + timedelta(seconds=30)


def test_queue_without_queue_at_waits_for_coverage_to_resume() -> None:
    a = ask("resume", berlin(2027, 1, 8, 18))
    ah = a.after_hours
    assert ah is not None and ah.queued_until == a.until == berlin(2027, 1, 11, 9)
    assert ah.queued_for == Holder("a1", SlotRef("trio", None, -1))  # trio-1 in week 1
    nobody = ask("queue-nobody", berlin(2027, 1, 8, 18)).after_hours
    assert nobody is not None and nobody.queued_until == berlin(2027, 1, 11, 9) and nobody.queued_for is None


def test_nothing_resumes_within_the_horizon() -> None:
    a = ask("holidays", berlin(2027, 1, 10, 12))  # next holiday: Good Friday, 75 days on
    assert not a.covered and a.until is None and a.next is None
    assert a.after_hours is not None and a.after_hours.queued_until is None and a.after_hours.queued_for is None
    assert ask("lonely", berlin(2027, 1, 10)).after_hours is not None
    never = acme().pipeline("never", window("w", "trio", days=HOLIDAY))
    d, cal = never.build()
    b = oncall_at(d, cal, "never", berlin(2027, 1, 10, 12))
    assert b.after_hours is not None and b.after_hours.page_now is None
    good_friday = ask("holidays", berlin(2027, 3, 26, 10))
    assert good_friday.window == "holiday" and good_friday.holiday == "Good Friday"


@pytest.mark.parametrize("ahead", [timedelta(days=2), timedelta(days=9), HORIZON, timedelta(days=30)])
def test_a_change_exactly_at_a_search_boundary_is_found(ahead: timedelta) -> None:
    handoff = berlin(2027, 3, 15, 9)  # slow's week 1: 70 days after the anchor
    a = ask("slow", handoff - ahead)
    assert (who(a.primary), a.until) == ("x1", handoff)
    assert a.next is not None and who(a.next.primary) == "x2"


def test_the_horizon_is_sixty_days() -> None:
    assert timedelta(days=60) == HORIZON
    handoff = berlin(2027, 3, 15, 9)
    assert ask("slow", handoff - timedelta(days=60) - US).until is None
    assert ask("slow", handoff - timedelta(days=60)).until == handoff


def test_month_end_windows_and_their_opposite() -> None:
    assert ask("monthly", berlin(2027, 1, 25, 8)).window == "month-end"  # 25-31 Jan: the last 7 days
    assert ask("monthly", berlin(2027, 1, 22, 8)).window is None
    assert ask("monthly", berlin(2027, 1, 22, 9)).window == "normal"
    assert ask("monthly", berlin(2027, 1, 25, 17)).window == "month-end"
    short = Company(month_end_days=3).team("ops", "#ops").rotation("trio", ["a1", "a2", "a3"]).rotation("solo", ["s1"])
    short.pipelines["monthly"] = DIRECTORY.pipelines["monthly"]
    d, cal = short.build()
    assert oncall_at(d, cal, "monthly", berlin(2027, 1, 28, 10)).window == "normal"
    assert oncall_at(d, cal, "monthly", berlin(2027, 1, 29, 10)).window == "month-end"


def test_the_first_window_that_matches_decides() -> None:
    assert ask("overlap", berlin(2027, 1, 5, 11)).window == "daily"  # Tuesday: the weekend window is off
    sat = ask("overlap", berlin(2027, 1, 9, 9, 30))
    assert sat.window == "daily" and sat.until == berlin(2027, 1, 9, 10)
    assert sat.next is not None and (sat.next.window, who(sat.next.primary), sat.next.secondary) == (
        "weekend-late", "s1", None)
    assert ask("overlap", berlin(2027, 1, 9, 12)).window == "daily"


def test_pipeline_level_overrides_and_override_edges_are_change_points() -> None:
    wide = override(1, "zed", berlin(2027, 1, 5, 10, 30), berlin(2027, 1, 5, 11), pipeline="adjacent")
    a = ask("adjacent", berlin(2027, 1, 5, 10), (wide,))
    assert a.until == berlin(2027, 1, 5, 10, 30) and a.until.tzinfo is UTC
    b = ask("adjacent", berlin(2027, 1, 5, 10, 30), (wide,))
    assert b.primary == Holder("zed", SlotRef("trio"), 1) and b.secondary == Holder("zed", SlotRef("solo"), 1)
    assert b.until == berlin(2027, 1, 5, 11) and b.until.tzinfo is UTC
    assert ask("lonely", berlin(2027, 1, 5, 10, 30), (wide,)).primary == Holder("a1", SlotRef("trio"))


def test_schedule_is_in_utc_for_a_company_outside_utc() -> None:
    segs = schedule(DIRECTORY, CAL, "lonely", berlin(2027, 1, 5, 8), berlin(2027, 1, 5, 17))
    assert [(s.start, s.end, s.covered, s.window, who(s.primary)) for s in segs] == [
        (datetime(2027, 1, 5, 7, tzinfo=UTC), datetime(2027, 1, 5, 8, tzinfo=UTC), False, None, None),
        (datetime(2027, 1, 5, 8, tzinfo=UTC), datetime(2027, 1, 5, 16, tzinfo=UTC), True, "day", "a1"),
    ]  # ends exactly at a change: no empty segment after it
    assert all(s.start.tzinfo is UTC and s.end.tzinfo is UTC for s in segs)
    assert ask("lonely", berlin(2027, 1, 5, 8)).at.tzinfo is UTC


def test_schedule_of_an_empty_or_reversed_range_is_empty() -> None:
    t = berlin(2027, 1, 5, 10)
    assert schedule(DIRECTORY, CAL, "lonely", t, t) == []
    assert schedule(DIRECTORY, CAL, "lonely", t, t - US) == []
    one = schedule(DIRECTORY, CAL, "lonely", t, t + US)
    assert len(one) == 1 and (one[0].start, one[0].end) == (t, t + US)


def test_unknown_pipeline_says_which() -> None:
    with pytest.raises(UnknownPipeline) as err:
        ask("nope", berlin(2027, 1, 5))
    assert err.value.pipeline_id == "nope" and str(err.value) == "unknown pipeline 'nope'"
    assert err.value.args == ("nope",)  # a KeyError of the missing key, like dict lookups
    with pytest.raises(UnknownPipeline):
        schedule(DIRECTORY, CAL, "nope", berlin(2027, 1, 5), berlin(2027, 1, 6))


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="must be an aware datetime"):
        ask("lonely", datetime(2027, 1, 5, 10))
    with pytest.raises(ValueError, match="must be an aware datetime"):
        schedule(DIRECTORY, CAL, "lonely", berlin(2027, 1, 5), datetime(2027, 1, 6))


def test_slot_parser() -> None:  # the builder itself, so the tests above read as intended
    assert slot("trio-1") == SlotRef("trio", None, -1)
    assert slot("pair:S+1") == SlotRef("pair", "S", 1)
    assert slot("@person:boss") == SlotRef("@person", "boss")
