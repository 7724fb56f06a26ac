"""Schedule changes, pure: override, swap and away, checked and turned into overrides.

- ``model``: the values (``ChangeRequest``, ``Target``, ``Away``, ``Plan``, ``Refusal``, ...);
- ``lookups``: finding targets, their rotations and weeks;
- ``holdings``: who holds which seat when, who may cover, what a change does to whom;
- ``plan``: ``plan_change``: a request checked and planned, or refused;
- ``cancel``: ``may_cancel`` and ``plan_cancel``.

Part of ``bot.core``: imports only ``bot.core`` modules (and the standard library); no I/O and no
clock reads. Modules here import their siblings directly, never this ``__init__``.
"""

from __future__ import annotations

from bot.core.changes.cancel import may_cancel, plan_cancel
from bot.core.changes.holdings import Holding, holdings, impact, next_available, on_call
from bot.core.changes.lookups import find_target, pipeline_rotations, pipelines_using, target_choices, week_of
from bot.core.changes.model import (
    MAX_RANGE,
    Away,
    CancelPlan,
    ChangeKind,
    ChangeRecord,
    ChangeRequest,
    NewOverride,
    Plan,
    Refusal,
    RefusalKind,
    ShiftChange,
    Target,
)
from bot.core.changes.plan import plan_change, plan_override_as

__all__ = [
    "MAX_RANGE",
    "Away",
    "CancelPlan",
    "ChangeKind",
    "ChangeRecord",
    "ChangeRequest",
    "Holding",
    "NewOverride",
    "Plan",
    "Refusal",
    "RefusalKind",
    "ShiftChange",
    "Target",
    "find_target",
    "holdings",
    "impact",
    "may_cancel",
    "next_available",
    "on_call",
    "pipeline_rotations",
    "pipelines_using",
    "plan_cancel",
    "plan_change",
    "plan_override_as",
    "target_choices",
    "week_of",
]
