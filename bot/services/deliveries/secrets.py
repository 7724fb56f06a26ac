"""Secrets of the pages beyond Slack: contact URLs encrypted at rest, acknowledge-link tokens.

Keys are derived from ``ONCALL_SECRET_KEY`` (``Settings.secret_key``) with HMAC-SHA256 and a
purpose label, so one setting gives independent keys: a Fernet key for contact URLs and an HMAC
key for link tokens. Without the setting ``cipher_for`` raises ``NoSecretKey``, whose message
says what to set. Nothing here logs, and no error carries a URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken

NO_KEY = ("contact methods are stored encrypted and ONCALL_SECRET_KEY is not set: set it (a long random "
          "string, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`) and restart the bot")


class NoSecretKey(RuntimeError):
    """``ONCALL_SECRET_KEY`` is not set: no URL can be stored or read."""

    def __init__(self) -> None:
        super().__init__(NO_KEY)


class Unreadable(RuntimeError):
    """A stored URL could not be decrypted (the secret key changed)."""


def _derive(secret: str, purpose: str) -> bytes:
    return hmac.new(secret.encode(), f"oncall-bot:{purpose}".encode(), hashlib.sha256).digest()


class Cipher:
    """Encrypts and decrypts contact URLs; derives acknowledge-link tokens."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise NoSecretKey()
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret, "contacts")))
        self._links = _derive(secret, "ack-links")

    def __repr__(self) -> str:
        return "Cipher(***)"

    def encrypt(self, url: str) -> str:
        return self._fernet.encrypt(url.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise Unreadable("a stored contact URL cannot be decrypted: ONCALL_SECRET_KEY changed? "
                             "remove the method and add it again") from None

    def link_token(self, salt: str) -> str:
        """The acknowledge-link token of a page with ``salt`` (never stored; its hash is)."""
        digest = hmac.new(self._links, salt.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def form_nonce(self, token_hash: str, issued: int) -> str:
        """The nonce of an acknowledge form shown at ``issued`` (Unix seconds) for a link."""
        return hmac.new(self._links, f"form:{token_hash}:{issued}".encode(), hashlib.sha256).hexdigest()


def cipher_for(settings: Any) -> Cipher:
    """The cipher of ``settings.secret_key``; ``NoSecretKey`` when it is not set."""
    key = getattr(settings, "secret_key", None)
    value = key.get_secret_value() if key is not None and hasattr(key, "get_secret_value") else key
    if not value:
        raise NoSecretKey()
    return Cipher(str(value))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_salt() -> str:
    return secrets.token_hex(16)


def scheme_of(url: str) -> str:
    """The scheme of an Apprise URL (``mailto``, ``ntfy``...), lower case; "" when there is none."""
    return urlsplit(url.strip()).scheme.lower() if "://" in url else ""


def mask(scheme: str) -> str:
    """How a stored URL is shown: its scheme only (``ntfy://••••``)."""
    return f"{scheme}://••••"


def scrub(text: str, url: str) -> str:
    """``text`` with every part of ``url`` that could be secret (user, password, host, path,
    query values of 3+ characters) replaced by ``••••``."""
    parts = urlsplit(url)
    pieces = {url, parts.netloc, parts.path, parts.query, parts.username or "", parts.password or "",
              parts.hostname or ""}
    for sep in "/?&=:@,":
        pieces |= {p for chunk in (parts.netloc, parts.path, parts.query) for p in chunk.split(sep)}
    for piece in sorted((p for p in pieces if len(p) >= 3), key=len, reverse=True):
        text = text.replace(piece, "••••")
    return text

