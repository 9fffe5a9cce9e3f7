"""The web console's sign-in state: sessions and pending sign-ins (one-time links, OAuth).

Only hashes of the tokens are stored (SHA-256 of a random 256-bit token): a copy of the
database lets nobody sign in. Rows are short-lived; expired ones are deleted as new ones are
made (see :mod:`rallybot.handlers.console.auth`).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from rallybot.storage.models import UTCDateTime, _now

__all__ = ["ConsoleLoginAttempt", "ConsoleSession", "ConsoleSignIn"]


class ConsoleSession(SQLModel, table=True):
    """A signed-in browser: the person's platform key, until ``expires_at``."""

    __tablename__ = "console_session"
    __table_args__ = (sa.Index("ix_console_session_expires_at", "expires_at"),)

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)  # hex SHA-256 of the cookie's token
    actor: str = Field(max_length=200)  # "slack:U0123": the person's platform user key
    csrf_token: str = Field(max_length=64)  # echoed by every form and API POST of the session
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class ConsoleSignIn(SQLModel, table=True):
    """A sign-in under way: a one-time link (``kind="link"``) or an OAuth state
    (``kind="slack"`` or ``"discord"``), used once before ``expires_at``."""

    __tablename__ = "console_sign_in"
    __table_args__ = (sa.Index("ix_console_sign_in_expires_at", "expires_at"),)

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)  # the link's token or the OAuth state
    kind: str = Field(max_length=16)
    actor: str | None = Field(default=None, max_length=200)  # a link's manager
    nonce: str | None = Field(default=None, max_length=64)  # OpenID Connect's nonce
    verifier: str | None = Field(default=None, max_length=128)  # the PKCE code verifier
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ConsoleLoginAttempt(SQLModel, table=True):
    """A sign-in attempt, counted by the login rate limit that every process serving the
    console on this database shares. ``client_key`` is a keyed hash of the client's address
    (HMAC-SHA-256 with the server secret), never the address; rows older than the limit's
    window are deleted as new attempts come."""

    __tablename__ = "console_login_attempt"
    __table_args__ = (
        sa.Index("ix_console_login_attempt_client_key_at", "client_key", "attempted_at"),
        sa.Index("ix_console_login_attempt_attempted_at", "attempted_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_key: str = Field(max_length=64)  # hex HMAC-SHA-256 of the client's address
    attempted_at: datetime = Field(sa_type=UTCDateTime)
