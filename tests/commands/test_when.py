from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.when import WhenError, parse_when

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
        ("thursday", datetime(2026, 12, 3, 12, 0)),  # a weekday name is the next one, not today
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
