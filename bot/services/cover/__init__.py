"""Cover requests and taking the pager, applied (issue 14 §1-2): load -> ``bot.core.cover`` ->
write, one transaction each, through the schedule changes' own write path.

- ``requests``: ``request_cover``, ``take_slots``, ``untake``, ``list_requests``;
- ``pager``: ``hand_pager`` (``/oncall take`` and ``/oncall give``);
- ``tick``: ``run_tick``: the team lead's notice 24 h ahead and the expiry at the start, once;
- ``outbox``: the messages owed (``cover:`` keys) and ``deliver``;
- ``answers``: the typed commands answered for Slack and the console.

May import ``bot.core``, ``bot.commands``, ``bot.render``, ``bot.storage`` and the other services;
transports and jobs import this package. Modules here import their siblings directly, never this
``__init__``.
"""

from __future__ import annotations

from bot.core.cover import CoverRequest
from bot.services.cover.answers import CoverAnswered, answer_cover, answer_cover_line
from bot.services.cover.outbox import deliver
from bot.services.cover.pager import PagerTaken, hand_pager
from bot.services.cover.requests import TakeOutcome, list_requests, request_cover, take_slots, untake
from bot.services.cover.tick import CoverTickReport, run_tick

__all__ = [
    "CoverAnswered",
    "CoverRequest",
    "CoverTickReport",
    "PagerTaken",
    "TakeOutcome",
    "answer_cover",
    "answer_cover_line",
    "deliver",
    "hand_pager",
    "list_requests",
    "request_cover",
    "run_tick",
    "take_slots",
    "untake",
]
