"""The tick against a FakeSlack, on SQLite and PostgreSQL: everything due is delivered once, late
work is skipped, a dead replica's work is finished once, 429 storms and failures lose nothing."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.services.deliveries import DeliveryConfig
from bot.services.scheduled import TickReport
from bot.storage import scheduled as store
from bot.storage.bootstrap import Database
from tests.support.fake_slack import FakeSlack

from .conftest import TickerFactory
from .helpers import DIRECTORY, VirtualTime, ny, posted_keys

MONDAY = ny(2026, 11, 30, 9)  # handoff, onboarding invite, weekly checklists, two month-end dailies
MONDAY_KEYS = {
    "handoff-announcement/data-oncall/2026-11-30|post",
    "engagement-onboarding/engagement/2026-11-30|post",
    "growth-weekly-status/growth/2026-11-30|post",
    "aggregate-engagement-weekly-review/aggregate-engagement/2026-11-30|post",
    "aggregate-profit-growth-daily/aggregate-profit-growth/2026-11-30|post",
    "aggregate-engagement-daily/aggregate-engagement/2026-11-30|post",
}
STARTING = {"fin2", "acc1", "fe2", "ba1", "de1", "de2", "de3", "de4"}


def expected_monday_posts() -> set[str]:
    return MONDAY_KEYS | {f"handoff-announcement/data-oncall/2026-11-30|dm:{p}" for p in STARTING}


def channel(slack: FakeSlack, name: str) -> str:
    return next(cid for cid, ch in slack.channels.items() if ch.get("name") == name.lstrip("#"))


async def statuses(db: Database) -> Counter[str]:
    async with db.sessions() as session:
        rows = await session.execute(select(store.DeliveryRow.status))
        return Counter(rows.scalars())


async def test_monday_tick_delivers_each_occurrence_once(
    db: Database, slack: FakeSlack, make_ticker: TickerFactory
) -> None:
    ticker = make_ticker()
    report = await ticker.tick(MONDAY)
    assert {k.split("|")[0] for k in MONDAY_KEYS} <= set(report.claimed)
    assert report.deliveries.failed == 0
    keys = posted_keys(slack)
    assert Counter(keys) == Counter(expected_monday_posts())

    # the announcement names the handoffs; each starting person got a DM
    [ann] = slack.messages_in(channel(slack, "#data-oncall"))
    assert ann["text"].startswith("Rotation for the week of Nov 30")
    for person in STARTING:
        dm = slack.dm_channel(DIRECTORY.people[person].slack_user_id)
        assert len(slack.messages_in(dm)) == 1

    # one group DM to the three with the invite, and the .ics in its thread
    users = [DIRECTORY.people[p].slack_user_id for p in ("de1", "de2", "fe2")]
    gid = slack._open_conversation(users)[0]
    invite, file_share = slack.messages_in(gid)
    assert "Engagement onboarding" in invite["text"]
    assert file_share["subtype"] == "file_share" and file_share["thread_ts"] == invite["ts"]
    [f] = [f for f in slack.files.values() if f["completed"]]
    assert f["name"] == "engagement-onboarding-2026-11-30.ics" and b"TZID=America/New_York" in f["content"]

    # the Engagement user group now holds the new primary and secondary
    [gid_ug] = [g for g, v in slack.usergroups.items() if v["handle"] == "oncall-engagement"]
    assert slack.usergroup_members(gid_ug) == ["U0DE00002", "U0FE00002"]

    # checklists are in their channels, recorded with their message
    async with db.sessions() as session:
        lists = await store.checklists(session)
    assert {c.definition for c in lists} == {
        "growth-weekly-status",
        "aggregate-engagement-weekly-review",
        "aggregate-profit-growth-daily",
        "aggregate-engagement-daily",
    }
    assert all(c.ts is not None and c.channel_id is not None for c in lists)
    assert len(slack.messages_in(channel(slack, "#data-investors"))) == 3

    # the next ticks (same process or a new one) deliver nothing again
    for at in (MONDAY, MONDAY + timedelta(minutes=1), MONDAY + timedelta(hours=1)):
        again = await make_ticker().tick(at)
        assert again.claimed == [] and again.deliveries.sent == 0
    assert Counter(posted_keys(slack)) == Counter(expected_monday_posts())
    # + .ics + user group + the seed's 4 channel topics (set once: their people did not change since)
    assert (await statuses(db))["sent"] == len(expected_monday_posts()) + 2 + 4
    assert slack.topic_of("#data-engagement") == (
        "On call: Dev Desai, backup Fay Ellis, until 18:00 ET. Ask /oncall engagement")


async def test_pacing_one_message_a_second_per_channel(
    db: Database, slack: FakeSlack, make_ticker: TickerFactory, vt: VirtualTime
) -> None:
    slack.rate_limit("chat.postMessage", per_channel_per_second=1.0, burst=1.0)
    report = await make_ticker().tick(MONDAY)
    assert report.deliveries.rate_limited == 0  # the limiter kept under the limit: no 429
    investors = [
        c for c in slack.calls_to("chat.postMessage", ok_only=True) if c.params["channel"] == "#data-investors"
    ]
    times = sorted(c.at_monotonic for c in investors)
    assert len(times) == 3 and all(b - a >= 1.0 for a, b in itertools.pairwise(times))
    assert Counter(posted_keys(slack)) == Counter(expected_monday_posts())


async def test_restart_after_a_two_hour_outage_catches_up_within_grace(
    db: Database, slack: FakeSlack, make_ticker: TickerFactory
) -> None:
    # last tick before the outage at 08:59; back at 10:59 with a 1 h grace for announcements/invites
    await make_ticker(grace=timedelta(hours=1)).tick(MONDAY - timedelta(minutes=1))
    before = set(posted_keys(slack))
    report = await make_ticker(grace=timedelta(hours=1)).tick(MONDAY + timedelta(hours=1, minutes=59))
    assert sorted(report.skipped) == [
        "engagement-onboarding/engagement/2026-11-30",
        "handoff-announcement/data-oncall/2026-11-30",
    ]
    new = Counter(k for k in posted_keys(slack) if k not in before)
    checklists = {k for k in MONDAY_KEYS if not k.startswith(("handoff", "engagement-onboarding"))}
    assert new == Counter(checklists)  # checklists are good until due: delivered late, once
    async with db.sessions() as session:
        skipped = (
            await session.execute(
                select(store.OccurrenceRow).where(
                    store.OccurrenceRow.key == "handoff-announcement/data-oncall/2026-11-30"
                )
            )
        ).scalar_one()
    assert skipped.status == "skipped" and "past its grace" in skipped.note


async def test_restart_with_the_default_grace_delivers_everything(
    db: Database, slack: FakeSlack, make_ticker: TickerFactory
) -> None:
    await make_ticker().tick(MONDAY - timedelta(minutes=1))
    report = await make_ticker().tick(MONDAY + timedelta(hours=2))
    assert report.skipped == []
    assert Counter(posted_keys(slack)) == Counter(expected_monday_posts())


async def test_past_due_checklists_are_skipped_not_posted_late(
    db: Database, slack: FakeSlack, make_ticker: TickerFactory
) -> None:
    await make_ticker().tick(MONDAY - timedelta(minutes=1))
    report = await make_ticker().tick(ny(2026, 11, 30, 17, 30))  # down all day: dailies were due at 17:00
    assert "aggregate-profit-growth-daily/aggregate-profit-growth/2026-11-30" in report.skipped
    assert "handoff-announcement/data-oncall/2026-11-30" in report.skipped  # 8.5 h > 6 h
    assert "growth-weekly-status/growth/2026-11-30" in report.claimed  # due Friday: still useful
    assert not any("daily" in k for k in posted_keys(slack))


async def test_429_storm_loses_nothing_and_duplicates_nothing(
    db: Database, slack: FakeSlack, make_ticker: TickerFactory, vt: VirtualTime
) -> None:
    slack.rate_limit("chat.postMessage", per_channel_per_second=1.0, burst=1.0)
    slack.fail_next("chat.postMessage", 429, retry_after=3, times=12)
    slack.fail_next("usergroups.users.update", 429, retry_after=1, times=2)
    slack.fail_next("conversations.open", 429, retry_after=1, times=2)
    report = await make_ticker().tick(MONDAY)
    assert report.deliveries.rate_limited >= 16
    assert report.deliveries.failed == 0
    assert vt.slept >= 3 * 12  # each Retry-After was waited out
    assert Counter(posted_keys(slack)) == Counter(expected_monday_posts())
    assert (await statuses(db)) == Counter({"sent": len(expected_monday_posts()) + 2 + 4})  # + the 4 topics


async def test_a_persistent_429_storm_leaves_work_pending_for_the_next_tick(
    db: Database, slack: FakeSlack, make_ticker: TickerFactory
) -> None:
    slack.fail_next("chat.postMessage", 429, retry_after=1, times=1000)
    report = await make_ticker(max_rate_limit_waits=3).tick(MONDAY)
    # the user group and the 4 channel topics; every post failed (and the .ics waits for its invite)
    assert report.deliveries.sent == 1 + 4
    assert report.deliveries.failed == len(expected_monday_posts())
    assert posted_keys(slack) == []
    slack.clear_faults()
    later = await make_ticker().tick(MONDAY + timedelta(minutes=5))
    assert later.deliveries.failed == 0
    assert Counter(posted_keys(slack)) == Counter(expected_monday_posts())


async def test_failed_posts_are_retried_with_backoff_then_expire(
    db: Database, slack: FakeSlack, make_ticker: TickerFactory
) -> None:
    oncall = channel(slack, "#data-oncall")

    def to_oncall(call):  # type: ignore[no-untyped-def]
        return call.params.get("channel") in ("#data-oncall", oncall)

    slack.fail_next("chat.postMessage", 500, times=3, where=to_oncall)
    await make_ticker().tick(MONDAY)
    async with db.sessions() as session:
        [row] = await store.list_deliveries(session, failed_only=True)
    assert row.key == "handoff-announcement/data-oncall/2026-11-30|post"
    # retried 30 s after the failed attempt (the tick's instant plus the few virtual seconds of pacing)
    assert row.status == "failed" and row.attempts == 1
    assert MONDAY + timedelta(seconds=30) <= row.next_attempt_at <= MONDAY + timedelta(seconds=35)
    # not before its next attempt; then with doubled backoff; then delivered once
    assert (await make_ticker().tick(MONDAY + timedelta(seconds=10))).deliveries.sent == 0
    await make_ticker().tick(MONDAY + timedelta(seconds=35))
    async with db.sessions() as session:
        [row] = await store.list_deliveries(session, failed_only=True)
    assert row.attempts == 2  # then 60 s after the second
    assert MONDAY + timedelta(seconds=90) <= row.next_attempt_at <= MONDAY + timedelta(seconds=95)
    await make_ticker().tick(MONDAY + timedelta(minutes=2))  # third failure
    done = await make_ticker().tick(MONDAY + timedelta(minutes=10))
    assert done.deliveries.sent == 1
    assert posted_keys(slack).count("handoff-announcement/data-oncall/2026-11-30|post") == 1

    # a post that keeps failing past its grace is expired (and listed), never silently dropped
    slack.fail_next("chat.postMessage", 500, times=10_000)
    tuesday = ny(2026, 12, 1, 9)
    await make_ticker().tick(tuesday)  # profit month close opens
    await make_ticker().tick(ny(2026, 12, 3, 17, 1))  # past due: expired
    async with db.sessions() as session:
        failed = await store.list_deliveries(session, failed_only=True)
    statuses_by_key = {r.key: r.status for r in failed}
    assert statuses_by_key["profit-month-close/profit/2026-12|post"] == "expired"
    # its escalation (the checklist was never seen, so it is overdue) keeps being retried
    assert statuses_by_key["profit-month-close/profit/2026-12#escalation|team:#finance"] == "failed"


async def test_a_replica_that_died_after_its_lease_is_finished_once(
    db: Database, slack: FakeSlack, make_ticker: TickerFactory
) -> None:
    """Claim + lease by a replica that then died: before posting (a) and after posting (b)."""
    dead = make_ticker(owner="dead-replica", lease=timedelta(minutes=5))
    snap = await dead.snapshot()
    await dead._decide_all(snap, dead.candidates(snap, MONDAY), MONDAY, TickReport(MONDAY))  # claimed all ...
    async with db.sessions() as session, session.begin():
        ids = await store.ready_ids(session, MONDAY)
        leased = await store.lease(session, ids, "dead-replica", MONDAY, MONDAY + timedelta(minutes=5))
    assert leased and not any(look for _, look in leased)
    # (b): the dead replica had posted the announcement before dying, not recorded it
    ann_key = "handoff-announcement/data-oncall/2026-11-30|post"
    slack.add_message(
        channel(slack, "#data-oncall"),
        "Rotation for the week of Nov 30",
        user="U0BOT0001",
        metadata={"event_type": "oncall_scheduled", "event_payload": {"key": ann_key}},
    )

    # within the lease, another replica leaves it alone (it only sets the 4 channel topics, which
    # the dead replica had not queued)
    assert (await make_ticker().tick(MONDAY + timedelta(minutes=1))).deliveries.sent == 4
    # after the lease: taken over; the announcement is found in the channel, the rest posted
    report = await make_ticker().tick(MONDAY + timedelta(minutes=6))
    assert report.deliveries.found == 1
    assert Counter(posted_keys(slack)) == Counter(expected_monday_posts())
    assert (await statuses(db)) == Counter({"sent": len(expected_monday_posts()) + 2 + 4})  # + the 4 topics


async def test_many_tickers_racing_on_one_database_claim_each_occurrence_once(
    db: Database, slack: FakeSlack, make_ticker: TickerFactory
) -> None:
    import asyncio

    tickers = [make_ticker(owner=f"replica-{i}") for i in range(4)]
    reports = await asyncio.gather(*(t.tick(MONDAY) for t in tickers))
    claimed = [k for r in reports for k in r.claimed]
    assert len(claimed) == len(set(claimed))
    assert Counter(posted_keys(slack)) == Counter(expected_monday_posts())


async def test_deliveries_config_defaults() -> None:
    c = DeliveryConfig()
    assert c.per_channel_interval == 1.0 and c.concurrency >= 1 and c.lease >= timedelta(minutes=1)


async def test_each_post_runs_with_its_delivery_id_in_the_log_context(db: Database) -> None:
    from bot.ops.logging import delivery_id_var
    from bot.services.scheduled import Ticker

    from .helpers import RecordingPort

    seen: list[tuple[str | None, str | None]] = []

    class Port(RecordingPort):
        async def post(self, channel_id: str, text: str, blocks: Any, metadata: Any, thread_ts: Any) -> tuple[str, str]:
            key = (metadata or {}).get("event_payload", {}).get("key")
            seen.append((key, delivery_id_var.get()))
            return await super().post(channel_id, text, blocks, metadata, thread_ts)

    await Ticker(db, Port()).tick(MONDAY)
    assert seen and all(key == context for key, context in seen)
    assert delivery_id_var.get() is None  # nothing leaks out of a delivery
