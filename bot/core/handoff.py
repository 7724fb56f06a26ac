"""Handoff notes (issue 12 §5): what the outgoing on-call person writes for whoever takes over.
Pure: who may write one, and which notes an announcement and a starting person's DM carry.

- Who may write: whoever holds or held (just before the handoff) a seat of the on-call week at
  that instant, a team lead, or an admin. The check runs on the stored state at the moment of
  writing (``bot.services.handoff``), never on what a client says.
- Which notes an announcement carries: those written during the on-call week that ends at its
  handoff (``notes_window``); a note written after Monday's announcement goes into the next one.
- Which notes a starting person's DM carries: those by the people whose seats they take over,
  and those by anyone who held no seat (a lead or an admin writing for everybody).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.core.announcement import HandoffNote, Seat, StartingShift
from bot.core.calendar import CompanyCalendar, require_aware
from bot.core.model import Directory
from bot.core.permissions import Decision, is_admin, known_actor
from bot.core.rotation import oncall_week_days

MAX_NOTE_LENGTH = 2000
__all__ = ["MAX_NOTE_LENGTH", "HandoffNote", "may_write_handoff", "notes_for", "notes_window"]


def may_write_handoff(
    directory: Directory, admins: Sequence[str], seats: Sequence[Seat], actor: str | None
) -> Decision:
    """May ``actor`` (a person id) add a handoff note, given the week's ``seats`` at that instant?"""
    known = known_actor(directory, actor)
    if not known:
        return Decision(False, "You are not in the on-call directory, so you cannot write a handoff note.")
    if is_admin(admins, actor):
        return Decision(True, "admin")
    for seat in seats:
        if actor in (seat.holder, seat.previous):
            return Decision(True, f"on call this week ({seat.label})")
    for team in directory.teams.values():
        if team.lead == actor:
            return Decision(True, f"lead of {team.name}")
    return Decision(False, "Only someone on call this week (or a team lead or an admin) can write a handoff note.")


def notes_window(directory: Directory, cal: CompanyCalendar, at: datetime) -> tuple[datetime, datetime]:
    """``[start, at)``: the on-call week that ends at the handoff ``at`` (the same local wall-clock
    time one on-call week earlier, DST-correct)."""
    local = cal.to_local(require_aware(at))
    start = cal.at_time(local.date() - timedelta(days=oncall_week_days(directory)), local.time())
    return start, at


def notes_for(shift: StartingShift, notes: Sequence[HandoffNote], seat_holders: set[str]) -> list[HandoffNote]:
    """The notes a starting person's DM carries: by the previous holders of their seats, or by
    someone who held no seat (``seat_holders``: everyone who held or holds a seat)."""
    previous = {s.previous for s in shift.seats}
    return [n for n in notes if n.author != shift.person and (n.author in previous or n.author not in seat_holders)]
