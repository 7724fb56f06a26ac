"""``is_unavailable`` tells a database outage from everything else (issue 10 §1)."""

from __future__ import annotations

import asyncpg
from sqlalchemy.exc import DBAPIError

from bot.storage.db import is_unavailable


class _Adapted(Exception):
    """Like SQLAlchemy's asyncpg adaptor: its own error class, the driver's error as the cause."""


def _wrapped(cause: BaseException) -> DBAPIError:
    orig = _Adapted(str(cause))
    orig.__cause__ = cause
    return DBAPIError("SELECT 1", None, orig)


def test_a_server_starting_up_is_an_outage_even_wrapped_in_a_plain_dbapi_error() -> None:
    assert is_unavailable(_wrapped(asyncpg.CannotConnectNowError("the database system is starting up")))


def test_a_plain_dbapi_error_of_a_query_is_not_an_outage() -> None:
    assert not is_unavailable(_wrapped(ValueError("invalid input syntax")))
    assert not is_unavailable(TimeoutError())  # raised outside any database driver (e.g. Slack's client)
