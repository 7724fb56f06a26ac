from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.when import WhenError, names_a_time, parse_bound, parse_when

TZ = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)  # Thanksgiving, 10:00 local


@pytest.mark.parametrize(
    ("text", "local"),
    [
        ("2026-12-25", datetime(2026, 12, 25, 12, 0)),
        ("2026-12-25T10:00", datetime(2026, 12, 25, 10, 0)),
        ("2026-12-25 10:00", datetime(2026, 12, 25, 10, 0)),
        ("tomorrow 10:00", datetime(2026, 11, 27, 10, 0)),
        ("saturday", datetime(2026, 11, 28, 12, 0)),
        ("thursday", datetime(2026, 11, 26, 12, 0)),  # WEEKDAY_RULE: on a Thursday, "thursday" is today
        ("this thursday", datetime(2026, 11, 26, 12, 0)),
        ("next thursday", datetime(2026, 12, 3, 12, 0)),  # ... and "next thursday" in 7 days
        ("next friday", datetime(2026, 11, 27, 12, 0)),  # the first Friday after today
        ("friday", datetime(2026, 11, 27, 12, 0)),
        ("wednesday", datetime(2026, 12, 2, 12, 0)),
        ("saturday noon", datetime(2026, 11, 28, 12, 0)),
        ("saturday at noon", datetime(2026, 11, 28, 12, 0)),
        ("tomorrow midnight", datetime(2026, 11, 27, 0, 0)),  # midnight: the start of the day named
        ("midnight", datetime(2026, 11, 26, 0, 0)),
        ("noon", datetime(2026, 11, 26, 12, 0)),
        ("yesterday", datetime(2026, 11, 25, 12, 0)),
        ("yesterday 09:00", datetime(2026, 11, 25, 9, 0)),
        ("tomorrow", datetime(2026, 11, 27, 12, 0)),
        ("dec 25 noon", datetime(2026, 12, 25, 12, 0)),
        ("next monday 8am", datetime(2026, 11, 30, 8, 0)),
        ("dec 25", datetime(2026, 12, 25, 12, 0)),
        ("Dec 25 9am", datetime(2026, 12, 25, 9, 0)),
        ("jan 2", datetime(2027, 1, 2, 12, 0)),  # past this year: next year's
        ("25 dec", datetime(2026, 12, 25, 12, 0)),
        ("14:30", datetime(2026, 11, 26, 14, 30)),
        ("5:30pm", datetime(2026, 11, 26, 17, 30)),
        ("2027-03-14T03:30", datetime(2027, 3, 14, 3, 30)),  # the day DST starts, after the gap
    ],
)
def test_parse_when(text: str, local: datetime) -> None:
    assert parse_when(text, NOW, TZ) == local.replace(tzinfo=TZ)


def test_iso_with_offset_is_taken_as_given() -> None:
    assert parse_when("2026-11-30T14:00:00Z", NOW, TZ) == datetime(2026, 11, 30, 14, 0, tzinfo=UTC)


def test_now() -> None:
    assert parse_when("now", NOW, TZ) == NOW


@pytest.mark.parametrize("text", ["", "blursday", "tomorrow 25:00", "13pm", "feb 30", "next"])
def test_rejects(text: str) -> None:
    with pytest.raises(WhenError):
        parse_when(text, NOW, TZ)


@given(st.text(max_size=40))
def test_never_crashes(text: str) -> None:
    try:
        result = parse_when(text, NOW, TZ)
    except WhenError:
        return
    assert result.tzinfo is not None


MONDAY = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # a Monday, 10:00 local


@pytest.mark.parametrize(
    ("text", "day"),
    [("monday", 30), ("this monday", 30), ("mon", 30), ("next monday", 7), ("tuesday", 1), ("next tuesday", 1),
     ("sunday", 6), ("next sunday", 6)],
)
def test_weekday_rule_on_a_monday(text: str, day: int) -> None:
    month = 11 if day == 30 else 12
    assert parse_when(text, MONDAY, TZ) == datetime(2026, month, day, 12, 0, tzinfo=TZ)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-12-31", datetime(2026, 12, 31), datetime(2027, 1, 1)),  # --to DATE includes the whole day
        ("dec 24", datetime(2026, 12, 24), datetime(2026, 12, 25)),
        ("yesterday", datetime(2026, 11, 25), datetime(2026, 11, 26)),
        ("saturday", datetime(2026, 11, 28), datetime(2026, 11, 29)),
        ("2026-12-24T09:00", datetime(2026, 12, 24, 9), datetime(2026, 12, 24, 9)),  # a time is as given
        ("tomorrow noon", datetime(2026, 11, 27, 12), datetime(2026, 11, 27, 12)),
    ],
)
def test_range_bounds(text: str, start: datetime, end: datetime) -> None:
    assert parse_bound(text, NOW, TZ, end=False) == start.replace(tzinfo=TZ)
    assert parse_bound(text, NOW, TZ, end=True) == end.replace(tzinfo=TZ)


def test_names_a_time() -> None:
    assert not names_a_time("2026-12-25", NOW, TZ)
    assert not names_a_time("friday", NOW, TZ)
    assert names_a_time("friday noon", NOW, TZ)
    assert names_a_time("2026-12-25T00:00", NOW, TZ)
