"""Who may change which part of the schedule (issue 5 §2). Pure.

- An admin (the seed's ``admins`` plus ONCALL_ADMINS) may change anything.
- A team's lead (``Team.lead`` in the seed) may change the rotations of their team.
- A member of a rotation may change that rotation's slots.
- Anyone may give away a slot they hold themselves (e.g. one they cover by an override).
- Marking *someone else* away takes an admin or the lead of that person's team.
Everyone else is refused, and the refusal says who may do it instead.

Loading a seed file is not a schedule change: it stays an operator action (the CLI).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.core.model import Directory


@dataclass(frozen=True, slots=True)
class Decision:
    """``allowed`` with ``reason``: why (e.g. "admin", "lead of Finance Team") or why not."""

    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def known_actor(directory: Directory, actor: str | None) -> Decision:
    """Refused when the actor is not one of the directory's people."""
    if actor is None or actor not in directory.people:
        return Decision(False, "You are not in the on-call directory (your Slack user is not one of the seed's "
                               "people), so you cannot change the schedule. Ask an admin to add you.")
    return Decision(True, "known")


def is_admin(admins: Sequence[str], actor: str | None) -> bool:
    return actor is not None and actor in admins


def may_change_rotation(
    directory: Directory, admins: Sequence[str], actor: str | None, rotation_id: str, holder: str | None = None
) -> Decision:
    """May ``actor`` change a slot of ``rotation_id`` (held by ``holder``, when known)?"""
    known = known_actor(directory, actor)
    if not known:
        return known
    if is_admin(admins, actor):
        return Decision(True, "admin")
    rotation = directory.rotations.get(rotation_id)
    if rotation is None:
        return Decision(False, f"There is no rotation '{rotation_id}'.")
    team = directory.teams.get(rotation.team)
    if team is not None and team.lead == actor:
        return Decision(True, f"lead of {team.name}")
    if actor in rotation.members:
        return Decision(True, f"member of {rotation.name}")
    if holder is not None and holder == actor:
        return Decision(True, "your own slot")
    lead = f" (lead: {directory.name_of(team.lead)})" if team is not None and team.lead else ""
    team_name = team.name if team is not None else rotation.team
    return Decision(
        False,
        f"You can't change {rotation.name}: only its members, the lead of {team_name}{lead} and admins can.",
    )


def may_act_for(directory: Directory, admins: Sequence[str], actor: str | None, subject: str) -> Decision:
    """May ``actor`` mark ``subject`` away (themselves always; others: their team's lead, admins)?"""
    known = known_actor(directory, actor)
    if not known:
        return known
    if actor == subject:
        return Decision(True, "yourself")
    if is_admin(admins, actor):
        return Decision(True, "admin")
    person = directory.people.get(subject)
    if person is None:
        return Decision(False, f"There is no person '{subject}'.")
    team = directory.teams.get(person.team)
    if team is not None and team.lead == actor:
        return Decision(True, f"lead of {team.name}")
    lead = directory.name_of(team.lead) if team is not None and team.lead else "their team lead"
    return Decision(
        False,
        f"Only {person.name} themselves, {lead} (lead of {team.name if team else person.team}) or an admin "
        f"can mark {person.name} away.",
    )


def all_of(decisions: Iterable[Decision]) -> Decision:
    """The first refusal, or allowed (with the distinct reasons) when none refuses."""
    reasons: list[str] = []
    for d in decisions:
        if not d:
            return d
        if d.reason not in reasons:
            reasons.append(d.reason)
    return Decision(True, ", ".join(reasons) or "nothing to change")


def incident_responder_teams(directory: Directory, pipeline_id: str) -> tuple[str, ...]:
    """The teams whose members may act on an incident of ``pipeline_id``: its owning teams
    (primary, then secondary) and the seed's ``incident_responders``, each once, in that order.
    A pipeline gone from the seed leaves only ``incident_responders``."""
    pipeline = directory.pipelines.get(pipeline_id)
    owners = (*pipeline.primary_owners, *pipeline.secondary_owners) if pipeline is not None else ()
    return tuple(dict.fromkeys([*owners, *directory.incident_responders]))


def may_act_on_incident(
    directory: Directory, admins: Sequence[str], actor: str | None, pipeline_id: str, paged: Sequence[str]
) -> Decision:
    """May person ``actor`` press Acknowledge / Escalate / Resolve on an incident of ``pipeline_id``
    that has paged (or queued) the people ``paged`` (person ids)?

    Allowed: admins, the members of the responder teams (``incident_responder_teams``: the owning
    teams plus the seed's ``incident_responders``) and anyone the incident paged. Refused: anyone
    not in the directory, and every other person; the refusal says who may act.
    """
    if actor is None or actor not in directory.people:
        return Decision(False, "Only people in the on-call directory can act on incidents, and your Slack user "
                               "is not one of them. Ask an admin to add you.")
    if is_admin(admins, actor):
        return Decision(True, "admin")
    if actor in paged:
        return Decision(True, "paged for this incident")
    teams = incident_responder_teams(directory, pipeline_id)
    team = directory.people[actor].team
    if team in teams:
        return Decision(True, f"member of {directory.teams[team].name if team in directory.teams else team}")
    names = ", ".join(directory.teams[t].name if t in directory.teams else t for t in teams) or "no team"
    return Decision(False, f"Only the responders ({names}), the people this incident paged and admins can act "
                           "on it.")


def may_open_incident(directory: Directory, actor: str | None) -> Decision:
    """May person ``actor`` open an incident from a button or shortcut (the runbook's *Open
    incident*, *Page now*, the message shortcut and their form)? Any person in the directory."""
    if actor is None or actor not in directory.people:
        return Decision(False, "Only people in the on-call directory can open incidents from here; use "
                               "`/incident PIPELINE SUMMARY`, or ask an admin to add you.")
    return Decision(True, "known")
