"""The declarative ``Base`` with the constraint naming convention, and the column helpers every table uses.

Every constraint has a name from ``NAMING_CONVENTION`` so that SQLite batch migrations can drop it.
No native enums: closed sets of values are strings with a CHECK constraint (``one_of``).
"""

from __future__ import annotations

from sqlalchemy import MetaData, String, Table
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = String(64)  # seed ids: ^[a-z0-9][a-z0-9_.-]*$, at most 64 characters
CLOCK = String(5)  # a local time of day as written in the seed, "HH:MM"


def one_of(column: str, values: tuple[str, ...], *, nullable: bool = False) -> str:
    """SQL for "column is one of values" (or NULL), for a CHECK constraint."""
    listed = ", ".join(f"'{v}'" for v in values)
    text = f"{column} IN ({listed})"
    return f"{column} IS NULL OR {text}" if nullable else text


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table_of(model: type[Base]) -> Table:
    """The ``Table`` of a mapped class (typed as such)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
