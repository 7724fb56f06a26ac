"""The SLA clock in words (issue 12 §5/§4): the incident message's fix-by line in each state, the
Home tab's open incidents, and the handoff blocks. Pure rendering, by equality where it matters."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.core.incident import Incident, Page, PageKind, Status
from bot.render import sla as render
from bot.render.incident import incident_message
from bot.services.snapshot import Snapshot
from bot.slack.home import home_view
from tests.core.helpers import DIRECTORY, NY

OPENED = datetime(2026, 12, 1, 15, tzinfo=UTC)
DUE = datetime(2026, 12, 8, 15, tzinfo=UTC)
TOKEN = f"<!date^{int(DUE.timestamp())}^{{date_short_pretty}} {{time}}|Tue Dec 8 10:00 EST>"
INC = Incident(7, "engagement", "Clickstream gap", False, "U0ANA0001", OPENED, Status.OPEN, 1, 3,
               Page(1, PageKind.PERSON, "primary", "de2"), ("de2",), OPENED, fix_by=DUE)


def test_fix_by_line_in_each_state() -> None:
    assert render.fix_by_line(DIRECTORY, NY, INC) == f"Fix by {TOKEN} (fix within 7 days)"
    late = replace(INC, sla_escalated_at=DUE)
    expected = f":warning: Past its fix-by {TOKEN} (fix within 7 days): escalated"
    assert render.fix_by_line(DIRECTORY, NY, late) == expected
    fixed = replace(INC, status=Status.RESOLVED, resolved_at=DUE - timedelta(days=1))
    assert render.fix_by_line(DIRECTORY, NY, fixed) == f"Fixed before its deadline {TOKEN}"
    overdue_fix = replace(INC, status=Status.RESOLVED, resolved_at=DUE + timedelta(hours=3))
    assert render.fix_by_line(DIRECTORY, NY, overdue_fix) == f"Fixed 3 h after its deadline {TOKEN}"
    assert render.fix_by_line(DIRECTORY, NY, replace(INC, fix_by=None)) == ""


def test_the_incident_message_shows_it() -> None:
    blocks = json.dumps(incident_message(DIRECTORY, NY, INC).blocks_json())
    assert "Fix by <!date^" in blocks


def test_the_home_tab_shows_it() -> None:
    snap = Snapshot.build(DIRECTORY, (), ())
    view = home_view(snap, "de2", OPENED, incidents=[INC], checklists=[]).to_dict()
    text = json.dumps(view)
    assert "Clickstream gap" in text and f"Fix by {TOKEN}".replace('"', '\\"') in text


def test_reminder_and_escalation_messages() -> None:
    reminder = render.reminder_message(DIRECTORY, NY, INC).text
    assert reminder.startswith(":hourglass_flowing_sand: Reminder: the Engagement incident “Clickstream gap” is due")
    assert TOKEN in reminder and "SLA: fix within 7 days" in reminder
    escalation = render.escalation_message(DIRECTORY, NY, INC).text
    assert "passed its fix-by" in escalation and "still open" in escalation
    line = render.escalation_thread_line(DIRECTORY, NY, INC, ["fe3"], ["#frontend"])
    assert line == f":warning: Fix-by passed ({TOKEN}): escalated to <@U0FE00003>, #frontend"
