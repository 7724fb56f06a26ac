"""The pure alert rules at explicit instants (``bot.core.alerts``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core import alerts as rules
from bot.core.alerts import OpenIncident

T = datetime(2026, 12, 1, 15, 0, 7, tzinfo=UTC)


def test_severity_order() -> None:
    assert rules.more_severe("critical", "error") and rules.more_severe("error", "warning")
    assert not rules.more_severe("warning", "warning") and not rules.more_severe("info", "warning")
    assert rules.highest(["info", "error", "warning"]) == "error"
    assert rules.incident_severity(True, None) == "critical" and rules.incident_severity(False, None) == "error"
    assert rules.incident_severity(False, "warning") == "warning"


def test_a_new_key_joins_the_newest_open_incident_unless_more_severe() -> None:
    assert rules.incident_for_new_key("error", []) is None
    opened = [OpenIncident(7, "error"), OpenIncident(3, "critical")]
    assert rules.incident_for_new_key("error", opened) == 7
    assert rules.incident_for_new_key("info", opened) == 7
    assert rules.incident_for_new_key("critical", opened) is None


def test_storm_edits_share_one_30_second_window() -> None:
    due = rules.storm_edit_at(T)
    assert due == datetime(2026, 12, 1, 15, 0, 30, tzinfo=UTC)
    assert rules.storm_edit_at(T + timedelta(seconds=20)) == due
    assert rules.storm_edit_at(due) == due + timedelta(seconds=30)  # the boundary starts the next window
    with pytest.raises(ValueError):
        rules.storm_edit_at(datetime(2026, 12, 1, 15, 0))


@pytest.mark.parametrize(("text", "delta", "back"), [
    ("48h", timedelta(hours=48), "48h"), ("2d", timedelta(days=2), "48h"), ("7d", timedelta(days=7), "1w"),
    ("90m", timedelta(minutes=90), "90m"), ("3d", timedelta(days=3), "3d"),
])
def test_durations(text: str, delta: timedelta, back: str) -> None:
    assert rules.parse_duration(text) == delta
    assert rules.format_duration(delta) == back


@pytest.mark.parametrize("bad", ["", "48", "0h", "-1h", "2 days", "h"])
def test_bad_durations(bad: str) -> None:
    with pytest.raises(ValueError):
        rules.parse_duration(bad)


def test_freshness_deadline_from_the_last_arrival_or_when_first_seen() -> None:
    within = timedelta(hours=48)
    last = T - timedelta(hours=47)
    assert rules.freshness_deadline(last, T - timedelta(days=30), within) == last + within
    assert not rules.is_late(last, T, within, T)
    assert rules.is_late(last, T, within, last + within)
    assert rules.freshness_deadline(None, T, within) == T + within
