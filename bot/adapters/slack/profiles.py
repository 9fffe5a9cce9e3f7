"""Member profiles from Slack user objects (``users.info`` / ``users.list``); pure.

Slack's profile fields are optional: "data that has not been supplied may not be present at
all, may be null or may contain the empty string". Only the ``image_*`` fields are always
there, and ``locale`` only when the call passed ``include_locale=true``.

A profile is *complete* when it has:

- a real name: ``profile.real_name`` or the top-level ``real_name``, not blank;
- a title: ``profile.title``, not blank;
- a photo of one's own: ``profile.is_custom_image`` when Slack gives it; otherwise an
  uploaded original (``image_original``) or an ``image_192`` served from Slack's avatar host
  rather than a Gravatar URL — Slack serves its default avatars through Gravatar
  (``secure.gravatar.com/avatar/...&d=...ava_0010-192.png``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from rallybot.bot.adapters.base import MemberProfile

__all__ = ["has_custom_photo", "is_active_member", "is_profile_complete", "profile_from_user"]

SLACKBOT_ID = "USLACKBOT"  # Slackbot: is_bot is false, yet it is no member


def _text(value: Any) -> str | None:
    """A stripped non-empty string, else None."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _profile(user: dict[str, Any]) -> dict[str, Any]:
    profile = user.get("profile")
    return profile if isinstance(profile, dict) else {}


def _real_name(user: dict[str, Any]) -> str | None:
    return _text(_profile(user).get("real_name")) or _text(user.get("real_name"))


def has_custom_photo(user: dict[str, Any]) -> bool:
    """Whether the member uploaded a photo (see the module docstring)."""
    profile = _profile(user)
    flag = profile.get("is_custom_image")
    if isinstance(flag, bool):
        return flag
    if _text(profile.get("image_original")):
        return True
    image = _text(profile.get("image_192")) or _text(profile.get("image_72"))
    if image is None:
        return False
    host = urlsplit(image).hostname or ""
    return not host.endswith("gravatar.com") and "/avatars/ava_" not in image


def is_profile_complete(user: dict[str, Any]) -> bool:
    """Real name, title and a photo of one's own (see the module docstring)."""
    has_title = _text(_profile(user).get("title")) is not None
    return _real_name(user) is not None and has_title and has_custom_photo(user)


def is_active_member(user: dict[str, Any]) -> bool:
    """A person the bot should count: not deactivated, not a bot, an app or Slackbot."""
    return not (
        user.get("deleted") is True
        or user.get("is_bot") is True
        or user.get("is_app_user") is True
        or user.get("id") == SLACKBOT_ID
    )


@lru_cache(maxsize=512)
def _valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return False
    return True


def profile_from_user(user: dict[str, Any]) -> MemberProfile:
    """The neutral profile of a Slack user object.

    ``first_name``: ``profile.first_name``, else the first word of the real name.
    ``display_name``: ``profile.display_name``, else the real name, else the handle.
    ``timezone``: ``tz`` when it is a time zone this system knows, else None.
    """
    profile = _profile(user)
    real_name = _real_name(user)
    first_name = _text(profile.get("first_name"))
    if first_name is None and real_name is not None:
        first_name = real_name.split()[0]
    tz = _text(user.get("tz"))
    return MemberProfile(
        user_id=str(user["id"]),
        display_name=_text(profile.get("display_name")) or real_name or _text(user.get("name")),
        first_name=first_name,
        locale=_text(user.get("locale")),
        timezone=tz if tz is not None and _valid_zone(tz) else None,
        is_bot=user.get("is_bot") is True or user.get("id") == SLACKBOT_ID,
        profile_complete=is_profile_complete(user),
    )
