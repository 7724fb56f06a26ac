"""``doctor``'s configuration check: which Slack mode the credentials select, and whether they fit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.ops.doctor.report import Report, Status

if TYPE_CHECKING:

    from bot.config import Settings



def check_config(settings: Settings, report: Report) -> None:
    bot = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    app = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
    signing = settings.slack_signing_secret
    if bot is None:
        if app or signing:
            report.add("config", Status.FAIL,
                       "SLACK_APP_TOKEN or SLACK_SIGNING_SECRET is set but SLACK_BOT_TOKEN is not",
                       "set SLACK_BOT_TOKEN (the Bot User OAuth Token, xoxb-...)")
        else:
            report.add("config", Status.WARN, "no Slack credentials: `oncall-bot run` starts the local console",
                       "set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode)")
        return
    problems = []
    if not bot.startswith("xoxb-"):
        problems.append("SLACK_BOT_TOKEN does not start with xoxb- (a bot token is needed, not a user or app token)")
    if app is not None and not app.startswith("xapp-"):
        problems.append("SLACK_APP_TOKEN does not start with xapp- (an app-level token with connections:write)")
    if app is None and signing is None:
        problems.append("neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP) is set")
    if problems:
        report.add("config", Status.FAIL, "; ".join(problems), "fix the variables in the env file and restart")
        return
    mode = ("Socket Mode (SLACK_APP_TOKEN)" if app is not None
            else f"HTTP mode on port {settings.http_port}, request URL https://YOUR-HOST/slack/events")
    report.add("config", Status.OK, f"Slack in {mode}; log format {settings.log_format}")
