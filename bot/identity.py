"""Who a setting names: a user ``platform:id`` against a list of admins or helpers.

The settings (``RALLYBOT_ADMINS``) and the rota (``RALLYBOT_HELPERS``) both name people with
this rule, and the settings read the rota: the rule sits apart so neither imports the other
for it.
"""

from __future__ import annotations

from collections.abc import Collection

__all__ = ["identity_matches"]

_TYPED_IDS = frozenset({"console"})
"""Platforms where whoever types picks the user id (``/as``): only ``platform:id`` applies."""


def identity_matches(user_key: str, entries: Collection[str]) -> bool:
    """Whether the user ``platform:id`` is named in ``entries`` (admins, helpers).

    Exact: an entry ``platform:id`` matches that id on that platform only; a bare entry (an
    id without a platform) matches that exact id on the platforms that issue ids (Slack,
    Discord, the test platform), never on the console. No prefix is ever stripped, so
    ``console:slack:U1`` is not ``slack:U1``.
    """
    if user_key in entries:
        return True
    platform, sep, user_id = user_key.partition(":")
    return bool(sep) and platform not in _TYPED_IDS and ":" not in user_id and user_id in entries
