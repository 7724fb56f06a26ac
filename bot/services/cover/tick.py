"""The cover requests' part of the minute tick: the team lead's notice 24 h before an open slot
starts, and the expiry of a slot still open at its start (it stays with the requester; the
request closes as expired when no slot is left open). Each is a compare-and-set on the slot's row
(``mark_lead_notified``, ``expire_slot``), so of any number of replicas ticking at once exactly
one does it, once; its messages are written in the same transaction, then sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.core.cover import LEAD_NOTICE, RequestStatus, SlotStatus, expired, lead_notice_due, lead_of
from bot.render.cover import expired_dm, lead_dm
from bot.services.changes.apply import read_directory
from bot.services.cover import outbox
from bot.services.deliveries import SlackPort
from bot.storage import audit
from bot.storage import cover as store
from bot.storage import scheduled as delivery_store
from bot.storage.bootstrap import Database


@dataclass
class CoverTickReport:
    lead_notices: list[str] = field(default_factory=list)  # "REQUEST:N"
    expired: list[str] = field(default_factory=list)
    sent: int = 0


async def run_tick(db: Database, now: datetime, port: SlackPort | None = None) -> CoverTickReport:
    """Tell the leads and expire the slots due at ``now``; then send what is owed (with ``port``)."""
    report = CoverTickReport()
    async with db.sessions() as session:
        ids = await store.requests_with_open_slots_before(session, now + LEAD_NOTICE)
    for request_id in ids:
        await _one(db, request_id, now, report)
    if port is not None:
        report.sent = await outbox.deliver(db, port, now)
    return report


async def _one(db: Database, request_id: int, now: datetime, report: CoverTickReport) -> None:
    async with db.sessions() as session, session.begin():
        directory, cal = await read_directory(session)
        req = await store.get_request(session, request_id)
        if req is None:
            return
        told = [s for s in req.slots if lead_notice_due(s, now)
                and await store.mark_lead_notified(session, request_id, s.n, now)]
        gone = [s for s in req.slots if expired(s, now) and await store.expire_slot(session, request_id, s.n)]
        if not told and not gone:
            return
        rows = []
        lead = lead_of(directory, req.requester)
        if told and lead is not None:
            first = min(s.n for s in told)
            rows += outbox.dm_row(directory, request_id, f"lead:{first}", lead,
                                  lead_dm(directory, cal.tz, req, told), now)
        if told:
            await audit.record(session, at=now, actor=None, action="cover.lead_notified",
                               subject=f"cover:{request_id}", after={"lead": lead, "slots": [s.n for s in told]})
            report.lead_notices += [f"{request_id}:{s.n}" for s in told]
        after = await store.get_request(session, request_id)
        assert after is not None
        if gone:
            if not after.open_slots:
                await store.set_request_status(session, request_id, RequestStatus.EXPIRED, now)
                after = await store.get_request(session, request_id)
                assert after is not None
            event = outbox.event_id()
            rows += outbox.update_rows(after, [s.channel for s in gone], event, now)
            for s in gone:
                rows += outbox.dm_row(directory, request_id, f"expired:{s.n}", req.requester,
                                      expired_dm(directory, cal.tz, req, s), now)
            await audit.record(session, at=now, actor=None, action="cover.expired", subject=f"cover:{request_id}",
                               after={"slots": [s.n for s in gone], "closed": after.status == RequestStatus.EXPIRED,
                                      "taken": [s.n for s in after.slots if s.status == SlotStatus.TAKEN]})
            report.expired += [f"{request_id}:{s.n}" for s in gone]
        await delivery_store.add_deliveries(session, rows)
