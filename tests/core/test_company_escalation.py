"""Escalation chains of small companies built in code: every after-hours action with and without
``critical``, pipeline-level overrides of contacts, channel de-duplication, missing teams."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from bot.core.coverage import UnknownPipeline
from bot.core.escalation import EscalationStep, escalation_chain
from bot.core.model import Override

from .companies import HOLIDAY, acme, after_hours, berlin, override, window


def company() -> tuple[object, object]:
    c = acme().team("data", "#data").team("web").team("ops-too", "#ops")
    c.pipeline("covered", window("day", "trio", "solo"), escalation=["pair:P", "trio"],
               owners=["ops", "web", "ghost", "ops-too", "data"])
    c.pipeline("lonely", window("day", "trio"), escalation=["trio+1"], owners=["data"])
    c.pipeline("queue", window("day", "trio"), after=after_hours("queue_next_business_day", "trio", queue_at=time(9)),
               escalation=["solo"], owners=["web"])
    c.pipeline("queue-critical", window("day", "trio"),
               after=after_hours("queue_next_business_day", "trio", queue_at=time(9), critical="pair:S"),
               owners=["ghost"])
    c.pipeline("paging", window("day", "trio"), after=after_hours("page", "trio+1"), owners=[])
    c.pipeline("next", window("day", "trio", "pair:P"), escalation=["solo"])
    c.pipeline("holidays", window("h", "trio", days=HOLIDAY), after=after_hours("page_next_secondary", "solo"),
               escalation=["solo"], owners=[])
    return c.build()


(DIRECTORY, CAL) = company()


def chain(pipeline: str, at: datetime, overrides: tuple[Override, ...] = (), **kw: bool) -> list[EscalationStep]:
    return escalation_chain(DIRECTORY, CAL, pipeline, at, overrides, **kw)  # type: ignore[arg-type]


def summary(steps: list[EscalationStep]) -> list[tuple[int, str, str | None, str]]:
    return [(s.level, s.kind, None if s.holder is None else s.holder.person, s.label) for s in steps]


TUESDAY = berlin(2027, 1, 5, 10)  # week 0: trio a1, pair P p1 / S p2
FRIDAY_EVENING = berlin(2027, 1, 8, 18)
SUNDAY_EVENING = berlin(2027, 1, 10, 20)


def test_covered_chain_with_contacts_and_deduplicated_channels() -> None:
    steps = chain("covered", TUESDAY)
    assert summary(steps) == [
        (1, "person", "a1", "primary"),
        (2, "person", "s1", "secondary"),
        (3, "person", "p1", "escalation contact (pair:P)"),  # trio is a1, already paged
        (4, "channel", None, "owning teams' channels"),
    ]
    assert steps[3].channels == ("#ops", "#data")  # web has none, ghost is no team, ops-too repeats #ops
    assert all(s.queued_until is None for s in steps) and steps[0].channels == ()


def test_a_window_without_secondary_has_no_secondary_step() -> None:
    assert summary(chain("lonely", TUESDAY)) == [
        (1, "person", "a1", "primary"),
        (2, "person", "a2", "escalation contact (trio+1)"),
        (3, "channel", None, "owning teams' channels"),
    ]


def test_pipeline_level_overrides_reach_the_escalation_contacts() -> None:
    wide = override(4, "zed", berlin(2027, 1, 5), berlin(2027, 1, 6), pipeline="covered")
    steps = chain("covered", TUESDAY, (wide,))
    assert summary(steps) == [(1, "person", "zed", "primary"), (2, "channel", None, "owning teams' channels")]
    assert steps[0].holder is not None and steps[0].holder.via_override == 4
    other = override(5, "zed", berlin(2027, 1, 5), berlin(2027, 1, 6), pipeline="lonely")
    assert summary(chain("covered", TUESDAY, (other,)))[2] == (3, "person", "p1", "escalation contact (pair:P)")


def test_queueing_pipeline_queues_unless_critical() -> None:
    normal = chain("queue", FRIDAY_EVENING)  # critical defaults to False
    assert summary(normal) == [
        (1, "queued", "a2", "after hours: queued for trio"),  # week 1 when the queue is worked
        (2, "person", "a2", "next window primary"),  # a queued person is not yet paged
        (3, "person", "s1", "escalation contact (solo)"),
    ]  # web has no channel: no channel step
    assert normal[0].queued_until == berlin(2027, 1, 11, 9)
    assert [s.queued_until for s in normal[1:]] == [None, None]


def test_critical_without_critical_target_pages_the_queue_target_now() -> None:
    steps = chain("queue", FRIDAY_EVENING, critical=True)
    assert summary(steps) == [
        (1, "person", "a1", "after hours: critical (trio)"),  # resolved now: week 0
        (2, "person", "a2", "next window primary"),
        (3, "person", "s1", "escalation contact (solo)"),
    ]
    assert all(s.queued_until is None for s in steps)
    wide = override(6, "zed", berlin(2027, 1, 8, 17), berlin(2027, 1, 9), pipeline="queue")
    first = chain("queue", FRIDAY_EVENING, (wide,), critical=True)[0]
    assert first.holder is not None and (first.holder.person, first.holder.via_override) == ("zed", 6)


def test_critical_target_is_paged_for_a_critical_incident_only() -> None:
    assert summary(chain("queue-critical", FRIDAY_EVENING, critical=True))[0] == (
        1, "person", "p2", "after hours: critical (pair:S)")
    assert summary(chain("queue-critical", FRIDAY_EVENING))[0] == (1, "queued", "a2", "after hours: queued for trio")
    covered = chain("queue-critical", TUESDAY, critical=True)
    assert summary(covered) == [(1, "person", "a1", "primary")]  # critical changes nothing while covered


def test_page_action_pages_now_and_skips_whoever_was_paged() -> None:
    assert summary(chain("paging", SUNDAY_EVENING)) == [
        (1, "person", "a2", "after hours: paged now (trio+1)"),  # next window primary (week 1) is a2 too
    ]


def test_page_next_secondary_then_the_next_window() -> None:
    assert summary(chain("next", SUNDAY_EVENING)) == [
        (1, "person", "p2", "after hours: next window's secondary"),
        (2, "person", "a2", "next window primary"),
        (3, "person", "s1", "escalation contact (solo)"),
        (4, "channel", None, "owning teams' channels"),
    ]
    assert summary(chain("next", SUNDAY_EVENING, critical=True)) == summary(chain("next", SUNDAY_EVENING))


def test_nothing_resumes_and_no_queue() -> None:
    # page_next_secondary with nothing resuming within the horizon: nobody to page after hours; a
    # target on a pipeline that does not queue is not paged for a critical incident either
    for critical in (False, True):
        assert summary(chain("holidays", berlin(2027, 1, 10, 12), critical=critical)) == [
            (1, "person", "s1", "escalation contact (solo)"),
        ]


def test_unknown_pipeline() -> None:
    with pytest.raises(UnknownPipeline) as err:
        chain("nope", TUESDAY)
    assert err.value.args == ("nope",) and err.value.pipeline_id == "nope"
