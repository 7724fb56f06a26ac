"""Calendar-feed tokens as an operator sees them: who has one, and revoking one (issue 10 §7).

The CLI's ``oncall-bot calendar-tokens list|revoke PERSON`` (an operator's, i.e. an admin's,
action) calls these. A revoked feed answers 404; the person gets a new link from
``/oncall calendar`` (while they are in the seed). Loading a seed without a person revokes their
token by itself (``bot.storage.seedstore.apply_seed``).
"""

from __future__ import annotations

from datetime import datetime

from bot.storage import audit
from bot.storage import calendar_tokens as tokens
from bot.storage.bootstrap import Database


async def issued_tokens(db: Database) -> list[tuple[str, datetime]]:
    """(person id, issued at) for every live token, by person; never the tokens themselves."""
    async with db.sessions() as session:
        return await tokens.tokens_issued(session)


async def revoke_token(db: Database, person: str, now: datetime) -> bool:
    """Revoke ``person``'s token (audited ``calendar_token.revoked``); False when they had none."""
    async with db.sessions() as session, session.begin():
        revoked = await tokens.revoke_tokens(session, [person])
        if revoked:
            await audit.record(session, at=now, actor=None, action="calendar_token.revoked",
                               subject=f"person:{person}", after={"by": "operator"})
    return bool(revoked)
