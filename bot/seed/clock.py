"""Times of day as the seed writes them (``HH:MM``), without pydantic: the schema validates with
it and the conversion to core values reads with it."""

from __future__ import annotations

import re

_TIME_RE = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


def parse_clock(value: str, *, allow_24: bool = False) -> int:
    """Minutes after midnight of an ``HH:MM`` string; ``24:00`` only when ``allow_24``."""
    m = _TIME_RE.match(value.strip())
    if not m:
        raise ValueError(f"'{value}' is not a time of day (HH:MM)")
    minutes = int(m.group(1)) * 60 + int(m.group(2))
    if minutes > 1440 or (minutes == 1440 and not allow_24):
        raise ValueError(f"'{value}' is not a time of day (00:00-23:59{', or 24:00' if allow_24 else ''})")
    return minutes
