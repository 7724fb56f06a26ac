"""The paging tables: each person's contact methods, and the pages their rules follow.

``contact_methods`` holds one Apprise URL per row, encrypted (Fernet, ``url_encrypted``): the
plain URL is never stored, logged or shown; ``scheme`` (``mailto``, ``ntfy``...) is kept in clear
for the rules (phone-type methods) and for masked listings. ``page_plans`` records, once per
(incident, level, person), when that page started, whether it may wake someone, whether Slack
said the person was in Do Not Disturb then, and the hash of its acknowledge-link token.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.tables.base import ID, Base
from bot.storage.types import UTCDateTime


class ContactMethodRow(Base):
    """One way to reach a person (an encrypted Apprise URL)."""

    __tablename__ = "contact_methods"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person: Mapped[str] = mapped_column(ID, index=True)
    label: Mapped[str] = mapped_column(String(80))
    scheme: Mapped[str] = mapped_column(String(32))
    url_encrypted: Mapped[str] = mapped_column(Text)
    after_minutes: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PagePlanRow(Base):
    """A page to one person at one level of an incident: what its rules start from."""

    __tablename__ = "page_plans"
    __table_args__ = (UniqueConstraint("incident_id", "level", "person"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    person: Mapped[str] = mapped_column(ID)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    critical: Mapped[bool] = mapped_column(Boolean)
    may_wake: Mapped[bool] = mapped_column(Boolean)
    in_dnd: Mapped[bool] = mapped_column(Boolean)
    token_salt: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
