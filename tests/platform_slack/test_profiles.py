"""Member profiles from recorded real-format ``users.info`` / ``users.list`` answers."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from rallybot.bot.adapters.base import MemberProfile
from rallybot.bot.adapters.slack.profiles import (
    has_custom_photo,
    is_active_member,
    is_profile_complete,
    profile_from_user,
)

PAYLOADS = Path(__file__).parent / "payloads"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return data


@pytest.fixture
def ana() -> dict[str, Any]:
    user: dict[str, Any] = load("users_info_complete.json")["user"]
    return user


@pytest.fixture
def david() -> dict[str, Any]:
    user: dict[str, Any] = load("users_info_default_avatar.json")["user"]
    return user


@pytest.fixture
def members() -> dict[str, dict[str, Any]]:
    return {m["id"]: m for m in load("users_list.json")["members"]}


def test_a_complete_profile(ana: dict[str, Any]) -> None:
    assert profile_from_user(ana) == MemberProfile(
        user_id="U04ANAL1MA",
        display_name="ana",
        first_name="Ana",
        locale="fr-FR",
        timezone="Europe/Paris",
        is_bot=False,
        profile_complete=True,
    )


def test_blank_fields_fall_back_and_a_default_avatar_is_no_photo(david: dict[str, Any]) -> None:
    profile = profile_from_user(david)
    assert profile.display_name == "David"  # display_name is ""
    assert profile.first_name == "David"  # first_name is "": first word of the real name
    assert profile.locale is None  # asked without include_locale
    assert profile.timezone == "America/Montreal"
    assert not has_custom_photo(david)  # a Gravatar URL with Slack's default avatar
    assert profile.profile_complete is False


def test_users_list_members(members: dict[str, dict[str, Any]]) -> None:
    kenji = profile_from_user(members["U08KENJI01"])
    assert kenji.display_name == "Kenji"
    assert kenji.first_name == "Kenji"
    assert kenji.locale == "ja-JP"
    assert kenji.timezone == "Asia/Tokyo"
    # no is_custom_image key: an image on Slack's avatar host is an uploaded one
    assert kenji.profile_complete is True
    assert profile_from_user(members["U07RALLYBOT"]).is_bot is True
    assert profile_from_user(members["USLACKBOT"]).is_bot is True  # is_bot is false for it


def test_only_people_are_active_members(members: dict[str, dict[str, Any]]) -> None:
    active = [uid for uid, user in members.items() if is_active_member(user)]
    assert active == ["U08KENJI01"]  # not Slackbot, the bot, or the deactivated account


def test_a_deleted_user_without_tz_still_gives_a_profile(
    members: dict[str, dict[str, Any]],
) -> None:
    gone = profile_from_user(members["U06GONE01"])
    assert gone.display_name == "paul"
    assert gone.timezone is None
    assert gone.profile_complete is True


@pytest.mark.parametrize("missing", ["title", "real_name", "photo"])
def test_each_part_of_completeness_is_needed(ana: dict[str, Any], missing: str) -> None:
    user = copy.deepcopy(ana)
    if missing == "title":
        user["profile"]["title"] = "   "
    elif missing == "real_name":
        user["real_name"] = ""
        user["profile"]["real_name"] = None
    else:
        user["profile"]["is_custom_image"] = False
    assert is_profile_complete(user) is False
    assert profile_from_user(user).profile_complete is False


def test_is_custom_image_wins_over_the_url(david: dict[str, Any]) -> None:
    user = copy.deepcopy(david)
    user["profile"]["is_custom_image"] = True
    assert has_custom_photo(user)
    user["profile"].pop("is_custom_image")
    user["profile"]["image_original"] = "https://avatars.slack-edge.com/x_original.jpg"
    assert has_custom_photo(user)


def test_a_minimal_user_object() -> None:
    profile = profile_from_user({"id": "U1", "name": "jo"})
    assert profile == MemberProfile(user_id="U1", display_name="jo")
    assert profile_from_user({"id": "U2", "profile": None}).display_name is None


def test_an_unknown_time_zone_is_dropped(ana: dict[str, Any]) -> None:
    user = dict(ana, tz="Mars/Olympus_Mons")
    assert profile_from_user(user).timezone is None
    assert profile_from_user(dict(ana, tz=None)).timezone is None
