"""Block Kit for cover requests and the pager: the channel message with its Take buttons, the
answers, the DMs and the incident-thread line. Pure: a function of the values given.

The reason is text a person typed: always through ``user_text`` (no pings, no links).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ConfirmObject, SectionBlock

from bot.core.changes import Refusal
from bot.core.cover import CoverRequest, CoverSlot, Duty, PagerSpan, RequestStatus, SlotStatus
from bot.core.model import Directory
from bot.render.blocks import MAX_BLOCKS, Message, _context, _md, _section
from bot.render.changes import refusal_text
from bot.render.fmt import date_token, mention, slot_label, user_text
from bot.render.ids import CoverAction

MAX_SLOTS_SHOWN = MAX_BLOCKS - 6


def _button(text: str, action: CoverAction, value: str, style: str | None = None,
            confirm: ConfirmObject | None = None) -> ButtonElement:
    return ButtonElement(text=text[:75], action_id=f"{action}:{value}"[:255], value=value[:2000], style=style,
                         confirm=confirm)


def _span(tz: ZoneInfo, start: datetime, end: datetime) -> str:
    return f"{date_token(start, tz)} to {date_token(end, tz)}"


def _role_word(role: str) -> str:
    return "primary" if role == "primary" else "backup"


def duty_text(d: Directory, duty: Duty) -> str:
    """``Profit backup (weekday 08:00-18:00)``."""
    p = d.pipelines.get(duty.pipeline)
    label = next((w.label or w.name for w in p.windows if w.name == duty.window), duty.window) if p else duty.window
    return f"{p.name if p else duty.pipeline} {_role_word(duty.role)} ({label})"


def slot_text(d: Directory, tz: ZoneInfo, slot: CoverSlot) -> str:
    """``#2 DE R1 · Thu Nov 26 09:00 to Thu Nov 26 15:00 · Profit primary (weekend/holiday support)``."""
    duties = ", ".join(duty_text(d, x) for x in slot.duties)
    return f"*#{slot.n}* {slot_label(d, slot.rotation, slot.role)} · {_span(tz, slot.start, slot.end)} · {duties}"


def _state(d: Directory, req: CoverRequest, slot: CoverSlot) -> str:
    if slot.status == SlotStatus.TAKEN:
        return f":white_check_mark: Taken by {mention(d, slot.taker or '')}"
    if slot.status == SlotStatus.EXPIRED:
        return f":hourglass: Nobody took it before it started: it stayed with {mention(d, req.requester)}"
    return ":large_orange_circle: Open"


def cover_message(d: Directory, tz: ZoneInfo, req: CoverRequest, channel: str | None) -> Message:
    """The request's message in ``channel`` (its slots offered there), with a Take button per open
    slot, "Take all" when several are open, and "Give back" on taken ones (before they start)."""
    slots = [s for s in req.slots if s.channel == channel] or list(req.slots)
    first = f":sos: {mention(d, req.requester)} needs cover from {_span(tz, req.start, req.end)}"
    blocks: list[Block] = [_section(first)]
    if req.reason:
        blocks.append(_section(f"> {user_text(req.reason)}"[:2900]))
    for slot in slots[:MAX_SLOTS_SHOWN]:
        text = f"{slot_text(d, tz, slot)}\n{_state(d, req, slot)}"
        value = f"{req.id}:{slot.n}"
        accessory = None
        if slot.status == SlotStatus.OPEN:
            accessory = _button("Take", CoverAction.TAKE, value, "primary")
        elif slot.status == SlotStatus.TAKEN:
            accessory = _button("Give back", CoverAction.UNTAKE, value)
        blocks.append(SectionBlock(text=_md(text[:2900]), accessory=accessory))
    open_here = [s for s in slots if s.status == SlotStatus.OPEN]
    if len(open_here) > 1:
        blocks.append(ActionsBlock(elements=[_button(f"Take all {len(open_here)}", CoverAction.TAKE_ALL,
                                                     f"{req.id}:{channel or ''}", "primary")]))
    blocks.append(_context(_footer(req)))
    return Message(f"{d.name_of(req.requester)} needs cover ({len(open_here)} open)", tuple(blocks),
                   ephemeral=False)


