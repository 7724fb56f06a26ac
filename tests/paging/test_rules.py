"""Which pages may wake: a non-critical page outside coverage never uses a phone-type method."""

from __future__ import annotations

from datetime import timedelta

from bot.services import incidents as svc
from bot.services.paging import contacts
from bot.slack.deps import SlackDeps
from bot.storage import scheduled as store

from .conftest import NIGHT, Received

TWILIO = "twilio://AC0123456789abcdef0123456789abcdef:0123456789abcdef0123456789abcdef@+15551234567/+15557654321"


async def test_non_critical_after_hours_never_texts(deps: SlackDeps, sink: tuple[Received, str]) -> None:
    posts, host = sink
    opened = await svc.open_incident(deps, "engagement", "Dashboards late", False, "U0ANA0001", NIGHT)
    assert isinstance(opened, svc.Opened)
    person = opened.incident.page.person
    assert person is not None  # the after-hours path pages the next window's secondary at once
    await contacts.add(deps, person, TWILIO, NIGHT, label="sms", after=0)
    await contacts.add(deps, person, f"json://{host}/hook", NIGHT, label="webhook", after=0)
    await svc.run_periodic(deps, NIGHT + timedelta(minutes=1))
    await deps.background.drain(timeout=10)
    [got] = await posts.wait_for(1)
    assert "Dashboards late" in got["json"]["message"]
    async with deps.db.sessions() as session:
        rows = await store.deliveries_with_prefix(session, f"incident:{opened.incident.id}:notify:")
    assert [r.payload["method"] for r in rows] == ["#2 webhook (json)"]  # no SMS


async def test_the_seeds_paging_defaults_reach_the_directory(deps: SlackDeps) -> None:
    from bot.core.paging import NotifyRules, rules_for
    from bot.storage.seedstore import export_seed, load_directory

    async with deps.db.sessions() as session:
        d = await load_directory(session)
        seed = await export_seed(session)
    assert rules_for(d.paging, True) == NotifyRules((0, 5), 10)
    assert rules_for(d.paging, False) == NotifyRules((15, 30), 10)
    assert seed.paging is not None and seed.paging.critical.method_minutes == [0, 5]
