"""Channel topics, pure: the people at explicit instants (window boundaries, handoffs, holidays,
DST), the text and its fitting into Slack's 250 characters, the team's part kept."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.calendar import CompanyCalendar
from bot.core.model import Directory, Override
from bot.core.topic import (
    TOPIC_LIMIT,
    Seats,
    compose,
    fit,
    our_text,
    our_texts,
    people_key,
    plain,
    seats_at,
    split_topic,
    topic_channels,
    topic_state,
)
from bot.seed.validate import load_seed_file
from tests.scheduled.helpers import SEED

NY = ZoneInfo("America/New_York")
D: Directory = load_seed_file(SEED)
CAL = CompanyCalendar.from_spec(D.calendar)


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY).astimezone(UTC)  # type: ignore[misc]


def state(channel: str, at: datetime, overrides: tuple[Override, ...] = ()):  # type: ignore[no-untyped-def]
    return topic_state(D, CAL, channel, topic_channels(D)[channel], at, overrides)


def test_the_seed_keeps_four_channel_topics_one_shared_by_the_aggregates() -> None:
    channels = topic_channels(D)
    assert {c: [p.id for p in ps] for c, ps in channels.items()} == {
        "#data-profit": ["profit"], "#data-growth": ["growth"], "#data-engagement": ["engagement"],
        "#data-investors": ["aggregate-profit-growth", "aggregate-engagement"],
    }
    assert all(p.topic is not None and p.topic.max_changes_per_day == 4 for ps in channels.values() for p in ps)


def test_the_example_of_the_issue() -> None:
    s = state("#data-engagement", ny(2026, 11, 30, 10, 0))  # Monday: DE R2 de2, frontend fe2
    assert our_text(D, CAL, s) == "On call: Dev Desai, backup Fay Ellis, until 18:00 ET. Ask /oncall engagement"


def test_a_window_boundary_that_keeps_the_people_is_no_change() -> None:
    # Thanksgiving (holiday) and the day after (company holiday), then the weekend: Engagement's
    # weekend/holiday window runs Thu 00:00 to Mon 00:00 with the same people, across four local
    # midnights (each one a window boundary of the engine).
    thu = state("#data-engagement", ny(2026, 11, 26, 0, 0))
    assert thu.until == ny(2026, 11, 30, 0, 0)
    for day in (27, 28, 29):
        assert state("#data-engagement", ny(2026, 11, day, 0, 0)).key == thu.key
    assert our_text(D, CAL, thu) == "On call: Felix Evans, backup Dana Diaz, until Mon 00:00 ET. Ask /oncall engagement"


def test_the_aggregates_month_end_window_then_the_weekday_window_is_one_span() -> None:
    # Monday Nov 30 is in the month-end week: 08:00-18:00 (month-end focus); at 09:00 the handoff
    # changes the people; the month-end window's end at 18:00 is coverage ending.
    before = state("#data-investors", ny(2026, 11, 30, 8, 30))
    assert before.until == ny(2026, 11, 30, 9, 0)
    after = state("#data-investors", ny(2026, 11, 30, 9, 0))
    assert after.key != before.key and after.until == ny(2026, 11, 30, 18, 0)
    # Tuesday Dec 1 is not month-end: 09:00-17:00 with the same people all week
    tue = state("#data-investors", ny(2026, 12, 1, 12, 0))
    assert tue.key == after.key and tue.until == ny(2026, 12, 1, 17, 0)


def test_an_override_naming_the_person_already_on_call_is_no_change() -> None:
    at = ny(2026, 11, 30, 10, 0)
    same = Override(1, at - timedelta(hours=1), at + timedelta(hours=3), "de2", at - timedelta(days=1),
                    rotation="data-eng", role="R2")  # de2 holds R2 this week already
    other = replace(same, id=2, person="de4")
    assert state("#data-engagement", at, (same,)).key == state("#data-engagement", at).key
    changed = state("#data-engagement", at, (other,))
    assert changed.key != state("#data-engagement", at).key
    assert our_text(D, CAL, changed).startswith("On call: Drew Doyle, backup Fay Ellis, until 13:00 ET")


def test_primary_and_backup_trading_places_is_a_change() -> None:
    # Friday 08:00-18:00: DE R2 primary, frontend backup; Saturday 00:00: frontend primary, DE R2 backup
    fri = state("#data-engagement", ny(2026, 12, 4, 12, 0))
    sat = state("#data-engagement", ny(2026, 12, 5, 12, 0))
    assert {fri.seats[0].primary, fri.seats[0].secondary} == {sat.seats[0].primary, sat.seats[0].secondary}
    assert fri.key != sat.key


def test_not_covered_says_when_it_resumes() -> None:
    s = state("#data-growth", ny(2026, 11, 28, 20, 0))  # Saturday evening: Growth has no weekend cover
    assert s.seats == (Seats("growth", None, None),)
    assert our_text(D, CAL, s) == "No one on call until Mon 09:00 ET. Ask /oncall growth"


@pytest.mark.parametrize(
    ("at", "until", "text"),
    [
        # DST ends Sun Nov 1 2026 02:00 EDT: Profit's weekend window 09:00-15:00 is in EST that day
        (datetime(2026, 11, 1, 10, 0, tzinfo=NY), datetime(2026, 11, 1, 15, 0, tzinfo=NY), "until 15:00 ET"),
        # DST starts Sun Mar 8 2026: 09:00 EDT is 13:00 UTC, not 14:00
        (datetime(2026, 3, 8, 9, 0, tzinfo=NY), datetime(2026, 3, 8, 15, 0, tzinfo=NY), "until 15:00 ET"),
        # Saturday night before the fall-back Sunday: coverage resumes Sunday 09:00 EST (14:00 UTC)
        (datetime(2026, 10, 31, 20, 0, tzinfo=NY), datetime(2026, 11, 1, 9, 0, tzinfo=NY), "until Sun 09:00 ET"),
    ],
)
def test_dst_days_keep_local_wall_clock_times(at: datetime, until: datetime, text: str) -> None:
    s = state("#data-profit", at)
    assert s.until == until.astimezone(UTC)
    assert text in our_text(D, CAL, s)


def test_until_names_the_weekday_then_the_date_when_far() -> None:
    at = ny(2026, 11, 30, 10, 0)
    far = Override(3, at - timedelta(hours=1), ny(2026, 12, 8, 9, 0), "de4", at, rotation="data-eng", role="R2")
    s = topic_state(D, CAL, "#data-engagement", topic_channels(D)["#data-engagement"], at, (far,),
                    horizon=timedelta(days=12))
    assert "until Mon Dec 7 00:00 ET" not in our_text(D, CAL, s)  # (the override runs through the weekend)
    assert s.until is not None and our_text(D, CAL, s).count("until") == 1


def test_the_text_is_plain_and_fits_250_characters_names_shortened_first() -> None:
    long_name = "Maximiliana <@U123> Theodora & <https://x.y|z> Wolfeschlegelsteinhausenbergerdorff-Smith"
    people = {pid: replace(p, name=long_name) for pid, p in D.people.items()}
    d = replace(D, people=people)
    s = topic_state(d, CAL, "#data-investors", topic_channels(d)["#data-investors"], ny(2026, 11, 30, 10, 0))
    texts = our_texts(d, CAL, s)
    assert all("<" not in t and ">" not in t and "&" not in t for t in texts)
    assert len(texts[0]) > TOPIC_LIMIT
    chosen = our_text(d, CAL, s)
    assert len(chosen) <= TOPIC_LIMIT and "Maximiliana W." in chosen and "until 18:00 ET" in chosen


def test_plain_removes_markup() -> None:
    assert plain("a <@U1> & <#C1|x>\nb") == "a @U1 #C1|x b"


@pytest.mark.parametrize(
    ("current", "previous", "human"),
    [
        ("", (), ""),
        ("Pipeline questions here", (), "Pipeline questions here"),  # the team's topic, no separator yet
        ("Pipeline questions here | On call: A, backup B.", (), "Pipeline questions here"),
        ("a | b | On call: A.", (), "a | b"),  # the last separator
        ("On call: A, backup B. Ask /oncall x", (), ""),  # ours alone
        ("Whatever we set", ("Whatever we set",), ""),
    ],
)
def test_split_topic_keeps_the_teams_part(current: str, previous: tuple[str, ...], human: str) -> None:
    assert split_topic(current, " | ", previous) == human


def test_compose_keeps_the_team_part_and_shrinks_ours_to_fit() -> None:
    ours = ("On call: Dev Desai, backup Fay Ellis, until 18:00 ET. Ask /oncall engagement",
            "On call: Dev D., backup Fay E., until 18:00 ET. Ask /oncall engagement", "On call: Dev, backup Fay.")
    assert compose("", ours, " | ") == ours[0]
    assert compose("Team text", ours, " | ") == f"Team text | {ours[0]}"
    human = "h" * 200
    got = compose(human, ours, " | ")
    assert got == f"{human} | {ours[2]}" and len(got) <= TOPIC_LIMIT
    cut = compose("h" * 300, ours, " | ")
    assert len(cut) == TOPIC_LIMIT and cut.endswith(f"… | {ours[2]}")


def test_fit_cuts_the_shortest_with_an_ellipsis() -> None:
    assert fit(["abcdef", "abcd"], 4) == "abcd"
    assert fit(["abcdef", "abcde"], 4) == "abc…"


def test_seats_at_agrees_with_topic_state_every_hour_of_a_week() -> None:
    start = ny(2026, 11, 23, 0, 0)
    for channel, pipelines in topic_channels(D).items():
        for h in range(0, 24 * 7, 5):
            at = start + timedelta(hours=h)
            assert people_key(seats_at(D, CAL, pipelines, at)) == state(channel, at).key


def _seed_with(edit: str, anchor: str) -> str:
    text = SEED.read_text(encoding="utf-8")
    assert anchor in text
    return text.replace(anchor, edit, 1)


def test_the_seed_check_refuses_a_topic_without_a_channel_and_disagreeing_sharers() -> None:
    from bot.seed.validate import SeedError, parse_seed_text

    no_channel = _seed_with('    topic: {max_changes_per_day: 4}   # keep the channel topic naming who is on call\n',
                            '    channel: "#data-profit"\n    topic: {max_changes_per_day: 4}'
                            '   # keep the channel topic naming who is on call\n')
    with pytest.raises(SeedError, match=r"pipelines\[0\]\.topic\.channel: a topic needs a channel"):
        parse_seed_text(no_channel)
    disagree = SEED.read_text(encoding="utf-8").replace(
        "    topic: {max_changes_per_day: 4}   # both aggregates share the channel's topic\n",
        "    topic: {max_changes_per_day: 2}\n", 1)
    with pytest.raises(SeedError, match="keeps the topic of #data-investors too"):
        parse_seed_text(disagree)


def test_the_seed_topic_round_trips_through_export() -> None:
    from bot.seed.validate import dump_seed, parse_seed_text

    seed = parse_seed_text(SEED.read_text(encoding="utf-8"))
    again = parse_seed_text(dump_seed(seed))
    assert again == seed
    assert [p.topic.model_dump(exclude_defaults=True) if p.topic else None for p in again.pipelines] == [{}] * 5
    assert dump_seed(seed).count("topic: {}") == 5  # the defaults (4 a day, " | ") are left out
    moved = parse_seed_text(dump_seed(seed).replace("topic: {}", "topic: {channel: '#ops'}", 1))
    assert moved.pipelines[0].topic is not None and moved.pipelines[0].topic.channel == "#ops"
