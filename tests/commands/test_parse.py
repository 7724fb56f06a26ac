import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.commands.parse import (
    Help,
    OncallAll,
    OncallPerson,
    OncallPipeline,
    OncallSchedule,
    OpenIncident,
    Runbook,
    UsageError,
    WhoOwns,
    parse_command,
)


@pytest.mark.parametrize(
    ("command", "text", "expected"),
    [
        ("/oncall", "", OncallAll()),
        ("/oncall", "at saturday", OncallAll("saturday")),
        ("/oncall", "engagement", OncallPipeline("engagement")),
        ("/oncall", "Engagement   at  tomorrow 10:00", OncallPipeline("Engagement", "tomorrow 10:00")),
        ("/oncall", "aggregate profit at dec 25", OncallPipeline("aggregate profit", "dec 25")),
        ("/oncall", "me", OncallPerson("me")),
        ("/oncall", "<@U0DE00002|dev>", OncallPerson("<@U0DE00002|dev>")),
        ("/oncall", "schedule engagement", OncallSchedule("engagement", 2)),
        ("/oncall", "schedule engagement 4", OncallSchedule("engagement", 4)),
        ("/oncall", "help", Help("/oncall")),
        ("/runbook", "profit", Runbook("profit")),
        ("/whoowns", "clickstream", WhoOwns("clickstream")),
        ("/runbook", "", Runbook("")),  # the channel's pipeline, or "which pipeline?" (bot.commands.answer)
        ("/oncall", "all", OncallAll(None, everything=True)),
        ("/oncall", "all at saturday", OncallAll("saturday", everything=True)),
        ("/incident", "profit Revenue is off", OpenIncident("profit", "Revenue is off", False)),
        ("/incident", "profit --critical Revenue is off", OpenIncident("profit", "Revenue is off", True)),
    ],
)
def test_parse(command: str, text: str, expected: object) -> None:
    assert parse_command(command, text) == expected


@pytest.mark.parametrize(
    ("command", "text", "fragment"),
    [
        ("/whoowns", "", "Owners of what"),
        ("/incident", "profit", "say what is wrong"),
        ("/oncall", "schedule engagement 99", "Weeks must be"),
        ("/nope", "x", "Unknown command"),
    ],
)
def test_usage_errors(command: str, text: str, fragment: str) -> None:
    with pytest.raises(UsageError, match=fragment):
        parse_command(command, text)


@given(st.sampled_from(["/oncall", "/runbook", "/whoowns", "/incident"]), st.text(max_size=200))
def test_parse_never_crashes(command: str, text: str) -> None:
    with contextlib.suppress(UsageError):
        parse_command(command, text)
