"""The community file at run time: its people found on the platform, its values laid over the
settings the features read.

The file wins over the old settings for single values (help channel, time zone...); managers
and buddies named in either place are all kept, so moving them to the file never locks anyone
out. A person the platform does not know is left out with one warning: the bot never mentions
``<@NAME>`` for a name that is no account.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from rallybot.bot import i18n
from rallybot.bot.config import Settings
from rallybot.bot.rota import NOT_FOUND
from rallybot.campaigns.community import Community, person_kind
from rallybot.storage.database import Database
from rallybot.storage.models import Member, table_of

__all__ = [
    "ANY",
    "LEGACY_SETTINGS",
    "ResolvedCommunity",
    "assume_found",
    "community_of",
    "legacy_notes",
    "members_by_email",
    "overlay",
    "resolve",
    "roster_settings",
]

log = logging.getLogger("rallybot.community")

LEGACY_SETTINGS = {
    "RALLYBOT_ADMINS": "managers",
    "RALLYBOT_HELPERS": "help: rota",
    "RALLYBOT_HELP_CHANNEL": "help: channel",
    "RALLYBOT_HELPERS_TIMEZONE": "help: timezone",
    "RALLYBOT_HELP_REMIND_MINUTES": "help: remind_after_minutes",
    "RALLYBOT_HELP_ESCALATE_MINUTES": "help: escalate_after_minutes",
    "RALLYBOT_ONBOARDING_BUDDIES": "onboarding: buddies",
    "RALLYBOT_ONBOARDING_ESCALATION_CHANNEL": "onboarding: escalation_channel",
    "RALLYBOT_ONBOARDING_ESCALATE_AFTER_DAYS": "onboarding: escalate_after_days",
    "RALLYBOT_MANAGERS_CHANNEL": "managers_channel",
    "RALLYBOT_CHANNELS": "channels",
    "RALLYBOT_LOCALE": "locale",
    "RALLYBOT_TIMEZONE": "timezone",
    "RALLYBOT_QUIET_HOURS": "quiet_hours",
    "RALLYBOT_RECOGNITION_CHANNEL": "recognition: channel",
}
"""Settings a community manager now writes in the community file: variable -> its place."""

_M = table_of(Member).c

ANY = "any"
"""The platform of the people :func:`assume_found` takes as found (``any:x@example.com``)."""

Lookup = Callable[[str], Awaitable[str | None]]


@dataclass
class ResolvedCommunity:
    """A community file with the platform ids of the people it names."""

    community: Community
    platform: str
    ids: dict[str, str] = field(default_factory=dict)  # as written -> "platform:id"
    unresolved: list[str] = field(default_factory=list)

    def of(self, people: list[str]) -> list[str]:
        """The ``platform:id`` of each person found, in order."""
        return [self.ids[person] for person in people if person in self.ids]


async def resolve(
    community: Community,
    adapter: Any,
    platform: str,
    *,
    members: Lookup | None = None,
    warn: bool = True,
) -> ResolvedCommunity:
    """Find each person of the file on the platform: ``platform:id`` as written, an email
    through the adapter's ``lookup_by_email`` (Slack) or, on a platform without one (the
    console, Discord), through ``members`` (the members a roster brought with that e-mail,
    see :func:`members_by_email`), a ``@handle`` through its ``lookup_member`` (Discord).
    ``warn``: log the people not found (off while a roster that may bring them is still to
    be read)."""
    result = ResolvedCommunity(community, platform)
    by_email: Lookup | None = getattr(adapter, "lookup_by_email", None) or members
    by_name: Lookup | None = getattr(adapter, "lookup_member", None)
    for person in community.people():
        kind = person_kind(person)
        found: str | None = None
        if kind == "id":
            named_platform, _, user_id = person.partition(":")
            found = user_id if named_platform == platform else None
        else:
            lookup = by_email if kind == "email" else by_name
            text = person if kind == "email" else person.removeprefix("@")
            if lookup is not None:
                try:
                    found = await lookup(text)
                except Exception:  # a lookup that fails finds nobody; the bot goes on
                    log.warning("community file: could not look a person up on %s", platform)
                    found = None
        if found:
            result.ids[person] = f"{platform}:{found}"
        else:
            result.unresolved.append(person)
    for person in result.unresolved if warn else ():
        # The person's words are the community manager's own file, not a member's message.
        log.warning(
            "community file %s: %s is not a %s account; nobody is named in their place",
            community.source,
            person,
            platform,
        )
    return result


def members_by_email(db: Database, platform: str) -> Lookup:
    """A lookup of the user id of the member of ``platform`` with that e-mail (any case), as
    a roster imported it; None when no member (or several) has it. The console platform's
    members come from the rosters only, so this is how the file's e-mails find them."""

    async def lookup(email: str) -> str | None:
        async with db.read() as session:
            found = (
                (
                    await session.execute(
                        sa.select(_M.platform_user_id)
                        .where(
                            _M.platform == platform,
                            sa.func.lower(_M.email) == email.strip().lower(),
                            _M.forgotten.is_(False),
                        )
                        .limit(2)
                    )
                )
                .scalars()
                .all()
            )
        # Two members with one e-mail: naming either could be wrong, so neither is named.
        return found[0] if len(found) == 1 else None

    return lookup


