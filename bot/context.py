"""What a feature handler may use of the running bot: the :class:`BotContext` protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from rallybot.bot import formats, i18n
from rallybot.bot.adapters.base import Adapter
from rallybot.bot.clock import Clock
from rallybot.bot.config import Settings
from rallybot.bot.events import CommandInvoked, UserRef
from rallybot.campaigns.loader import LoadError, errors_as_read
from rallybot.campaigns.planner import PlannedDelivery
from rallybot.campaigns.schema import Campaign
from rallybot.storage.database import Database
from rallybot.storage.models import Member
from rallybot.storage.repositories import get_member_by_platform_id, get_or_create_member

if TYPE_CHECKING:
    from rallybot.bot.commands import CommandSpec
    from rallybot.bot.feature import Feature

__all__ = [
    "BotContext",
    "ReloadReport",
    "locale_for",
    "member_for",
    "preferred_locale",
    "user_locale",
]

F = TypeVar("F", bound="Feature")


@dataclass
class ReloadReport:
    """What a (re)load of the campaign files did."""

    loaded: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # broken files whose last good version stays
    removed: list[str] = field(default_factory=list)  # files missing: held, see bot/reloads.py
    errors: list[LoadError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # steps that look renamed, for example
    cancelled: int = 0
    replanned: int = 0
    restored: int = 0  # cancelled messages back because their step or file came back

    def summary(self, locale: str | None = None) -> str:
        """A short human summary, in ``locale`` (English by default, as in the logs)."""

        n = formats.number
        loaded = len(self.loaded)
        parts = [
            i18n.ngettext(locale, "{n} campaign loaded", "{n} campaigns loaded", loaded).format(
                n=n(locale, loaded)
            )
        ]
        if self.kept:
            text = i18n.gettext(locale, "kept the previous version of {campaigns} (errors below)")
            parts.append(text.format(campaigns=", ".join(self.kept)))
        if self.removed:
            text = i18n.gettext(
                locale,
                "file missing for {campaigns} (its messages wait for it; cancelled if it "
                "stays away)",
            )
            parts.append(text.format(campaigns=", ".join(self.removed)))
        # (the words for a count, the count): only the counts above zero are said
        counts = [
            (
                i18n.ngettext(
                    locale,
                    "{n} pending message cancelled",
                    "{n} pending messages cancelled",
                    self.cancelled,
                ),
                self.cancelled,
            ),
            (
                i18n.ngettext(
                    locale,
                    "{n} pending message rewritten",
                    "{n} pending messages rewritten",
                    self.replanned,
                ),
                self.replanned,
            ),
            (
                i18n.ngettext(
                    locale,
                    "{n} cancelled message back with its step",
                    "{n} cancelled messages back with their step",
                    self.restored,
                ),
                self.restored,
            ),
        ]
        parts += [text.format(n=n(locale, count)) for text, count in counts if count]
        text = "; ".join(parts) + "."
        if self.errors and locale is None:  # the logs: the loader's path, in English
            text += "\n" + "\n".join(str(e) for e in self.errors)
        elif self.errors:  # a person: where as they read the file, in their language
            text += "\n" + "\n".join(e.text(locale) for e in errors_as_read(self.errors, locale))
        if self.warnings:
            # Translators: before a warning about a campaign file (a step that looks renamed).
            warning = i18n.gettext(locale, "warning: {warning}")
            text += "\n" + "\n".join(warning.format(warning=w) for w in self.warnings)
        return text


class BotContext(Protocol):
    """Storage, clock, adapter and settings, plus the few services handlers share; a
    feature's own state is in its feature object (:meth:`feature`)."""

    db: Database
    clock: Clock
    adapter: Adapter
    settings: Settings
    campaigns: dict[str, Campaign]
    commands: tuple[CommandSpec, ...]
    """Every ``/rallybot`` subcommand the features declare, in help order."""

    async def answer(self, event: CommandInvoked, text: str) -> None:
        """Reply privately to the person who ran a command."""
        ...

    def feature(self, kind: type[F]) -> F:
        """The running instance of the feature class ``kind`` (LookupError without it)."""
        ...

    def channel_ids(self, campaign: Campaign) -> dict[str, str]:
        """Logical channel name -> platform channel id (settings override the file)."""
        ...

    def is_admin(self, user: UserRef) -> bool:
        """Whether ``user`` is a community manager."""
        ...

    def handles_command(self, name: str) -> bool:
        """Whether a feature registered the command ``name``."""
        ...

    async def reload(self) -> ReloadReport:
        """Re-read the campaign files."""
        ...

    def request_plan(self) -> None:
        """Ask for a planning pass soon."""
        ...

    def delivery_row(self, delivery: PlannedDelivery, now: datetime) -> dict[str, Any]:
        """The outbox row of a planned delivery, as the planner writes it."""
        ...

    async def member_join_date(self, platform: str, user_id: str) -> datetime | None:
        """When a member joined, if known."""
        ...


async def member_for(ctx: BotContext, user: UserRef) -> Member:
    """The member behind a platform user (created on first sight, named after the user)."""
    return await get_or_create_member(
        ctx.db,
        user.platform,
        user.id,
        ctx.clock.now(),
        display_name=user.name or user.id,
        is_bot=user.is_bot,
    )


def preferred_locale(member: Member | None, campaign: Campaign | None, default: str) -> str:
    """The language to speak to ``member`` in: their own locale, else the campaign's (when
    the words belong to one), else ``default``."""
    return (
        (member.locale if member is not None else None)
        or (campaign.spec.locale if campaign is not None else None)
        or default
    )


def locale_for(
    ctx: BotContext, member: Member | None = None, campaign: Campaign | None = None
) -> str:
    """:func:`preferred_locale` with the bot's default (``RALLYBOT_LOCALE``) last."""
    return preferred_locale(member, campaign, ctx.settings.locale)


async def user_locale(ctx: BotContext, user: UserRef) -> str:
    """:func:`locale_for` the member behind a platform user (a manager running a command, for
    example), without recording anyone: the bot's default for a user it does not know."""
    return locale_for(ctx, await get_member_by_platform_id(ctx.db, user.platform, user.id))
