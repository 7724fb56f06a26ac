"""``doctor``'s user-group check: the groups the seed names exist, and the token may update them.

``usergroups.users.update`` with a bot token works only when the workspace lets everyone manage
user groups, never on a free plan (``plan_upgrade_required``); it refuses guests, bots and an empty
member list. The probe re-sets one of the seed's groups to the members it already has (no change
anyone sees). When it works, a refusal the bot remembered (``bot.services.deliveries.usergroups``)
is forgotten, so the weekly updates go out again; when it fails, the line says what to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.ops.doctor.report import Report, Status
from bot.ops.doctor.slack import _retry_hint, _slack_error

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.seed.schema import SeedIn
    from bot.storage.bootstrap import Database

FIXES = {
    "plan_upgrade_required": "user groups need a paid Slack plan: remove usergroup: from the seed (the bot then "
                             "only announces), or upgrade the workspace",
    "paid_teams_only": "user groups need a paid Slack plan: remove usergroup: from the seed, or upgrade the workspace",
    "permission_denied": "a workspace admin: Settings & administration > Workspace settings > Permissions > "
                         "User Groups: let everyone create and edit user groups (or remove usergroup: from the seed)",
    "no_permission": "a workspace admin: Settings & administration > Workspace settings > Permissions > "
                     "User Groups: let everyone create and edit user groups (or remove usergroup: from the seed)",
    "missing_scope": "add the usergroups:read and usergroups:write scopes (they are in manifest.yaml) and reinstall "
                     "the app",
    "invalid_users": "a guest or a bot is in the group: Slack refuses them; give the on-call slot to a full member",
}


def seed_usergroups(seed: SeedIn) -> list[tuple[str, str]]:
    """(handle without @, where the seed names it), each handle once, in seed order."""
    found: dict[str, list[str]] = {}
    for r in seed.rotations:
        if r.usergroup:
            found.setdefault(r.usergroup.strip().lstrip("@"), []).append(f"rotation {r.id}")
    for p in seed.pipelines:
        if p.usergroup:
            found.setdefault(p.usergroup.strip().lstrip("@"), []).append(f"pipeline {p.id}")
    return [(h, ", ".join(w)) for h, w in found.items()]


def _error(exc: BaseException) -> str | None:
    from slack_sdk.errors import SlackApiError

    if isinstance(exc, SlackApiError) and exc.response is not None:
        error = exc.response.get("error")
        return str(error) if error else None
    return None


async def _remembered(db: Database | None) -> str | None:
    if db is None:
        return None
    from bot.services.deliveries.usergroups import remembered_refusal

    return await remembered_refusal(db)


async def check_usergroups(client: AsyncWebClient, seed: SeedIn, report: Report, db: Database | None) -> None:
    wanted = seed_usergroups(seed)
    remembered = await _remembered(db)
    if not wanted:
        report.add("user groups", Status.OK, "the seed names no user groups")
        return
    try:
        resp = await client.usergroups_list(include_users=True, include_disabled=True)
    except Exception as exc:
        error = _error(exc)
        report.add("user groups", Status.FAIL, f"usergroups.list failed: {_slack_error(exc)}",
                   FIXES.get(error or "") or _retry_hint(exc) or None)
        return
    groups: dict[str, dict[str, Any]] = {str(g.get("handle")): g for g in resp.get("usergroups") or []}
    missing = False
    for handle, where in wanted:
        group = groups.get(handle)
        if group is None:
            missing = True
            report.add(f"user group @{handle}", Status.FAIL, f"not found in Slack (named by {where})",
                       f"create @{handle} in Slack (People > User groups), or fix the seed")
        elif group.get("date_delete"):
            missing = True
            report.add(f"user group @{handle}", Status.FAIL, f"is disabled (named by {where})",
                       f"enable @{handle} in Slack (People > User groups), or fix the seed")
    probe = next(((h, groups[h]) for h, _w in wanted if h in groups and not groups[h].get("date_delete")
                  and groups[h].get("users")), None)
    if probe is None:
        status = Status.FAIL if missing else Status.WARN
        report.add("user groups", status, "cannot test updating a group without changing one: none of the seed's "
                   "groups exists with members" + (f"; {remembered}" if remembered else ""),
                   "add the current on-call people to one group by hand, then run doctor again")
        return
    handle, group = probe
    users = [str(u) for u in group.get("users") or []]
    try:
        await client.usergroups_users_update(usergroup=str(group.get("id")), users=",".join(users))
    except Exception as exc:
        error = _error(exc)
        note = f"; the bot stopped updating groups: {remembered}" if remembered else ""
        report.add("user groups", Status.FAIL, "the token may not update user groups: usergroups.users.update "
                   f"@{handle}: {_slack_error(exc)}{note}", FIXES.get(error or "") or _retry_hint(exc) or None)
        return
    members = f"{len(users)} member" + ("" if len(users) == 1 else "s")
    detail = f"the token may update user groups (re-set @{handle} to its {members})"
    if remembered and db is not None:
        from bot.services.deliveries.usergroups import forget_refusal

        await forget_refusal(db)
        detail += f"; forgot the earlier refusal ({remembered}): the next updates go out"
    report.add("user groups", Status.FAIL if missing else Status.OK, detail)
