"""manifest.yaml grants exactly what the code uses: every Web API method called under bot/ is
covered by a bot scope, every scope is needed, and the commands, shortcut and events the app
listens to are declared."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.render.ids import Callback

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = yaml.safe_load((ROOT / "manifest.yaml").read_text(encoding="utf-8"))

# What each Web API method needs, from Slack's method reference. A method the code calls that is
# not here fails the test: add it with its scopes (and the scopes to manifest.yaml).
# Conversation methods need one scope per kind of conversation the bot works in: public and
# private channels, DMs and group DMs (the onboarding invite).
METHOD_SCOPES: dict[str, set[str]] = {
    "auth.test": set(),
    "apps.connections.open": set(),  # the app-level token's connections:write, not a bot scope
    "chat.postMessage": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "chat.update": {"chat:write"},
    "chat.delete": {"chat:write"},
    "chat.getPermalink": set(),
    "dnd.info": {"dnd:read"},  # before relying on a page DM (issue 13)
    "conversations.open": {"im:write", "mpim:write"},
    "conversations.history": {"channels:history", "groups:history", "im:history", "mpim:history"},
    "conversations.replies": {"channels:history", "groups:history", "im:history", "mpim:history"},
    "conversations.info": {"channels:read", "groups:read"},
    "conversations.list": {"channels:read", "groups:read"},
    # the narrowest scope Slack documents for it: public channels only (the seed's topic channels);
    # a private channel's topic would need groups:write.topic (``oncall-bot doctor`` says so)
    "conversations.setTopic": {"channels:write.topic"},
    "files.uploadV2": {"files:write"},  # files.getUploadURLExternal + files.completeUploadExternal
    "usergroups.list": {"usergroups:read"},
    "usergroups.users.list": {"usergroups:read"},
    "usergroups.users.update": {"usergroups:write"},
    "users.info": {"users:read"},
    "users.list": {"users:read"},
    "users.lookupByEmail": {"users:read", "users:read.email"},
    "views.open": set(),
    "views.push": set(),
    "views.publish": set(),
    "views.update": set(),
    "reactions.add": {"reactions:write"},
}
# Scopes that listening (not calling) needs.
LISTENING_SCOPES = {"commands", "app_mentions:read"}

_FAMILIES = "apps|auth|chat|conversations|dnd|files|reactions|usergroups|users|views"
_CALL = re.compile(rf"\.((?:{_FAMILIES})_[A-Za-z0-9_]+)\(")
_API_CALL = re.compile(r"api_call\(\s*[\"']([a-zA-Z.]+)[\"']")


def _method_name(python_name: str) -> str:
    """``chat_postMessage`` → ``chat.postMessage``; ``files_upload_v2`` → ``files.uploadV2``."""
    if python_name == "files_upload_v2":
        return "files.uploadV2"
    return python_name.replace("_", ".")


def methods_called() -> dict[str, set[str]]:
    """Web API methods called anywhere under bot/, with the files that call them."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "bot").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        names = [_method_name(m) for m in _CALL.findall(source)] + _API_CALL.findall(source)
        for name in names:
            found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def manifest_scopes() -> set[str]:
    return set(MANIFEST["oauth_config"]["scopes"]["bot"])


def test_the_scan_finds_the_calls_we_know_of() -> None:
    called = methods_called()
    for method in ("chat.postMessage", "chat.postEphemeral", "views.publish", "views.open", "auth.test"):
        assert method in called, sorted(called)


def test_every_method_called_is_known_and_covered() -> None:
    called = methods_called()
    unknown = {m: files for m, files in called.items() if m not in METHOD_SCOPES}
    assert not unknown, f"add these methods and their scopes to METHOD_SCOPES: {unknown}"
    scopes = manifest_scopes()
    missing = {m: METHOD_SCOPES[m] - scopes for m in called if METHOD_SCOPES[m] - scopes}
    assert not missing, f"manifest.yaml lacks scopes for: {missing}"


def test_no_scope_is_granted_that_the_code_does_not_need() -> None:
    needed = set().union(*(METHOD_SCOPES[m] for m in methods_called() if m in METHOD_SCOPES)) | LISTENING_SCOPES
    assert manifest_scopes() == needed


def test_commands_shortcut_events_and_interactivity() -> None:
    features, settings = MANIFEST["features"], MANIFEST["settings"]
    commands = {c["command"]: c for c in features["slash_commands"]}
    assert set(commands) == {"/oncall", "/runbook", "/whoowns", "/incident", "/handoff"}
    assert all(c["url"].endswith("/slack/events") and c["should_escape"] for c in commands.values())
    [shortcut] = features["shortcuts"]
    assert shortcut == {**shortcut, "type": "message", "callback_id": str(Callback.OPEN_INCIDENT_SHORTCUT),
                        "name": "Open incident"}
    assert features["app_home"]["home_tab_enabled"] is True
    assert set(settings["event_subscriptions"]["bot_events"]) == {"app_mention", "app_home_opened"}
    assert settings["event_subscriptions"]["request_url"].endswith("/slack/events")
    assert settings["interactivity"] == {"is_enabled": True, "request_url": commands["/oncall"]["url"]}
    assert settings["socket_mode_enabled"] is True


def test_the_app_listens_to_what_the_manifest_declares() -> None:
    """Slash commands and events registered in bot/slack are the ones declared (and no more)."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "bot" / "slack").glob("*.py"))
    events = set(re.findall(r"@app\.event\(\"([a-z_]+)\"\)", source))
    assert events == set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    declared = {c["command"] for c in MANIFEST["features"]["slash_commands"]}
    single = set(re.findall(r"@app\.command\(\"(/[a-z]+)\"\)", source))
    assert single == {"/incident", "/handoff"}
    listed = re.search(r"@app\.command\(re\.compile\(r\"\^/\(([a-z|]+)\)\$\"\)\)", source)
    assert listed is not None
    assert {f"/{c}" for c in listed.group(1).split("|")} | single == declared
