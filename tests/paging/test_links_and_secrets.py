"""The acknowledge page over real HTTP (GET shows, never acts; POST needs the form's nonce), and
the secrets rules: no key, no stored URL; a failing service's error, the logs, the deliveries and
the audit trail never carry the URL."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web

from bot.config import Settings
from bot.core.incident import Status
from bot.http.routes import add_routes
from bot.services import incidents as svc
from bot.services.deliveries.secrets import NoSecretKey
from bot.services.paging import contacts
from bot.services.records import deliveries
from bot.slack.deps import SlackDeps
from bot.storage import incidents as incident_repo
from bot.storage.bootstrap import Database
from tests.support.fake_slack import FakeSlack

from .conftest import NIGHT, PUBLIC, Received, mail_url

SUMMARY = "Growth <b>totals</b> & \"quotes\""


async def _open(deps: SlackDeps) -> int:
    opened = await svc.open_incident(deps, "profit", SUMMARY, True, "U0ANA0001", NIGHT)
    assert isinstance(opened, svc.Opened)
    await deps.background.drain(timeout=10)
    return opened.incident.id


async def _serve(deps: SlackDeps) -> tuple[web.AppRunner, str]:
    app = web.Application()
    add_routes(app, deps)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


def _fields(page: str) -> dict[str, str]:
    return dict(re.findall(r'name="(issued|nonce)" value="([^"]*)"', page))


async def test_ack_page_over_http(deps: SlackDeps, workspace: FakeSlack, smtp: tuple[Received, int]) -> None:
    mails, port = smtp
    await contacts.add(deps, "de1", mail_url(port), NIGHT, label="e-mail")
    inc_id = await _open(deps)
    [mail] = await mails.wait_for(1)
    link = re.search(r"https://oncall\.test/ack/\S+", mail["body"])
    assert link is not None
    path = link.group(0).removeprefix(PUBLIC)
    runner, base = await _serve(deps)
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(2):  # a link scanner opening it twice changes nothing
                async with http.get(base + path) as resp:
                    page = await resp.text()
                    assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
            assert "Growth &lt;b&gt;totals&lt;/b&gt; &amp; &quot;quotes&quot;" in page and "<b>totals" not in page
            assert "Dana Diaz" in page and "Profit" in page and 'value="acknowledge"' in page
            async with deps.db.sessions() as session:
                inc = await incident_repo.get_incident(session, inc_id)
            assert inc is not None and inc.status == Status.OPEN
            async with http.post(base + path, data={"action": "acknowledge"}) as resp:
                assert resp.status == 403  # no form shown: no nonce
            async with http.post(base + path + "x", data={"action": "acknowledge", **_fields(page)}) as resp:
                assert resp.status == 404
            async with http.post(base + path, data={"action": "acknowledge", **_fields(page)}) as resp:
                after = await resp.text()
                assert resp.status == 200 and "Acknowledged" in after
            async with http.post(base + path, data={"action": "acknowledge", **_fields(page)}) as resp:
                assert resp.status == 409  # once
    finally:
        await runner.cleanup()
        await deps.background.drain(timeout=10)
    async with deps.db.sessions() as session:
        inc = await incident_repo.get_incident(session, inc_id)
    assert inc is not None and inc.status == Status.ACKNOWLEDGED and inc.acknowledged_by == "U0DE00001"


async def test_links_expire_after_a_day(deps: SlackDeps, smtp: tuple[Received, int]) -> None:
    from bot.services.paging import links

    mails, port = smtp
    await contacts.add(deps, "de1", mail_url(port), NIGHT)
    await _open(deps)
    [mail] = await mails.wait_for(1)
    token = mail["body"].split("/ack/")[1].split()[0]
    assert (await links.show(deps, token, NIGHT + timedelta(hours=23))).status == 200
    assert (await links.show(deps, token, NIGHT + timedelta(hours=24))).status == 404


async def test_no_secret_key_no_stored_url(db: Database, settings: Settings, workspace: FakeSlack) -> None:
    from tests.support.fixtures import web_client_for

    deps = SlackDeps(settings=settings, db=db, client=web_client_for(workspace), clock=lambda: NIGHT)
    with pytest.raises(NoSecretKey, match="ONCALL_SECRET_KEY"):
        await contacts.add(deps, "de1", "ntfy://example.com/topic", NIGHT)
    assert await contacts.list_methods(deps) == []


async def test_bad_urls_and_people_are_refused_without_echoing_the_url(deps: SlackDeps) -> None:
    with pytest.raises(contacts.ContactError) as bad:
        await contacts.add(deps, "de1", "https-ish-secret-value", NIGHT)
    assert "secret" not in str(bad.value)
    with pytest.raises(contacts.ContactError, match="unknown person"):
        await contacts.add(deps, "nobody", "ntfy://example.com/t", NIGHT)


async def test_a_failing_service_is_retried_and_the_url_never_shows(
    deps: SlackDeps, workspace: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = "json://hook-user:hook-password-123@127.0.0.1:9/private-path-xyz"  # port 9: nothing listens
    await contacts.add(deps, "de1", url, NIGHT, label="webhook")
    inc_id = await _open(deps)
    await svc.run_periodic(deps, NIGHT + timedelta(minutes=1))  # tells the thread about the failure
    await deps.background.drain(timeout=10)
    failed = [r for r in await deliveries(deps.db, failed_only=True) if ":notify:" in r.key]
    assert len(failed) == 1 and failed[0].status == "failed" and failed[0].last_error
    shown = repr([(r.key, r.target, r.label, r.payload, r.last_error) for r in failed]) + caplog.text
    for secret in ("hook-user", "hook-password-123", "private-path-xyz", url):
        assert secret not in shown
    async with deps.db.sessions() as session:
        post = await svc.outbox.post_delivery(session, inc_id)
    assert post is not None and post.ts is not None
    thread = " ".join(m["text"] for m in workspace.thread(post.target if post.target.startswith("C") else
                                                          "C0DPROFIT", post.ts))
    assert "failed" in thread and "retrying" in thread
