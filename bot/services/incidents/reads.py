"""Reading incidents: one by id, the open ones of a person, an incident's events, a list by state."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core import incident as core
from bot.core.incident import Incident, Status
from bot.storage import incidents as repo
from bot.storage.bootstrap import Database


async def get_incident(db: Database, incident_id: int) -> Incident | None:
    async with db.sessions() as session:
        return await repo.get_incident(session, incident_id)


async def open_incidents_for(db: Database, person_id: str, slack_user_id: str | None = None) -> list[Incident]:
    """Incidents not yet resolved that paged (or will page) ``person_id``, or that Slack user
    ``slack_user_id`` reported or acknowledged; newest first (for the Home tab)."""
    async with db.sessions() as session:
        return await repo.open_incidents_for(session, person_id, slack_user_id)


async def events_of(db: Database, incident_id: int) -> Sequence[core.IncidentEvent]:
    async with db.sessions() as session:
        return await repo.events_of(session, incident_id)


async def list_incidents(db: Database, *, states: Sequence[Status] | None = None) -> list[Incident]:
    """Incidents in ``states`` (every incident when None), newest first: what ``oncall-bot
    incidents``, ``oncall-bot sla`` and ``GET /api/v1/incidents`` list (each with its ``fix_by``)."""
    async with db.sessions() as session:
        return await repo.incidents_by_state(session, states)


OPEN_STATES = (Status.OPEN, Status.ACKNOWLEDGED)
"""The states of an incident not resolved yet (``--open``, ``state=open``)."""
