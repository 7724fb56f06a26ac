"""``country_holidays`` of the ``holidays`` package, importing only the one country asked for.

``holidays.country_holidays("US")`` imports ``holidays.countries``, whose ``__init__`` imports all
of the package's ~250 countries (about 0.1 s of CPU), to use one. This wrapper finds the country's
module in the package's registry and executes that module alone, then builds its class with the
same arguments as ``holidays.country_holidays``: the same code computes the same days.

It falls back to ``holidays.country_holidays`` (so to its result and its errors, such as
``NotImplementedError`` for an unknown country or subdivision) whenever the shortcut does not
apply: a code the registry does not list, ``holidays.countries`` already imported, or a country
module that itself imports another country's (e.g. American Samoa's imports the United States').
"""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from holidays import HolidayBase

_PACKAGE = "holidays.countries"


@cache
def _modules_by_code() -> dict[str, tuple[str, str]]:
    """Each country code and alias, as ``holidays`` spells it -> (module name, class name)."""
    from holidays.registry import COUNTRIES

    found: dict[str, tuple[str, str]] = {}
    for module, (class_name, *codes) in COUNTRIES.items():
        for code in codes:
            found.setdefault(code, (module, class_name))
    return found


def _load_alone(module: str) -> ModuleType | None:
    """``holidays.countries.<module>`` executed without its package's ``__init__``; None when that
    cannot be done safely (the caller then takes the package's own way)."""
    full = f"{_PACKAGE}.{module}"
    loaded = sys.modules.get(full)
    if loaded is not None:
        return loaded
    if _PACKAGE in sys.modules:
        return None  # the package is imported anyway: nothing to save
    import holidays

    path = Path(holidays.__file__).parent / "countries" / f"{module}.py"
    try:
        source = path.read_text(encoding="utf-8")
    except OSError:
        return None
    if _PACKAGE in source:  # it imports another country: that would import the whole package
        return None
    spec = importlib.util.spec_from_file_location(full, path)
    if spec is None or spec.loader is None:
        return None
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[full] = loaded
    try:
        spec.loader.exec_module(loaded)
    except BaseException:
        sys.modules.pop(full, None)
        raise
    return loaded


def country_holidays(
    country: str,
    subdiv: str | None = None,
    years: int | None = None,
    *,
    language: str | None = None,
    observed: bool = True,
) -> HolidayBase:
    """What ``holidays.country_holidays(country, subdiv=subdiv, years=years, language=language,
    observed=observed)`` answers, loading only ``country``'s module when it can."""
    import holidays

    target = _modules_by_code().get(country)
    module = _load_alone(target[0]) if target is not None else None
    if target is None or module is None:
        return holidays.country_holidays(country, subdiv=subdiv, years=years, language=language, observed=observed)
    entity: Any = getattr(module, target[1])
    # The keyword arguments holidays.country_holidays passes to the class it finds.
    result: HolidayBase = entity(
        years=years, subdiv=subdiv, expand=True, observed=observed, prov=None, state=None,
        language=language, categories=None,
    )
    return result
