"""The schedule-change values: requests, targets, absences, plans, refusals and recorded changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.core.model import Override

MAX_RANGE = timedelta(days=366)


class ChangeKind(StrEnum):
    OVERRIDE = "override"
    SWAP = "swap"
    AWAY = "away"


class RefusalKind(StrEnum):
    INVALID = "invalid"  # names nothing real, or a range that is over / empty / too long
    FORBIDDEN = "forbidden"  # the actor may not make it
    AWAY = "away"  # it would put someone on call while they are away
    NOBODY = "nobody"  # an absence that nobody can cover leaves a window with nobody
    NO_CHANGE = "no_change"  # nothing anybody sees would change
    TAKEN = "taken"  # a cover slot someone else took first, or that is no longer open
    DOUBLE_DUTY = "double_duty"  # it would make someone primary and backup of one pipeline at once


@dataclass(frozen=True, slots=True)
class Target:
    """What an override covers: a rotation seat (``rotation`` and, for role rotations, ``role``)
    or a whole pipeline (``pipeline``)."""

    rotation: str | None = None
    role: str | None = None
    pipeline: str | None = None

    def __str__(self) -> str:
        if self.pipeline is not None:
            return self.pipeline
        return f"{self.rotation}:{self.role}" if self.role else str(self.rotation)


@dataclass(frozen=True, slots=True)
class ChangeRequest:
    """A change as asked. ``person``: override - who covers; swap - the first person; away - who is
    away. ``other``: swap - the second person; away - the named cover (None: pick the next member).
    ``target``: override only. Instants are aware; ``[start, end)``."""

    kind: ChangeKind
    actor: str | None
    start: datetime
    end: datetime
    person: str
    other: str | None = None
    target: Target | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Away:
    """A recorded absence ``[start, end)`` of ``person`` (from an away change)."""

    person: str
    start: datetime
    end: datetime
    change_id: int | None = None


@dataclass(frozen=True, slots=True)
class NewOverride:
    """An override to insert (the store gives it its id and ``created_at``)."""

    start: datetime
    end: datetime
    person: str
    rotation: str | None = None
    role: str | None = None
    pipeline: str | None = None
    replaces: str | None = None
    reason: str = ""

    def as_override(self, id: int, created_at: datetime, created_by: str | None) -> Override:
        return Override(id=id, start=self.start, end=self.end, person=self.person, created_at=created_at,
                        rotation=self.rotation, role=self.role, replaces=self.replaces, pipeline=self.pipeline,
                        reason=self.reason, created_by=created_by)


@dataclass(frozen=True, slots=True)
class ShiftChange:
    """Over ``[start, end)`` the ``role`` of ``pipeline`` (in ``window``) goes from ``before`` to
    ``after`` (None: not covered)."""

    pipeline: str
    role: str
    window: str | None
    start: datetime
    end: datetime
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a change is refused. ``reason`` is a full sentence for ``invalid``/``forbidden``/
    ``no_change``; for ``away``/``nobody`` the structured fields say who, what and when (renderers
    turn them into words with date tokens): ``person`` would be on call for ``pipeline``/``role``
    over ``[start, end)`` while ``away``; ``others_away`` are the members who could not cover."""

    kind: RefusalKind
    reason: str
    person: str | None = None
    pipeline: str | None = None
    role: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    away: Away | None = None
    others_away: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    """An accepted change: the overrides to insert and what they change (``impact``), in order."""

    request: ChangeRequest
    overrides: tuple[NewOverride, ...]
    impact: tuple[ShiftChange, ...]
    permission: str
    notes: tuple[str, ...] = ()

    @property
    def affected(self) -> tuple[str, ...]:
        """The people whose on-call time changes, and the people the change names."""
        r = self.request
        people = [r.person, *([r.other] if r.other else [])]
        for ch in self.impact:
            people += [p for p in (ch.before, ch.after) if p is not None]
        people += [o.person for o in self.overrides]
        return tuple(dict.fromkeys(people))


@dataclass(frozen=True, slots=True)
class ChangeRecord:
    """A change as stored: the request, who made it and when, its overrides and its state."""

    id: int
    kind: ChangeKind
    created_by: str | None
    created_at: datetime
    start: datetime
    end: datetime
    person: str
    other: str | None
    target: Target | None
    reason: str
    override_ids: tuple[int, ...]
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None

    @property
    def active(self) -> bool:
        return self.cancelled_at is None


@dataclass(frozen=True, slots=True)
class CancelPlan:
    """Cancelling ``record`` at ``now``: delete ``remove`` and insert ``keep`` (the part of an
    ongoing change that is already history, ending at ``now``); ``impact`` as for a change."""

    record: ChangeRecord
    remove: tuple[int, ...]
    keep: tuple[Override, ...]
    impact: tuple[ShiftChange, ...]
    permission: str

    @property
    def affected(self) -> tuple[str, ...]:
        people = [self.record.person, *([self.record.other] if self.record.other else [])]
        for ch in self.impact:
            people += [p for p in (ch.before, ch.after) if p is not None]
        return tuple(dict.fromkeys(people))


def invalid(reason: str) -> Refusal:
    """The refusal of a request that is malformed or names nothing real, saying why."""
    return Refusal(RefusalKind.INVALID, reason)
