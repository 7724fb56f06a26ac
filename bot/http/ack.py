"""``/ack/TOKEN``: acknowledge or escalate a page from wherever it arrived (a phone's browser).

``GET`` shows a small HTML page (the incident, its pipeline, runbook notes, who is paged) with
Acknowledge and Escalate buttons; it never acts, since mail and chat link scanners open links.
The buttons ``POST`` the form back with its nonce (``bot.services.paging.links``); the token in
the path authenticates the paged person. Answers are never cached, and the page asks browsers
not to send the link onwards (no referrer) nor index it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.render import paging as render
from bot.services.incidents.deps import snapshot_source
from bot.services.paging import links
from bot.services.snapshot import Snapshot

if TYPE_CHECKING:
    from bot.slack.deps import SlackDeps

HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex",
           "X-Frame-Options": "DENY", "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
           "form-action 'self'"}
MAX_FORM = 4096


async def _html(deps: SlackDeps, answer: links.LinkAnswer, snap: Snapshot) -> web.Response:
    if answer.data is None:
        body = render.ack_gone_page(answer.refused or links.INVALID)
    else:
        body = render.ack_page(snap.directory, snap.calendar.tz, answer.data)
    return web.Response(status=answer.status, text=body, content_type="text/html", charset="utf-8",
                        headers=HEADERS)


def add_routes(web_app: web.Application, deps: SlackDeps) -> None:
    """``GET /ack/{token}`` (the page) and ``POST /ack/{token}`` (its buttons)."""
    snapshots = snapshot_source(deps)

    async def show(request: web.Request) -> web.Response:
        answer = await links.show(deps, request.match_info["token"], deps.clock())
        return await _html(deps, answer, await snapshots())

    async def press(request: web.Request) -> web.Response:
        if (request.content_length or 0) > MAX_FORM:
            return web.Response(status=413, text="form too large\n")
        form = await request.post()
        answer = await links.press(deps, request.match_info["token"], str(form.get("action", "")),
                                   str(form.get("issued", "")), str(form.get("nonce", "")), deps.clock())
        return await _html(deps, answer, await snapshots())

    web_app.router.add_get("/ack/{token}", show)
    web_app.router.add_post("/ack/{token}", press)
