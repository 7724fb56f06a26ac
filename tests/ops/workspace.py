"""A FakeSlack workspace that matches data/seed.yaml: every person, every channel, the bot in each,
and the token's scopes (the ``X-OAuth-Scopes`` header real Slack sends) from manifest.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.ops.doctor import manifest_scopes, seed_channels
from bot.seed.schema import SeedIn
from bot.seed.validate import parse_seed_text
from tests.support.fake_slack import Call, FakeSlack

ROOT = Path(__file__).resolve().parents[2]
SEED_PATH = ROOT / "data" / "seed.yaml"
MANIFEST = ROOT / "manifest.yaml"


def seed() -> SeedIn:
    return parse_seed_text(SEED_PATH.read_text(encoding="utf-8"), str(SEED_PATH))


def manifest_bot_scopes() -> list[str]:
    scopes = manifest_scopes(MANIFEST)
    assert scopes, "manifest.yaml has bot scopes"
    return scopes


class ScopedFakeSlack(FakeSlack):
    """FakeSlack that answers every Web API call with an ``X-OAuth-Scopes`` header, as Slack does."""

    def __init__(self, *, scopes: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scopes = list(scopes) if scopes is not None else manifest_bot_scopes()

    async def _answer(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        status, answer, headers = await super()._answer(call)
        return status, answer, {**headers, "X-OAuth-Scopes": ",".join(self.scopes)}


def populate(slack: FakeSlack, data: SeedIn | None = None) -> dict[str, str]:
    """Add the seed's people, user groups and channels (the bot a member of each); channel name -> id."""
    data = data or seed()
    for person in data.people:
        slack.add_user(id=person.slack_user_id, name=person.id, real_name=person.name, email=person.email)
    for r in data.rotations:  # each user group the seed names, holding the rotation's first member
        if r.usergroup:
            first = next(p.slack_user_id for p in data.people if p.id == r.members[0])
            slack.add_usergroup(handle=r.usergroup.lstrip("@"), users=[first])
    for pl in data.pipelines:
        if pl.usergroup and not any(g["handle"] == pl.usergroup.lstrip("@") for g in slack.usergroups.values()):
            slack.add_usergroup(handle=pl.usergroup.lstrip("@"), users=[data.people[0].slack_user_id])
    return {ref.lstrip("#"): slack.add_channel(name=ref.lstrip("#")) for ref, _where in seed_channels(data)}
