"""When Slack refuses user-group updates: say so once, and stop asking.

``usergroups.users.update`` with a bot token works only when the workspace lets everyone manage
user groups, and not at all on a free plan. Those refusals are the workspace's: no retry can
succeed, so the first one is remembered in the ``meta`` table (``REFUSED_KEY``: what Slack said,
when) and logged once; later user-group deliveries are recorded ``expired`` with that reason
and never sent, until ``oncall-bot doctor`` finds that the token may update groups again (it
forgets the refusal then). A refusal of one group's update (a guest, a bot, no members, a
missing group) is that delivery's alone: it is expired with one log line, not retried.
"""

from __future__ import annotations

import json
from datetime import datetime

from bot.storage.bootstrap import Database
from bot.storage.meta import get_meta, set_meta

REFUSED_KEY = "slack.usergroups_refused"

WORKSPACE_REFUSALS: dict[str, str] = {
    "plan_upgrade_required": "the workspace's Slack plan has no user groups (free plan)",
    "paid_teams_only": "the workspace's Slack plan has no user groups (free plan)",
    "permission_denied": "the workspace does not let everyone manage user groups",
    "no_permission": "the workspace does not let everyone manage user groups",
    "missing_scope": "the token lacks the usergroups:write scope",
    "not_allowed_token_type": "this token type may not update user groups",
}
GROUP_REFUSALS: dict[str, str] = {
    "invalid_users": "Slack refuses these members (guests and bots cannot be in user groups)",
    "no_users_provided": "Slack refuses an empty user group",
    "usergroup_not_found": "the user group does not exist in Slack",
    "no_such_subteam": "the user group does not exist in Slack",
    "subteam_disabled": "the user group is disabled in Slack",
}
FIX = ("members stay as they are; see docs/operations.md, 'User groups', then run `oncall-bot doctor`")


def workspace_refusal(error: str | None) -> str | None:
    """Why the workspace refuses every user-group update, from Slack's error code (else None)."""
    return WORKSPACE_REFUSALS.get(error or "")


def group_refusal(error: str | None) -> str | None:
    """Why Slack refuses this one update for good, from its error code (else None)."""
    return GROUP_REFUSALS.get(error or "")


async def remembered_refusal(db: Database) -> str | None:
    """The remembered workspace refusal, as a sentence (None when none is remembered)."""
    async with db.sessions() as session:
        raw = await get_meta(session, REFUSED_KEY)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        return f"Slack refused user-group updates on {data['at'][:10]} ({data['error']}: {data['why']})"
    except (ValueError, KeyError, TypeError):
        return f"Slack refused user-group updates ({raw[:200]})"


async def remember_refusal(db: Database, error: str, at: datetime) -> bool:
    """Remember the workspace's refusal; True when it was not remembered before (say it then)."""
    why = WORKSPACE_REFUSALS.get(error, error)
    async with db.sessions() as session, session.begin():
        if await get_meta(session, REFUSED_KEY) is not None:
            return False
        await set_meta(session, REFUSED_KEY, json.dumps({"error": error, "why": why, "at": at.isoformat()}))
    return True


async def forget_refusal(db: Database) -> bool:
    """Forget a remembered refusal (the token may update groups now); True when there was one."""
    async with db.sessions() as session, session.begin():
        had = await get_meta(session, REFUSED_KEY) is not None
        if had:
            await set_meta(session, REFUSED_KEY, None)
    return had
