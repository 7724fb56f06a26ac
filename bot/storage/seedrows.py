"""The seed tables' rows as a ``SeedIn``: the one conversion behind both ways of reading the seed
back, ``seedstore.export_seed`` (SQLAlchemy) and ``quickread`` (the standard library's sqlite3, for
one-shot CLI answers). No SQLAlchemy here.

Rows are mappings of column name to value (dates, datetimes, JSON lists and booleans already
converted), per table name, each table in the order ``read_order`` gives. The models are built
with ``model_construct``: the rows were validated as a seed file before ``apply_seed`` wrote them,
and validating them again on every read cost more than the read (a tenth of a second for the
bundled seed, with the ``holidays`` registry imported to check the country).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from bot.seed.schema import (
    AfterHoursIn,
    CalendarIn,
    CommonIssueIn,
    ExtraHoliday,
    MeetingIn,
    OwnersIn,
    PersonIn,
    PipelineIn,
    RecurringIn,
    RoleIn,
    RotationIn,
    RuleIn,
    RunbookIn,
    SeedIn,
    TeamIn,
    WindowIn,
)

Row = Mapping[Any, Any]  # column name -> value (SQLAlchemy's RowMapping, or a dict)
Rows = Mapping[str, Sequence[Row]]

# The seed's tables in reading order, with the columns that order each one: ``position`` for an
# entry with an id, else the primary key (``bot.storage.tables.SEED_TABLES``; a test keeps them equal).
READ_ORDER: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("calendar", ("id",)),
    ("calendar_holidays", ("position",)),
    ("teams", ("position",)),
    ("people", ("position",)),
    ("admins", ("position",)),
    ("rotations", ("position",)),
    ("rotation_members", ("rotation_id", "position")),
    ("rotation_roles", ("rotation_id", "position")),
    ("pipelines", ("position",)),
    ("pipeline_aliases", ("pipeline_id", "position")),
    ("pipeline_owners", ("pipeline_id", "kind", "position")),
    ("pipeline_windows", ("pipeline_id", "position")),
    ("pipeline_escalation", ("pipeline_id", "position")),
    ("runbook_entries", ("pipeline_id", "section", "position")),
    ("runbook_issues", ("pipeline_id", "position")),
    ("recurring_work", ("position",)),
    ("recurring_rules", ("recurring_id", "which")),
    ("recurring_items", ("recurring_id", "position")),
)


def _by(rows: Sequence[Row], key: str) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        out[row[key]].append(row)
    return out


def _rule(row: Row) -> RuleIn:
    return RuleIn.model_construct(rule=row["rule"], time=row["time"], weekday=row["weekday"], n=row["n"],
                                  day=row["day"], adjust=row["adjust"])


def seed_from_rows(t: Rows, announcement_channel: str | None, incident_responders: str | None) -> SeedIn:
    """The seed that rows ``t`` hold (``t["calendar"]`` has its one row), with the two facts kept
    in ``meta``: the announcement channel and the incident responders (a JSON list, or None)."""
    (cal,) = t["calendar"]
    members, roles = _by(t["rotation_members"], "rotation_id"), _by(t["rotation_roles"], "rotation_id")
    aliases, owners = _by(t["pipeline_aliases"], "pipeline_id"), _by(t["pipeline_owners"], "pipeline_id")
    windows, escalation = _by(t["pipeline_windows"], "pipeline_id"), _by(t["pipeline_escalation"], "pipeline_id")
    entries, issues = _by(t["runbook_entries"], "pipeline_id"), _by(t["runbook_issues"], "pipeline_id")
    rules, items = _by(t["recurring_rules"], "recurring_id"), _by(t["recurring_items"], "recurring_id")

    def pipeline(p: Row) -> PipelineIn:
        by_kind = _by(owners[p["id"]], "kind")
        by_section = _by(entries[p["id"]], "section")
        return PipelineIn.model_construct(
            id=p["id"], name=p["name"], aliases=[a["alias"] for a in aliases[p["id"]]], channel=p["channel"],
            owners=OwnersIn.model_construct(primary=[o["team_id"] for o in by_kind["primary"]],
                                            secondary=[o["team_id"] for o in by_kind["secondary"]]),
            keywords=p["keywords"],
            windows=[
                WindowIn.model_construct(
                    name=w["name"], label=w["label"], days=w["days"], month_end=w["month_end"],
                    start=w["start_time"], end=w["end_time"], primary=w["primary_slot"],
                    secondary=w["secondary_slot"])
                for w in windows[p["id"]]
            ],
            after_hours=AfterHoursIn.model_construct(
                action=p["after_hours_action"], target=p["after_hours_target"], queue_at=p["after_hours_queue_at"],
                critical_target=p["after_hours_critical_target"], note=p["after_hours_note"]),
            escalation=[e["slot"] for e in escalation[p["id"]]],
            usergroup=p["usergroup"],
            runbook=RunbookIn.model_construct(
                data_types=[e["text"] for e in by_section["data_type"]],
                common_issues=[CommonIssueIn.model_construct(text=c["text"], first_check=c["first_check"],
                                                             keywords=c["keywords"])
                               for c in issues[p["id"]]],
                slas=[e["text"] for e in by_section["sla"]],
                oncall_notes=[e["text"] for e in by_section["oncall_note"]],
                critical_note=p["critical_note"],
            ),
        )

    def recurring(r: Row) -> RecurringIn:
        by_which = {x["which"]: x for x in rules[r["id"]]}
        meeting = None
        if r["meeting_start"] is not None:
            meeting = MeetingIn.model_construct(day=r["meeting_day"], start=r["meeting_start"],
                                                minutes=r["meeting_minutes"])
        return RecurringIn.model_construct(
            id=r["id"], kind=r["kind"], title=r["title"], description=r["description"], pipeline=r["pipeline_id"],
            channel=r["channel"], opens=_rule(by_which["opens"]),
            due=_rule(by_which["due"]) if "due" in by_which else None,
            assignees=r["assignees"], items=[i["text"] for i in items[r["id"]]], meeting=meeting,
            reminder=r["reminder"],
        )

    return SeedIn.model_construct(
        version=1,
        calendar=CalendarIn.model_construct(
            timezone=cal["timezone"], holiday_country=cal["holiday_country"],
            holiday_subdivision=cal["holiday_subdivision"],
            extra_holidays=[ExtraHoliday.model_construct(date=h["date"], name=h["name"])
                            for h in t["calendar_holidays"]],
            month_end_days=cal["month_end_days"],
        ),
        admins=[a["person_id"] for a in t["admins"]],
        announcement_channel=announcement_channel,
        incident_responders=json.loads(incident_responders or "[]"),
        teams=[TeamIn.model_construct(id=x["id"], name=x["name"], short_name=x["short_name"], channel=x["channel"],
                                      lead=x["lead"])
               for x in t["teams"]],
        people=[PersonIn.model_construct(id=x["id"], name=x["name"], team=x["team_id"],
                                         slack_user_id=x["slack_user_id"], email=x["email"])
                for x in t["people"]],
        rotations=[
            RotationIn.model_construct(
                id=r["id"], name=r["name"], team=r["team_id"], members=[m["person_id"] for m in members[r["id"]]],
                anchor=r["anchor"], period_days=r["period_days"], usergroup=r["usergroup"],
                roles=[RoleIn.model_construct(id=x["role_id"], name=x["name"], covers=x["covers"])
                       for x in roles[r["id"]]])
            for r in t["rotations"]
        ],
        pipelines=[pipeline(p) for p in t["pipelines"]],
        recurring=[recurring(r) for r in t["recurring_work"]],
    )
