"""A critical alert at 03:00 for Profit (after hours) with de1 in Do Not Disturb, delivered for
real: de1's e-mail page reaches a local SMTP server at once, the push (ntfy) page a local HTTP
server at its minutes, the acknowledge link stops the rest, and the incident thread tells the
story. Time is injected: each tick is a call at an explicit instant."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.core.incident import Status
from bot.services import incidents as svc
from bot.services.paging import contacts, links
from bot.slack.deps import SlackDeps
from bot.storage import scheduled as store
from bot.storage.tables.audit import AuditRow
from tests.support.fake_slack import FakeSlack

from .conftest import DANA, NIGHT, PROFIT, PUBLIC, SECRET, Received, mail_url

SUMMARY = "Revenue totals don't match the filing"
REPORTER = "U0ANA0001"


async def _tick(deps: SlackDeps, minutes: float) -> None:
    await svc.run_periodic(deps, NIGHT + timedelta(minutes=minutes))
    await deps.background.drain(timeout=10)


async def test_critical_page_at_night_in_dnd(
    deps: SlackDeps, workspace: FakeSlack, smtp: tuple[Received, int], sink: tuple[Received, str]
) -> None:
    mails, port = smtp
    posts, host = sink
    workspace.set_dnd(DANA, NIGHT.timestamp() - 3600, NIGHT.timestamp() + 5 * 3600)
    mail_url_text = mail_url(port)
    email_method = await contacts.add(deps, "de1", mail_url_text, NIGHT, label="e-mail")
    push = await contacts.add(deps, "de1", f"ntfy://{host}/oncall-de1", NIGHT, label="phone push", after=3)

    opened = await svc.open_incident(deps, "profit", SUMMARY, True, REPORTER, NIGHT)
    assert isinstance(opened, svc.Opened)
    inc_id = opened.incident.id
    await deps.background.drain(timeout=10)

    # de1 is in DND: the e-mail goes at once (not at the first tick), with the facts and the link.
    [mail] = await mails.wait_for(1)
    assert mail["to"] == ["de1@example.com"]
    assert "Profit" in mail["subject"] and SUMMARY in mail["subject"]
    assert "Paged: Dana Diaz (level 1" in mail["body"] and SUMMARY in mail["body"]
    link = next(line.split(": ", 1)[1] for line in mail["body"].splitlines() if line.startswith("Acknowledge"))
    assert link.startswith(f"{PUBLIC}/ack/")
    assert workspace.calls_to("dnd.info")[0].params["user"] == DANA
    assert posts.items == []

    # The push is due at 3 minutes: nothing at 1 or 2, sent by the 3-minute tick.
    await _tick(deps, 1)
    await _tick(deps, 2)
    assert posts.items == [] and len(mails.items) == 1
    await _tick(deps, 3)
    [push_post] = await posts.wait_for(1)
    assert push_post["json"]["topic"] == "oncall-de1"
    assert SUMMARY in push_post["json"]["message"] and link in push_post["json"]["message"]

    # The link: GET shows and does nothing; the POST acknowledges as de1.
    token = link.rsplit("/", 1)[1]
    shown = await links.show(deps, token, NIGHT + timedelta(minutes=4))
    assert shown.data is not None and shown.data.incident.status == Status.OPEN
    refused = await links.press(deps, token, "acknowledge", "1", "forged", NIGHT + timedelta(minutes=4))
    assert refused.status == 403
    done = await links.press(deps, token, "acknowledge", str(shown.data.issued), shown.data.nonce,
                             NIGHT + timedelta(minutes=4))
    assert done.status == 200 and done.data is not None
    assert done.data.incident.status == Status.ACKNOWLEDGED and done.data.incident.acknowledged_by == DANA
    await deps.background.drain(timeout=10)

    # No more steps after the acknowledgement (the push would repeat at 13 and 23 minutes).
    for minute in (13, 23, 40):
        await _tick(deps, minute)
    assert len(mails.items) == 1 and len(posts.items) == 1

    # The thread tells the story.
    async with deps.db.sessions() as session:
        post = await svc.outbox.post_delivery(session, inc_id)
        assert post is not None and post.ts is not None
        notify = await store.deliveries_with_prefix(session, f"incident:{inc_id}:notify:")
        audit_rows = list((await session.execute(select(AuditRow))).scalars())
    replies = [m["text"] for m in workspace.thread(PROFIT, post.ts)[1:]]
    story = "\n".join(replies)
    assert "Do Not Disturb" in story and "e-mail" in story
    assert f"by #{email_method.id} e-mail (mailto)" in story
    assert f"by #{push.id} phone push (ntfy)" in story
    assert "acknowledged" in story.lower()
    assert [r.status for r in notify] == ["sent", "sent"]

    # The URL (or any secret part of it) is nowhere: not in the deliveries, not in the audit trail.
    stored = repr([(r.key, r.target, r.label, r.payload, r.last_error) for r in notify])
    trail = repr([(a.action, a.subject, a.before, a.after) for a in audit_rows])
    for secret in (mail_url_text, "de1@example.com", "oncall-de1", SECRET):
        assert secret not in stored and secret not in trail


async def test_three_replicas_send_each_step_once(
    deps: SlackDeps, workspace: FakeSlack, smtp: tuple[Received, int], sink: tuple[Received, str]
) -> None:
    """Three replicas run the minute tick at the same instants: every step goes out once."""
    mails, port = smtp
    posts, host = sink
    await contacts.add(deps, "de1", mail_url(port), NIGHT, label="e-mail")
    await contacts.add(deps, "de1", f"json://{host}/hook", NIGHT, label="webhook", after=2)
    opened = await svc.open_incident(deps, "profit", SUMMARY, True, REPORTER, NIGHT)
    assert isinstance(opened, svc.Opened)
    await deps.background.drain(timeout=10)
    # Not in DND: the e-mail is the 1st method at 0 minutes of the critical rules, the webhook at 2
    # (faster than the default 5), repeated 10 minutes later (before the auto-escalation at 15).
    assert len(await mails.wait_for(1)) == 1
    for minute in (2, 3, 12):
        await asyncio.gather(*(svc.run_periodic(deps, NIGHT + timedelta(minutes=minute)) for _ in range(3)))
        await deps.background.drain(timeout=10)
    got = await posts.wait_for(2)
    assert len(got) == 2 and len(mails.items) == 1  # the webhook at 2, its repeat at 12
    assert "reminder 1" in got[1]["json"]["title"]
    assert got[0]["path"] == "/hook" and SUMMARY in got[0]["json"]["message"]
