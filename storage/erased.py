"""People erased on request, recognised without being named.

A roster file is kept outside the bot and imported again (at each start, from the command line,
from the console): without a trace of the erasure, the person erased would come back with their
e-mail, team and cohort. What erasure keeps instead is, for each identifier (``platform:id``
and the normalised e-mail), an HMAC-SHA-256 digest keyed with a key derived from the server
secret (:func:`storage.secret.server_secret`): ``RALLYBOT_SECRET_KEY`` when it is set (then the
key is not in the database), else the secret generated on first use and kept in ``bot_secret``
(then whoever holds the whole database can test a guessed e-mail). The digests are one-way: no
identifier can be read back from them, only a known one tested.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from rallybot.storage.database import Database
from rallybot.storage.inserts import insert_for
from rallybot.storage.models import table_of
from rallybot.storage.secret import server_secret
from rallybot.storage.survey_models import ErasedIdentity

__all__ = [
    "erased_digests",
    "erasure_key",
    "identity_digests",
    "is_erased",
    "remember_erased",
]

_LABEL = b"rallybot erased identity v1"  # keeps these digests apart from the secret's other uses


async def erasure_key(db: Database, secret_key: object = None) -> bytes:
    """The key of the erased people's digests, derived from the server secret
    (``secret_key``: the ``RALLYBOT_SECRET_KEY`` setting, else the one kept in the database)."""
    secret = await server_secret(db, secret_key)
    return hmac.new(secret, _LABEL, hashlib.sha256).digest()


def _digest(key: bytes, identifier: str) -> str:
    return hmac.new(key, identifier.encode(), hashlib.sha256).hexdigest()


def identity_digests(key: bytes, platform: str, user_id: str | None, email: str | None) -> set[str]:
    """The digests that recognise a person: their ``platform:id`` and their e-mail (trimmed
    and case-folded, as rosters compare them, and on any platform)."""
    found: set[str] = set()
    if user_id:
        found.add(_digest(key, f"id:{platform}:{user_id}"))
    if email and email.strip():
        found.add(_digest(key, f"email:{email.strip().casefold()}"))
    return found


async def remember_erased(session: AsyncSession, digests: Iterable[str]) -> None:
    """Keep ``digests`` of a person erased, in ``session``'s transaction (the erasure's)."""
    rows = [{"digest": digest} for digest in sorted(set(digests))]
    if rows:
        await session.execute(insert_for(session, ErasedIdentity).on_conflict_do_nothing(), rows)


async def erased_digests(session: AsyncSession) -> set[str]:
    """Every digest kept of the people erased (a few per erasure: read at once)."""
    table = table_of(ErasedIdentity)
    return set((await session.execute(sa.select(table.c.digest))).scalars())


async def is_erased(
    db: Database, platform: str, user_id: str | None, email: str | None, secret_key: object = None
) -> bool:
    """Whether the person with this ``platform:id`` or e-mail was erased on request."""
    digests = identity_digests(await erasure_key(db, secret_key), platform, user_id, email)
    table = table_of(ErasedIdentity)
    async with db.read() as session:
        found = await session.scalar(
            sa.select(sa.func.count()).select_from(table).where(table.c.digest.in_(digests))
        )
    return bool(found)
