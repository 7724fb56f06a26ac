"""Cover requests and taking the pager, pure (issue 14 §1-2).

- ``model``: the values (``Duty``, ``CoverSlot``, ``CoverRequest``, ``SlotStatus``, ``TakeDecision``);
- ``slots``: ``cover_slots``: the seats a person holds in a span, cut into on-call stretches, each
  with the pipeline duties it carries (from the engine's coverage);
- ``take``: ``decide_take`` / ``may_untake`` / ``lead_notice_due`` / ``expired`` and the pager:
  ``pager_span`` (who holds a pipeline's primary seat now and until when).

Part of ``bot.core``: imports only ``bot.core`` modules (and the standard library); no I/O and no
clock reads. Modules here import their siblings directly, never this ``__init__``.
"""

from __future__ import annotations

from bot.core.cover.model import CoverRequest, CoverSlot, Duty, RequestStatus, SlotStatus, TakeDecision
from bot.core.cover.slots import cover_slots, seat_channel
from bot.core.cover.take import (
    LEAD_NOTICE,
    PagerSpan,
    decide_pager,
    decide_take,
    eligible,
    expired,
    lead_notice_due,
    lead_of,
    may_untake,
    pager_span,
)

__all__ = [
    "LEAD_NOTICE",
    "CoverRequest",
    "CoverSlot",
    "Duty",
    "PagerSpan",
    "RequestStatus",
    "SlotStatus",
    "TakeDecision",
    "cover_slots",
    "decide_pager",
    "decide_take",
    "eligible",
    "expired",
    "lead_notice_due",
    "lead_of",
    "may_untake",
    "pager_span",
    "seat_channel",
]
