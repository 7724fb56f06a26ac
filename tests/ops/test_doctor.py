"""``oncall-bot doctor`` against the fake Slack and real databases: every line OK or what to do."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.ops.doctor import Report, Status, run_doctor
from bot.storage.bootstrap import Database, load_seed_file_into, open_database
from bot.storage.migrate import downgrade
from tests.ops.workspace import MANIFEST, SEED_PATH, ScopedFakeSlack, manifest_bot_scopes, populate
from tests.support.procs import communicate

TODAY = date(2026, 11, 26)
EXE = str(Path(sys.executable).with_name("oncall-bot"))


@pytest.fixture
async def slack(no_proxy_env: None) -> AsyncIterator[ScopedFakeSlack]:
    async with ScopedFakeSlack(check_tokens=True) as fake:
        populate(fake)
        yield fake


def with_slack(settings: Settings, slack: ScopedFakeSlack, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_api_url": slack.api_url,
        "slack_bot_token": SecretStr(slack.bot_token),
        "slack_signing_secret": SecretStr("0123456789abcdef0123456789abcdef"),
    }
    values.update(extra)
    return settings.model_copy(update=values)


def by_check(report: Report) -> dict[str, tuple[Status, str]]:
    return {r.check: (r.status, r.line()) for r in report.results}


async def test_a_token_without_the_topic_scope_fails_the_topic_check(
    settings: Settings, db: Database, slack: ScopedFakeSlack
) -> None:
    slack.scopes = [s for s in slack.scopes if s != "channels:write.topic"]
    report = await run_doctor(with_slack(settings, slack), today=TODAY, manifest=MANIFEST)
    status, line = by_check(report)["channel topics"]
    assert status is Status.FAIL and "lacks channels:write.topic" in line, line
    assert report.exit_code == 1


async def test_a_healthy_deployment_is_all_ok(settings: Settings, db: Database, slack: ScopedFakeSlack) -> None:
    report = await run_doctor(with_slack(settings, slack), today=TODAY, manifest=MANIFEST)
    lines = report.lines()
    assert report.exit_code == 0, "\n".join(lines)
    assert {r.status for r in report.results} == {Status.OK}, "\n".join(lines)
    checks = [r.check for r in report.results]
    assert checks[:7] == ["config", "database", "schema", "seed file", "seed loaded", "holidays", "alert inbox"]
    assert checks[7:9] == ["slack token", "slack scopes"]
    assert "channel #data-profit" in checks and "channel #data-oncall" in checks
    assert lines[-3] == "OK   people: 15 of 15 people resolve to active Slack users"
    assert lines[-2] == "OK   user groups: the token may update user groups (re-set @oncall-engagement to its 1 member)"
    assert lines[-1] == ("OK   channel topics: the token may set the topics of #data-engagement, #data-growth, "
                         "#data-investors, #data-profit")
    assert f"OK   seed loaded: the database holds exactly {SEED_PATH}" in lines
    assert re.search(r"^OK   holidays: US: 1\d in 2026, 1\d in 2027 \(holidays [\d.]+\)$", "\n".join(lines), re.M)
    assert report.summary().startswith("doctor: all good")
    # It asked Slack with the bot token and looked people up by id (no email lookups needed).
    assert slack.calls_to("users.lookupByEmail") == []
    assert {c.token for c in slack.calls} == {slack.bot_token}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_each_problem_says_what_to_do(settings: Settings, db: Database, no_proxy_env: None) -> None:
    scopes = [s for s in manifest_bot_scopes() if s != "users:read.email"]
    async with ScopedFakeSlack(scopes=scopes) as slack:
        channels = populate(slack)
        del slack.channels[channels["data-growth"]]
        slack.add_channel(id=channels["finance"], name="finance", is_member=False)
        slack.add_channel(id=channels["risk"], name="risk", is_archived=True)
        slack.users.pop("U0FIN0002")
        slack.add_user(id="U0NEWFIN02", name="fin2", email="fin2@example.com")  # fin2 got a new account
        slack.users["U0FE00003"]["deleted"] = True
        slack.users.pop("U0BA00002")  # ba2 is gone, email and all
        report = await run_doctor(with_slack(settings, slack), today=TODAY, manifest=MANIFEST)
    got = by_check(report)
    assert report.exit_code == 1
    assert got["slack scopes"] == (Status.FAIL, got["slack scopes"][1])
    assert "the token lacks users:read.email" in got["slack scopes"][1] and "reinstall" in got["slack scopes"][1]
    assert got["channel #data-growth"][0] is Status.FAIL
    assert "not found in Slack (named by pipeline growth) -> create #data-growth" in got["channel #data-growth"][1]
    assert got["channel #finance"][1].endswith("the bot is not a member (named by team finance) -> in #finance: "
                                               "/invite @oncall")
    assert "is archived" in got["channel #risk"][1]
    assert got["channel #data-profit"][0] is Status.OK
    assert got["people"][1].startswith("FAIL people: 12 of 15 people resolve")
    assert got["person fin2"][1] == ("FAIL person fin2: Frank Fisher: no Slack user U0FIN0002, but fin2@example.com "
                                     "is U0NEWFIN02 -> set slack_user_id: U0NEWFIN02 for fin2 in the seed and load it")
    assert "Slack user U0FE00003 is deactivated" in got["person fe3"][1]
    assert "no Slack user U0BA00002, and no Slack user has the email ba2@example.com" in got["person ba2"][1]
    assert report.summary().startswith("doctor: something needs attention")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_bad_token_skips_the_rest_of_slack(settings: Settings, db: Database, slack: ScopedFakeSlack) -> None:
    report = await run_doctor(with_slack(settings, slack, slack_bot_token=SecretStr("xoxb-revoked-0000")),
                              today=TODAY, manifest=MANIFEST)
    got = by_check(report)
    assert got["slack token"][1] == (
        "FAIL slack token: Slack refused SLACK_BOT_TOKEN (invalid_auth) -> copy the Bot User OAuth Token (xoxb-...) "
        "from the app's OAuth & Permissions page (reinstall the app if it was revoked)"
    )
    assert [got[c][0] for c in ("slack scopes", "channels", "people")] == [Status.SKIP] * 3
    assert report.exit_code == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_slack_failing_or_slow_is_a_try_again(settings: Settings, db: Database, slack: ScopedFakeSlack) -> None:
    config = with_slack(settings, slack)
    slack.fail_next("auth.test", status=503, times=10)
    report = await run_doctor(config, today=TODAY, manifest=MANIFEST)
    line = by_check(report)["slack token"][1]
    assert line.startswith("FAIL slack token: auth.test failed: internal_error (HTTP 503)")
    assert "try again in a minute" in line
    assert len(slack.calls_to("auth.test")) == 3  # the bot's client retried 5xx twice

    slack.clear_faults()
    slack.fail_next("users.info", status=500, times=3, where=lambda c: c.params.get("user") == "U0DE00004")
    report = await run_doctor(config, today=TODAY, manifest=MANIFEST)
    got = by_check(report)
    assert got["people"][1].startswith("FAIL people: 14 of 15")
    assert "users.info U0DE00004 failed: internal_error (HTTP 500)" in got["person de4"][1]
    assert "try again" in got["person de4"][1]

    slack.clear_faults()
    gate = slack.hold("auth.test")
    quick = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, timeout=1)
    report = await run_doctor(config, today=TODAY, manifest=MANIFEST, client=quick)
    gate.release()
    assert by_check(report)["slack token"][1].startswith("FAIL slack token: Slack not reachable: timed out")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_without_slack_credentials_the_slack_checks_are_skipped(settings: Settings, db: Database) -> None:
    report = await run_doctor(settings, today=TODAY, manifest=MANIFEST)
    got = by_check(report)
    for check in ("slack token", "slack scopes", "channels", "people"):
        assert got[check] == (Status.SKIP, f"SKIP {check}: skipped: no SLACK_BOT_TOKEN")
    assert got["config"][0] is Status.WARN
    assert report.exit_code == 0


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_database_behind_the_code_and_a_different_seed(settings: Settings, tmp_path: Path) -> None:
    db = await open_database(settings, say=lambda _l: None)
    try:
        changed = yaml.safe_load(SEED_PATH.read_text(encoding="utf-8"))
        changed["people"][0]["name"] = "Fiona Finch-Renamed"
        other = tmp_path / "seed.yaml"
        other.write_text(yaml.safe_dump(changed, sort_keys=False), encoding="utf-8")
        await load_seed_file_into(db, other)
        report = await run_doctor(settings, today=TODAY, manifest=MANIFEST)
        line = by_check(report)["seed loaded"][1]
        assert line.startswith(f"FAIL seed loaded: the database's seed differs from {SEED_PATH} (2 lines differ")
        assert "Fiona Finch-Renamed" in line and f"run `oncall-bot seed load {SEED_PATH}`" in line

        from tests.ops.test_migrations_ops import previous_revision

        await downgrade(db.engine, previous_revision())
    finally:
        await db.close()
    report = await run_doctor(settings, today=TODAY, manifest=MANIFEST)
    got = by_check(report)
    assert got["schema"][0] is Status.FAIL and "run `oncall-bot db upgrade`" in got["schema"][1]
    assert got["seed loaded"][0] is Status.SKIP
    assert report.exit_code == 1


async def test_unreachable_database_and_missing_sqlite_file(tmp_path: Path) -> None:
    down = Settings(_env_file=None, database_url="postgresql+asyncpg://oncall:pw-123456@127.0.0.1:9/x")  # type: ignore[call-arg]
    got = by_check(await run_doctor(down, today=TODAY, manifest=MANIFEST))
    assert got["database"][1].startswith("FAIL database: cannot connect to postgresql+asyncpg://oncall:***@127.0.0.1:9/x")
    assert got["schema"][0] is Status.SKIP

    fresh = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path}/new.db")  # type: ignore[call-arg]
    report = await run_doctor(fresh, today=TODAY, manifest=MANIFEST)
    assert by_check(report)["database"][0] is Status.WARN
    assert not (tmp_path / "new.db").exists(), "doctor never creates a database"
    assert report.exit_code == 0


async def test_holiday_data_for_this_year_and_next(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path}/none.db")  # type: ignore[call-arg]
    # 2028: the seed's company days off stop at 2027.
    got = by_check(await run_doctor(settings, today=date(2028, 1, 5), manifest=MANIFEST))
    assert got["holidays"][0] is Status.OK
    assert got["company holidays"][1].startswith("WARN company holidays: calendar.extra_holidays has days for "
                                                 "2026, 2027 but none for 2028, 2029")

    import holidays

    real = holidays.country_holidays

    def no_next_year(*args: Any, **kwargs: Any) -> Any:
        return {} if kwargs.get("years") == TODAY.year + 1 else real(*args, **kwargs)

    monkeypatch.setattr(holidays, "country_holidays", no_next_year)
    got = by_check(await run_doctor(settings, today=TODAY, manifest=MANIFEST))
    assert got["holidays"][1].startswith("FAIL holidays: the holidays package")
    assert "has no US holidays for 2027 -> upgrade the bot image" in got["holidays"][1]


@pytest.mark.e2e
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_command_exit_code(settings: Settings, db: Database, slack: ScopedFakeSlack, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONCALL_", "SLACK_"))}
    env.update(HOME=str(tmp_path), ONCALL_DATABASE_URL=settings.database_url, ONCALL_SLACK_API_URL=slack.api_url,
               SLACK_BOT_TOKEN=slack.bot_token, SLACK_SIGNING_SECRET="0123456789abcdef0123456789abcdef")

    async def doctor(*args: str) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(EXE, "doctor", *args, env=env, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        out, err = await communicate(proc, 90)
        assert proc.returncode is not None
        return proc.returncode, out.decode() + err.decode()

    code, out = await doctor()
    assert code == 0, out
    assert out.splitlines()[-1].startswith("doctor: all good")
    slack.users["U0DE00002"]["deleted"] = True
    code, out = await doctor("--problems")
    assert code == 1
    assert out.splitlines() == [
        "FAIL people: 14 of 15 people resolve to active Slack users -> see the lines below",
        "FAIL person de2: Dev Desai's Slack user U0DE00002 is deactivated -> give their on-call shifts to someone "
        "else or update slack_user_id in the seed",
        out.splitlines()[-1],
    ]
    assert out.splitlines()[-1].startswith("doctor: something needs attention")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("error", "fix"), [
    ("plan_upgrade_required", "user groups need a paid Slack plan"),
    ("permission_denied", "let everyone create and edit user groups"),
    ("no_permission", "let everyone create and edit user groups"),
])
async def test_user_groups_the_workspace_refuses(
    settings: Settings, db: Database, slack: ScopedFakeSlack, error: str, fix: str
) -> None:
    from bot.services.deliveries.usergroups import remember_refusal, remembered_refusal

    slack.usergroup_update_error = error
    [group] = slack.usergroups.values()
    before = list(group["users"])
    await remember_refusal(db, error, datetime(2026, 11, 23, 14, 0, tzinfo=UTC))  # the bot met it last Monday
    report = await run_doctor(with_slack(settings, slack), today=TODAY, manifest=MANIFEST)
    status, line = by_check(report)["user groups"]
    assert status is Status.FAIL and report.exit_code == 1
    assert line.startswith(f"FAIL user groups: the token may not update user groups: usergroups.users.update "
                           f"@oncall-engagement: {error}; the bot stopped updating groups: Slack refused user-group "
                           f"updates on 2026-11-23 ({error}: ")
    assert fix in line
    assert await remembered_refusal(db) is not None  # still refused: still remembered

    # Fixed in Slack: doctor's probe works and the bot forgets the refusal.
    slack.usergroup_update_error = None
    report = await run_doctor(with_slack(settings, slack), today=TODAY, manifest=MANIFEST)
    status, line = by_check(report)["user groups"]
    assert status is Status.OK and "forgot the earlier refusal" in line, line
    assert await remembered_refusal(db) is None
    # The probe changed nobody's membership.
    assert group["users"] == before and len(slack.calls_to("usergroups.users.update")) == 2
    assert report.exit_code == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_missing_groups_guests_and_bots(settings: Settings, db: Database, slack: ScopedFakeSlack) -> None:
    slack.usergroups.clear()
    slack.users["U0FE00002"]["is_restricted"] = True
    slack.users["U0BA00001"]["is_bot"] = True
    report = await run_doctor(with_slack(settings, slack), today=TODAY, manifest=MANIFEST)
    found = by_check(report)
    assert found["user group @oncall-engagement"] == (
        Status.FAIL, "FAIL user group @oncall-engagement: not found in Slack (named by pipeline engagement) -> create "
                     "@oncall-engagement in Slack (People > User groups), or fix the seed")
    assert found["user groups"][0] is Status.FAIL
    assert found["person fe2"][0] is Status.WARN and "is a guest: Slack keeps them out of user groups" in \
        found["person fe2"][1]
    assert found["person ba1"][0] is Status.WARN and "is a bot" in found["person ba1"][1]
    assert found["people"] == (Status.OK, "OK   people: 15 of 15 people resolve to active Slack users")
    assert slack.calls_to("usergroups.users.update") == []  # nothing to probe without changing a group
