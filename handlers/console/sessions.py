"""The console's sign-in records: sessions, one-time links and OAuth states, stored hashed.

A token is 256 random bits (:func:`secrets.token_urlsafe`); the database keeps only its
SHA-256, so reading the tables signs nobody in. Links and OAuth states are used once: the
row is marked used in the same statement that checks it, so two requests racing with the
same token cannot both succeed.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from rallybot.storage.console_models import ConsoleSession, ConsoleSignIn
from rallybot.storage.database import Database
from rallybot.storage.models import table_of

__all__ = [
    "SessionRow",
    "SignIn",
    "consume_sign_in",
    "create_session",
    "create_sign_in",
    "delete_session",
    "find_session",
    "hash_token",
    "new_token",
]

_SESSIONS = table_of(ConsoleSession)
_SIGN_INS = table_of(ConsoleSignIn)


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The hex SHA-256 stored for ``token`` (tokens are random: no salt is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SessionRow:
    """A live session: whose it is, its CSRF token, when it ends."""

    actor: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class SignIn:
    """A pending sign-in that was just used: a link's manager, or an OAuth state's secrets."""

    kind: str
    actor: str | None
    nonce: str | None
    verifier: str | None


async def _purge(db: Database, now: datetime) -> None:
    """Delete what expired (a sign-in used or not, a session): nothing keeps them."""
    async with db.session() as session:
        await session.execute(sa.delete(_SESSIONS).where(_SESSIONS.c.expires_at <= now))
        await session.execute(sa.delete(_SIGN_INS).where(_SIGN_INS.c.expires_at <= now))


async def create_session(db: Database, actor: str, now: datetime, lifetime: timedelta) -> str:
    """Open a session for ``actor`` (a platform user key); returns the cookie's token."""
    await _purge(db, now)
    token = new_token()
    async with db.session() as session:
        await session.execute(
            sa.insert(_SESSIONS).values(
                token_hash=hash_token(token),
                actor=actor,
                csrf_token=new_token(),
                created_at=now,
                expires_at=now + lifetime,
            )
        )
    return token


async def find_session(db: Database, token: str, now: datetime) -> SessionRow | None:
    """The live session of a cookie's token; None if unknown or expired."""
    async with db.read() as session:
        row = (
            await session.execute(
                sa.select(_SESSIONS.c.actor, _SESSIONS.c.csrf_token, _SESSIONS.c.expires_at).where(
                    _SESSIONS.c.token_hash == hash_token(token), _SESSIONS.c.expires_at > now
                )
            )
        ).first()
    return None if row is None else SessionRow(row.actor, row.csrf_token, row.expires_at)


async def delete_session(db: Database, token: str) -> None:
    """End a session (sign-out)."""
    async with db.session() as session:
        await session.execute(
            sa.delete(_SESSIONS).where(_SESSIONS.c.token_hash == hash_token(token))
        )


async def create_sign_in(
    db: Database,
    kind: str,
    now: datetime,
    lifetime: timedelta,
    *,
    actor: str | None = None,
    nonce: str | None = None,
    verifier: str | None = None,
) -> str:
    """Record a pending sign-in (a one-time link, an OAuth state); returns its token."""
    await _purge(db, now)
    token = new_token()
    async with db.session() as session:
        await session.execute(
            sa.insert(_SIGN_INS).values(
                token_hash=hash_token(token),
                kind=kind,
                actor=actor,
                nonce=nonce,
                verifier=verifier,
                created_at=now,
                expires_at=now + lifetime,
            )
        )
    return token


async def consume_sign_in(
    db: Database, token: str, kinds: set[str], now: datetime
) -> SignIn | None:
    """Use a pending sign-in once: None if unknown, of another kind, expired or already used."""
    wanted = hash_token(token)
    async with db.session() as session:
        # the conditional UPDATE is the single use: of two requests with the same token, one
        # updates the row and the other finds it used
        result = await session.execute(
            sa.update(_SIGN_INS)
            .where(
                _SIGN_INS.c.token_hash == wanted,
                _SIGN_INS.c.kind.in_(sorted(kinds)),
                _SIGN_INS.c.used_at.is_(None),
                _SIGN_INS.c.expires_at > now,
            )
            .values(used_at=now)
        )
        if int(getattr(result, "rowcount", 0) or 0) != 1:
            return None
        row = (
            await session.execute(
                sa.select(
                    _SIGN_INS.c.kind, _SIGN_INS.c.actor, _SIGN_INS.c.nonce, _SIGN_INS.c.verifier
                ).where(_SIGN_INS.c.token_hash == wanted)
            )
        ).one()
    return SignIn(row.kind, row.actor, row.nonce, row.verifier)
