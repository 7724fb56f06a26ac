"""``oncall-bot people sync``: slack_user_id from emails over real HTTP against the fake Slack,
written back into the seed file with only those values changed."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.seed.edit import people_in_text, set_slack_ids
from bot.seed.validate import SeedError, parse_seed_text
from bot.services.people import Found, sync_seed_text
from bot.slack.client import close_client, make_client
from tests.ops.workspace import SEED_PATH, ScopedFakeSlack, populate
from tests.support.procs import communicate

EXE = str(Path(sys.executable).with_name("oncall-bot"))

BLOCK_SEED = """\
# our team
people:
  - {id: ann, name: Ann, team: t, slack_user_id: U0OLD0001, email: ann@example.com}  # moved accounts
  - {id: bob, name: Bob, team: t, email: bob@example.com}
  - id: cy
    name: Cy
    # Cy's id, quoted
    slack_user_id: "U0CY00001"
    email: cy@example.com
  - id: dee
    name: Dee
    slack_user_id:
    email: dee@example.com
  - id: eve
    email: eve@example.com
teams: []
"""


def test_edit_sets_only_the_values_and_keeps_the_rest() -> None:
    new = set_slack_ids(BLOCK_SEED, {"ann": "U0ANN0001", "bob": "U0BOB0001", "cy": "U0CY00002", "dee": "U0DEE0001",
                                     "eve": "U0EVE0001"})
    assert new.splitlines() == [
        "# our team",
        "people:",
        "  - {id: ann, name: Ann, team: t, slack_user_id: U0ANN0001, email: ann@example.com}  # moved accounts",
        "  - {id: bob, name: Bob, team: t, email: bob@example.com, slack_user_id: U0BOB0001}",
        "  - id: cy",
        "    name: Cy",
        "    # Cy's id, quoted",
        '    slack_user_id: "U0CY00002"',
        "    email: cy@example.com",
        "  - id: dee",
        "    name: Dee",
        "    slack_user_id: U0DEE0001",
        "    email: dee@example.com",
        "  - id: eve",
        "    email: eve@example.com",
        "    slack_user_id: U0EVE0001",
        "teams: []",
    ]
    assert [p.slack_user_id for p in people_in_text(new)] == ["U0ANN0001", "U0BOB0001", "U0CY00002", "U0DEE0001",
                                                              "U0EVE0001"]
    assert set_slack_ids(BLOCK_SEED, {}) == BLOCK_SEED


def test_edit_refuses_bad_input_with_a_located_message() -> None:
    with pytest.raises(SeedError, match=r"'nope' .for ann. is not a Slack user id"):
        set_slack_ids(BLOCK_SEED, {"ann": "nope"})
    with pytest.raises(SeedError, match="no person zed"):
        set_slack_ids(BLOCK_SEED, {"zed": "U0ZED0001"})
    with pytest.raises(SeedError, match="line 3, column"):
        people_in_text("people:\n  - {id: a\n  - b: [\n")
    with pytest.raises(SeedError, match="line 2: a person without an id"):
        people_in_text("people:\n  - {name: A}\n")


@pytest.fixture
async def slack(no_proxy_env: None) -> AsyncIterator[ScopedFakeSlack]:
    async with ScopedFakeSlack(check_tokens=True) as fake:
        fake.add_user(id="U0ANN0001", name="ann", email="ann@example.com")
        fake.add_user(id="U0BOB0001", name="bob", email="BOB@example.com")  # Slack's case differs
        fake.add_user(id="U0CY00001", name="cy", email="cy@example.com")
        fake.add_user(id="U0DEE0001", name="dee", email="dee@example.com", deleted=True)
        yield fake  # eve has no Slack account


async def test_the_service_says_what_each_email_is(slack: ScopedFakeSlack) -> None:
    settings = Settings(_env_file=None).model_copy(  # type: ignore[call-arg]
        update={"slack_api_url": slack.api_url, "slack_bot_token": SecretStr(slack.bot_token)})
    client = make_client(settings)
    try:
        result = await sync_seed_text(client, BLOCK_SEED)
    finally:
        await close_client(client)
    found = {r.person.id: (r.found, r.slack_id) for r in result.people}
    assert found == {
        "ann": (Found.CHANGED, "U0ANN0001"),
        "bob": (Found.FILLED, "U0BOB0001"),
        "cy": (Found.SAME, "U0CY00001"),
        "dee": (Found.DEACTIVATED, "U0DEE0001"),
        "eve": (Found.UNKNOWN, None),
    }
    assert [r.person.id for r in result.problems] == ["dee", "eve"]
    changed = [line for line in result.diff("s.yaml").splitlines() if line[:1] in "+-" and line[:3] not in "+++---"]
    assert changed == [
        "-  - {id: ann, name: Ann, team: t, slack_user_id: U0OLD0001, email: ann@example.com}  # moved accounts",
        "-  - {id: bob, name: Bob, team: t, email: bob@example.com}",
        "+  - {id: ann, name: Ann, team: t, slack_user_id: U0ANN0001, email: ann@example.com}  # moved accounts",
        "+  - {id: bob, name: Bob, team: t, email: bob@example.com, slack_user_id: U0BOB0001}",
    ]
    # Only the lookups by email, with the bot token, over HTTP GET with a query string.
    calls = slack.calls_to("users.lookupByEmail")
    assert len(calls) == 5 and {c.token for c in slack.calls} == {slack.bot_token}


async def _cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(EXE, "people", "sync", *args, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await communicate(proc, 90)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.e2e  # people sync reads no clock: nothing to pin
async def test_the_command_checks_then_writes_the_bundled_seed(no_proxy_env: None, tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    original = SEED_PATH.read_text(encoding="utf-8")
    seed.write_text(original, encoding="utf-8")
    async with ScopedFakeSlack(check_tokens=True) as slack:
        populate(slack)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ONCALL_", "SLACK_"))}
        env.update(HOME=str(tmp_path), ONCALL_SLACK_API_URL=slack.api_url, SLACK_BOT_TOKEN=slack.bot_token,
                   ONCALL_SEED_PATH=str(seed))
        code, out, err = await _cli(env, "--check")
        assert (code, err) == (0, ""), out + err
        assert out.splitlines() == ["people sync: 15 people: 15 ok, 0 to set, 0 need attention; the file is up to date"]

        # fin2 got a new account; fe3 left (deactivated).
        slack.users.pop("U0FIN0002")
        slack.add_user(id="U0NEWFIN02", name="fin2", email="fin2@example.com")
        slack.users["U0FE00003"]["deleted"] = True
        code, out, err = await _cli(env, "--check")
        assert code == 1, out + err
        fin2 = "  - {id: fin2, name: Frank Fisher, team: finance, slack_user_id: %s, email: fin2@example.com}"
        assert "-" + fin2 % "U0FIN0002" in out.splitlines()
        assert "+" + fin2 % "U0NEWFIN02" in out.splitlines()
        assert "changed     fin2 (Frank Fisher, fin2@example.com): U0FIN0002 -> U0NEWFIN02" \
            in out.splitlines()
        assert any(line.startswith("deactivated fe3 (Finn Eaton") for line in out.splitlines())
        assert out.splitlines()[-1] == ("people sync: 15 people: 13 ok, 1 to set, 1 need attention; "
                                        "--check: the file would change")
        assert seed.read_text(encoding="utf-8") == original  # --check changes nothing

        code, out, err = await _cli(env)
        assert code == 1, out + err  # fe3 still needs attention
        assert out.splitlines()[-1].endswith(f"wrote 1 slack_user_id value(s) to {seed}")
        written = seed.read_text(encoding="utf-8")
        assert written == original.replace("slack_user_id: U0FIN0002,", "slack_user_id: U0NEWFIN02,")
        assert parse_seed_text(written, str(seed)).people[1].slack_user_id == "U0NEWFIN02"

        env.pop("SLACK_BOT_TOKEN")
        code, out, err = await _cli(env)
        assert code == 2 and err.strip() == ("oncall-bot: people sync asks Slack: set SLACK_BOT_TOKEN "
                                             "(the app's Bot User OAuth Token)")
