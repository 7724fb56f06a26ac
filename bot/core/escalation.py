"""The escalation chain of a pipeline at an instant (operating rules §4, and §3 after hours).

Pure: the instant is explicit and aware; ``queued_until`` values are UTC-aware.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.answer import Holder
from bot.core.calendar import CompanyCalendar
from bot.core.coverage import UnknownPipeline, oncall_at
from bot.core.model import AfterHoursAction, Directory, Override
from bot.core.rotation import resolve_slot


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """One level of the chain.

    ``kind`` is ``"person"`` (page ``holder`` now), ``"queued"`` (``holder`` gets it at
    ``queued_until``) or ``"channel"`` (post to ``channels``; ``holder`` is None).
    """

    level: int
    kind: str
    holder: Holder | None
    channels: tuple[str, ...]
    label: str
    queued_until: datetime | None = None


def escalation_chain(
    directory: Directory,
    cal: CompanyCalendar,
    pipeline_id: str,
    at: datetime,
    overrides: Sequence[Override] = (),
    critical: bool = False,
) -> list[EscalationStep]:
    """The levels an incident on ``pipeline_id`` raised at aware ``at`` escalates through.

    Covered at ``at``: the primary ("primary"), the secondary ("secondary", if the window has
    one), then each of ``pipeline.escalation`` resolved at ``at`` ("escalation contact (SLOT)"),
    then the owning teams' channels. ``critical`` changes nothing while covered.

    Not covered: level 1 is the after-hours path (see ``oncall_at``): with ``critical`` and a
    ``critical_target``, page that person now ("after hours: critical (SLOT)"); for a
    ``queue_next_business_day`` pipeline and not ``critical``, a ``"queued"`` step for the target
    at ``queued_until``; otherwise page ``page_now`` ("after hours: next window's secondary" /
    "after hours: paged now"; a critical incident on a queueing pipeline without
    ``critical_target`` pages the queue target now). Then the next covered window's primary and
    secondary as they will be when coverage resumes ("next window primary", "next window
    secondary"), the escalation contacts resolved at ``at``, and the channels.

    The channels step lists the ``Team.channel`` of ``pipeline.primary_owners``, de-duplicated
    in order (left out when none has a channel). A person already paged in an earlier step is not
    paged again: that step is left out (a queued person does not count as paged). Levels are
    numbered 1..N after leaving steps out. ``UnknownPipeline`` for an unknown id.
    """
    pipeline = directory.pipelines.get(pipeline_id)
    if pipeline is None:
        raise UnknownPipeline(pipeline_id)
    answer = oncall_at(directory, cal, pipeline_id, at, overrides)
    at = answer.at
    drafts: list[tuple[str, Holder | None, tuple[str, ...], str, datetime | None]] = []
    paged: set[str] = set()

    def person(holder: Holder | None, label: str) -> None:
        if holder is None or holder.person in paged:
            return
        paged.add(holder.person)
        drafts.append(("person", holder, (), label, None))

    if answer.covered:
        person(answer.primary, "primary")
        person(answer.secondary, "secondary")
    else:
        ah = pipeline.after_hours
        path = answer.after_hours
        assert path is not None  # always set when not covered
        if critical and path.critical is not None:
            person(path.critical, f"after hours: critical ({path.critical.slot})")
        elif ah.action == AfterHoursAction.QUEUE_NEXT_BUSINESS_DAY:
            queued = path.queued_for
            if not critical:
                if queued is not None:
                    label = f"after hours: queued for {queued.slot}"
                    drafts.append(("queued", queued, (), label, path.queued_until))
            elif ah.target is not None:  # no critical_target: the queue target, paged now
                person(resolve_slot(directory, ah.target, at, overrides, pipeline.id),
                       f"after hours: critical ({ah.target})")
        elif path.page_now is not None:
            if ah.action == AfterHoursAction.PAGE_NEXT_SECONDARY:
                label = "after hours: next window's secondary"
            else:
                label = f"after hours: paged now ({path.page_now.slot})"
            person(path.page_now, label)
        if answer.next is not None:
            person(answer.next.primary, "next window primary")
            person(answer.next.secondary, "next window secondary")
    for slot in pipeline.escalation:
        person(resolve_slot(directory, slot, at, overrides, pipeline.id), f"escalation contact ({slot})")
    channels: list[str] = []
    for team_id in pipeline.primary_owners:
        team = directory.teams.get(team_id)
        if team is not None and team.channel and team.channel not in channels:
            channels.append(team.channel)
    if channels:
        drafts.append(("channel", None, tuple(channels), "owning teams' channels", None))
    return [
        EscalationStep(level, kind, holder, chans, label, until)
        for level, (kind, holder, chans, label, until) in enumerate(drafts, start=1)
    ]
