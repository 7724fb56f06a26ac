"""The incident message, thread lines and modal: pure, compared exactly."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from functools import cache

from bot.core.calendar import CompanyCalendar
from bot.core.escalation import escalation_chain
from bot.core.incident import Change, Incident, Refusal, acknowledge, escalate, open_incident, resolve
from bot.core.model import Directory
from bot.render import incident as render
from bot.seed.validate import load_seed_file

from .conftest import TZ, local

AT = local(2026, 12, 1, 10, 0)


@cache
def seed() -> tuple[Directory, CompanyCalendar]:
    d = load_seed_file("data/seed.yaml")
    return d, CompanyCalendar.from_spec(d.calendar)


def new(pipeline: str = "profit", summary: str = "Revenue totals don't match the filing", critical: bool = False,
        at=AT) -> Incident:  # type: ignore[no-untyped-def]
    d, cal = seed()
    out = open_incident(pipeline, summary, critical, "U0ANA", escalation_chain(d, cal, pipeline, at, critical=critical),
                        at, 15)
    assert isinstance(out, tuple)
    return replace(out[0], id=7)


def texts(inc: Incident) -> list[str]:
    d, _ = seed()
    out = []
    for block in render.incident_message(d, TZ, inc).blocks_json():
        if block["type"] == "section":
            out.append(block["text"]["text"])
        elif block["type"] == "context":
            out += [e["text"] for e in block["elements"]]
    return out


def button_ids(inc: Incident) -> list[tuple[str, str]]:
    return [(b.action_id or "", b.value or "") for b in render.buttons(inc)]


def test_message_of_a_new_incident() -> None:
    inc = new(critical=True)
    lines = texts(inc)
    assert lines[0] == "*:red_circle: CRITICAL · Profit* · Revenue totals don't match the filing"
    assert lines[1] == ("Reported by <@U0ANA> · opened "
                        "<!date^1796137200^{date_short_pretty} {time}|Tue Dec 1 10:00 EST>")
    assert lines[2] == "On call: <@U0FIN0002> (paged) · Level 1 of 4"
    assert lines[3] == (
        "*SLA:* Monthly review of data by Finance and Accounts teams. · Pipeline checks must complete by the "
        "3rd business day of the month.\n*Investor reporting:* Critical failures impacting investor reports need "
        "immediate fixes.\n*Likely:* “Data mismatches with filings requiring accountant verification.”\n"
        "    _First check:_ Compare the pipeline totals with the latest filing and ask an accountant to verify.\n"
        "*Or:* “Missing cost or revenue data leading to incomplete reports.”\n"
        "    _First check:_ Check that every cost and revenue source delivered for the period."
    )
    assert button_ids(inc) == [("incident_ack:7", "7"), ("incident_escalate:7", "7:1"), ("incident_resolve:7", "7")]
    d, _ = seed()
    assert render.incident_message(d, TZ, inc).text == (
        ":red_circle: CRITICAL · Profit · Revenue totals don't match the filing")


def test_user_text_cannot_ping_or_link() -> None:
    inc = new(summary="<!channel> totals & <https://x|y>")
    assert texts(inc)[0] == "*:large_orange_circle: Incident · Profit* · &lt;!channel&gt; totals &amp; &lt;https://x|y&gt;"


def test_buttons_follow_the_state() -> None:
    inc = new()
    acked = acknowledge(inc, "U0FIN0002", AT + timedelta(minutes=4))
    assert isinstance(acked, Change)
    assert [a for a, _ in button_ids(acked.after)] == ["incident_escalate:7", "incident_resolve:7"]
    assert texts(acked.after)[3] == "Acknowledged by <@U0FIN0002> (4 min)"
    done = resolve(acked.after, "U0DE00001", AT + timedelta(hours=1, minutes=12))
    assert isinstance(done, Change)
    assert button_ids(done.after) == []
    lines = texts(done.after)
    assert lines[0].startswith("*:white_check_mark: RESOLVED · Profit*")
    assert lines[-1] == "Resolved by <@U0DE00001> after 1 h 12 min"
    assert not any(line.startswith("*SLA:*") for line in lines)  # details go once resolved


def test_thread_lines() -> None:
    d, cal = seed()
    inc = new(critical=True)
    assert render.opened_line(d, TZ, inc) == "Opened by <@U0ANA>; paged <@U0FIN0002> (Finance on-call)."
    up = escalate(inc, escalation_chain(d, cal, "profit", AT, critical=True), 1, "U0ANA", AT, 15)
    assert isinstance(up, Change)
    assert render.thread_line(d, TZ, up) == "<@U0ANA> escalated to <@U0DE00001> (level 2, DE R1)"
    auto = escalate(up.after, escalation_chain(d, cal, "profit", AT, critical=True), 2, None,
                    AT + timedelta(minutes=15), 15, auto=True)
    assert isinstance(auto, Change)
    assert render.thread_line(d, TZ, auto) == (
        "Not acknowledged after 15 min: escalated to <@U0DE00002> (level 3, DE R2)")
    last = escalate(auto.after, escalation_chain(d, cal, "profit", AT, critical=True), 3, "U0ANA", AT, 15)
    assert isinstance(last, Change)
    assert render.thread_line(d, TZ, last) == (
        "<@U0ANA> escalated to #finance, #risk (level 4, the owning teams' channels)")
    assert texts(last.after)[2] == "Escalated to the owning teams' channels: #finance, #risk · Level 4 of 4"
    ack = acknowledge(inc, "U0FIN0002", AT + timedelta(minutes=4))
    assert isinstance(ack, Change)
    assert render.thread_line(d, TZ, ack) == "<@U0FIN0002> acknowledged (4 min)"
    res = resolve(inc, "U0DE00001", AT + timedelta(hours=1, minutes=12))
    assert isinstance(res, Change)
    assert render.thread_line(d, TZ, res) == "Resolved by <@U0DE00001> after 1 h 12 min"


def test_queued_page_lines() -> None:
    d, cal = seed()
    saturday = local(2026, 11, 28, 11, 0)
    inc = new("growth", "Duplicate renewals", at=saturday)
    monday = "<!date^1796047200^{date_short_pretty} {time}|Mon Nov 30 09:00 EST>"
    assert texts(inc)[2] == f"No on-call now: page to <@U0DE00001> (DE R1) queued for {monday} · Level 1 of 4"
    assert render.opened_line(d, TZ, inc) == (
        f"Opened by <@U0ANA>; page to <@U0DE00001> (DE R1) queued: Growth has no on-call now, so the page goes "
        f"out {monday}.")
    up = escalate(inc, escalation_chain(d, cal, "growth", saturday), 1, "U0ANA", saturday, 15)
    assert isinstance(up, Change)
    assert render.thread_line(d, TZ, up) == (
        f"<@U0ANA> escalated to <@U0ACC0001> (level 2, Accounts on-call): Growth has no on-call now, so the page "
        f"goes out {monday}")
    assert render.delivered_line(d, inc.page) == "Queued page sent: <@U0DE00001> paged (level 1, DE R1)"


def test_refusals() -> None:
    d, _ = seed()
    inc = new()
    assert render.refusal_text(d, Refusal.STALE, inc) == (
        "Already escalated: the incident is at level 1 (<@U0FIN0002>). "
        "Press Escalate on the updated message to go further.")
    acked = replace(inc, acknowledged_by="U0FIN0002")
    assert render.refusal_text(d, Refusal.ALREADY_ACKNOWLEDGED, acked) == "Already acknowledged by <@U0FIN0002>."


def test_page_dm_has_the_link_and_an_acknowledge_button() -> None:
    d, _ = seed()
    inc = replace(new(), channel="C1", ts="1.2", permalink="https://x.slack.com/archives/C1/p12")
    message = render.page_message(d, TZ, inc, inc.page)
    blocks = json.dumps(message.blocks_json())
    assert message.text == ":rotating_light: You are paged for a Profit incident: Revenue totals don't match the filing"
    assert "<https://x.slack.com/archives/C1/p12|Open the incident thread>" in blocks
    assert "incident_ack:7" in blocks
    engagement = render.page_message(d, TZ, replace(inc, pipeline="engagement"), inc.page)
    assert engagement.text.startswith(":rotating_light: You are paged for an Engagement incident: ")


def test_modal_prefilled_and_read_back() -> None:
    d, _ = seed()
    view = render.incident_modal(d, pipeline="growth", summary="dup renewals", critical=True,
                                 metadata={"channel": "C1"})
    assert view["callback_id"] == "open_incident_modal"
    assert view["blocks"][0]["element"]["initial_option"]["value"] == "growth"
    assert view["blocks"][1]["element"]["initial_value"] == "dup renewals"
    assert view["blocks"][2]["element"]["initial_options"][0]["value"] == "critical"
    assert json.loads(view["private_metadata"]) == {"channel": "C1"}
    values = {
        render.PIPELINE_BLOCK: {render.PIPELINE_INPUT: {"selected_option": {"value": "growth"}}},
        render.SUMMARY_BLOCK: {render.SUMMARY_INPUT: {"value": "  dup\n renewals "}},
        render.CRITICAL_BLOCK: {render.CRITICAL_INPUT: {"selected_options": [{"value": "critical"}]}},
    }
    assert render.read_modal(values) == render.ModalInput("growth", "dup renewals", True)
    assert render.read_modal({}) == render.ModalInput("", "", False)


def test_modal_with_many_pipelines_asks_for_a_name() -> None:
    d, _ = seed()
    base = d.pipelines["profit"]
    many = {f"p{i}": replace(base, id=f"p{i}", name=f"Pipeline {i}") for i in range(150)}
    view = render.incident_modal(replace(d, pipelines=many), pipeline="p3")
    assert view["blocks"][0]["element"]["type"] == "plain_text_input"
    assert view["blocks"][0]["element"]["initial_value"] == "p3"
