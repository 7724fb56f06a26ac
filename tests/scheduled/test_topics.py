"""Channel topics kept by the tick, over real HTTP against the fake Slack (issue 14 §3).

A week of simulated time with the handbook's windows (Thanksgiving, the day after, the weekend,
the month-end week and a Monday handoff): each channel's topic is set once at the start and then
exactly once per real change of its people, computed here from the engine's ``schedule`` alone;
a window boundary that keeps the people changes nothing. Two tickers ticking together set each
topic once. The team's text before the separator stays; the day's cap holds.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlalchemy import select

from bot.core.coverage import schedule
from bot.core.model import Directory, Override, TopicSpec
from bot.core.topic import TOPIC_LIMIT, topic_channels
from bot.services.scheduled import Ticker
from bot.services.snapshot import Snapshot
from bot.storage import audit
from bot.storage import scheduled as store
from bot.storage.bootstrap import Database
from tests.support.fake_slack import FakeSlack

from .conftest import TickerFactory
from .helpers import CAL, DIRECTORY, NY, ny

START = ny(2026, 11, 23, 0, 0)  # Monday before Thanksgiving (Thu 26) and the day after (Fri 27)
END = ny(2026, 11, 30, 10, 0)  # through the next Monday's 09:00 handoff (month-end week: 24-30)


def people_changes(
    d: Directory, channel: str, start: datetime, end: datetime, overrides: tuple[Override, ...] = ()
) -> list[datetime]:
    """The instants in ``(start, end]`` at which the people of ``channel``'s pipelines change,
    from the engine's segments alone: a segment boundary counts only when some pipeline's
    (primary person, secondary person, covered) differs across it."""
    pipelines = [p for p in d.pipelines.values() if p.topic is not None and p.topic.channel == channel]
    per = [schedule(d, CAL, p.id, start, end + timedelta(minutes=1), overrides) for p in pipelines]

    def people(at: datetime) -> tuple[tuple[str | None, str | None], ...]:
        out = []
        for segs in per:
            seg = next(s for s in segs if s.start <= at < s.end)
            out.append((seg.primary.person if seg.covered and seg.primary else None,
                        seg.secondary.person if seg.covered and seg.secondary else None))
        return tuple(out)

    boundaries = sorted({s.start for segs in per for s in segs if start < s.start <= end})
    changes, before = [], people(start)
    for b in boundaries:
        now = people(b)
        if now != before:
            changes.append(b)
        before = now
    return changes


def window_boundaries(
    d: Directory, start: datetime, end: datetime, overrides: tuple[Override, ...] = (), channel: str | None = None
) -> list[datetime]:
    """Every instant at which any (of ``channel``'s) pipeline's engine answer changes (window or people)."""
    out: set[datetime] = set()
    for p in d.pipelines.values():
        if channel is None or (p.topic is not None and p.topic.channel == channel):
            out |= {s.start for s in schedule(d, CAL, p.id, start, end, overrides) if s.start > start}
    return sorted(out)


def split_growth(d: Directory) -> Directory:
    """The seed with Growth's business-hours window cut in two at 13:00, same people in both: a
    window boundary every business day that keeps the people."""
    growth = d.pipelines["growth"]
    [w] = growth.windows
    halves = (replace(w, name="morning", end_minute=13 * 60), replace(w, name="afternoon", start_minute=13 * 60))
    return replace(d, pipelines={**d.pipelines, "growth": replace(growth, windows=halves)})


# Wednesday 10:00 to Thursday 10:00, DE R1 "covered" by the person who holds R1 that week (de4):
# an override that names the same person changes nothing.
SAME_PERSON = Override(900, ny(2026, 11, 25, 10, 0), ny(2026, 11, 26, 10, 0), "de4", ny(2026, 11, 20, 9, 0),
                       rotation="data-eng", role="R1")


def tick_instants(start: datetime, end: datetime) -> list[datetime]:
    """Every hour, and a minute before, at and a minute after every boundary of the engine."""
    hours = int((end - start).total_seconds() // 3600)
    instants = {start + timedelta(hours=h) for h in range(hours + 1)}
    for b in window_boundaries(DIRECTORY, start, end):
        instants |= {b - timedelta(minutes=1), b, b + timedelta(minutes=1)}
    return sorted(i for i in instants if start <= i <= end)


def set_topic_calls(slack: FakeSlack) -> Counter[str]:
    """conversations.setTopic calls that Slack accepted, by channel name."""
    names = {cid: "#" + str(ch.get("name", cid)) for cid, ch in slack.channels.items()}
    return Counter(names[str(c.params["channel"])] for c in slack.calls_to("conversations.setTopic", ok_only=True))


def local_day(at: datetime) -> date:
    return CAL.local_date(at)


async def test_a_week_changes_each_topic_only_when_its_people_change(
    db: Database, slack: FakeSlack, make_ticker: TickerFactory
) -> None:
    slack.set_topic_by_hand("#data-profit", "Profit pipeline questions here")
    d = split_growth(DIRECTORY)
    snap = Snapshot.build(d, (SAME_PERSON,))

    async def snapshots() -> Snapshot:
        return snap

    ticker = make_ticker()
    ticker._snapshots = snapshots
    instants = tick_instants(START, END)
    for i, at in enumerate(instants):
        if at == ny(2026, 11, 26, 12, 0):  # mid-week the team rewrites its part of the topic
            human, _, ours = slack.topic_of("#data-profit").rpartition(" | ")
            assert human == "Profit pipeline questions here"
            slack.set_topic_by_hand("#data-profit", f"Profit: ask in thread | {ours}")
        report = await ticker.tick(at)
        assert report.deliveries.failed == 0, (i, at, report.deliveries.errors)

    expected = {c: people_changes(d, c, START, END, (SAME_PERSON,)) for c in topic_channels(d)}
    # the cap (4 a day) never binds in this week, so every real change is a topic change
    for changes in expected.values():
        per_day = Counter(local_day(a) for a in [START, *changes])
        assert max(per_day.values()) <= 4, per_day
    calls = set_topic_calls(slack)
    assert calls == Counter({c: 1 + len(ch) for c, ch in expected.items()}), (calls, expected)
    # Growth's 13:00 boundary on each business day (Mon-Wed; Thu, Fri are holidays; END is Mon 10:00)
    # kept its people: no topic change then
    growth = window_boundaries(d, START, END, (SAME_PERSON,), "#data-growth")
    assert len(growth) == len(expected["#data-growth"]) + 3
    assert all(b.astimezone(NY).hour != 13 for b in expected["#data-growth"])
    # the override naming R1's own holder split no segment of the engine's and changed no topic
    assert people_changes(d, "#data-profit", START, END, (SAME_PERSON,)) == people_changes(d, "#data-profit",
                                                                                          START, END)

    for call in slack.calls_to("conversations.setTopic", ok_only=True):
        topic = str(call.params["topic"])
        assert len(topic) <= TOPIC_LIMIT and "<" not in topic and ">" not in topic
    assert slack.topic_of("#data-profit").startswith("Profit: ask in thread | ")
    # Monday 09:00 handoff, month-end week: the new people, until coverage ends at 18:00
    assert slack.topic_of("#data-engagement") == (
        "On call: Dev Desai, backup Fay Ellis, until 18:00 ET. Ask /oncall engagement")
    assert slack.topic_of("#data-investors") == (
        "On call: Aggregate Profit and Growth to Investors: Bella Adams, backup Dora Dunn; Aggregate Engagement "
        "to Investors: Bella Adams, backup Drew Doyle; until 18:00 ET. Ask /oncall")
    async with db.sessions() as session:
        sent = await audit.entries(session, actions=["delivery.sent"])
    assert len([e for e in sent if e.subject.startswith("delivery:topic:")]) == sum(calls.values())


async def test_two_tickers_ticking_together_set_each_topic_once(
    db: Database, slack: FakeSlack, make_ticker: TickerFactory
) -> None:
    a, b = make_ticker(owner="replica-a"), make_ticker(owner="replica-b")
    start, end = ny(2026, 11, 29, 0, 0), ny(2026, 11, 30, 19, 0)  # Sunday, then the Monday handoff
    for at in tick_instants(start, end):
        await asyncio.gather(a.tick(at), b.tick(at))
    expected = {c: 1 + len(people_changes(DIRECTORY, c, start, end)) for c in topic_channels(DIRECTORY)}
    assert set_topic_calls(slack) == Counter(expected)
    async with db.sessions() as session:
        rows = (await session.execute(select(store.DeliveryRow).where(store.DeliveryRow.op == "topic"))).scalars()
        rows = list(rows)
    assert len(rows) == sum(expected.values()) and {r.status for r in rows} == {"sent"}
    assert len({r.key for r in rows}) == len(rows)


async def test_the_daily_cap_holds_and_the_next_day_catches_up(
    db: Database, slack: FakeSlack, make_ticker: TickerFactory
) -> None:
    # Monday Nov 30 at Engagement: 00:00 (no one), 08:00, 09:00 (handoff), 18:00 (no one): 4 changes.
    # With a cap of 2 only the first two are made; Tuesday 00:00 sets the people as they are then.
    capped = dict(DIRECTORY.pipelines)
    capped["engagement"] = replace(capped["engagement"], topic=TopicSpec("#data-engagement", 2))
    snap = Snapshot.build(replace(DIRECTORY, pipelines=capped))

    async def snapshots() -> Snapshot:
        return snap

    ticker: Ticker = make_ticker()
    ticker._snapshots = snapshots
    start, end = ny(2026, 11, 29, 23, 0), ny(2026, 12, 1, 1, 0)
    for at in tick_instants(start, end):
        await ticker.tick(at)
    engagement = [str(c.params["topic"]) for c in slack.calls_to("conversations.setTopic", ok_only=True)
                  if slack.channels[str(c.params["channel"])]["name"] == "data-engagement"]
    by_day = Counter[date]()
    async with db.sessions() as session:
        for r in (await session.execute(select(store.DeliveryRow).where(store.DeliveryRow.op == "topic"))).scalars():
            if r.target == "#data-engagement":
                by_day[local_day(r.created_at)] += 1
    assert by_day == Counter({date(2026, 11, 29): 1, date(2026, 11, 30): 2, date(2026, 12, 1): 1}), by_day
    assert len(engagement) == 4
    assert engagement[-1].startswith("No one on call until 08:00 ET")  # Tuesday 00:00: as the people are then


async def test_a_channel_without_the_bot_expires_its_topic_once_without_retrying(
    db: Database, slack: FakeSlack, make_ticker: TickerFactory
) -> None:
    growth = next(cid for cid, ch in slack.channels.items() if ch.get("name") == "data-growth")
    slack.members[growth].remove(slack.bot_user_id)
    ticker = make_ticker()
    for at in (ny(2026, 11, 30, 10, 0), ny(2026, 11, 30, 10, 1), ny(2026, 11, 30, 11, 0)):
        report = await ticker.tick(at)
        assert report.deliveries.failed == 0
    [refused] = [c for c in slack.calls_to("conversations.setTopic") if c.params["channel"] == growth]
    assert refused.error == "not_in_channel"
    async with db.sessions() as session:
        row = (await session.execute(select(store.DeliveryRow).where(
            store.DeliveryRow.key == "topic:#data-growth:0"))).scalar_one()
        expired = await audit.entries(session, actions=["delivery.expired"])
    assert row.status == "expired" and "not in the channel" in str(row.last_error)
    assert [e.subject for e in expired] == ["delivery:topic:#data-growth:0"]
    assert set_topic_calls(slack)["#data-profit"] == 1  # the other channels are not held up
