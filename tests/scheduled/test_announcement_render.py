"""The handoff announcement's content and the Block Kit / iCalendar of the scheduled messages."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar

from bot.core.announcement import build_announcement
from bot.core.recurrence import occurrences
from bot.render.plain import mrkdwn_to_text
from bot.render.scheduled import (
    ChecklistView,
    ItemView,
    MeetingView,
    announcement_message,
    checklist_message,
    meeting_ics,
    meeting_message,
    shift_start_message,
)
from tests.support.blockkit import validate_blocks

from .helpers import CAL, DIRECTORY, NY, d, local, ny


def announcement_at(day: str):  # type: ignore[no-untyped-def]
    first = d(day)
    at = CAL.instant(first, 9 * 60)
    week = occurrences(DIRECTORY, CAL, CAL.day_start(first), CAL.day_start(first + timedelta(days=7)))
    return build_announcement(DIRECTORY, CAL, at, (), week)


def text_of(blocks: list[dict]) -> str:  # type: ignore[type-arg]
    parts = []
    for b in blocks:
        if b.get("text"):
            parts.append(b["text"]["text"])
        for e in b.get("elements", []):
            if e.get("type") in ("mrkdwn", "plain_text"):
                parts.append(e["text"])
    return mrkdwn_to_text("\n".join(parts), DIRECTORY)


def test_thanksgiving_week_says_what_the_holidays_change() -> None:
    ann = announcement_at("2026-11-23")
    assert [(h.day, h.name) for h in ann.holidays] == [
        (d("2026-11-26"), "Thanksgiving Day"),
        (d("2026-11-27"), "Day after Thanksgiving"),
    ]
    assert all(h.effect.startswith("weekend coverage") for h in ann.holidays)
    msg = announcement_message(DIRECTORY, NY, ann)
    text = text_of(msg.blocks_json())
    assert "Rotation for the week of Nov 23" in text
    assert "Thursday (Thu Nov 26) is Thanksgiving Day: weekend coverage" in text
    assert "Friday (Fri Nov 27) is Day after Thanksgiving: weekend coverage" in text
    assert "Growth weekly account status updates due Wednesday instead" in text
    assert "Month-end week Tue Nov 24 – Mon Nov 30" in text
    assert validate_blocks(msg.blocks_json()) == []


def test_seats_say_who_hands_to_whom() -> None:
    ann = announcement_at("2026-11-30")  # week 4: R1 de1, R2 de2, R3 de3, R4 de4
    seats = {s.label: (s.previous, s.holder) for s in ann.seats}
    assert seats["DE R1"] == ("de4", "de1")
    assert seats["DE R2"] == ("de1", "de2")
    assert seats["Finance on-call"] == ("fin1", "fin2")
    assert seats["Frontend on-call"] == ("fe1", "fe2")
    text = text_of(announcement_message(DIRECTORY, NY, ann).blocks_json())
    assert "DE R1 (Primary for Profit and Growth): @Dana Diaz (from @Drew Doyle)" in text
    assert "Engagement onboarding: @Dana Diaz and @Dev Desai with @Fay Ellis" in text
    # everybody whose seat changed gets a DM; the engagement user group gets the new holders
    assert sorted(s.person for s in ann.starting) == sorted(["fin2", "acc1", "fe2", "ba1", "de1", "de2", "de3", "de4"])
    assert [(u.handle, u.members) for u in ann.usergroups] == [("oncall-engagement", ("de2", "fe2"))]


def test_memorial_day_moves_the_meeting_and_says_why() -> None:
    ann = announcement_at("2027-05-31")
    [m] = ann.meetings
    assert local(m.start).isoformat() == "2027-06-01T10:00:00-04:00"
    assert m.moved_because == "Monday is Memorial Day"
    text = text_of(announcement_message(DIRECTORY, NY, ann).blocks_json())
    assert "Monday (Mon May 31) is Memorial Day: weekend coverage" in text
    assert "(Monday is Memorial Day)" in text
    assert "Month-end week Tue May 25 – Mon May 31" in text


def test_christmas_on_a_friday_and_a_quiet_week() -> None:
    ann = announcement_at("2026-12-21")
    assert [h.name for h in ann.holidays] == ["Christmas Day"]
    text = text_of(announcement_message(DIRECTORY, NY, ann).blocks_json())
    assert "Friday (Fri Dec 25) is Christmas Day" in text
    quiet = announcement_at("2027-03-08")
    assert quiet.holidays == () and quiet.month_end is None
    assert "No holidays this week: regular coverage." in text_of(
        announcement_message(DIRECTORY, NY, quiet).blocks_json()
    )


def test_shift_start_dm_names_duties_runbooks_and_handoff() -> None:
    ann = announcement_at("2026-11-30")
    shift = next(s for s in ann.starting if s.person == "de1")
    msg = shift_start_message(DIRECTORY, NY, ann, shift)
    blocks = msg.blocks_json()
    text = text_of(blocks)
    assert text.startswith("You're on call from Mon Nov 30 09:00 EST: DE R1")
    assert "Profit: secondary, weekday 08:00-18:00" in text
    assert "Growth: secondary, business hours 09:00-17:00" in text
    assert "from @Drew Doyle" in text
    buttons = [e["value"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["profit", "growth"]
    assert validate_blocks(blocks) == []


def test_ics_parses_back_with_tzid_attendees_and_a_stable_uid() -> None:
    [occ] = occurrences(DIRECTORY, CAL, ny(2027, 5, 31), ny(2027, 6, 1), definitions=["engagement-onboarding"])
    uid = f"{occ.key}@oncall-bot"
    data = meeting_ics(
        DIRECTORY,
        NY,
        uid=uid,
        title=occ.title,
        description="KT",
        start=occ.meeting_start,  # type: ignore[arg-type]
        end=occ.meeting_end,
        attendees=occ.assignees,
        stamp=occ.at,  # type: ignore[arg-type]
    )
    cal = Calendar.from_ical(data)
    assert str(cal["METHOD"]) == "REQUEST"
    [tz] = cal.walk("VTIMEZONE")
    assert str(tz["TZID"]) == "America/New_York"
    [ev] = cal.walk("VEVENT")
    assert str(ev["UID"]) == "engagement-onboarding/engagement/2027-05-31@oncall-bot"
    assert ev["DTSTART"].params["TZID"] == "America/New_York"
    assert ev["DTSTART"].dt.isoformat() == "2027-06-01T10:00:00-04:00"
    assert ev["DTEND"].dt - ev["DTSTART"].dt == timedelta(minutes=30)
    attendees = ev.get("ATTENDEE")
    assert sorted(str(a) for a in attendees) == sorted(f"mailto:{DIRECTORY.people[p].email}" for p in occ.assignees)
    assert [str(a.params["CN"]) for a in attendees] == [DIRECTORY.people[p].name for p in occ.assignees]
    # the same week renders the same UID (a resend updates); the next week another
    again = Calendar.from_ical(
        meeting_ics(
            DIRECTORY,
            NY,
            uid=uid,
            title=occ.title,
            description="KT",
            start=occ.meeting_start,  # type: ignore[arg-type]
            end=occ.meeting_end,
            attendees=occ.assignees,
            stamp=occ.at,
            sequence=1,  # type: ignore[arg-type]
        )
    )
    assert str(again.walk("VEVENT")[0]["UID"]) == str(ev["UID"])
    [nxt] = occurrences(DIRECTORY, CAL, ny(2027, 6, 7), ny(2027, 6, 8), definitions=["engagement-onboarding"])
    assert nxt.key != occ.key


def test_meeting_message_shows_who_answered() -> None:
    view = MeetingView(
        id=7,
        key="k",
        uid="u",
        title="Engagement onboarding",
        pipeline="engagement",
        start=ny(2027, 6, 1, 10),
        end=ny(2027, 6, 1, 10, 30),
        attendees=("de3", "de4", "fe1"),
        moved_because="Monday is Memorial Day",
        answers={"de4": ("accept", ny(2027, 5, 31, 9, 5))},
    )
    msg = meeting_message(DIRECTORY, NY, view)
    blocks = msg.blocks_json()
    text = text_of(blocks)
    assert "@Dora Dunn hands Engagement to @Drew Doyle, with @Felix Evans" in text
    assert "Accepted: @Drew Doyle" in text and "Waiting for: @Dora Dunn, @Felix Evans" in text
    assert "Tuesday because Monday is Memorial Day" in text
    actions = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert actions == ["meeting_accept:7", "meeting_decline:7"]
    assert validate_blocks(blocks) == []


def _view(ticks: dict[int, str], **kw: object) -> ChecklistView:
    items = tuple(
        ItemView(i, text, ticks.get(i), ny(2026, 12, 2, 11) if i in ticks else None)
        for i, text in enumerate(DIRECTORY.recurring["profit-month-close"].items)
    )
    base: dict[str, object] = dict(
        id=3,
        key="profit-month-close/profit/2026-12",
        title="Profit month close",
        pipeline="profit",
        opens_at=ny(2026, 12, 1, 9),
        due=ny(2026, 12, 3, 17),
        assignees=("fin2", "de1"),
        items=items,
    )
    base.update(kw)
    return ChecklistView(**base)  # type: ignore[arg-type]


def test_checklist_message_checkboxes_progress_overdue_and_summary() -> None:
    open_ = checklist_message(DIRECTORY, NY, _view({0: "fin2"}))
    blocks = open_.blocks_json()
    [boxes] = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert boxes["type"] == "checkboxes" and boxes["action_id"] == "checklist_tick:3:0"
    assert [o["value"] for o in boxes["options"]] == ["0", "1", "2", "3"]
    assert [o["value"] for o in boxes["initial_options"]] == ["0"]
    assert "<@U0FIN0002>" in boxes["options"][0]["description"]["text"]
    text = text_of(blocks)
    assert "1 of 4 done" in text and "Assignees: @Frank Fisher, @Dana Diaz" in text
    assert validate_blocks(blocks) == []

    late = checklist_message(
        DIRECTORY,
        NY,
        _view(
            {0: "fin2"},
            overdue=True,
            status="overdue",
            escalated_to=("de1",),
            escalation_channels=("#finance", "#risk"),
        ),
    )
    assert ":red_circle: Overdue since Thu Dec 3 17:00 EST: escalated to @Dana Diaz, #finance, #risk" in text_of(
        late.blocks_json()
    )

    done = checklist_message(
        DIRECTORY,
        NY,
        _view({0: "fin2", 1: "fin2", 2: "de1", 3: "de1"}, status="complete", completed_at=ny(2026, 12, 2, 15)),
    )
    blocks = done.blocks_json()
    assert not any(b["type"] == "actions" for b in blocks)  # collapsed to a summary
    text = text_of(blocks)
    assert "Profit month close complete" in text and "4 of 4 done" in text
    assert "Filings reconciled: @Dana Diaz" in text
    assert validate_blocks(blocks) == []
