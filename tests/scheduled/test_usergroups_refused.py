"""User-group updates Slack refuses: a workspace's refusal (free plan, no permission) is said once,
remembered and not retried; a refusal of one group's members (a guest) expires that update only."""

from __future__ import annotations

import logging

import pytest

from bot.services.deliveries.usergroups import REFUSED_KEY, forget_refusal, remembered_refusal
from bot.storage import scheduled as store
from bot.storage.bootstrap import Database
from tests.support.fake_slack import FakeSlack

from .conftest import TickerFactory
from .helpers import ny

MONDAY = ny(2026, 11, 30, 9)
NEXT_MONDAY = ny(2026, 12, 7, 9)
MONDAY_AFTER = ny(2026, 12, 14, 9)


async def usergroup_rows(db: Database) -> list[store.DeliveryRow]:
    async with db.sessions() as session:
        rows = await store.list_deliveries(session, limit=10_000)
    return sorted((r for r in rows if r.op == "usergroup"), key=lambda r: r.id)


def refusal_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "not updated" in r.getMessage()]


@pytest.mark.parametrize("error", ["plan_upgrade_required", "permission_denied", "no_permission"])
async def test_a_workspace_refusal_is_said_once_and_not_retried(
    db: Database, slack: FakeSlack, make_ticker: TickerFactory, caplog: pytest.LogCaptureFixture, error: str
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.services.deliveries")
    slack.usergroup_update_error = error
    first = await make_ticker().tick(MONDAY)
    assert first.deliveries.failed == 0 and first.deliveries.expired == 1
    [row] = await usergroup_rows(db)
    assert row.status == "expired" and error in (row.last_error or "")
    assert len(slack.calls_to("usergroups.users.update")) == 1
    [line] = refusal_lines(caplog)
    assert line.startswith("user group @oncall-engagement not updated: ") and f"({error})" in line
    assert "docs/operations.md" in line
    said = await remembered_refusal(db)
    assert said is not None and said.startswith("Slack refused user-group updates on 2026-11-30") and error in said

    # Later ticks (and next week's update) do not ask Slack again, nor say it again.
    for at in (MONDAY.replace(minute=5), NEXT_MONDAY):
        await make_ticker().tick(at)
    rows = await usergroup_rows(db)
    assert [r.status for r in rows] == ["expired", "expired"]
    assert (rows[1].last_error or "").startswith("not sent: Slack refused user-group updates on 2026-11-30")
    assert len(slack.calls_to("usergroups.users.update")) == 1
    assert len(refusal_lines(caplog)) == 1

    # Once the workspace allows it (doctor forgets the refusal), the next update goes out.
    slack.usergroup_update_error = None
    assert await forget_refusal(db) is True
    await make_ticker().tick(MONDAY_AFTER)
    assert [r.status for r in await usergroup_rows(db)] == ["expired", "expired", "sent"]


async def test_a_guest_in_the_group_expires_that_update_with_one_line(
    db: Database, slack: FakeSlack, make_ticker: TickerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.services.deliveries")
    slack.users["U0FE00002"]["is_restricted"] = True  # fe2 starts this week, as a guest
    report = await make_ticker().tick(MONDAY)
    assert report.deliveries.expired == 1 and report.deliveries.failed == 0
    [row] = await usergroup_rows(db)
    assert row.status == "expired" and "guests and bots" in (row.last_error or "")
    [line] = refusal_lines(caplog)
    assert line.startswith(f"delivery {row.key}: user group @oncall-engagement not updated") and "invalid_users" in line
    async with db.sessions() as session:
        from bot.storage.meta import get_meta

        assert await get_meta(session, REFUSED_KEY) is None  # one group's problem, not the workspace's
    await make_ticker().tick(MONDAY.replace(minute=30))
    assert len(slack.calls_to("usergroups.users.update")) == 1  # not retried
