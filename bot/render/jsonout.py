"""The stable JSON of the CLI (``--json``): people script against these keys, keep them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.core.answer import Holder, OnCallAnswer, Segment
from bot.core.model import Directory
from bot.core.search import OwnerHit

if TYPE_CHECKING:
    from bot.core.incident import Incident


def iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def person_json(d: Directory, holder: Holder | None) -> dict[str, Any] | None:
    if holder is None:
        return None
    p = d.people.get(holder.person)
    if p is None:
        return {"id": holder.person, "name": holder.person, "team": None, "slack_user_id": None}
    return {"id": p.id, "name": p.name, "team": p.team, "slack_user_id": p.slack_user_id}


def answer_json(d: Directory, a: OnCallAnswer) -> dict[str, Any]:
    """``{pipeline, at, day_type, holiday, covered, window, primary, secondary, until, next}``."""
    nxt = None
    if a.next is not None:
        nxt = {"at": iso(a.next.at), "primary": person_json(d, a.next.primary),
               "secondary": person_json(d, a.next.secondary)}
    return {
        "pipeline": a.pipeline,
        "at": iso(a.at),
        "day_type": str(a.day_type),
        "holiday": a.holiday,
        "covered": a.covered,
        "window": a.window,
        "primary": person_json(d, a.primary),
        "secondary": person_json(d, a.secondary),
        "until": iso(a.until),
        "next": nxt,
    }


def segment_json(d: Directory, s: Segment) -> dict[str, Any]:
    """``{start, end, covered, window, primary, secondary}``."""
    return {
        "start": iso(s.start),
        "end": iso(s.end),
        "covered": s.covered,
        "window": s.window,
        "primary": person_json(d, s.primary),
        "secondary": person_json(d, s.secondary),
    }


def runbook_json(d: Directory, pipeline_id: str) -> dict[str, Any]:
    p = d.pipelines[pipeline_id]
    rb = p.runbook
    return {
        "pipeline": p.id,
        "name": p.name,
        "aliases": list(p.aliases),
        "channel": p.channel,
        "owners": {"primary": list(p.primary_owners), "secondary": list(p.secondary_owners)},
        "data_types": list(rb.data_types),
        "common_issues": [{"text": c.text, "first_check": c.first_check} for c in rb.common_issues],
        "slas": list(rb.slas),
        "oncall_notes": list(rb.oncall_notes),
    }


def owner_hit_json(d: Directory, hit: OwnerHit) -> dict[str, Any]:
    p = hit.pipeline
    return {
        "pipeline": p.id,
        "name": p.name,
        "owners": {
            "primary": [{"id": t, "name": d.teams[t].name} for t in p.primary_owners if t in d.teams],
            "secondary": [{"id": t, "name": d.teams[t].name} for t in p.secondary_owners if t in d.teams],
        },
        "reasons": list(hit.reasons),
    }


def incident_json(inc: Incident, now: datetime | None = None) -> dict[str, Any]:
    """``{id, pipeline, summary, severity, state, opened_at, fix_by, overdue, level, acknowledged_at,
    resolved_at, permalink}``; ``overdue``: not resolved and past ``fix_by`` at ``now`` (None
    without ``now`` or without a deadline)."""
    overdue = None
    if now is not None and inc.fix_by is not None:
        overdue = inc.status.value != "resolved" and now >= inc.fix_by
    return {
        "id": inc.id,
        "pipeline": inc.pipeline,
        "summary": inc.summary,
        "severity": "critical" if inc.critical else "normal",
        "state": inc.status.value,
        "opened_at": iso(inc.opened_at),
        "fix_by": iso(inc.fix_by),
        "overdue": overdue,
        "level": inc.level,
        "acknowledged_at": iso(inc.acknowledged_at),
        "resolved_at": iso(inc.resolved_at),
        "permalink": inc.permalink,
    }
