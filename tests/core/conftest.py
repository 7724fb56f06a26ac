"""Every core test starts with cold caches: the rotation's week starts and on-call week first
dates, and every calendar's holiday tables and local instants (the seed calendar and those built
by tests/core/companies.py).

The caches are pure memos, so clearing them changes no answer; it keeps a test from seeing
values computed by another test. That matters under ``make mutation``: each mutant runs in a
process forked after the whole suite ran on the unmutated code, so warm caches would hide
mutants of the code that fills them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.core import rotation

from .companies import CALENDARS
from .helpers import CAL


@pytest.fixture(autouse=True)
def _cold_caches() -> Iterator[None]:
    rotation._week_start.cache_clear()
    rotation._week_first.cache_clear()
    for cal in (CAL, *CALENDARS):
        cal._instants.clear()
        cal._holidays.clear()
    yield
