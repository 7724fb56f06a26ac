"""Calendar feeds end with the person (issue 10 §7): a seed load without them, or
``oncall-bot calendar-tokens revoke PERSON``, and their feed answers 404 over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp

from bot.services import calendar_feeds
from bot.services.database import load_seed
from bot.storage import audit
from tests.slack.harness import NOW, RunningBot

from .test_slack import DE2, slash

SEED = Path(__file__).resolve().parents[2] / "data" / "seed.yaml"
BA2 = "U0BA00002"


async def _feed_path(bot: RunningBot, user: str) -> str:
    body = await slash(bot, "calendar", user)
    url = next(u for u in json.dumps(body["blocks"]).split("<")[1:] if u.startswith("http"))
    return url.split("|")[0].split("/calendar/")[1]


async def _status(bot: RunningBot, path: str) -> int:
    async with aiohttp.ClientSession(trust_env=False) as http, http.get(f"{bot.url}/calendar/{path}") as res:
        return res.status


async def test_a_seed_without_the_person_revokes_their_feed(bot: RunningBot, tmp_path: Path) -> None:
    ba2, de2 = await _feed_path(bot, BA2), await _feed_path(bot, DE2)
    assert await _status(bot, ba2) == 200 and await _status(bot, de2) == 200
    text = SEED.read_text(encoding="utf-8")
    without = text.replace("  - {id: ba2, name: Ben Archer, team: analytics, slack_user_id: U0BA00002, "
                           "email: ba2@example.com}\n", "").replace("members: [ba1, ba2]", "members: [ba1]")
    assert without != text
    path = tmp_path / "seed.yaml"
    path.write_text(without, encoding="utf-8")
    changes = await load_seed(bot.deps.db, path)
    assert changes["people"].removed == ["ba2"] and changes.revoked_tokens == ["ba2"]
    assert await _status(bot, ba2) == 404
    assert await _status(bot, ba2.removesuffix(".ics") + "/growth.ics") == 404
    assert await _status(bot, de2) == 200  # the others keep theirs
    assert [p for p, _ in await calendar_feeds.issued_tokens(bot.deps.db)] == ["de2"]


async def test_an_operator_revokes_one_feed(bot: RunningBot) -> None:
    de2 = await _feed_path(bot, DE2)
    assert await calendar_feeds.revoke_token(bot.deps.db, "de2", NOW)
    assert await _status(bot, de2) == 404
    assert not await calendar_feeds.revoke_token(bot.deps.db, "de2", NOW)  # nothing left to revoke
    async with bot.deps.db.sessions() as session:
        [entry] = await audit.entries(session, actions=("calendar_token.revoked",))
    assert entry.subject == "person:de2"
    fresh = await _feed_path(bot, DE2)  # a new link works
    assert fresh != de2 and await _status(bot, fresh) == 200