def _footer(req: CoverRequest) -> str:
    if req.status == RequestStatus.DONE:
        return f"Cover request #{req.id} · closed: every slot was taken."
    if req.status == RequestStatus.EXPIRED:
        return f"Cover request #{req.id} · closed: a slot started before anyone took it (it stayed with the requester)."
    return (f"Cover request #{req.id} · members of the rotation may take a slot · `/oncall cover list` shows open "
            "requests")


def render_requested(d: Directory, tz: ZoneInfo, req: CoverRequest) -> Message:
    """The answer to whoever asked for cover."""
    channels = ", ".join(dict.fromkeys(s.channel or "the team channel" for s in req.slots))
    first = f":sos: Asked for cover (#{req.id}): {len(req.slots)} slot(s), posted in {channels}."
    lines = [slot_text(d, tz, s) for s in req.slots[:MAX_SLOTS_SHOWN]]
    return Message(first, (_section(first), _section("\n".join(lines)[:2900]),
                           _context("You get a DM when someone takes a slot; your team lead hears of any slot "
                                    "still open 24 h before it starts.")))


def render_nothing_to_cover(d: Directory, tz: ZoneInfo, person: str, start: datetime, end: datetime) -> Message:
    text = f"{mention(d, person)} is on call for nothing from {_span(tz, start, end)}: nothing to cover."
    return Message(text, (_section(text),))


def render_refusal(d: Directory, tz: ZoneInfo, refusal: Refusal, what: str = "Not taken") -> Message:
    text = f":no_entry: {what}: {refusal_text(d, tz, refusal)}"
    return Message(text, (_section(text),))


def render_taken(d: Directory, tz: ZoneInfo, req: CoverRequest, slots: Sequence[CoverSlot],
                 refused: Sequence[tuple[CoverSlot, Refusal]]) -> Message:
    """The answer to whoever pressed Take (all): what they took, what was refused and why."""
    lines = [f":white_check_mark: You cover {slot_text(d, tz, s)}" for s in slots]
    lines += [f":no_entry: #{s.n}: {refusal_text(d, tz, r)}" for s, r in refused]
    text = "\n".join(lines) or "Nothing to take."
    return Message(text[:3000], (_section(text[:2900]),))


def taken_dm(d: Directory, tz: ZoneInfo, req: CoverRequest, slot: CoverSlot, to_taker: bool) -> Message:
    """The DMs of a Take: to the requester (who covers them) and to the taker (what they cover)."""
    if to_taker:
        text = f"You now cover {d.name_of(req.requester)}: {slot_text(d, tz, slot)}"
    else:
        text = f"{mention(d, slot.taker or '')} covers you: {slot_text(d, tz, slot)}"
    return Message(text, (_section(text), _context(f"Cover request #{req.id} · `/oncall me` shows your shifts.")),
                   ephemeral=False)


def untaken_text(d: Directory, tz: ZoneInfo, req: CoverRequest, slot: CoverSlot, taker: str, actor: str) -> str:
    by = "" if actor == taker else f" ({mention(d, actor)} gave it back)"
    return (f":leftwards_arrow_with_hook: {mention(d, taker)} no longer covers {slot_text(d, tz, slot)}{by}: "
            "it is open again.")


def lead_dm(d: Directory, tz: ZoneInfo, req: CoverRequest, slots: Sequence[CoverSlot]) -> Message:
    """To the requester's team lead: slots still open 24 h before they start."""
    first = (f":warning: Nobody has taken {mention(d, req.requester)}'s cover request #{req.id} yet; "
             f"{len(slots)} slot(s) start within 24 hours.")
    lines = [slot_text(d, tz, s) for s in slots]
    return Message(first, (_section(first), _section("\n".join(lines)[:2900]),
                           _context("At its start an open slot stays with the requester. Find someone, or take it "
                                    "to `/oncall override`.")), ephemeral=False)


