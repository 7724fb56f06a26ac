"""The values of cover requests: a slot's duties, the slot, the request, a Take's decision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.core.changes.model import ChangeRequest
from bot.core.model import SlotRef


class SlotStatus(StrEnum):
    OPEN = "open"  # nobody took it yet
    TAKEN = "taken"  # ``taker`` covers it (an override, change ``change_id``)
    EXPIRED = "expired"  # it started while open: it stayed with the requester


class RequestStatus(StrEnum):
    OPEN = "open"  # some slot is open
    DONE = "done"  # every slot was taken
    EXPIRED = "expired"  # closed with a slot that nobody took before it started


@dataclass(frozen=True, slots=True)
class Duty:
    """Over ``[start, end)`` the slot's seat holds ``role`` ("primary" | "secondary") of
    ``pipeline`` in ``window``."""

    pipeline: str
    role: str
    window: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class CoverSlot:
    """Slot ``n`` (1-based in its request): the seat ``rotation``/``role`` over ``[start, end)``, a
    stretch of on-call time of the requester, with the ``duties`` it carries. Offered in
    ``channel`` (the seat's team channel). A Take makes an override of that seat for that span."""

    n: int
    rotation: str
    role: str | None
    start: datetime
    end: datetime
    duties: tuple[Duty, ...]
    channel: str | None = None
    status: SlotStatus = SlotStatus.OPEN
    taker: str | None = None
    change_id: int | None = None
    taken_at: datetime | None = None
    lead_notified_at: datetime | None = None

    @property
    def seat(self) -> SlotRef:
        return SlotRef(self.rotation, self.role)


@dataclass(frozen=True, slots=True)
class CoverRequest:
    """``requester`` asks for cover over ``[start, end)`` (asked by ``created_by``: themselves, a
    lead or an admin); its ``slots`` in order."""

    id: int
    requester: str
    created_by: str | None
    created_at: datetime
    start: datetime
    end: datetime
    reason: str
    status: RequestStatus
    slots: tuple[CoverSlot, ...]
    closed_at: datetime | None = None

    def slot(self, n: int) -> CoverSlot | None:
        return next((s for s in self.slots if s.n == n), None)

    @property
    def open_slots(self) -> tuple[CoverSlot, ...]:
        return tuple(s for s in self.slots if s.status == SlotStatus.OPEN)


@dataclass(frozen=True, slots=True)
class TakeDecision:
    """A Take accepted: the override change to apply (``request``: an override of the seat for the
    slot's span by the taker) and why the taker may (``permission``)."""

    request: ChangeRequest
    permission: str
