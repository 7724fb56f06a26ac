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
from collections.abc import Callable, Mapping, Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from bot.seed.schema import SeedIn

Make = Callable[..., Any]
"""Builds one entry of the seed: ``make("PersonIn", id=..., name=..., ...)``."""
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


def _rule(make: Make, row: Row) -> Any:
    return make("RuleIn", rule=row["rule"], time=row["time"], weekday=row["weekday"], n=row["n"],
                                  day=row["day"], adjust=row["adjust"])


def models(model: str, /, **fields: Any) -> Any:
    """The ``bot.seed.schema`` model named ``model`` with ``fields``, unvalidated (``model_construct``)."""
    from bot.seed import schema

    return getattr(schema, model).model_construct(**fields)


def records(_model: str, /, **fields: Any) -> Any:
    """A plain record with ``fields`` as attributes: all ``bot.seed.convert.to_directory`` reads
    of a seed, without importing pydantic."""
    return SimpleNamespace(**fields)


def _paging(make: Make, text: str | None) -> Any:
    """The seed's ``paging`` section from its JSON in ``meta`` (None when the seed has none)."""
    if not text:
        return None
    raw = json.loads(text)
    return make("PagingIn", **{k: make("NotifyRulesIn", **v) for k, v in raw.items()})


def seed_from_rows(t: Rows, announcement_channel: str | None, incident_responders: str | None,
                   make: Make = models, *, paging: str | None = None) -> SeedIn:
    """The seed that rows ``t`` hold (``t["calendar"]`` has its one row), with the facts kept in
    ``meta``: the announcement channel, the incident responders (a JSON list, or None) and the
    notification-rule defaults (``paging``: JSON, or None).

    Built with ``make``: the schema's models by default; ``records`` gives the same fields as
    plain records, which only ``to_directory`` may read (they are no ``SeedIn``).
    """
    (cal,) = t["calendar"]
    members, roles = _by(t["rotation_members"], "rotation_id"), _by(t["rotation_roles"], "rotation_id")
    aliases, owners = _by(t["pipeline_aliases"], "pipeline_id"), _by(t["pipeline_owners"], "pipeline_id")
    windows, escalation = _by(t["pipeline_windows"], "pipeline_id"), _by(t["pipeline_escalation"], "pipeline_id")
    entries, issues = _by(t["runbook_entries"], "pipeline_id"), _by(t["runbook_issues"], "pipeline_id")
    rules, items = _by(t["recurring_rules"], "recurring_id"), _by(t["recurring_items"], "recurring_id")

    def pipeline(p: Row) -> Any:
        by_kind = _by(owners[p["id"]], "kind")
        by_section = _by(entries[p["id"]], "section")
        return make("PipelineIn",
            id=p["id"], name=p["name"], aliases=[a["alias"] for a in aliases[p["id"]]], channel=p["channel"],
            owners=make("OwnersIn", primary=[o["team_id"] for o in by_kind["primary"]],
                                            secondary=[o["team_id"] for o in by_kind["secondary"]]),
            keywords=p["keywords"],
            windows=[
                make("WindowIn",
                    name=w["name"], label=w["label"], days=w["days"], month_end=w["month_end"],
                    start=w["start_time"], end=w["end_time"], primary=w["primary_slot"],
                    secondary=w["secondary_slot"])
                for w in windows[p["id"]]
            ],
            after_hours=make("AfterHoursIn",
                action=p["after_hours_action"], target=p["after_hours_target"], queue_at=p["after_hours_queue_at"],
                critical_target=p["after_hours_critical_target"], note=p["after_hours_note"]),
            escalation=[e["slot"] for e in escalation[p["id"]]],
            usergroup=p["usergroup"],
            topic=make("TopicIn", **p["topic"]) if p.get("topic") else None,
            runbook=make("RunbookIn",
                data_types=[e["text"] for e in by_section["data_type"]],
                common_issues=[make("CommonIssueIn", text=c["text"], first_check=c["first_check"],
                                                             keywords=c["keywords"])
                               for c in issues[p["id"]]],
                slas=[e["text"] for e in by_section["sla"]],
                oncall_notes=[e["text"] for e in by_section["oncall_note"]],
                critical_note=p["critical_note"],
            ),
            sla=(make("SlaIn", fix_within=p.get("sla_fix_within"), fix_by=p.get("sla_fix_by"), at=p.get("sla_at"))
                 if p.get("sla_fix_within") or p.get("sla_fix_by") else None),
            freshness=(make("FreshnessIn", arrival_within=p["arrival_within"]) if p.get("arrival_within") else None),
        )

    def recurring(r: Row) -> Any:
        by_which = {x["which"]: x for x in rules[r["id"]]}
        meeting = None
        if r["meeting_start"] is not None:
            meeting = make("MeetingIn", day=r["meeting_day"], start=r["meeting_start"],
                                                minutes=r["meeting_minutes"])
        return make("RecurringIn",
            id=r["id"], kind=r["kind"], title=r["title"], description=r["description"], pipeline=r["pipeline_id"],
            channel=r["channel"], opens=_rule(make, by_which["opens"]),
            due=_rule(make, by_which["due"]) if "due" in by_which else None,
            assignees=r["assignees"], items=[i["text"] for i in items[r["id"]]], meeting=meeting,
            reminder=r["reminder"],
        )

    return cast("SeedIn", make(
        "SeedIn",
        version=1,
        calendar=make("CalendarIn",
            timezone=cal["timezone"], holiday_country=cal["holiday_country"],
            holiday_subdivision=cal["holiday_subdivision"],
            extra_holidays=[make("ExtraHoliday", date=h["date"], name=h["name"])
                            for h in t["calendar_holidays"]],
            month_end_days=cal["month_end_days"],
        ),
        admins=[a["person_id"] for a in t["admins"]],
        announcement_channel=announcement_channel,
        incident_responders=json.loads(incident_responders or "[]"),
        paging=_paging(make, paging),
        teams=[make("TeamIn", id=x["id"], name=x["name"], short_name=x["short_name"], channel=x["channel"],
                                      lead=x["lead"])
               for x in t["teams"]],
        people=[make("PersonIn", id=x["id"], name=x["name"], team=x["team_id"],
                                         slack_user_id=x["slack_user_id"], email=x["email"])
                for x in t["people"]],
        rotations=[
            make("RotationIn",
                id=r["id"], name=r["name"], team=r["team_id"], members=[m["person_id"] for m in members[r["id"]]],
                anchor=r["anchor"], period_days=r["period_days"], usergroup=r["usergroup"],
                roles=[make("RoleIn", id=x["role_id"], name=x["name"], covers=x["covers"])
                       for x in roles[r["id"]]])
            for r in t["rotations"]
        ],
        pipelines=[pipeline(p) for p in t["pipelines"]],
        recurring=[recurring(r) for r in t["recurring_work"]],
    ))
