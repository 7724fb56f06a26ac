"""What the bot reads of typed text: at most ``MAX_TEXT_CHARS`` characters, no control characters.

Pure: every transport asks ``text_problem`` before it parses anything a person typed, so that no
request costs more than a bounded amount of work and nothing a database refuses (PostgreSQL
rejects NUL in text) gets as far as the database.
"""

from __future__ import annotations

import re

MAX_TEXT_CHARS = 2_000
# C0 controls and DEL, but not tab, line feed and carriage return (multi-line form fields).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def text_problem(text: str, what: str = "your text") -> str | None:
    """Why ``text`` is refused (too long, or a control character), said to the person; None if
    it may be read. ``what`` names the field ("the reason", "your command")."""
    if len(text) > MAX_TEXT_CHARS:
        return (f"That is too long: {what} has {len(text):,} characters and I read at most "
                f"{MAX_TEXT_CHARS:,}. Shorten it and try again.")
    found = _CONTROL.search(text)
    if found is not None:
        return (f"{what[:1].upper()}{what[1:]} contains a control character (U+{ord(found.group()):04X}) "
                "that I cannot store. Remove it and try again.")
    return None
