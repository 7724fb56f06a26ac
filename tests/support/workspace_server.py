"""A fake Slack workspace for trying the README's "Make it yours" walk-through without a real
workspace: ``python -m tests.support.workspace_server SEED`` serves the fake Slack Web API
(``ONCALL_SLACK_API_URL=http://127.0.0.1:PORT/api/``, token ``xoxb-test``) with a user for each
person of SEED (by email, with Slack ids of their own), each channel the seed names (the bot is
in all but the first team's channel: invite it there) and each user group the seed names."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.ops.doctor import seed_channels
from bot.ops.doctor.usergroups import seed_usergroups
from bot.seed.edit import people_in_text
from bot.seed.validate import SeedError
from tests.ops.workspace import ScopedFakeSlack


async def serve(seed: Path, text: str) -> None:
    slack = ScopedFakeSlack(check_tokens=True)
    people = people_in_text(text, str(seed))
    for n, person in enumerate(people, start=1):
        slack.add_user(id=f"U{7000 + n:05d}", name=person.id, real_name=person.name, email=person.email)
    try:
        from bot.seed.validate import parse_seed_text

        parsed = parse_seed_text(text, str(seed))
        first_team = parsed.teams[0].channel if parsed.teams else None
        for ref, _where in seed_channels(parsed):
            slack.add_channel(name=ref.lstrip("#"), is_member=ref != first_team)
        for handle, _where in seed_usergroups(parsed):
            slack.add_usergroup(handle=handle, users=["U07001"])
    except SeedError:  # slack_user_id not filled in yet: channels and groups from the raw file
        import yaml

        raw = yaml.safe_load(text) or {}
        names = [raw.get("announcement_channel")] + [t.get("channel") for t in raw.get("teams") or []]
        names += [p.get("channel") for p in raw.get("pipelines") or []]
        for i, ref in enumerate(dict.fromkeys(n for n in names if n)):
            slack.add_channel(name=str(ref).lstrip("#"), is_member=i != 1)
        groups = {str(x.get("usergroup")).lstrip("@") for x in (raw.get("rotations") or []) + (raw.get("pipelines")
                  or []) if x.get("usergroup")}
        for handle in sorted(groups):
            slack.add_usergroup(handle=handle, users=["U07001"])
    await slack.start()
    print(f"fake Slack at {slack.api_url} (token {slack.bot_token}); {len(people)} users, "
          f"{len(slack.channels)} channels, {len(slack.usergroups)} user groups", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    path = Path(sys.argv[1])
    asyncio.run(serve(path, path.read_text(encoding="utf-8")))
