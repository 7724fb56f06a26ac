"""escalation_chain: covered and after-hours chains (rules §3, §4)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.coverage import UnknownPipeline
from bot.core.escalation import EscalationStep, escalation_chain
from bot.core.model import Override

from .helpers import CAL, DIRECTORY, de, ny, utc


def chain(pipeline: str, at: datetime, critical: bool = False, overrides: tuple[Override, ...] = ()
          ) -> list[EscalationStep]:
    return escalation_chain(DIRECTORY, CAL, pipeline, at, overrides, critical=critical)


def summary(steps: list[EscalationStep]) -> list[tuple[int, str, str, str]]:
    return [
        (s.level, s.kind, s.holder.person if s.holder else ",".join(s.channels), s.label) for s in steps
    ]


def test_profit_covered_weekday() -> None:
    assert summary(chain("profit", ny(2026, 11, 30, 10))) == [
        (1, "person", "fin2", "primary"),
        (2, "person", de(4, 1), "secondary"),
        (3, "person", de(4, 2), "escalation contact (data-eng:R2)"),
        (4, "channel", "#finance,#risk", "owning teams' channels"),
    ]


def test_profit_covered_weekend_does_not_page_r2_twice() -> None:
    assert summary(chain("profit", ny(2026, 12, 5, 10))) == [
        (1, "person", de(4, 1), "primary"),
        (2, "person", de(4, 2), "secondary"),
        (3, "channel", "#finance,#risk", "owning teams' channels"),
    ]


def test_engagement_covered_and_aggregate_next_member() -> None:
    assert summary(chain("engagement", ny(2026, 12, 1, 10))) == [
        (1, "person", de(4, 2), "primary"),
        (2, "person", "fe2", "secondary"),
        (3, "channel", "#frontend", "owning teams' channels"),
    ]
    assert summary(chain("aggregate-profit-growth", ny(2026, 12, 1, 10))) == [
        (1, "person", "ba1", "primary"),
        (2, "person", de(4, 3), "secondary"),
        (3, "person", "ba2", "escalation contact (analytics+1)"),
        (4, "channel", "#analytics", "owning teams' channels"),
    ]


def test_profit_after_hours_critical_pages_r1_first() -> None:
    steps = chain("profit", ny(2026, 11, 28, 20), critical=True)  # Saturday night, week 3
    assert summary(steps) == [
        (1, "person", "de4", "after hours: critical (data-eng:R1)"),
        (2, "person", de(3, 2), "next window secondary"),  # Sunday 09:00 R2; R1 already paged
        (3, "channel", "#finance,#risk", "owning teams' channels"),
    ]
    normal = chain("profit", ny(2026, 11, 28, 20))
    assert summary(normal)[:2] == [
        (1, "person", de(3, 2), "after hours: next window's secondary"),
        (2, "person", de(3, 1), "next window primary"),
    ]


def test_growth_after_hours_is_queued_unless_critical() -> None:
    steps = chain("growth", ny(2026, 12, 4, 17))  # Friday 17:00, week 4
    assert steps[0].kind == "queued" and steps[0].level == 1
    assert steps[0].holder is not None and steps[0].holder.person == de(5, 1)
    assert steps[0].queued_until == ny(2026, 12, 7, 9) and steps[0].queued_until.tzinfo is UTC
    assert summary(steps)[1:] == [
        (2, "person", "acc2", "next window primary"),
        (3, "person", de(5, 1), "next window secondary"),
        # the escalation contact, R2 now (de2), is next week's R1 already paged at level 3
        (4, "channel", "#accounts", "owning teams' channels"),
    ]
    assert de(4, 2) == de(5, 1)
    wednesday = chain("growth", ny(2026, 12, 2, 20))
    assert summary(wednesday)[1:] == [
        (2, "person", "acc1", "next window primary"),
        (3, "person", de(4, 1), "next window secondary"),
        (4, "person", de(4, 2), "escalation contact (data-eng:R2)"),
        (5, "channel", "#accounts", "owning teams' channels"),
    ]
    critical = chain("growth", ny(2026, 12, 4, 17), critical=True)
    assert summary(critical)[0] == (1, "person", de(4, 1), "after hours: critical (data-eng:R1)")
    assert all(s.queued_until is None for s in critical)


def test_engagement_after_hours_pages_next_secondary() -> None:
    assert summary(chain("engagement", ny(2026, 11, 30, 7))) == [
        (1, "person", "fe1", "after hours: next window's secondary"),
        (2, "person", de(3, 2), "next window primary"),
        (3, "channel", "#frontend", "owning teams' channels"),  # escalation contact fe1 already paged
    ]


def test_levels_are_numbered_and_overrides_apply() -> None:
    o = Override(9, ny(2026, 11, 30), ny(2026, 12, 1), "risk1", utc(2026, 11, 1), rotation="finance")
    steps = chain("profit", ny(2026, 11, 30, 10), overrides=(o,))
    assert [s.level for s in steps] == [1, 2, 3, 4]
    first = steps[0].holder
    assert first is not None and (first.person, first.via_override) == ("risk1", 9)


def test_unknown_pipeline() -> None:
    with pytest.raises(UnknownPipeline):
        chain("nope", ny(2026, 12, 1))
