"""Everything a question needs, read once: the directory, its calendar and the overrides."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.core.calendar import CompanyCalendar
from bot.core.model import Directory, Override

# Every override is read (they are few): the range spans any instant a question can name.
ALL_FROM = datetime(2000, 1, 1, tzinfo=UTC)
ALL_TO = datetime(2200, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Snapshot:
    """A read-only view of the data at one moment; every command is a pure function of it."""

    directory: Directory
    calendar: CompanyCalendar
    overrides: tuple[Override, ...] = ()
    admins: tuple[str, ...] = field(default=())

    @classmethod
    def build(
        cls, directory: Directory, overrides: Sequence[Override] = (), extra_admins: Sequence[str] = ()
    ) -> Snapshot:
        admins = tuple(dict.fromkeys([*directory.admins, *extra_admins]))
        return cls(directory, CompanyCalendar.from_spec(directory.calendar), tuple(overrides), admins)

    def person_by_slack_id(self, slack_user_id: str) -> str | None:
        for p in self.directory.people.values():
            if p.slack_user_id == slack_user_id:
                return p.id
        return None

