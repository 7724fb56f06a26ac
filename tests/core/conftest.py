"""Every core test starts with the rotation's week-start cache empty.

The cache is a pure memo, so clearing it changes no answer; it keeps a test from seeing values
computed by another test. That matters under ``make mutation``: each mutant runs in a process
forked after the whole suite ran on the unmutated code, so a warm cache would hide mutants.
Calendars built by a test (tests/core/companies.py) have caches of their own; the shared seed
calendar's instants are cleared too (its holiday tables are kept: rebuilding them for every test
costs a second, and the small companies' fresh calendars exercise the table building).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.core import rotation

from .helpers import CAL


@pytest.fixture(autouse=True)
def _cold_caches() -> Iterator[None]:
    rotation._week_start.cache_clear()
    CAL._instants.clear()
    yield
