"""Answering a change command typed in Slack or the console: parse, apply or read, render."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.commands.changes import (
    HELP_LINES,
    Applied,
    AwayCommand,
    CalendarCommand,
    CancelCommand,
    Cancelled,
    ChangeCommand,
    ChangesCommand,
    FairnessCommand,
    FairnessResult,
    OverrideCommand,
    Refused,
    SwapCommand,
    fairness_range,
    parse_change,
    resolve_request,
)
from bot.commands.parse import UsageError
from bot.commands.results import NotFound, Problem
from bot.core.changes import (
    ChangeRequest,
)
from bot.render.blocks import Message, render_not_found, render_problem
from bot.render.changes import (
    render_applied,
    render_calendar,
    render_cancelled,
    render_changes_list,
    render_fairness,
    render_refused,
)
from bot.services.changes.apply import apply_change, cancel_change
from bot.services.changes.reads import calendar_links, fairness_report, list_changes, public_base_url
from bot.services.queries import split_command_line
from bot.services.snapshot import Snapshot
from bot.storage.bootstrap import Database

if TYPE_CHECKING:
    from bot.config import Settings


@dataclass(frozen=True)
class Answered:
    """The answer to a change command; ``done`` is the change or cancellation made, whose DMs the
    caller sends after answering (queued with it: ``send_change_dms``; else ``notify_change``)."""

    message: Message
    outcome: str  # "ok" | "user_error"
    done: Applied | Cancelled | None = None


def _mistake(snap: Snapshot, result: Problem | NotFound) -> Message:
    if isinstance(result, Problem):
        return render_problem(result)
    if result.kind == "target":
        choices = ", ".join(f"`{v}`" for v in list(snap.directory.rotations)[:8])
        text = (
            f"I don't know a rotation, role or pipeline “{result.text}”. Try a rotation ({choices}), a role "
            "(`R1`, `data-eng:R2`) or a pipeline (`profit`)."
        )
        return render_problem(Problem(text))
    return render_not_found(snap.directory, result)


async def answer_change(
    db: Database,
    snap: Snapshot,
    command: ChangeCommand,
    user: str | None,
    now: datetime,
    *,
    extra_admins: Sequence[str] = (),
    base_url: str = "http://localhost",
    source_key: str | None = None,
    queue_dms: bool = False,
) -> Answered:
    """Answer a change command of person ``user`` at ``now`` (applying it when it is a change).

    Every transport uses this: Slack (``bot.slack.changes``), the console and ``oncall-bot ask``.
    A form (``ChangeModal``) needs Slack: elsewhere the answer says how to type the command.
    ``source_key`` (Slack's ``command:TRIGGER_ID``) applies a replayed request once: the replay is
    answered with the change the first made, and nothing is done or sent again. ``queue_dms``
    (Slack): the DMs the change owes are written to the outbox with it (``apply_change``).
    """
    d, tz = snap.directory, snap.calendar.tz
    if isinstance(command, OverrideCommand | SwapCommand | AwayCommand):
        request = resolve_request(command, snap, now, user)
        if not isinstance(request, ChangeRequest):
            return Answered(_mistake(snap, request), "user_error")
        got = await apply_change(db, request, now, extra_admins=extra_admins, source_key=source_key,
                                 queue_dms=queue_dms)
        if isinstance(got, Refused):
            return Answered(render_refused(d, tz, got), "user_error")
        return Answered(render_applied(d, tz, got), "ok", None if got.replayed else got)
    if isinstance(command, CancelCommand):
        cancelled = await cancel_change(db, command.change_id, user, now, extra_admins=extra_admins,
                                        queue_dms=queue_dms)
        if isinstance(cancelled, Refused):
            return Answered(render_refused(d, tz, cancelled), "user_error")
        return Answered(render_cancelled(d, tz, cancelled), "ok", cancelled)
    if isinstance(command, ChangesCommand):
        listing = await list_changes(db, now, user, command.pipeline, extra_admins=extra_admins)
        if isinstance(listing, NotFound):
            return Answered(render_not_found(d, listing), "user_error")
        return Answered(render_changes_list(d, tz, listing), "ok")
    if isinstance(command, CalendarCommand):
        if user is None:
            return Answered(
                render_problem(
                    Problem("You are not one of the on-call directory's people, so you have no calendar feed.")
                ),
                "user_error",
            )
        links = await calendar_links(db, user, now, base_url, reset=command.reset)
        return Answered(render_calendar(d, links), "ok")
    if isinstance(command, FairnessCommand):
        span = fairness_range(command, now, tz)
        if isinstance(span, str):
            return Answered(render_problem(Problem(span, "/oncall")), "user_error")
        directory, report = await fairness_report(db, *span)
        return Answered(render_fairness(directory, tz, FairnessResult(report)), "ok")
    usage = next(u for u, _ in HELP_LINES if u.split()[1] == command.kind.value)
    return Answered(
        render_problem(Problem(f"The form needs Slack; here, type the whole command: `{usage}`.")), "user_error"
    )


async def answer_change_line(
    db: Database, snap: Snapshot, line: str, now: datetime, user: str | None, settings: Settings
) -> Answered | None:
    """``line`` (e.g. ``/oncall away dec 24 dec 26``) answered when it is a change command, else
    None (the caller answers it as before). For the console and ``oncall-bot ask``: no DMs."""
    name, rest = split_command_line(line)
    if name != "/oncall":
        return None
    try:
        command = parse_change(" ".join(rest.split()))
    except UsageError as exc:
        return Answered(render_problem(Problem(str(exc), exc.command)), "user_error")
    if command is None:
        return None
    return await answer_change(
        db, snap, command, user, now, extra_admins=settings.admin_ids, base_url=public_base_url(settings)
    )
