"""Read-API bearer tokens: stored as a SHA-256 digest, never as the token (issue 12 §6).

A token is 40 URL-safe characters from ``secrets`` prefixed ``oncall_`` (so that a secret
scanner can recognise one). ``add_token`` returns it once; only its digest is kept. ``find_token``
looks a presented token up by its digest and compares the digests in constant time
(``hmac.compare_digest``); a revoked token is never found.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.tables.api import ApiTokenRow

PREFIX = "oncall_"
TOKEN_BYTES = 30  # 40 characters of base64url
MAX_TOKEN_LENGTH = 128


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    created_at: datetime
    revoked_at: datetime | None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _info(row: ApiTokenRow) -> TokenInfo:
    return TokenInfo(row.id, row.name, row.created_at, row.revoked_at)


async def add_token(session: AsyncSession, name: str, now: datetime) -> tuple[TokenInfo, str]:
    """A new token named ``name``: its record and the token itself (shown once, not stored)."""
    token = PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    row = ApiTokenRow(name=name, digest=digest(token), created_at=now)
    session.add(row)
    await session.flush()
    return _info(row), token


async def find_token(session: AsyncSession, token: str) -> TokenInfo | None:
    """The live (not revoked) token ``token`` is, or None."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    wanted = digest(token)
    row = await session.scalar(select(ApiTokenRow).where(ApiTokenRow.digest == wanted))
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.digest, wanted):
        return None
    return _info(row)


async def list_tokens(session: AsyncSession) -> list[TokenInfo]:
    rows = await session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id))
    return [_info(r) for r in rows]


async def revoke_token(session: AsyncSession, token_id: int, now: datetime) -> tuple[TokenInfo | None, bool]:
    """Revoke token ``token_id``: its record (None when there is no such token) and whether this
    call revoked it (False: it was revoked already)."""
    row = await session.get(ApiTokenRow, token_id)
    if row is None:
        return None, False
    if row.revoked_at is not None:
        return _info(row), False
    await session.execute(update(ApiTokenRow).where(ApiTokenRow.id == token_id, ApiTokenRow.revoked_at.is_(None))
                          .values(revoked_at=now).execution_options(synchronize_session=False))
    await session.refresh(row)
    return _info(row), True

