"""Slack request signing, as Slack does it, for tests that post to the bot's HTTP endpoint.

``X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{timestamp}:{body}" keyed by the signing
secret>`` and ``X-Slack-Request-Timestamp: <unix seconds>``.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["sign"]


def sign(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The two signature headers Slack sends with ``body`` at ``timestamp``."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Signature": f"v0={digest}", "X-Slack-Request-Timestamp": str(timestamp)}
