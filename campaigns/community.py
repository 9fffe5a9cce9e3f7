"""The community file: who runs the community and how, in git beside the campaigns.

A community manager, not the administrator, owns these: the community managers, the help
channel and its rota of named helpers, the buddies, the escalation and managers' channels, the
channel map, the default language, time zone, quiet hours and how roster dates read. People are
named as a person would name them — a work email (``first.last@example.com``), a platform
handle (``@first.last``) — or by platform id (``slack:U0123ABC``); the bot finds their accounts
on the platform when it starts (:mod:`rallybot.bot.community`).

A file is a community file when it has a top-level ``community:`` key::

    community: connect
    locale: fr
    timezone: Europe/Paris
    managers: [cm@example.com]
    help:
      channel: connect-aide
      rota:
        - {days: mon-fri, hours: "09:00-18:00", people: [helper1@example.com, "@helper2"]}
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from rallybot.campaigns.base import Identifier, Strict
from rallybot.campaigns.loader import (
    CampaignLoadError,
    DocumentKind,
    is_community_file,
    is_community_text,
    yaml_files,
)
from rallybot.campaigns.words import N_
from rallybot.campaigns.zones import is_zone, zone_problem

__all__ = [
    "Community",
    "CommunitySpec",
    "Person",
    "is_community_file",
    "is_community_text",
    "load_community",
    "load_community_text",
    "person_kind",
    "roster_date_format",
]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HANDLE = re.compile(r"^@[\w.\-]{1,80}$")
_PLATFORM_ID = re.compile(r"^(slack|discord|console|memory):[\w.\-]{1,80}$")
_DAYS = re.compile(
    r"^(daily|(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?"
    r"(,(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?)*)$"
)
_HOURS = re.compile(r"^([01]?\d|2[0-3]):[0-5]\d-([01]?\d|2[0-3]):[0-5]\d$")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):[0-5]\d-([01]?\d|2[0-3]):[0-5]\d$|^off$")


def person_kind(text: str) -> Literal["email", "handle", "id"] | None:
    """How a person is named: ``email``, ``handle`` (``@name``), ``id`` (``slack:U0123``)."""
    if _PLATFORM_ID.match(text):
        return "id"
    if _EMAIL.match(text):
        return "email"
    if _HANDLE.match(text):
        return "handle"
    return None


def _person(text: str) -> str:
    text = text.strip()
    if person_kind(text) is None:
        raise ValueError(
            N_(
                '"{text}" names nobody the bot can find: write their work email '
                "(first.last@example.com), their platform handle (@first.last) or "
                "their platform id (slack:U0123ABC)",
                text=text,
            )
        )
    return text


Person = Annotated[str, AfterValidator(_person)]
"""A person: an email, a ``@handle`` or a ``platform:id``."""


def _zone(value: str | None) -> str | None:
    if value is not None and not is_zone(value):
        raise ValueError(zone_problem(value))
    return value


def _days(value: str) -> str:
    if not _DAYS.match(value.strip().lower()):
        raise ValueError(
            N_(
                '"{value}" is not a set of days: write mon-fri, sat, mon,wed,fri or daily',
                value=value,
            )
        )
    return value.strip().lower()


def _hours(value: str) -> str:
    if not _HOURS.match(value.strip()):
        raise ValueError(
            N_(
                '"{value}" is not a time window: write it like 09:00-18:00',
                value=value,
            )
        )
    return value.strip()


def _quiet(value: str | None) -> str | None:
    if value is not None and not _CLOCK.match(value.strip().lower()):
        raise ValueError(
            N_(
                '"{value}" is not a quiet-hours window: write 21:00-08:00 or off',
                value=value,
            )
        )
    return value


class RotaSpec(Strict):
    """Helpers on duty on some days between two local times."""

    days: Annotated[str, AfterValidator(_days)]
    hours: Annotated[str, AfterValidator(_hours)]
    people: list[Person] = Field(min_length=1, max_length=50)


class HelpSpec(Strict):
    """The help channel: where questions are asked and who answers them, when."""

    channel: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    timezone: Annotated[str | None, AfterValidator(_zone)] = None
    rota: list[RotaSpec] = Field(default_factory=list, max_length=50)
    remind_after_minutes: Annotated[int, Field(ge=1)] | None = None
    escalate_after_minutes: Annotated[int, Field(ge=1)] | None = None


class OnboardingSpec(Strict):
    """Who newcomers are paired with, and where stuck journeys are told."""

    buddies: list[Person] = Field(default_factory=list, max_length=500)
    escalation_channel: str | None = None
    escalate_after_days: Annotated[int, Field(ge=0)] | None = None


def _at(value: str) -> str:
    if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value.strip()):
        raise ValueError(
            N_(
                '"{value}" is not a time of day: write it like 17:00',
                value=value,
            )
        )
    return value.strip()


class RecognitionSpec(Strict):
    """Where kudos are celebrated for everyone to see: each as it is given (``live``), or the
    day's kudos in one post at ``at`` (``daily``, in the community's time zone)."""

    channel: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    feed: Literal["live", "daily"] = "live"
    at: Annotated[str, AfterValidator(_at)] = "17:00"


class CommunitySpec(Strict):
    """A whole community file, as written."""

    community: Identifier
    locale: (
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")] | None
    ) = None
    timezone: Annotated[str | None, AfterValidator(_zone)] = None
    quiet_hours: Annotated[str | None, AfterValidator(_quiet)] = None
    date_format: Literal["auto", "day-first", "month-first"] | None = None
    managers: list[Person] = Field(default_factory=list, max_length=100)
    managers_channel: str | None = None
    channels: dict[Identifier, str] = Field(default_factory=dict)
    help: HelpSpec | None = None
    onboarding: OnboardingSpec | None = None
    recognition: RecognitionSpec | None = None


@dataclass(frozen=True)
class Community:
    """A validated community file."""

    spec: CommunitySpec
    source: str

    def places(self) -> dict[str, tuple[str | int, ...]]:
        """Where each person is first named in the file (a path for error messages)."""
        found: dict[str, tuple[str | int, ...]] = {}
        for index, person in enumerate(self.spec.managers):
            found.setdefault(person, ("managers", index))
        if self.spec.help is not None:
            for slot_index, slot in enumerate(self.spec.help.rota):
                for index, person in enumerate(slot.people):
                    found.setdefault(person, ("help", "rota", slot_index, "people", index))
        if self.spec.onboarding is not None:
            for index, person in enumerate(self.spec.onboarding.buddies):
                found.setdefault(person, ("onboarding", "buddies", index))
        return found

    def people(self) -> list[str]:
        """Everyone the file names, once each, in order."""
        named: list[str] = list(self.spec.managers)
        if self.spec.help is not None:
            for slot in self.spec.help.rota:
                named.extend(slot.people)
        if self.spec.onboarding is not None:
            named.extend(self.spec.onboarding.buddies)
        return list(dict.fromkeys(named))


_EMPTY = N_("the file is empty: a community file needs at least community: (its id)")
_KEYS = "community: ..., managers: ..., help: ..."


_COMMUNITY = DocumentKind(CommunitySpec, Community, _EMPTY, _KEYS)


def load_community_text(text: str | bytes, source: str) -> Community:
    """Load a community file from memory; raises :class:`CampaignLoadError` with every
    mistake."""
    return _COMMUNITY.load_text(text, source)


def roster_date_format(paths: Iterable[str | Path]) -> str:
    """How roster dates read for the files at ``paths`` (files or folders): the community
    file's ``date_format`` when one is among them and says so, else ``auto``."""
    for path in yaml_files(paths):
        if is_community_file(path):
            try:
                return load_community(path).spec.date_format or "auto"
            except CampaignLoadError:
                return "auto"  # validate reports the file's errors
    return "auto"


def load_community(path: str | Path) -> Community:
    """Load the community file at ``path``; raises :class:`CampaignLoadError`."""
    return _COMMUNITY.load(path)