def expired_dm(d: Directory, tz: ZoneInfo, req: CoverRequest, slot: CoverSlot) -> Message:
    text = f":hourglass: Nobody took {slot_text(d, tz, slot)}: it stays with you."
    return Message(text, (_section(text),), ephemeral=False)


def pager_answer(d: Directory, tz: ZoneInfo, span: PagerSpan, taker: str, change_id: int) -> Message:
    p = d.pipelines[span.pipeline]
    text = (f":pager: {mention(d, taker)} is primary for {p.name} until {date_token(span.end, tz)} "
            f"(from {mention(d, span.holder)}; change #{change_id}).")
    return Message(text, (_section(text), _context("The person relieved and the backup get a DM; open incidents "
                                                   "say so in their threads. `/oncall cancel "
                                                   f"{change_id}` gives it back.")))


def pager_dm(d: Directory, tz: ZoneInfo, span: PagerSpan, taker: str, person: str) -> Message:
    p = d.pipelines[span.pipeline]
    if person == span.holder:
        text = (f":pager: {mention(d, taker)} took the {p.name} pager from you until {date_token(span.end, tz)}: "
                "further pages go to them.")
    else:
        text = (f":pager: {mention(d, taker)} is now primary for {p.name} (relieving {mention(d, span.holder)}) "
                f"until {date_token(span.end, tz)}; you stay the backup.")
    return Message(text, (_section(text),), ephemeral=False)


def pager_thread_line(d: Directory, tz: ZoneInfo, span: PagerSpan, taker: str) -> str:
    return (f":pager: {mention(d, taker)} took the pager from {mention(d, span.holder)} until "
            f"{date_token(span.end, tz)}: further pages go to {mention(d, taker)}.")


def render_cover_list(d: Directory, tz: ZoneInfo, requests: Sequence[CoverRequest]) -> Message:
    """Cover requests, newest first, each with its slots and who took them."""
    if not requests:
        text = "No cover requests. `/oncall cover FROM TO [reason]` asks for one."
        return Message(text, (_section(text),))
    blocks: list[Block] = []
    for req in requests[:MAX_SLOTS_SHOWN // 2]:
        head = (f"*#{req.id}* {mention(d, req.requester)} · {_span(tz, req.start, req.end)} · {req.status}"
                + (f" · _{user_text(req.reason)}_" if req.reason else ""))
        lines = [f"{slot_text(d, tz, s)} · {_state(d, req, s)}" for s in req.slots]
        blocks.append(_section("\n".join([head, *lines])[:2900]))
    return Message(f"Cover requests ({len(requests)})", tuple(blocks))


def cover_modal(tz: ZoneInfo, now: datetime, start: datetime | None = None, end: datetime | None = None
                ) -> dict[str, object]:
    """The form of ``/oncall cover`` without arguments (and of "Need cover?", filled with the shift)."""
    from slack_sdk.models.blocks import DateTimePickerElement, InputBlock, PlainTextInputElement
    from slack_sdk.models.views import View

    from bot.render.ids import Callback

    def picker(field: str, label: str, at: datetime | None) -> InputBlock:
        element = DateTimePickerElement(action_id=field, initial_date_time=int(at.timestamp()) if at else None)
        return InputBlock(block_id=field, label=label, element=element)

    reason = InputBlock(block_id="reason", label="Reason (shown in the channel)", optional=True,
                        element=PlainTextInputElement(action_id="reason", max_length=300))
    view = View(type="modal", callback_id=str(Callback.COVER_MODAL), title="Ask for cover", submit="Post",
                close="Cancel", blocks=[_section("Your on-call slots in this time are offered in your rotation's "
                                                 "channel, each with a Take button."),
                                        picker("start", "From", start or now), picker("end", "To", end), reason])
    return view.to_dict()
