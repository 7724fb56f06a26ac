"""``bot.core.holidaylib``: the holidays of one country, with its module alone, as the package says."""

from __future__ import annotations

import subprocess
import sys

import holidays
import pytest

from bot.core.holidaylib import country_holidays


def _names(table: holidays.HolidayBase) -> dict[object, str]:
    return {d: str(name) for d, name in table.items()}


@pytest.mark.parametrize(("country", "subdiv", "year"), [
    ("US", None, 2026), ("USA", None, 2027), ("DE", "BY", 2027), ("GB", "SCT", 2026), ("AS", None, 2026),
])
def test_same_days_and_names_as_the_package(country: str, subdiv: str | None, year: int) -> None:
    ours = country_holidays(country, subdiv, year, language="en_US", observed=True)
    theirs = holidays.country_holidays(country, subdiv=subdiv, years=year, language="en_US", observed=True)
    assert _names(ours) == _names(theirs) and _names(ours)


@pytest.mark.parametrize(("country", "subdiv", "message"), [
    ("XX", None, "Country XX not available"),
    ("us", None, "Country us not available"),
    ("DE", "XX", "does not have subdivision XX"),
])
def test_same_errors_as_the_package(country: str, subdiv: str | None, message: str) -> None:
    with pytest.raises(NotImplementedError, match=message):
        country_holidays(country, subdiv, 2026)


def test_imports_only_the_one_country() -> None:
    code = (
        "import sys\n"
        "from bot.core.holidaylib import country_holidays\n"
        "assert len(country_holidays('US', None, 2026, language='en_US')) > 5\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('holidays.countries'))\n"
        "print(loaded)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['holidays.countries.united_states']"
