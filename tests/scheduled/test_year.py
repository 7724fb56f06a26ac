"""A year of ticks with a fixed clock (2026-11-01 .. 2027-11-01): at every opening, reminder and
due instant, and once a day in between (03:00 or 12:30, in turn). Each kind goes out once, at its
instant, nothing else."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.core.recurrence import occurrences
from bot.services.queries import load_snapshot
from bot.services.scheduled import Ticker
from bot.services.snapshot import Snapshot
from bot.storage.bootstrap import Database

from .helpers import CAL, DIRECTORY, RecordingPort, d, local, ny

START = ny(2026, 11, 1)
END = ny(2027, 11, 1)


class ClockedPort(RecordingPort):
    """Records the tick instant with every post."""

    def __init__(self) -> None:
        super().__init__()
        self.now: datetime | None = None

    async def post(self, channel_id: str, text: str, blocks: Any, metadata: Any, thread_ts: str | None) -> Any:
        out = await super().post(channel_id, text, blocks, metadata, thread_ts)
        self.posts[-1]["at"] = self.now
        return out


@pytest.mark.slow
async def test_a_year_of_ticks(db: Database) -> None:
    year = occurrences(DIRECTORY, CAL, START, END)
    instants: set[datetime] = set()
    for o in year:
        instants.add(o.at)
        if o.reminder_at is not None:
            instants.add(o.reminder_at)
        if o.kind == "checklist" and o.due is not None:
            instants.add(o.due)
    day = START
    while day < END:  # noise, where nothing may happen: every day at 03:00 or 12:30, in turn (each
        # weekday meets both times of day across the year; one tick a day keeps the test's cost down)
        local_day = CAL.local_date(day)
        hour, minute = (3, 0) if local_day.toordinal() % 2 else (12, 30)
        instants.add(CAL.instant(local_day, hour * 60 + minute))
        day += timedelta(days=1)

    snap = await load_snapshot(db)

    async def snapshots() -> Snapshot:
        return snap

    port = ClockedPort()
    ticker = Ticker(db, port, snapshots=snapshots)
    for at in sorted(i for i in instants if START <= i < END):
        port.now = at
        report = await ticker.tick(at)
        assert report.deliveries.failed == 0, report.deliveries.errors
        late = [k for k in report.skipped if k.rsplit("/", 1)[1] >= "2026-11-01"]
        assert late == [], late  # only work from before the first tick is skipped

    by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in port.posts:
        by_key[p["key"]].append(p)
    assert all(len(v) == 1 for v in by_key.values())  # exactly once, every key

    for o in year:
        [post] = by_key[f"{o.key}|post"]
        assert post["at"] == o.at, o.key  # posted at its opening instant, not a minute later
        if o.kind == "checklist":
            # nobody ticks here: one reminder (if it has one) and one escalation, on time
            if o.reminder_at is not None:
                [r] = by_key[f"{o.key}#reminder|thread"]
                assert r["at"] == o.reminder_at and r["thread_ts"] == post["ts"]
            else:
                assert f"{o.key}#reminder|thread" not in by_key
            [e] = by_key[f"{o.key}#escalation|thread"]
            assert e["at"] == o.due

    kinds = Counter(o.definition for o in year)
    assert kinds["handoff-announcement"] == 52 and kinds["engagement-onboarding"] == 52
    assert kinds["profit-month-close"] == 12 and kinds["growth-weekly-status"] == 52

    # every Monday 09:00 local (DST or not), 8 DMs (every seat changes hands weekly in this seed)
    mondays = [p for p in port.posts if p["key"].startswith("handoff-announcement/") and "|dm:" in p["key"]]
    assert len(mondays) == 52 * 8
    assert {(local(p["at"]).weekday(), local(p["at"]).hour) for p in mondays} == {(0, 9)}
    # the user group is reset every Monday; the .ics goes with every invite
    assert len(port.usergroups) == 52 and len(port.files) == 52
    memorial = [f for f in port.files if f["filename"] == "engagement-onboarding-2027-06-01.ics"]
    assert len(memorial) == 1 and b"DTSTART;TZID=America/New_York:20270601T100000" in memorial[0]["content"]
    assert d("2027-06-01").weekday() == 1
