"""The feature contract: what a feature declares to the kernel, and the order features run in.

A feature (points, quizzes, the help desk...) is one :class:`Feature` object. Its class says
what it is: its :attr:`~Feature.name`, the ``/rallybot`` subcommands it answers
(:attr:`~Feature.commands`), the kinds of files it reads among the campaign files
(:attr:`~Feature.file_kinds`), the tables where it stores personal data
(:attr:`~Feature.personal_data`) and the features it must come after
(:attr:`~Feature.after`). A feature whose tables live in ``storage/<feature>_models.py`` needs
no edit elsewhere for them: :mod:`storage.models` imports every such module, and a table may
declare its privacy entry in its ``info`` (see the privacy feature's registry). A feature that
gives campaign steps a block of their own (``poll:``) registers a
:class:`campaigns.sections.StepSection` when its module is imported; the campaign files then
accept and check the block, and the feature reads it from the step with
:func:`campaigns.sections.section_of`. Its methods are hooks, each with a default that does nothing:
the event handlers it subscribes, what it does on reload, its periodic ticks (with every
dispatch, and hourly for retention), when it next has something to do, its outbox gates and
send-time renders, and the HTTP routes it serves.

The kernel (:mod:`bot.app`) is given one list of features and loops over it, in the order
:func:`ordered` returns; it names none of them. Per-feature state (a quiz feature's banks,
the help desk's FAQ index) lives in the feature object: a handler reaches it through the
context, typed, with ``ctx.feature(QuizFeature)``.

The design follows the plug-in declarations of chat bot frameworks (a Red-DiscordBot cog, an
errbot plug-in, a discord.py extension's ``setup``): a class the host instantiates once per
bot, whose hooks the host calls.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rallybot.bot.commands import CommandSpec
from rallybot.bot.events import Event
from rallybot.bot.messages import Message
from rallybot.bot.outbox import Gate, Render
from rallybot.campaigns.loader import LoadError
from rallybot.campaigns.words import Text, render

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from rallybot.bot.context import BotContext
    from rallybot.bot.http import HttpServer

__all__ = [
    "Feature",
    "FeatureOrderError",
    "FileKind",
    "NotServed",
    "RetentionTick",
    "Subscription",
    "Tick",
    "ordered",
]

Handler = Callable[[Any, "BotContext"], Awaitable[None]]
"""An event handler: ``handler(event, ctx)``."""

Tick = Callable[["BotContext"], Awaitable[object]]
"""A periodic task, run with every dispatch tick before the outbox is sent."""

RetentionTick = Callable[["BotContext"], Awaitable[int]]
"""An hourly task that deletes data past its retention period; returns how many records it
deleted (rows, or members erased)."""


@dataclass(frozen=True, slots=True)
class Subscription:
    """``handler`` is called for every inbound event of type ``event``. ``transactional``: it
    only reads and writes the database (no message, no platform call), so the bot may run it
    in a transaction shared with other events and the closing of their journal rows (see
    :class:`bot.router.Router`)."""

    event: type[Event]
    handler: Handler
    transactional: bool = False


@dataclass(frozen=True, slots=True)
class FileKind:
    """A kind of file found among the campaign files and read by a feature, not a campaign
    (a quiz bank, a FAQ): ``matches`` tells it by its content."""

    name: str
    matches: Callable[[Path], bool]


class FeatureOrderError(ValueError):
    """The features' ``after`` declarations cannot be satisfied (a cycle, an unknown name, a
    name used twice)."""


class Feature:
    """One feature of the bot. Subclasses set the class attributes and override the hooks
    they need; the defaults declare nothing and do nothing."""

    name: ClassVar[str] = ""
    """A short unique name (``points``, ``quiz``): for ``after``, logs and errors."""
    after: ClassVar[tuple[str, ...]] = ()
    """Features whose handlers, reload and ticks must run before this one's."""
    commands: ClassVar[tuple[CommandSpec, ...]] = ()
    """The ``/rallybot`` subcommands this feature answers (the one catalogue: Slack's help,
    Discord's application commands and the console read it)."""
    file_kinds: ClassVar[tuple[FileKind, ...]] = ()
    """The kinds of files this feature reads among the campaign files."""
    personal_data: ClassVar[tuple[str, ...]] = ()
    """The tables where this feature stores personal data: each has its entry in the privacy
    registry (the privacy feature's, or its table's ``info``), which "my data", "forget me" and
    the record of processing read."""

    def subscriptions(self) -> Sequence[Subscription]:
        """The event handlers, called in this order (and in feature order across features)."""
        return ()

    async def reload(self, ctx: BotContext, files: Mapping[str, Sequence[Path]]) -> list[LoadError]:
        """Re-read this feature's files once the campaigns are loaded; ``files`` maps each of
        :attr:`file_kinds` (by name) to its files. Returns the errors to report; a broken
        file keeps its last good version."""
        return []

    def ticks(self) -> Sequence[Tick]:
        """The periodic tasks (quiz windows to close, reminders due...)."""
        return ()

    def retention_ticks(self) -> Sequence[RetentionTick]:
        """The hourly tasks that delete data kept past its retention period (members gone
        from the roster, raw inbound events): the scheduler's retention job runs them."""
        return ()

    async def next_event_time(self, ctx: BotContext, horizon: datetime) -> datetime | None:
        """The next instant this feature has something to do before ``horizon`` (for the
        simulated clock); None when nothing."""
        return None

    def gates(self, ctx: BotContext) -> Sequence[Gate]:
        """Outbox gates: asked before a direct message goes (the first verdict wins)."""
        return ()

    def renders(self, ctx: BotContext) -> Sequence[Render]:
        """Send-time renders: each may rewrite a message whose payload has a ``render``
        marker it knows, just before it is sent."""
        return ()

    def prepare(self, ctx: BotContext, message: Message, occurrence: str) -> Message:
        """A planned message before it is written into the outbox (a survey signs its
        button): returns it, changed or not."""
        return message

    def routes(self, ctx: BotContext) -> Sequence[BaseRoute]:
        """HTTP routes (Starlette) served on the bot's HTTP server (:mod:`bot.http`)."""
        return ()

    async def serve(self, ctx: BotContext, server: HttpServer | None) -> HttpServer | None:
        """Start what this feature serves beside the chat once the bot runs (the web
        console), on the bot's HTTP ``server`` (None when it has none) or on a server of its
        own, which it returns: the runner stops that one first at shutdown. Raises
        :class:`NotServed` when it cannot serve it (its port is taken)."""
        return None


