"""The read API's answers and its tokens (issue 12 §6), shared by the HTTP routes and the CLI so
that ``GET /api/v1/oncall/PIPELINE?at=T`` and ``oncall-bot oncall PIPELINE --at T --json`` give the
same JSON for the same instant (both render with ``bot.render.jsonout``).

Tokens: ``add_token`` (audited ``api_token.created``; the token is returned once and only its
digest is stored), ``list_tokens``, ``revoke_token`` (audited ``api_token.revoked``) and
``authenticate`` (a constant-time digest compare; a revoked token fails). Nothing here logs a token.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.core.coverage import oncall_at, schedule
from bot.core.incident import Status
from bot.core.search import find_pipeline
from bot.render.jsonout import answer_json, incident_json, segment_json
from bot.services.incidents.reads import OPEN_STATES, list_incidents
from bot.services.snapshot import Snapshot
from bot.storage import api_tokens as repo
from bot.storage import audit
from bot.storage.api_tokens import TokenInfo
from bot.storage.bootstrap import Database

MAX_NAME = 128
MAX_RANGE_DAYS = 366


class UnknownPipelineError(LookupError):
    """No pipeline by that name; ``suggestions`` are close ones."""

    def __init__(self, name: str, suggestions: Sequence[str]) -> None:
        super().__init__(name)
        self.name = name
        self.suggestions = list(suggestions)


def resolve_pipeline(snap: Snapshot, text: str) -> str:
    """The id of the pipeline ``text`` names (id, name or alias); ``UnknownPipelineError``."""
    match = find_pipeline(snap.directory, text)
    if match.pipeline is None:
        raise UnknownPipelineError(text, match.suggestions)
    return match.pipeline.id


def oncall_data(snap: Snapshot, pipeline: str | None, at: datetime) -> Any:
    """Who is on call at ``at``: one answer for ``pipeline`` (an id), else a list for every pipeline."""
    ids = [pipeline] if pipeline else list(snap.directory.pipelines)
    data = [answer_json(snap.directory, oncall_at(snap.directory, snap.calendar, pid, at, snap.overrides))
            for pid in ids]
    return data[0] if pipeline else data


def schedule_data(snap: Snapshot, pipeline: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The pipeline's on-call segments over ``[start, end)``."""
    segs = schedule(snap.directory, snap.calendar, pipeline, start, end, snap.overrides)
    return [segment_json(snap.directory, s) for s in segs]


async def incidents_data(db: Database, state: str | None, now: datetime) -> list[dict[str, Any]]:
    """Incidents (``state``: ``open`` = not resolved, or one of open | acknowledged | resolved;
    None: all), newest first, each with its ``fix_by`` and whether it is overdue at ``now``."""
    states: Sequence[Status] | None
    if state is None or state == "all":
        states = None
    elif state == "open":
        states = OPEN_STATES
    else:
        states = (Status(state),)
    return [incident_json(inc, now) for inc in await list_incidents(db, states=states)]


async def add_token(db: Database, name: str, now: datetime, actor: str | None = None) -> tuple[TokenInfo, str]:
    """A new read-API token named ``name``: its record and the token, which is not stored."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise ValueError(f"a token needs a name of 1 to {MAX_NAME} characters")
    async with db.sessions() as session, session.begin():
        info, token = await repo.add_token(session, name, now)
        await audit.record(session, at=now, actor=actor, action="api_token.created", subject=f"api_token:{info.id}",
                           after={"name": name})
    return info, token


async def list_tokens(db: Database) -> list[TokenInfo]:
    async with db.sessions() as session:
        return await repo.list_tokens(session)


async def revoke_token(db: Database, token_id: int, now: datetime, actor: str | None = None) -> TokenInfo | None:
    """Revoke a token (its requests get 401 from then on); None when there is no such token."""
    async with db.sessions() as session, session.begin():
        info, revoked = await repo.revoke_token(session, token_id, now)
        if info is not None and revoked:
            await audit.record(session, at=now, actor=actor, action="api_token.revoked",
                               subject=f"api_token:{token_id}", before={"name": info.name})
    return info


async def authenticate(db: Database, token: str) -> TokenInfo | None:
    """The live token ``token`` is, or None (unknown, malformed or revoked)."""
    async with db.sessions() as session:
        return await repo.find_token(session, token)