def assume_found(community: Community) -> ResolvedCommunity:
    """The file's people taken as found (``validate`` checks the set-up without a platform:
    who would be told, not whether each account exists)."""
    result = ResolvedCommunity(community, ANY)
    for person in community.people():
        result.ids[person] = person if person_kind(person) == "id" else f"{ANY}:{person}"
    return result


def _rota(resolved: ResolvedCommunity) -> str | None:
    spec = resolved.community.spec.help
    if spec is None or not spec.rota:
        return None
    slots = []
    for slot in spec.rota:
        # A person not found stays in the slot, marked: dropping them (and an emptied slot)
        # made the help desk say "nobody, outside the rota's hours" during those hours and
        # the help clocks run day and night.
        people = [resolved.ids.get(p, f"{NOT_FOUND}:{p}") for p in slot.people]
        slots.append(f"{slot.days} {slot.hours} {','.join(people)}")
    return "; ".join(slots)


def overlay(settings: Settings, resolved: ResolvedCommunity) -> Settings:
    """``settings`` with the community file's values (see the module's rules)."""
    spec = resolved.community.spec
    update: dict[str, Any] = {}
    for name in ("locale", "timezone", "quiet_hours", "managers_channel"):
        value = getattr(spec, name)
        if value is not None:
            update[name] = value
    if spec.managers:
        update["admins"] = list(dict.fromkeys([*settings.admins, *resolved.of(spec.managers)]))
    if spec.channels:
        update["channel_map"] = {**settings.channel_map, **spec.channels}
    if spec.help is not None:
        update["help_channel"] = spec.help.channel
        if spec.help.timezone is not None:
            update["helpers_timezone"] = spec.help.timezone
        rota = _rota(resolved)
        if rota is not None:
            update["helpers"] = rota
        if spec.help.remind_after_minutes is not None:
            update["help_remind_minutes"] = spec.help.remind_after_minutes
        if spec.help.escalate_after_minutes is not None:
            update["help_escalate_minutes"] = spec.help.escalate_after_minutes
    if spec.recognition is not None:
        update["recognition_channel"] = spec.recognition.channel
        update["recognition_feed"] = spec.recognition.feed
        update["recognition_at"] = spec.recognition.at
    if spec.onboarding is not None:
        buddies = [ref.split(":", 1)[1] for ref in resolved.of(spec.onboarding.buddies)]
        if buddies:
            update["onboarding_buddies"] = list(
                dict.fromkeys([*settings.onboarding_buddies, *buddies])
            )
        if spec.onboarding.escalation_channel is not None:
            update["onboarding_escalation_channel"] = spec.onboarding.escalation_channel
        if spec.onboarding.escalate_after_days is not None:
            update["onboarding_escalate_after_days"] = spec.onboarding.escalate_after_days
    return settings.model_copy(update=update)


def legacy_notes(environment: dict[str, str], locale: str | None = None) -> list[str]:
    """One note for each old setting that a community manager now writes in the community
    file (it keeps working), in ``locale``'s language (English by default)."""
    # Translators: {name} is a setting (RALLYBOT_ADMINS), {place} its key in the community
    # file (managers); both stay as they are.
    note = i18n.gettext(
        locale,
        "note: {name} still works; it belongs in the community file now ({place}), where a "
        "community manager can change it",
    )
    return [
        note.format(name=name, place=place)
        for name, place in LEGACY_SETTINGS.items()
        if environment.get(name, "").strip()
    ]


def community_of(settings: Settings) -> Community | None:
    """The community file of the campaigns folder (RALLYBOT_CAMPAIGNS_DIR), or None (none, or
    a broken one: the environment's settings still stand)."""
    # Imported here: the campaign loader's module imports this one.
    from rallybot.bot.app import campaign_files  # noqa: PLC0415
    from rallybot.campaigns.community import load_community  # noqa: PLC0415
    from rallybot.campaigns.loader import is_community_file  # noqa: PLC0415

    if not settings.campaigns_dir.exists():
        return None
    files = [p for p in campaign_files([settings.campaigns_dir]) if is_community_file(p)]
    if not files:
        return None
    try:
        return load_community(files[0])
    except Exception as exc:  # a broken file: the environment's settings still stand
        log.warning("community file %s not used: %s", files[0], exc)
        return None


async def roster_settings(settings: Settings, db: Database) -> Settings:
    """``settings`` with the community file laid over them, the people it names by e-mail
    found among the members a roster brought (as the bot finds them on the console platform):
    a manager named ``animation@example.com`` is ``console:animation`` when the roster lists
    them. Without a chat platform to ask (``rallybot console``, ``console link``,
    ``report``), this is who the file names; someone no roster lists stays ``any:<e-mail>``,
    which is no account."""
    community = community_of(settings)
    if community is None:
        return settings
    resolved = assume_found(community)
    async with db.read() as session:
        platforms = (await session.execute(sa.select(_M.platform).distinct())).scalars().all()
    lookups = [(platform, members_by_email(db, platform)) for platform in sorted(platforms)]
    for person in community.people():
        if person_kind(person) != "email":
            continue
        for platform, lookup in lookups:
            found = await lookup(person)
            if found:
                resolved.ids[person] = f"{platform}:{found}"
                break
    return overlay(settings, resolved)
