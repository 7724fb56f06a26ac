"""Taking the pager now (issue 14 §2): ``/oncall take PIPELINE`` and ``/oncall give PIPELINE @who``.

Load -> ``bot.core.cover.pager_span`` / ``decide_pager`` -> ``bot.core.changes.plan_override_as``
-> the schedule changes' ``write_plan``, under ``CHANGES_LOCK_KEY``: the taker holds the
pipeline's primary seat from now until the end of the current window (or as asked), as an
override. In the same transaction: a DM to the person relieved and to the backup
(``change:ID:pager:PERSON``), and a line in the thread of every open incident on the pipeline
(``bot.services.incidents.outbox.thread_rows``); pages after that resolve the new holder. Refusals
are audited (``pager.refused``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core.changes import ChangeRecord, Refusal, plan_override_as
from bot.core.cover import PagerSpan, decide_pager, pager_span
from bot.render.changes import refusal_text
from bot.render.cover import pager_dm, pager_thread_line
from bot.render.plain import mrkdwn_to_text
from bot.services.changes.apply import admins_with, read_directory, write_plan
from bot.services.incidents.outbox import post_delivery, thread_rows
from bot.storage import audit
from bot.storage import changes as change_store
from bot.storage import incidents as incident_store
from bot.storage import scheduled as delivery_store
from bot.storage.bootstrap import Database
from bot.storage.meta import lock
from bot.storage.overrides import overrides_between
from bot.storage.scheduled import owed_row


@dataclass(frozen=True, slots=True)
class PagerTaken:
    span: PagerSpan
    taker: str
    record: ChangeRecord
    incidents: tuple[int, ...]


async def hand_pager(
    db: Database, pipeline: str, actor: str | None, taker: str, now: datetime, *, until: datetime | None = None,
    extra_admins: Sequence[str] = (),
) -> PagerTaken | Refusal:
    """``actor`` hands ``pipeline``'s pager to ``taker`` (themselves: a take) from ``now`` on."""
    async with db.sessions() as session, session.begin():
        await lock(session, change_store.CHANGES_LOCK_KEY)
        directory, cal = await read_directory(session)
        overrides = await overrides_between(session, now - timedelta(days=1), now + timedelta(days=9))
        span = pager_span(directory, cal, pipeline, now, overrides, until)
        decided: Any = span
        if not isinstance(span, Refusal):
            aways = await change_store.aways_between(session, now, span.end)
            decided = decide_pager(directory, cal, admins_with(directory, extra_admins), span, actor, taker,
                                   overrides, aways, now)
            if not isinstance(decided, Refusal):
                decided = plan_override_as(directory, cal, decided.request, decided.permission, overrides, aways,
                                           now)
        if isinstance(decided, Refusal) or isinstance(span, Refusal):
            refusal: Refusal = decided
            await audit.record(session, at=now, actor=actor, action="pager.refused", subject=f"pager:{pipeline}",
                               after={"taker": taker, "refusal": refusal.kind,
                                      "text": mrkdwn_to_text(refusal_text(directory, cal.tz, refusal), directory)})
            return refusal
        record = await write_plan(session, directory, cal, decided, now,
                                  extra_audit={"pager": {"pipeline": pipeline, "from": span.holder, "to": taker}})
        rows: list[dict[str, Any]] = []
        for person in dict.fromkeys(p for p in (span.holder, span.secondary) if p is not None):
            p = directory.people.get(person)
            if person == actor or p is None or not p.slack_user_id:
                continue
            msg = pager_dm(directory, cal.tz, span, taker, person)
            rows.append(owed_row(f"change:{record.id}:pager:{person}", "post", p.slack_user_id,
                                 f"change #{record.id}: pager DM to {person}",
                                 {"text": msg.text, "blocks": msg.blocks_json(), "kind": "change_dm"}, now))
        line = pager_thread_line(directory, cal.tz, span, taker)
        told: list[int] = []
        for inc in await incident_store.open_incidents(session):
            if inc.pipeline != pipeline:
                continue
            post = await post_delivery(session, inc.id)
            if post is not None:
                rows += thread_rows(inc, post.target, f"pager:{record.id}", line, now)
                told.append(inc.id)
        await delivery_store.add_deliveries(session, rows)
    return PagerTaken(span, taker, record, tuple(told))
