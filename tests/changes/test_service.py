"""Applying changes on a real database (SQLite and PostgreSQL): one transaction each, DMs to the
people affected, the audit trail of a scripted day, notices delivered once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.commands.changes import Applied, Cancelled, ChangesList, Refused
from bot.config import Settings
from bot.core.changes import ChangeKind, ChangeRequest, RefusalKind, Target
from bot.core.coverage import oncall_at
from bot.core.model import Directory
from bot.render.blocks import Message
from bot.render.plain import message_to_text
from bot.services import changes as svc
from bot.services.queries import load_snapshot
from bot.storage import audit
from bot.storage.bootstrap import Database

from .helpers import local

MON = local(2026, 11, 2, 9, 5)  # week 0 has just started (Finance fin1, DE R2 de2, Frontend fe1)


class Outbox:
    """A ``Notify`` that keeps the DMs (person, text)."""

    def __init__(self, fail_for: tuple[str, ...] = ()) -> None:
        self.sent: list[tuple[str, str]] = []
        self.fail_for = fail_for

    async def __call__(self, directory: Directory, person: str, message: Message) -> None:
        if person in self.fail_for:
            raise RuntimeError("Slack is down")
        self.sent.append((person, message_to_text(message, directory)))

    def to(self, person: str) -> list[str]:
        return [text for p, text in self.sent if p == person]


def override(actor: str, who: str, start, end, target: Target = Target("finance"), reason: str = "") -> ChangeRequest:
    return ChangeRequest(ChangeKind.OVERRIDE, actor, start, end, who, target=target, reason=reason)


async def test_an_override_is_seen_at_once_and_the_affected_get_a_dm(db: Database) -> None:
    out = Outbox()
    got = await svc.apply_change(db, override("fin2", "fin3", local(2026, 11, 3), local(2026, 11, 4), reason="dentist"),
                                 MON, notify=out)
    assert isinstance(got, Applied)
    snap = await load_snapshot(db)
    answer = oncall_at(snap.directory, snap.calendar, "profit", local(2026, 11, 3, 12), snap.overrides)
    assert answer.primary is not None and answer.primary.person == "fin3" and answer.primary.via_override
    assert [p for p, _ in out.sent] == ["fin3", "fin1"]  # not fin2, who made it
    assert out.to("fin3")[0].startswith(
        "@Frank Fisher changed the on-call schedule: @Farah Flores covers Finance on-call")
    assert "You now cover Profit primary" in out.to("fin3")[0]
    assert "You no longer cover Profit primary" in out.to("fin1")[0]
    assert "dentist" in out.to("fin1")[0]


async def test_a_refusal_changes_nothing_and_is_audited(db: Database) -> None:
    got = await svc.apply_change(db, override("acc2", "fin3", local(2026, 11, 3), local(2026, 11, 4)), MON,
                                 notify=Outbox())
    assert isinstance(got, Refused) and got.refusal.kind == RefusalKind.FORBIDDEN
    assert (await load_snapshot(db)).overrides == ()
    async with db.sessions() as s:
        (entry,) = await audit.entries(s)
    assert (entry.actor, entry.action) == ("acc2", "change.refused")
    assert entry.after["refusal"] == "forbidden"
    assert "You can't change Finance on-call" in entry.after["text"]
    assert entry.subject.startswith("@Farah Flores covers Finance on-call from Tue Nov 3 00:00 EST")


async def test_concurrent_absences_cannot_both_leave_growth_to_each_other(db: Database) -> None:
    day = (local(2026, 11, 3), local(2026, 11, 4))
    results = await asyncio.gather(
        svc.apply_change(db, ChangeRequest(ChangeKind.AWAY, "acc1", *day, "acc1"), MON),
        svc.apply_change(db, ChangeRequest(ChangeKind.AWAY, "acc2", *day, "acc2"), MON),
    )
    assert sorted(type(r).__name__ for r in results) == ["Applied", "Refused"]
    refused = next(r for r in results if isinstance(r, Refused))
    assert refused.refusal.kind == RefusalKind.NOBODY


async def test_cancel_restores_and_lists(db: Database) -> None:
    out = Outbox()
    first = await svc.apply_change(db, override("fin2", "fin3", local(2026, 11, 3), local(2026, 11, 6)), MON)
    assert isinstance(first, Applied)
    listing = await svc.list_changes(db, MON, "acc2")
    assert isinstance(listing, ChangesList)
    assert [(i.record.id, i.may_cancel, i.pipelines) for i in listing.items] == [(first.record.id, False, ("profit",))]
    assert [i.may_cancel for i in (await svc.list_changes(db, MON, "fin3")).items] == [True]  # type: ignore[union-attr]
    assert (await svc.list_changes(db, MON, "fin3", "growth")).items == ()  # type: ignore[union-attr]
    # cancelled on Wednesday at noon: Tuesday and Wednesday morning stay history
    wed = local(2026, 11, 4, 12)
    got = await svc.cancel_change(db, first.record.id, "fin3", wed, notify=out)
    assert isinstance(got, Cancelled)
    snap = await load_snapshot(db)
    who = {h: oncall_at(snap.directory, snap.calendar, "profit", t, snap.overrides).primary.person  # type: ignore[union-attr]
           for h, t in (("tue", local(2026, 11, 3, 12)), ("wed am", local(2026, 11, 4, 10)),
                        ("wed pm", local(2026, 11, 4, 14)), ("thu", local(2026, 11, 5, 12)))}
    assert who == {"tue": "fin3", "wed am": "fin3", "wed pm": "fin1", "thu": "fin1"}
    assert [p for p, _ in out.sent] == ["fin1"]
    assert out.to("fin1")[0].startswith("@Farah Flores cancelled a change")
    assert (await svc.list_changes(db, wed, "fin3")).items == ()  # type: ignore[union-attr]
    again = await svc.cancel_change(db, first.record.id, "fin3", wed)
    assert isinstance(again, Refused) and "already cancelled" in again.refusal.reason
    missing = await svc.cancel_change(db, 999, "fin3", wed)
    assert isinstance(missing, Refused) and "no change #999" in missing.refusal.reason


async def test_a_failed_dm_is_recorded(db: Database) -> None:
    out = Outbox(fail_for=("fin1",))
    got = await svc.apply_change(db, override("fin2", "fin3", local(2026, 11, 3), local(2026, 11, 4)), MON, notify=out)
    assert isinstance(got, Applied)
    async with db.sessions() as s:
        notified = await audit.entries(s, actions=["change.notified"])
    assert notified[0].after == {"sent": ["fin3"], "failed": ["fin1"]}


async def test_the_audit_trail_has_every_action_of_a_scripted_day(db: Database) -> None:
    out = Outbox()
    t = MON

    def at(minutes: int):
        return t + timedelta(minutes=minutes)

    r1 = await svc.apply_change(db, override("fin2", "fin3", local(2026, 11, 3), local(2026, 11, 4)), at(0), notify=out)
    r2 = await svc.apply_change(db, override("acc2", "fin3", local(2026, 11, 3), local(2026, 11, 4)), at(5), notify=out)
    r3 = await svc.apply_change(db, ChangeRequest(ChangeKind.AWAY, "de2", local(2026, 11, 4), local(2026, 11, 6),
                                                  "de2", reason="conference"), at(15), notify=out)
    r4 = await svc.apply_change(db, ChangeRequest(ChangeKind.SWAP, "de1", local(2026, 11, 2, 9), local(2026, 11, 9, 9),
                                                  "fe1", other="fe2"), at(55), notify=out)
    assert isinstance(r1, Applied) and isinstance(r2, Refused) and isinstance(r3, Applied) and isinstance(r4, Applied)
    r5 = await svc.cancel_change(db, r1.record.id, "fin3", at(115), notify=out)
    r6 = await svc.cancel_change(db, r3.record.id, "acc2", at(120), notify=out)
    assert isinstance(r5, Cancelled) and isinstance(r6, Refused)
    await svc.calendar_links(db, "fin2", at(175), "https://bot.example")
    await svc.calendar_links(db, "fin2", at(176), "https://bot.example")  # the same token: nothing to record
    await svc.calendar_links(db, "fin2", at(177), "https://bot.example", reset=True)
    # Tue 08:30: de3 takes DE R2 from Wednesday: Engagement primary from Wed 08:00 (de2 is away)
    sent = await svc.send_shift_notices(db, local(2026, 11, 3, 8, 30), timedelta(hours=24), out)
    assert "shift:de3@2026-11-04T13:00Z" in sent
    assert await svc.send_shift_notices(db, local(2026, 11, 3, 8, 31), timedelta(hours=24), out) == []

    async with db.sessions() as s:
        trail = [(e.actor, e.action, e.subject) for e in await audit.entries(s)]
    c1, c3, c4 = r1.record.id, r3.record.id, r4.record.id
    expected = [
        ("fin2", "change.override", f"change:{c1}"),
        (None, "change.notified", f"change:{c1}"),
        ("acc2", "change.refused", trail[2][2]),
        ("de2", "change.away", f"change:{c3}"),
        (None, "change.notified", f"change:{c3}"),
        ("de1", "change.swap", f"change:{c4}"),
        (None, "change.notified", f"change:{c4}"),
        ("fin3", "change.cancelled", f"change:{c1}"),
        (None, "cancel.notified", f"change:{c1}"),
        ("acc2", "cancel.refused", f"change:{c3}"),
        ("fin2", "calendar.token", "calendar:fin2"),
        ("fin2", "calendar.reset", "calendar:fin2"),
    ]
    assert trail[: len(expected)] == expected
    # the only shift starting between Tue 08:30 and Wed 08:30: de3's, once
    assert trail[len(expected):] == [(None, "shift_notice.sent", "shift:de3@2026-11-04T13:00Z")]
    # before and after are kept
    async with db.sessions() as s:
        cancelled = (await audit.entries(s, actions=["change.cancelled"]))[0]
    assert cancelled.before["change"]["cancelled_at"] is None
    assert cancelled.after["change"]["cancelled_by"] == "fin3"
    assert [x["person"] for x in cancelled.before["on_call"]] == ["fin3"]
    assert [x["person"] for x in cancelled.after["on_call"]] == ["fin1"]
    de3 = out.to("de3")
    assert any(m.startswith("@Dev Desai changed the on-call schedule: @Dev Desai is away") for m in de3)
    assert any(m.startswith(":bell: Heads-up: you are on call from Wed Nov 4 08:00 EST") for m in de3)


async def test_feeds_by_token(db: Database) -> None:
    links = await svc.calendar_links(db, "de2", MON, "https://bot.example/")
    token = links.person_url.removeprefix("https://bot.example/calendar/").removesuffix(".ics")
    assert links.pipeline_urls[0] == ("profit", f"https://bot.example/calendar/{token}/profit.ics")
    person = await svc.feed(db, token, None, MON)
    assert person is not None and b"X-WR-CALNAME:On call: Dev Desai" in person
    pipeline = await svc.feed(db, token, "engagement", MON)
    assert pipeline is not None and b"X-WR-CALNAME:On call: Engagement" in pipeline
    assert await svc.feed(db, token, "nope", MON) is None
    assert await svc.feed(db, "not-a-token", None, MON) is None
    await svc.calendar_links(db, "de2", MON, "https://bot.example", reset=True)
    assert await svc.feed(db, token, None, MON) is None


async def test_answer_change_line_for_the_console(db: Database, settings: Settings) -> None:
    snap = await load_snapshot(db)
    d = snap.directory

    async def ask(line: str, user: str | None = "fin2") -> svc.Answered | None:
        return await svc.answer_change_line(db, snap, line, MON, user, settings)

    assert await ask("/oncall engagement") is None
    assert await ask("/runbook profit") is None
    assert await ask("help") is None
    done = await ask("/oncall override finance @fin3 tue wed dentist")
    assert done is not None and done.outcome == "ok" and isinstance(done.done, Applied)
    assert message_to_text(done.message, d).startswith(":white_check_mark: Done (#1): @Farah Flores covers Finance")
    listing = await ask("changes")  # a bare line is an /oncall argument, as in the console
    assert listing is not None and "#1" in message_to_text(listing.message, d)
    form = await ask("/oncall away")
    assert form is not None and form.outcome == "user_error"
    assert "type the whole command: `/oncall away FROM TO [@cover]`" in message_to_text(form.message, d)
    wrong = await ask("/oncall override R1 tuesday")
    assert wrong is not None and "Name who covers" in message_to_text(wrong.message, d)
    link = await ask("/oncall calendar")
    assert link is not None and f"http://localhost:{settings.http_port}/calendar/" in message_to_text(link.message, d)
    stranger = await ask("/oncall calendar", None)
    assert stranger is not None and stranger.outcome == "user_error"
    fair = await ask("/oncall fairness 2026-11-02 2026-11-08")
    assert fair is not None and "Fairness" in message_to_text(fair.message, d)
    cancel = await ask("/oncall cancel 1", "fin3")
    assert cancel is not None and isinstance(cancel.done, Cancelled)
