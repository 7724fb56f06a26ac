"""``oncall-bot tick --at T`` without ``--apply``: what a tick at T would do, changing nothing.

It reads what the real tick reads (the occurrences not decided yet, the checklists that need a
reminder or are overdue, the deliveries ready to go) and writes and sends nothing: no claim, no
delivery marked, no audit row. ``Ticker.tick`` is the one that acts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.core.recurrence import Occurrence, with_assignees
from bot.core.topic import topic_channels
from bot.services.scheduled.ticker import Ticker
from bot.services.scheduled.topics import TopicDue, topic_due
from bot.storage import scheduled as store


@dataclass(frozen=True)
class Pending:
    """A delivery already queued that the tick would send: its operation, target and label."""

    op: str
    target: str
    label: str


@dataclass(frozen=True)
class TickPreview:
    """What a tick at ``at`` would do: occurrences it would open (posts, DMs, checklists,
    meeting invites, with their assignees) or skip (past their grace), checklists it would remind
    or mark overdue (titles), and queued deliveries it would send."""

    at: datetime
    open: list[Occurrence] = field(default_factory=list)
    skip: list[Occurrence] = field(default_factory=list)
    remind: list[str] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)
    send: list[Pending] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)  # "#channel: text" of each topic it would change

    @property
    def nothing(self) -> bool:
        return not (self.open or self.skip or self.remind or self.overdue or self.send or self.topics)


async def preview_tick(ticker: Ticker, at: datetime) -> TickPreview:
    """What ``ticker.tick(at)`` would do, read in one read-only session (nothing is written)."""
    at = at.astimezone(UTC)
    snap = await ticker.snapshot()
    grace = ticker.config.grace
    preview = TickPreview(at)
    cands = ticker.candidates(snap, at)
    async with ticker.db.sessions() as session:
        undecided = await ticker.undecided(session, cands, at) if cands else []
        for occ in sorted(undecided, key=lambda o: (o.at, o.key)):
            if at > occ.expires_at(grace):
                preview.skip.append(occ)
            else:
                preview.open.append(with_assignees(snap.directory, occ, snap.overrides))
        remind, overdue = await store.checklists_needing(session, at)
        preview.remind.extend(c.title for c in remind)
        preview.overdue.extend(c.title for c in overdue if not c.overdue)
        preview.send.extend(Pending(r.op, r.target, r.label) for r in await store.ready_rows(session, at))
        for channel, pipelines in topic_channels(snap.directory).items():
            due = await topic_due(session, snap, channel, pipelines, at)
            if isinstance(due, TopicDue):
                preview.topics.append(f"{channel}: {due.texts[0]}")
        await session.rollback()
    return preview
