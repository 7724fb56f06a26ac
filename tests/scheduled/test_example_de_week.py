"""The on-call week of the second example seed (data/examples/brauhaus-de.yaml), whose rotations
hand off on Wednesday at 10:30: the announcement covers Wednesday to Tuesday, the weekly checklist
is due on that week's Tuesday and the onboarding meeting is in that week."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.announcement import announced_week, build_announcement
from bot.core.calendar import CompanyCalendar
from bot.core.model import Directory
from bot.core.recurrence import definition_occurrences, occurrences
from bot.render.plain import mrkdwn_to_text
from bot.render.scheduled import announcement_message
from bot.seed.validate import load_seed_file
from bot.services.queries import load_snapshot
from bot.services.scheduled import Ticker
from bot.services.scheduled.plan import announcement
from bot.services.snapshot import Snapshot
from bot.storage.bootstrap import Database, load_seed_file_into

from .helpers import RecordingPort

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "examples" / "brauhaus-de.yaml"
BERLIN = ZoneInfo("Europe/Berlin")
DE: Directory = load_seed_file(EXAMPLE)
CAL = CompanyCalendar.from_spec(DE.calendar)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


def announcement_at(at: datetime):  # type: ignore[no-untyped-def]
    first, last = announced_week(DE, CAL, at)
    week = occurrences(DE, CAL, CAL.day_start(first), CAL.day_start(last + timedelta(days=1)))
    return build_announcement(DE, CAL, at, (), week)


def test_the_easter_week_2027_lists_good_friday_and_easter_monday() -> None:
    ann = announcement_at(berlin(2027, 3, 24, 10, 30))
    assert (ann.week_first, ann.week_last) == (date(2027, 3, 24), date(2027, 3, 30))
    assert [(h.day, h.name) for h in ann.holidays] == [
        (date(2027, 3, 26), "Good Friday"),
        (date(2027, 3, 29), "Easter Monday"),
    ]
    # Orders has no holiday window: the holiday says so
    assert all("no on-call for Orders" in h.effect for h in ann.holidays)
    text = mrkdwn_to_text(str(announcement_message(DE, BERLIN, ann).blocks_json()), DE)
    assert "Rotation for the week of Mar 24" in text and "Easter Monday" in text
    # the week after starts on the 31st and no longer lists Easter Monday
    after = announcement_at(berlin(2027, 3, 31, 10, 30))
    assert (after.week_first, after.week_last) == (date(2027, 3, 31), date(2027, 4, 6))
    assert after.holidays == ()


def test_the_seats_hand_over_at_1030_on_wednesday() -> None:
    ann = announcement_at(berlin(2027, 3, 24, 10, 30))  # week 20: P1 pl1, P2 pl2; before P1 pl5, P2 pl1
    seats = {(s.slot.rotation, s.slot.role): (s.previous, s.holder) for s in ann.seats}
    assert seats[("plattform", "P1")] == ("pl5", "pl1")
    assert seats[("plattform", "P2")] == ("pl1", "pl2")
    assert seats[("controlling", None)] == ("ct2", "ct3")
    assert {s.handoff for s in ann.seats} == {berlin(2027, 3, 24, 10, 30)}


def test_the_weekly_checklist_is_due_on_the_weeks_tuesday() -> None:
    review = DE.recurring["orders-weekly-review"]
    (occ,) = definition_occurrences(DE, CAL, review, berlin(2027, 3, 24), berlin(2027, 3, 25))
    assert occ.at == berlin(2027, 3, 24, 10, 30)
    assert occ.due == berlin(2027, 3, 30, 16, 0)  # Tuesday of the Wednesday week, not the 23rd
    assert occ.assignees == ("pl1",)
    # Epiphany 2026 is the Tuesday of the week from Wed 31 Dec 2025: due the Monday before instead
    (occ,) = definition_occurrences(DE, CAL, review, berlin(2025, 12, 31), berlin(2026, 1, 1))
    assert occ.due == berlin(2026, 1, 5, 16, 0)
    ann = announcement_at(berlin(2025, 12, 31, 10, 30))
    # (the company's New Year's Eve day off is listed from 2026 on: not on 31 Dec 2025)
    assert [(h.day, h.name) for h in ann.holidays] == [
        (date(2026, 1, 1), "New Year's Day"),
        (date(2026, 1, 6), "Epiphany"),
    ]
    epiphany = next(h for h in ann.holidays if h.day == date(2026, 1, 6))
    assert epiphany.moved == ("Orders weekly review due Monday instead",)


def test_the_onboarding_meeting_is_in_the_oncall_week() -> None:
    meeting = DE.recurring["platform-onboarding"]
    (occ,) = definition_occurrences(DE, CAL, meeting, berlin(2027, 3, 24), berlin(2027, 3, 25))
    assert (occ.meeting_start, occ.meeting_end) == (berlin(2027, 3, 24, 11, 0), berlin(2027, 3, 24, 11, 30))
    assert occ.assignees == ("pl5", "pl1")  # the outgoing and the incoming P1
    # on Epiphany 2027, a handoff Wednesday, it moves to Thursday
    ann = announcement_at(berlin(2027, 1, 6, 10, 30))
    (note,) = ann.meetings
    assert note.start == berlin(2027, 1, 7, 11, 0) and note.moved_because == "Wednesday is Epiphany"


async def test_the_ticker_announces_the_wednesday_week(db: Database) -> None:
    await load_seed_file_into(db, EXAMPLE)
    snap = await load_snapshot(db)

    async def snapshots() -> Snapshot:
        return snap

    port = RecordingPort()
    ticker = Ticker(db, port, snapshots=snapshots)
    ann = announcement(snap, berlin(2027, 3, 24, 10, 30))
    assert [h.name for h in ann.holidays] == ["Good Friday", "Easter Monday"]
    report = await ticker.tick(berlin(2027, 3, 24, 10, 30))
    assert "handoff-announcement/bereitschaft/2027-03-24" in report.claimed and report.deliveries.failed == 0
    (post,) = [p for p in port.posts if p["key"] == "handoff-announcement/bereitschaft/2027-03-24|post"]
    assert post["channel"] == "#bereitschaft"
    text = mrkdwn_to_text(str(post["blocks"]), snap.directory)
    assert "Good Friday" in text and "Easter Monday" in text
    dms = {p["channel"] for p in port.posts if p["key"].startswith("handoff-announcement/") and "|dm:" in p["key"]}
    assert dms == {"U0PL00001", "U0PL00002", "U0CT00003", "U0VT00001"}  # whose shift starts at 10:30
