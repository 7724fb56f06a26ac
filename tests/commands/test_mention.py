import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands.mention import mention_command, strip_mentions
from bot.commands.parse import UsageError, parse_command

BOT = "U0BOT0001"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<@U0BOT0001> who is on call for growth?", "/oncall growth"),
        ("<@U0BOT0001> Who's on call for Growth", "/oncall Growth"),
        ("<@U0BOT0001> who is on-call for the engagement pipeline?", "/oncall engagement"),
        ("<@U0BOT0001> who is oncall for profit at saturday", "/oncall profit at saturday"),
        ("<@U0BOT0001> who will be on call for profit on dec 25?", "/oncall profit at dec 25"),
        ("<@U0BOT0001> who is on call right now?", "/oncall"),
        ("<@U0BOT0001> on call", "/oncall"),
        ("<@U0BOT0001> who is on call at tomorrow 10:00", "/oncall at tomorrow 10:00"),
        ("<@U0BOT0001> on call profit", "/oncall profit"),
        ("<@U0BOT0001> who covers growth?", "/oncall growth"),
        ("<@U0BOT0001> who owns clickstream?", "/whoowns clickstream"),
        ("<@U0BOT0001> who owns the churn data", "/whoowns churn"),
        ("<@U0BOT0001> owners of salaries", "/whoowns salaries"),
        ("<@U0BOT0001> whose is the clickstream data?", "/whoowns clickstream"),
        ("<@U0BOT0001> runbook profit", "/runbook profit"),
        ("<@U0BOT0001> runbook for profit please", "/runbook profit"),
        ("<@U0BOT0001> show me the profit runbook", "/runbook profit"),
        ("<@U0BOT0001> growth's runbook", "/runbook growth"),
        ("<@U0BOT0001> schedule for engagement 4", "/oncall schedule engagement 4"),
        ("<@U0BOT0001> engagement schedule", "/oncall schedule engagement"),
        ("<@U0BOT0001> am I on call?", "/oncall me"),
        ("<@U0BOT0001> when am i on call next", "/oncall me"),
        ("<@U0BOT0001> my shifts", "/oncall me"),
        ("<@U0BOT0001> is <@U0DE00002> on call?", "/oncall <@U0DE00002>"),
        ("<@U0BOT0001> help", "help"),
        ("<@U0BOT0001> ?", "help"),
        ("<@U0BOT0001>", "help"),
        ("<@U0BOT0001> /oncall engagement at saturday", "/oncall engagement at saturday"),
        ("<@U0BOT0001> oncall engagement", "/oncall engagement"),
        ("<@U0BOT0001> hey, who is on call for growth?", "/oncall growth"),
        ("who is on call for growth? <@U0BOT0001>", "/oncall growth"),
        ("<@U0BOT0001> what's for lunch?", None),
        ("<@U0BOT0001> thanks!", "help"),
    ],
)
def test_mention_command(text: str, expected: str | None) -> None:
    assert mention_command(text, BOT) == expected


def test_runbook_for_is_the_pipeline_name() -> None:
    # "runbook for X": the "for" is not part of the name
    assert mention_command(f"<@{BOT}> runbook for profit", BOT) == "/runbook profit"


def test_without_bot_id_the_leading_mention_is_dropped() -> None:
    assert mention_command("<@UOTHER> who owns clickstream", None) == "/whoowns clickstream"
    assert strip_mentions("<@UOTHER|bot>  who   owns x") == "who owns x"


def test_other_people_mentioned_stay() -> None:
    assert strip_mentions(f"<@{BOT}> is <@U1> on call", BOT) == "is <@U1> on call"


@settings(max_examples=200)
@given(st.text(max_size=200))
def test_any_text_maps_to_a_parseable_line_or_none(text: str) -> None:
    line = mention_command(f"<@{BOT}> {text}", BOT)
    if line is None or line == "help":
        return
    command, _, rest = line.partition(" ")
    with contextlib.suppress(UsageError):  # a user mistake is said to the user: fine
        parse_command(command, rest)
