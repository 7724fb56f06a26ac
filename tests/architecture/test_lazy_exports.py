"""``bot.lazy.exports``: a package's names are there when used, and a command that uses one module of
a package does not import the others (what made ``oncall-bot tokens list`` take 0.9 s)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import bot.services.alerts as alerts
import bot.services.deliveries as deliveries
import bot.services.incidents as incidents


@pytest.mark.parametrize("package", [alerts, incidents, deliveries])
def test_every_exported_name_resolves_to_its_modules_object(package: object) -> None:
    names = package.__all__  # type: ignore[attr-defined]
    assert set(names) == set(package._EXPORTS)  # type: ignore[attr-defined]
    for name in names:
        value = getattr(package, name)
        module = package._EXPORTS[name]  # type: ignore[attr-defined]
        assert value is getattr(sys.modules[f"{package.__name__}.{module}"], name)  # type: ignore[attr-defined]
        assert name in dir(package)
    with pytest.raises(AttributeError, match="has no attribute 'nothing_here'"):
        package.nothing_here  # type: ignore[attr-defined]  # noqa: B018


def test_reading_incidents_does_not_import_the_outbox() -> None:
    code = ("import sys; from bot.services.incidents.reads import list_incidents; "
            "print(sorted(m for m in sys.modules if m.startswith(('bot.services.incidents.', "
            "'bot.services.deliveries', 'apprise', 'aiohttp'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "['bot.services.incidents.reads']", done.stdout


def test_routing_keys_do_not_import_the_intake() -> None:
    code = ("import sys; from bot.services.alerts import add, listed; "
            "print(sorted(m for m in sys.modules if m.startswith(('bot.services.alerts.', 'bot.services.incidents'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "['bot.services.alerts.keys']", done.stdout
