"""The server secret: keys what must not be forged or traced back (survey buttons, the keyed
hashes of inbound event ids). The ``RALLYBOT_SECRET_KEY`` setting, else one generated on first
use and kept in ``bot_secret``, so that every replica reads the same."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from weakref import WeakKeyDictionary

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from rallybot.storage.database import Database
from rallybot.storage.models import table_of
from rallybot.storage.survey_models import BotSecret

__all__ = ["cached_secret", "server_secret"]

_secrets: WeakKeyDictionary[Database, bytes] = WeakKeyDictionary()
_SECRET_NAME = "survey"  # the name it was first kept under, by the surveys


def cached_secret(db: Database) -> bytes | None:
    """The secret if :func:`server_secret` already read it for ``db``."""
    return _secrets.get(db)


async def server_secret(db: Database, configured: object = None) -> bytes:
    """The server secret: ``configured`` (the ``RALLYBOT_SECRET_KEY`` setting) when set, else
    the one kept in ``bot_secret`` (generated on first use). Read once per database."""
    cached = _secrets.get(db)
    if cached is not None:
        return cached
    value = getattr(configured, "get_secret_value", lambda: "")()
    if value:
        secret = str(value).encode()
    else:
        table = table_of(BotSecret)
        query = sa.select(table.c.value).where(table.c.name == _SECRET_NAME)
        async with db.session() as session:
            stored = await session.scalar(query)
        if stored is None:
            try:
                async with db.session() as session:
                    await session.execute(
                        sa.insert(table).values(
                            name=_SECRET_NAME,
                            value=secrets.token_hex(32),
                            created_at=datetime.now(UTC),
                        )
                    )
            except IntegrityError:
                pass  # another replica made it first
            async with db.session() as session:
                stored = await session.scalar(query)
        secret = str(stored).encode()
    _secrets[db] = secret
    return secret
