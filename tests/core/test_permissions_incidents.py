"""Who may act on an incident (issue 10 §2): ``bot.core.permissions.may_act_on_incident``."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.core.permissions import incident_responder_teams, may_act_on_incident, may_open_incident
from bot.seed.validate import SeedError, load_seed_text

from .helpers import DIRECTORY, SEED

ADMINS = ("de1",)


def test_the_responders_are_the_owning_teams_then_the_seeds_incident_responders() -> None:
    assert incident_responder_teams(DIRECTORY, "profit") == ("finance", "risk", "data-eng")
    assert incident_responder_teams(DIRECTORY, "engagement")[-1] == "data-eng"
    assert incident_responder_teams(DIRECTORY, "gone") == ("data-eng",)


@pytest.mark.parametrize(("actor", "paged", "allowed", "why"), [
    ("de1", (), True, "admin"),
    ("risk1", (), True, "member of Risk Team"),
    ("de3", (), True, "member of Data Engineering"),
    ("fe1", ("fe1",), True, "paged for this incident"),
    ("fe1", ("fin2",), False, "Only the responders (Finance Team, Risk Team, Data Engineering"),
    ("U0STRANGER", (), False, "Only people in the on-call directory"),
    (None, (), False, "Only people in the on-call directory"),
])
def test_may_act_on_a_profit_incident(actor: str | None, paged: tuple[str, ...], allowed: bool, why: str) -> None:
    decision = may_act_on_incident(DIRECTORY, ADMINS, actor, "profit", paged)
    assert decision.allowed is allowed and decision.reason.startswith(why)


def test_incident_responders_add_teams_to_the_owners() -> None:
    none, frontend = replace(DIRECTORY, incident_responders=()), replace(DIRECTORY, incident_responders=("frontend",))
    assert not may_act_on_incident(none, ADMINS, "fe1", "profit", ())
    assert may_act_on_incident(frontend, ADMINS, "fe1", "profit", ())
    assert may_act_on_incident(none, ADMINS, "de3", "profit", ())  # data-eng is Profit's secondary owner
    assert may_act_on_incident(none, ADMINS, "de1", "growth", ())  # admin


def test_opening_from_buttons_needs_a_directory_person() -> None:
    assert may_open_incident(DIRECTORY, "fe1") and not may_open_incident(DIRECTORY, "U0STRANGER")


def test_the_seed_names_known_teams_once() -> None:
    text = SEED.read_text(encoding="utf-8").replace("incident_responders: [data-eng]",
                                                     "incident_responders: [data-eng, data-eng, dataeng]")
    with pytest.raises(SeedError) as err:
        load_seed_text(text)
    problems = "\n".join(err.value.problems)
    assert "incident_responders[2]: unknown team 'dataeng'" in problems
    assert "incident_responders: a team is listed twice" in problems
