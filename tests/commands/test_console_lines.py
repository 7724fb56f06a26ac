"""Issue 11 §4: the console and ``ask`` accept what Slack accepts (mentions and questions), people
by id, name or ``@handle``, and the terminal rendering shows what Slack shows without mrkdwn noise."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest

from bot.commands.answer import answer
from bot.commands.common import UNKNOWN_USER
from bot.commands.mention import console_command, mention_command
from bot.commands.parse import OncallPerson, OncallPipeline, parse_command
from bot.commands.results import NotFound, OncallReport, OwnersReport, PersonReport, Problem
from bot.render.blocks import Message, render_help
from bot.render.plain import message_to_text, mrkdwn_to_text
from bot.seed.validate import load_seed_file
from bot.services.queries import ask_snapshot
from bot.services.snapshot import Snapshot

ROOT = Path(__file__).resolve().parents[2]
MONDAY = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # 10:00 EST


@cache
def snap() -> Snapshot:
    return Snapshot.build(load_seed_file(ROOT / "data" / "seed.yaml"))


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("@oncall who owns clickstream?", "/whoowns clickstream"),  # the README's mention example
        ("@oncall who is on call for growth?", "/oncall growth"),
        ("@oncall, who is on call for growth at saturday noon?", "/oncall growth at saturday noon"),
        ("who owns churn", "/whoowns churn"),
        ("runbook profit", "/runbook profit"),
        ("@oncall", "help"),
        ("/oncall growth", "/oncall growth"),
        ("growth at saturday", "growth at saturday"),  # /oncall arguments, as before
        ("@fe2", "@fe2"),
        ("@Fay Ellis", "@Fay Ellis"),
        ("<@U0FE00002>", "<@U0FE00002>"),  # a person's mention is not the bot's name
        ("away dec 24 dec 26", "away dec 24 dec 26"),
        ("@oncall what is the weather", None),  # addressed to the bot, not a question it knows
    ],
)
def test_console_command(line: str, command: str | None) -> None:
    assert console_command(line) == command


@pytest.mark.parametrize(
    ("text", "who"),
    [("/oncall @fe2", "@fe2"), ("/oncall @Fay Ellis", "@Fay Ellis"), ("/oncall @de1", "@de1"),
     ("/oncall <@U0FE00002>", "<@U0FE00002>"), ("/oncall <@U0FE00002|fay.ellis>", "<@U0FE00002|fay.ellis>"),
     ("/oncall who Fay Ellis", "Fay Ellis")],
)
def test_people_parse_as_people(text: str, who: str) -> None:
    command, _, rest = text.partition(" ")
    assert parse_command(command, rest) == OncallPerson(who)


@pytest.mark.parametrize(
    "line",
    ["/oncall @fe2", "/oncall @Fay Ellis", "/oncall @fay ellis", "/oncall <@U0FE00002>", "/oncall <@U0FE00002|fay>",
     "/oncall fe2", "/oncall Fay Ellis", "@oncall when is @Fay Ellis on call?", "@oncall is <@U0FE00002> on call"],
)
def test_every_way_to_name_a_person_means_that_person(line: str) -> None:
    command = console_command(line)
    assert command is not None
    result = ask_snapshot(snap(), command, MONDAY, None).result
    assert isinstance(result, PersonReport) and result.person.id == "fe2"


def test_slack_mention_with_a_typed_handle() -> None:
    # Slack encodes a mention it recognised (<@U...>); a typed "@name" it did not arrives as text.
    assert mention_command("<@UBOT> is @fe2 on call?", "UBOT") == "/oncall @fe2"
    assert mention_command("<@UBOT> when is @Fay Ellis on call", "UBOT") == "/oncall @Fay Ellis"


def test_a_pipeline_still_wins_and_unknown_names_stay_unknown() -> None:
    assert isinstance(answer(OncallPipeline("growth"), snap(), MONDAY), OncallReport)
    unknown = answer(OncallPipeline("@nobody"), snap(), MONDAY)
    assert isinstance(answer(parse_command("/oncall", "@nobody"), snap(), MONDAY), NotFound)
    assert isinstance(unknown, NotFound) and unknown.kind == "pipeline"


def test_noon_is_a_time_of_day() -> None:
    result = ask_snapshot(snap(), "/oncall growth at saturday noon", MONDAY, None).result
    assert isinstance(result, OncallReport)
    assert result.at == datetime(2026, 12, 5, 17, 0, tzinfo=UTC)  # Sat Dec 5 12:00 EST
    assert isinstance(ask_snapshot(snap(), "/oncall growth at yesterday", MONDAY, None).result, OncallReport)


def test_on_a_monday_monday_is_today_and_next_monday_a_week_on() -> None:
    today = ask_snapshot(snap(), "/oncall growth at monday 10:00", MONDAY, None).result
    this = ask_snapshot(snap(), "/oncall growth at this monday 10:00", MONDAY, None).result
    nxt = ask_snapshot(snap(), "/oncall growth at next monday 10:00", MONDAY, None).result
    assert isinstance(today, OncallReport) and isinstance(this, OncallReport) and isinstance(nxt, OncallReport)
    assert today.at == this.at == MONDAY
    assert nxt.at == datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def test_me_without_a_user_is_the_unknown_user_problem() -> None:
    result = ask_snapshot(snap(), "/oncall me", MONDAY, None).result
    assert result == Problem(UNKNOWN_USER, "/oncall")


def test_nothing_owned_is_an_empty_owners_report() -> None:
    result = ask_snapshot(snap(), "/whoowns nonsense", MONDAY, None).result
    assert isinstance(result, OwnersReport) and result.hits == ()


def test_help_states_the_weekday_rule_and_bare_dates() -> None:
    text = message_to_text(render_help(""), snap().directory)
    assert '"next monday" in 7 days' in text and "A day without a time is its 12:00" in text
    assert "whole day in a range" in text


def test_terminal_text_has_no_fences_and_links_once() -> None:
    d = snap().directory
    url = "http://localhost:3000/calendar/abc.ics"
    assert mrkdwn_to_text(f"<{url}|{url}>", d) == url
    assert mrkdwn_to_text(f"<{url}>", d) == url
    assert mrkdwn_to_text(f"<{url}|Profit>", d) == f"Profit ({url})"
    fenced = mrkdwn_to_text("Fairness\n```  shifts\nFinance  25```\n```  shifts\nRisk  0```", d)
    assert "```" not in fenced and "Finance  25" in fenced and "Risk  0" in fenced


def test_fairness_in_the_console_prints_no_fences() -> None:
    from bot.commands.changes import FairnessCommand, FairnessResult, fairness_range
    from bot.core.fairness import fairness
    from bot.render.changes import render_fairness

    s = snap()
    span = fairness_range(FairnessCommand(), MONDAY, s.calendar.tz)
    assert not isinstance(span, str)
    report = fairness(s.directory, s.calendar, span[0], span[1], s.overrides)
    message: Message = render_fairness(s.directory, s.calendar.tz, FairnessResult(report))
    assert "```" in str(message.blocks_json())  # Slack shows a code block...
    text = message_to_text(message, s.directory)
    assert "```" not in text and "Finance Team" in text  # ... the terminal its lines
