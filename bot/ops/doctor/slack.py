"""``doctor``'s Slack checks: the token (``auth.test``), its scopes against the manifest, the
seed's channels (exist, not archived, the bot a member) and people (``users.info``, else by email;
a guest or a bot is a warning: Slack keeps them out of user groups)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.ops.doctor.report import CheckResult, Report, Status
from bot.ops.logging import format_exception_safely

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.seed.schema import SeedIn


SLACK_CONCURRENCY = 4


def manifest_scopes(path: Path) -> list[str] | None:
    """The bot scopes ``manifest.yaml`` asks for (None when there is no manifest)."""
    import yaml

    if not path.is_file():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    scopes = (((data.get("oauth_config") or {}).get("scopes") or {}).get("bot")) or []
    return [str(s) for s in scopes]


def seed_channels(seed: SeedIn) -> list[tuple[str, str]]:
    """(channel, where the seed names it), each channel once, in seed order."""
    found: dict[str, list[str]] = {}

    def note(channel: str | None, where: str) -> None:
        if channel:
            found.setdefault(channel.strip(), []).append(where)

    note(seed.announcement_channel, "announcement_channel")
    for t in seed.teams:
        note(t.channel, f"team {t.id}")
    for p in seed.pipelines:
        note(p.channel, f"pipeline {p.id}")
        if p.topic is not None and p.topic.channel:
            note(p.topic.channel, f"pipeline {p.id} topic")
    for r in seed.recurring:
        note(r.channel, f"recurring {r.id}")
    return [(ch, ", ".join(w[:3]) + (f" and {len(w) - 3} more" if len(w) > 3 else "")) for ch, w in found.items()]


def _slack_error(exc: BaseException) -> str:
    """What went wrong with a Web API call, in a few words (never the token)."""
    from slack_sdk.errors import SlackApiError

    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", None)
        error = exc.response.get("error") if exc.response is not None else None
        return f"{error or 'error'}" + (f" (HTTP {status})" if status and status != 200 else "")
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "timed out"
    return format_exception_safely(exc)


def _retry_hint(exc: BaseException) -> str:
    from slack_sdk.errors import SlackApiError

    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200) or 200
        if status >= 500 or status == 429:
            return "Slack is failing or rate limiting right now: try again in a minute (status.slack.com)"
    if not isinstance(exc, SlackApiError):
        return "check the network path to Slack (proxy, firewall, ONCALL_SLACK_API_URL), then try again"
    return ""


@dataclass
class SlackIdentity:
    user_id: str | None = None
    user: str | None = None
    team: str | None = None
    scopes: list[str] | None = None


async def check_slack_token(client: AsyncWebClient, report: Report) -> SlackIdentity | None:
    from slack_sdk.errors import SlackApiError

    try:
        resp = await client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        if error in ("invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"):
            report.add("slack token", Status.FAIL, f"Slack refused SLACK_BOT_TOKEN ({error})",
                       "copy the Bot User OAuth Token (xoxb-...) from the app's OAuth & Permissions page "
                       "(reinstall the app if it was revoked)")
        else:
            report.add("slack token", Status.FAIL, f"auth.test failed: {_slack_error(exc)}", _retry_hint(exc) or None)
        return None
    except Exception as exc:
        report.add("slack token", Status.FAIL, f"Slack not reachable: {_slack_error(exc)}", _retry_hint(exc))
        return None
    headers = {str(k).lower(): v for k, v in (resp.headers or {}).items()}
    raw = headers.get("x-oauth-scopes")
    if isinstance(raw, list):
        raw = ",".join(raw)
    ident = SlackIdentity(
        user_id=resp.get("user_id"),
        user=resp.get("user"),
        team=resp.get("team"),
        scopes=[s.strip() for s in str(raw).split(",") if s.strip()] if raw is not None else None,
    )
    report.add("slack token", Status.OK, f"valid: @{ident.user} ({ident.user_id}) in {ident.team}")
    return ident


def check_scopes(ident: SlackIdentity, manifest: Path, report: Report) -> None:
    try:
        wanted = manifest_scopes(manifest)
    except Exception as exc:
        report.add("slack scopes", Status.FAIL, f"{manifest} cannot be read: {format_exception_safely(exc)}",
                   "restore manifest.yaml from the release")
        return
    if wanted is None:
        report.add("slack scopes", Status.SKIP, f"skipped: no manifest at {manifest}")
        return
    if ident.scopes is None:
        report.add("slack scopes", Status.WARN, "Slack did not report the token's scopes (no X-OAuth-Scopes header)",
                   f"compare the app's OAuth & Permissions page with {manifest.name}")
        return
    missing = sorted(set(wanted) - set(ident.scopes))
    extra = sorted(set(ident.scopes) - set(wanted))
    if missing:
        report.add("slack scopes", Status.FAIL, f"the token lacks {', '.join(missing)}",
                   f"add them to the app (they are in {manifest.name}: update the app's manifest) and reinstall it "
                   "to the workspace; then update SLACK_BOT_TOKEN if it changed")
        return
    note = f"; also has {', '.join(extra)} (not needed)" if extra else ""
    report.add("slack scopes", Status.OK, f"all {len(wanted)} scopes of {manifest.name}{note}")


async def _paged(call: Callable[..., Awaitable[Any]], key: str, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(200):  # 200 pages of 1,000: far beyond any workspace; no endless loop on a bad cursor
        resp = await call(cursor=cursor, **kwargs) if cursor else await call(**kwargs)
        items.extend(resp.get(key) or [])
        cursor = ((resp.get("response_metadata") or {}).get("next_cursor")) or None
        if not cursor:
            break
    return items


async def check_channels(client: AsyncWebClient, seed: SeedIn, ident: SlackIdentity, report: Report) -> None:
    wanted = seed_channels(seed)
    if not wanted:
        report.add("channels", Status.OK, "the seed names no channels")
        return
    try:
        listed = await _paged(
            client.conversations_list, "channels", types="public_channel,private_channel", limit=1000,
            exclude_archived=False,
        )
    except Exception as exc:
        error = _slack_error(exc)
        fix = ("add the channels:read and groups:read scopes and reinstall the app"
               if "missing_scope" in error else _retry_hint(exc) or None)
        report.add("channels", Status.FAIL, f"conversations.list failed: {error}", fix)
        return
    by_name = {str(c.get("name")): c for c in listed}
    by_id = {str(c.get("id")): c for c in listed}
    bot = f"@{ident.user}" if ident.user else "the bot"
    for ref, where in wanted:
        key = ref.lstrip("#")
        channel = by_id.get(key) or by_name.get(key)
        if channel is None and key[:1] in ("C", "G") and key.isupper():
            try:
                channel = (await client.conversations_info(channel=key)).get("channel")
            except Exception:
                channel = None
        label = f"channel {ref}"
        if channel is None:
            report.add(label, Status.FAIL, f"not found in Slack (named by {where})",
                       f"create #{key}, or invite {bot} if it is private, or fix the seed")
        elif channel.get("is_archived"):
            report.add(label, Status.FAIL, f"is archived (named by {where})", f"unarchive #{key} or fix the seed")
        elif not channel.get("is_member"):
            report.add(label, Status.FAIL, f"the bot is not a member (named by {where})", f"in #{key}: /invite {bot}")
        else:
            report.add(label, Status.OK, f"exists ({channel.get('id')}) and the bot is in it")


async def _resolve_person(
    client: AsyncWebClient, person_id: str, name: str, slack_id: str, email: str
) -> CheckResult | None:
    """None when the person resolves; otherwise the failure to report."""
    from slack_sdk.errors import SlackApiError

    check = f"person {person_id}"
    try:
        user = (await client.users_info(user=slack_id)).get("user") or {}
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        if error not in ("user_not_found", "users_not_found"):
            return CheckResult(check, Status.FAIL, f"users.info {slack_id} failed: {_slack_error(exc)}",
                               _retry_hint(exc) or None)
        user = None
    if user:
        if user.get("deleted"):
            return CheckResult(check, Status.FAIL, f"{name}'s Slack user {slack_id} is deactivated",
                               "give their on-call shifts to someone else or update slack_user_id in the seed")
        kind = "a bot" if user.get("is_bot") else "a guest" if (
            user.get("is_restricted") or user.get("is_ultra_restricted")) else None
        if kind is not None:
            return CheckResult(check, Status.WARN, f"{name}'s Slack user {slack_id} is {kind}: Slack keeps them out "
                               "of user groups and guests may not see every channel",
                               "give their on-call slots to a full member, or make them a full member")
        return None
    try:
        found = (await client.users_lookupByEmail(email=email)).get("user") or {}
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        if error == "users_not_found":
            return CheckResult(check, Status.FAIL,
                               f"{name}: no Slack user {slack_id}, and no Slack user has the email {email}",
                               "fix slack_user_id (Slack profile > ... > Copy member ID) and email in the seed")
        hint = "add the users:read.email scope and reinstall the app" if error == "missing_scope" else None
        return CheckResult(check, Status.FAIL, f"{name}: no Slack user {slack_id}; users.lookupByEmail failed: "
                           f"{_slack_error(exc)}", hint or _retry_hint(exc) or None)
    return CheckResult(check, Status.FAIL, f"{name}: no Slack user {slack_id}, but {email} is {found.get('id')}",
                       f"set slack_user_id: {found.get('id')} for {person_id} in the seed and load it")


async def check_people(client: AsyncWebClient, seed: SeedIn, report: Report) -> None:
    if not seed.people:
        report.add("people", Status.OK, "the seed names no people")
        return
    gate = asyncio.Semaphore(SLACK_CONCURRENCY)

    async def one(pid: str, name: str, sid: str, email: str) -> CheckResult | None:
        async with gate:
            try:
                return await _resolve_person(client, pid, name, sid, email)
            except Exception as exc:
                return CheckResult(f"person {pid}", Status.FAIL, f"{name}: {_slack_error(exc)}",
                                   _retry_hint(exc) or None)

    results = await asyncio.gather(*(one(p.id, p.name, p.slack_user_id, p.email) for p in seed.people))
    problems = [r for r in results if r is not None]
    failed = [r for r in problems if r.status is Status.FAIL]
    good = len(results) - len(failed)
    report.add("people", Status.OK if not failed else Status.FAIL,
               f"{good} of {len(results)} people resolve to active Slack users",
               None if not failed else "see the lines below")
    report.results.extend(problems)
