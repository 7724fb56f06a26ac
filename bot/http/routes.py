"""Registers every machine-facing route on the bot's aiohttp application."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web

    from bot.slack.deps import SlackDeps


def add_routes(web_app: web.Application, deps: SlackDeps) -> None:
    """Add the machine-facing routes of each feature module (one line each, below)."""
    from bot.http import ack, alerts, read_api

    read_api.add_routes(web_app, deps)  # GET /api/v1/{oncall,schedule,incidents,openapi.json}
    ack.add_routes(web_app, deps)  # GET/POST /ack/TOKEN: acknowledge a page from any browser
    alerts.add_routes(web_app, deps)  # alert intake (PagerDuty, Alertmanager, generic) and heartbeats
