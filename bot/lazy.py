"""Lazy re-exports for package ``__init__`` modules (PEP 562).

A package that re-exports its modules' names eagerly makes every importer pay for all of them:
``oncall-bot tokens list`` imported the incident outbox, the deliverer and the Slack renderers
(~0.4 s of a 0.9 s command) because it read one function of ``bot.services.incidents.reads``. With
``exports``, a name is imported from its module the first time it is used; type checkers see the
names through the package's ``if TYPE_CHECKING:`` imports.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def exports(package: str, names: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``, whose public ``names`` map to the submodule (a
    name relative to the package) that defines each. A name is resolved once, then kept in the
    package's namespace; an unknown name is an ``AttributeError``, as for any module."""
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(names))

    return __getattr__, __dir__
