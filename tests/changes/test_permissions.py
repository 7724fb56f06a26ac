"""Who may make each kind of change: member, lead, admin, outsider (issue 5 §2).

The directory is the seed with Finance's lead fin1 taken off the Finance rotation (members fin2,
fin3), so that "lead" and "member" are different people: fin2 holds Finance in week 0.
"""

from __future__ import annotations

import pytest

from bot.core.changes import (
    ChangeKind,
    ChangeRecord,
    ChangeRequest,
    Plan,
    Refusal,
    RefusalKind,
    Target,
    plan_cancel,
    plan_change,
)
from bot.core.permissions import may_act_for, may_change_rotation

from .helpers import ADMINS, NOW, applied, local, seed_with_manager

MEMBER, LEAD, ADMIN, OUTSIDER = "fin3", "fin1", "de1", "acc2"
TUE, WED = local(2026, 11, 3), local(2026, 11, 4)
WEEK0 = (local(2026, 11, 2, 9), local(2026, 11, 9, 9))


def requests(actor: str) -> dict[str, ChangeRequest]:
    return {
        "override rotation": ChangeRequest(ChangeKind.OVERRIDE, actor, TUE, WED, "fin3", target=Target("finance")),
        "override pipeline": ChangeRequest(ChangeKind.OVERRIDE, actor, TUE, WED, "fin3",
                                           target=Target(pipeline="profit")),
        "swap": ChangeRequest(ChangeKind.SWAP, actor, *WEEK0, "fin2", other="fin3"),
        "away (someone else)": ChangeRequest(ChangeKind.AWAY, actor, TUE, WED, "fin2"),
    }


# kind -> allowed for (member, lead, admin, outsider)
MATRIX = {
    "override rotation": (True, True, True, False),
    # a pipeline override also replaces its Data Engineering seat: Finance's member and lead may not
    "override pipeline": (False, False, True, False),
    "swap": (True, True, True, False),
    # marking someone else away takes their team's lead or an admin
    "away (someone else)": (False, True, True, False),
}


@pytest.mark.parametrize("kind", list(MATRIX))
@pytest.mark.parametrize(("who", "index"), [(MEMBER, 0), (LEAD, 1), (ADMIN, 2), (OUTSIDER, 3)])
def test_permission_matrix(kind: str, who: str, index: int) -> None:
    d, cal = seed_with_manager()
    result = plan_change(d, cal, ADMINS, requests(who)[kind], [], [], NOW)
    expected = MATRIX[kind][index]
    if expected:
        assert isinstance(result, Plan), result
    else:
        assert isinstance(result, Refusal) and result.kind == RefusalKind.FORBIDDEN, result
        assert "can" in result.reason  # says who can instead


@pytest.mark.parametrize(("who", "allowed"), [(MEMBER, True), (LEAD, True), (ADMIN, True), (OUTSIDER, False)])
def test_permission_matrix_cancel(who: str, allowed: bool) -> None:
    d, cal = seed_with_manager()
    req = requests("fin2")["override rotation"]
    plan = plan_change(d, cal, ADMINS, req, [], [], NOW)
    assert isinstance(plan, Plan)
    ov = applied([], plan, NOW, "fin2")
    record = ChangeRecord(1, req.kind, "fin2", NOW, req.start, req.end, req.person, None, req.target, "", (1,))
    result = plan_cancel(d, cal, ADMINS, who, record, ov, [], NOW)
    assert isinstance(result, Refusal) != allowed, result


def test_everyone_may_mark_themselves_away_and_give_away_their_own_slot() -> None:
    d, cal = seed_with_manager()
    plan = plan_change(d, cal, ADMINS, ChangeRequest(ChangeKind.AWAY, "fin2", TUE, WED, "fin2"), [], [], NOW)
    assert isinstance(plan, Plan)
    assert [(o.rotation, o.person) for o in plan.overrides] == [("finance", "fin3")]
    # an outsider covering Finance by an override may give that day away too
    assert may_change_rotation(d, ADMINS, "acc2", "finance", holder="acc2")
    assert not may_change_rotation(d, ADMINS, "acc2", "finance", holder="fin2")


def test_refusal_reasons_name_who_can() -> None:
    d, _ = seed_with_manager()
    no = may_change_rotation(d, ADMINS, OUTSIDER, "finance")
    assert not no and "Fiona Finch" in no.reason and "admins" in no.reason
    no = may_act_for(d, ADMINS, MEMBER, "fin2")
    assert not no and "Frank Fisher" in no.reason and "Fiona Finch" in no.reason
    no = may_change_rotation(d, ADMINS, None, "finance")
    assert not no and "not in the on-call directory" in no.reason


def test_admins_from_settings_count() -> None:
    d, cal = seed_with_manager()
    req = requests(OUTSIDER)["override pipeline"]
    assert isinstance(plan_change(d, cal, (*ADMINS, OUTSIDER), req, [], [], NOW), Plan)