class NotServed(Exception):
    """What a feature serves beside the chat cannot be served (its port is taken): the runner
    tells the operator why, in their language, and runs on without it, as it does without
    its probes when their port is taken."""

    def __init__(self, message: Text) -> None:
        super().__init__(message)
        self.message = message

    def text(self, locale: str | None) -> str:
        """Why, in ``locale``'s language (the bot's catalogs; a feature whose words have a
        domain of their own says it from there)."""
        return render(self.message, locale)


def ordered(features: Iterable[Feature]) -> list[Feature]:
    """``features`` in an order where each comes after those its ``after`` names, otherwise
    in the given order; raises :class:`FeatureOrderError` on a cycle, an unknown name or a
    name used twice."""
    given = list(features)
    by_name: dict[str, Feature] = {}
    for feature in given:
        if not feature.name:
            raise FeatureOrderError(f"{type(feature).__name__} has no name")
        if feature.name in by_name:
            raise FeatureOrderError(f'two features are called "{feature.name}"')
        by_name[feature.name] = feature
    for feature in given:
        for name in feature.after:
            if name not in by_name:
                raise FeatureOrderError(
                    f'feature "{feature.name}" comes after "{name}", which is not installed'
                )
    result: list[Feature] = []
    placed: set[str] = set()
    visiting: list[str] = []

    def place(feature: Feature) -> None:
        if feature.name in placed:
            return
        if feature.name in visiting:
            cycle = [*visiting[visiting.index(feature.name) :], feature.name]
            raise FeatureOrderError("features wait for each other: " + " -> ".join(cycle))
        visiting.append(feature.name)
        for name in feature.after:
            place(by_name[name])
        visiting.pop()
        placed.add(feature.name)
        result.append(feature)

    for feature in given:
        place(feature)
    return result
