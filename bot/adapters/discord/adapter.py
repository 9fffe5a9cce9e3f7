"""The ``discord`` platform on discord.py 2.x: gateway events in, REST sends out.

Inbound, the gateway's events become the neutral events of :mod:`bot.events`; outbound, the
neutral :class:`~bot.messages.Message` goes through the pure renderer of
:mod:`bot.adapters.discord.render`. See :class:`DiscordAdapter` for the intents, the
idempotency of sends and what Discord cannot tell the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import io
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, Literal, Optional

import aiohttp
import discord
from discord import app_commands
from discord.http import Route

from rallybot.bot import i18n
from rallybot.bot.adapters.base import (
    AdapterError,
    Capabilities,
    EventSink,
    MemberProfile,
    PlatformStartError,
    SentMessage,
    TransientSendError,
    when_recorded,
)
from rallybot.bot.adapters.discord.render import (
    RenderedMessage,
    member_markdown,
    nonce_for,
    parse_custom_id,
    render_message,
)
from rallybot.bot.clock import Clock
from rallybot.bot.commands import CommandSpec, args_from_options
from rallybot.bot.config import Settings
from rallybot.bot.events import (
    ButtonClicked,
    ChannelRef,
    CommandInvoked,
    Event,
    FileRef,
    FormSubmitted,
    MemberJoined,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ProfileChanged,
    ReactionAdded,
    ReactionRemoved,
    UserRef,
)
from rallybot.bot.i18n import N_
from rallybot.bot.messages import Form, Message
from rallybot.bot.metrics import METRICS
from rallybot.bot.ratelimit import RateLimiter, Rule
from rallybot.storage.database import Database
from rallybot.storage.repositories import list_states, load_dm_channels, set_dm_channel

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_REQUESTS_PER_SECOND",
    "WEBHOOK_NAME",
    "DiscordAdapter",
    "DiscordStartError",
    "build_client",
    "build_intents",
    "files_of",
]

log = logging.getLogger("rallybot.discord")

# What discord.py raises on a payload with a missing or wrongly typed field.
_MALFORMED = (AttributeError, KeyError, LookupError, TypeError, ValueError)


class SinkFailedError(RuntimeError):
    """The bot failed on a well-formed event (not dropped as a malformed payload)."""


_GUARDED_PAYLOADS = (
    "MESSAGE_CREATE",
    "MESSAGE_UPDATE",
    "MESSAGE_DELETE",
    "MESSAGE_REACTION_ADD",
    "MESSAGE_REACTION_REMOVE",
    "GUILD_MEMBER_ADD",
    "GUILD_MEMBER_UPDATE",
    "INTERACTION_CREATE",
)

PLATFORM = "discord"
DEFAULT_API_URL = Route.BASE
"""discord.py's REST base; ``DISCORD_API_URL`` replaces it for proxies and local test servers."""
DEFAULT_REQUESTS_PER_SECOND = 48.0
"""Outbox pacing: below Discord's global limit of 50 requests per second per bot (with a
burst of two, never more than 50 requests in any one-second window)."""
PACING_BURST = 2  # absorbs a late wake-up of the pacing timer without exceeding the limit
WEBHOOK_NAME = "Rallybot"
"""The channel webhook through which messages with a named sender go out."""
READY_TIMEOUT = 60.0
INTERACTIONS_KEPT = 1000  # pending command interactions remembered for respond()
SENT_KEPT = 10_000  # keys of recent sends remembered for find_sent()
DM_CHANNELS_KEPT = 100_000  # user id -> DM channel id, so a fan-out opens each DM once
WEBHOOK_LOOKBACK = 25  # latest channel messages searched for an interrupted webhook send
CLICK_ACK_GRACE = 1.5
"""Seconds a button click may stay unanswered while its handlers run (Discord allows 3): a
handler may answer it with a form (a modal can only be the first answer); otherwise the
click is acknowledged when the handlers are done or when this grace runs out."""
FORM_PREFIX = "rallybot-form:"
"""The custom id of a modal opened for a :class:`~bot.messages.Form` is this + its id."""
MAX_RATELIMIT_WAIT = 30.0  # longer 429 waits go back to the outbox (TransientSendError)
_MENTION = re.compile(r"<@!?(\d+)>")


_OPTION_TYPES: dict[str, Any] = {"text": str, "member": discord.User, "flag": bool}
"""The application command option type of each kind of catalogue parameter."""


class DiscordStartError(PlatformStartError):
    """The adapter cannot start: missing token or guild, refused login, intents not enabled."""


def build_intents() -> discord.Intents:
    """The gateway intents Rallybot asks for (see :class:`DiscordAdapter`)."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    intents.guild_reactions = True
    intents.dm_reactions = True
    intents.members = True  # privileged: member joins and the member list of channels
    intents.message_content = True  # privileged: the text of channel messages
    return intents


def build_client() -> discord.Client:
    """A discord.py client with Rallybot's intents.

    discord.py sleeps through 429 answers itself; one that asks to wait longer than
    :data:`MAX_RATELIMIT_WAIT` raises instead, and the outbox retries that send later.
    """
    return discord.Client(
        intents=build_intents(),
        max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
        # No send may mention everyone, here or a role; each send names its users itself.
        allowed_mentions=discord.AllowedMentions.none(),
    )


class CatalogTranslator(app_commands.Translator):
    """The descriptions of ``/rallybot`` and its subcommands in each Discord client's language,
    from the gettext catalogs (Discord shows a member the ones of their client's locale).
    Names stay as they are: a command is typed the same in every language."""

    _DESCRIPTIONS = frozenset(
        {
            app_commands.TranslationContextLocation.command_description,
            app_commands.TranslationContextLocation.group_description,
            app_commands.TranslationContextLocation.parameter_description,
        }
    )

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        """``string`` in ``locale``'s language, or None (Discord then shows the English)."""
        if context.location not in self._DESCRIPTIONS:
            return None
        translated = i18n.gettext(locale.value, string.message)
        return translated[:100] if translated != string.message else None


class DiscordAdapter:
    """The :class:`~bot.adapters.base.Adapter` for Discord.

    **Gateway intents.** ``guilds``, ``guild_messages``, ``dm_messages``, ``guild_reactions``,
    ``dm_reactions``, and two privileged ones to switch on in the Developer Portal (Bot >
    Privileged Gateway Intents): *Server Members* (``members``), for member joins
    (``on_member_join``) and the member lists behind :meth:`channel_members`; and *Message
    Content* (``message_content``), because features read what members write in channels: the
    help channel answers questions and quizzes check typed answers. Without it Discord sends
    channel messages with empty text (direct messages and mentions of the bot keep theirs).

    **Inbound.** Messages (channels, threads, DMs; bots, webhooks and the bot itself are
    skipped) become :class:`~bot.events.MessagePosted` with the message id as event id (and
    its attachments as ``files``, links only); a
    message in a thread is in the thread's parent channel with the thread id as
    ``thread_id``, and a reply has the message it answers as ``thread_id``. Edits
    (``on_raw_message_edit``, with an ``edited_timestamp``) become
    :class:`~bot.events.MessageEdited` (``edit:<id>:<edited_timestamp>``), deletions
    (``on_raw_message_delete``) :class:`~bot.events.MessageDeleted` (``delete:<id>``; the
    author only when discord.py still had the message in its cache).
    Reactions come from ``on_raw_reaction_add``/``remove``, which fire for messages that are
    not in discord.py's cache; Discord gives reaction events no id, so the event id is derived
    from the message, the user, the emoji and the kind: a repeated delivery of the same
    reaction is recognised by the router (and so is putting the same reaction back after
    taking it off, which a campaign counts once). Member joins are keyed by guild, user and
    join time. Button clicks are handled from the component custom id alone
    (:func:`~bot.adapters.discord.render.parse_custom_id`), never from an in-memory view, so
    buttons of messages sent before a restart keep working; the interaction id is the event id.
    A click is acknowledged (a deferred update) once recorded in the bot's inbound journal,
    when its handlers are done, or :data:`CLICK_ACK_GRACE` seconds after it arrived if they are
    slow, well within Discord's 3 seconds: until
    then a handler may answer it with a form (:meth:`open_form`, a modal, which can only be
    the first answer); the submitted modal becomes :class:`~bot.events.FormSubmitted`.
    ``/rallybot`` is an application command group synced to each configured guild at start,
    with one subcommand per entry of the features' catalogue (:func:`bot.commands.catalogue`,
    given by the kernel through :meth:`declare_commands`); the options' values become
    the words a Slack user would have typed (a picked member becomes ``<@id>``, as handlers
    read mentions). The invocation is deferred (ephemeral) as soon as it is recorded, and
    :meth:`respond` sends the private answer; a submitted form likewise. An interaction the bot
    could not record is not acknowledged: Discord shows that it failed, and the member tries
    again (Discord never sends an interaction twice).

    **Outbound.** Every post and direct message carries a nonce derived from the outbox key
    (:func:`~bot.adapters.discord.render.nonce_for`); discord.py 2.7 sends
    ``enforce_nonce: true`` with every nonce (``Messageable.send`` has no switch for it), so a
    retried send returns the message Discord already created instead of a second one. A
    message with a named sender goes through a channel webhook named ``Rallybot`` with the
    sender's name and avatar; Discord's webhook endpoint takes no nonce, so before resending
    an interrupted webhook post (the outbox asks :meth:`find_sent` first) the adapter looks
    for an identical message of its webhook among the channel's latest 25.
    discord.py waits on 429 answers per route and globally; on top of that, sends are paced
    by a token bucket below the global limit of 50 requests per second.

    **Profiles.** Discord has no member time zone or locale: :meth:`fetch_profile` gives the
    display name only; the bot's default time zone and locale apply. A profile is complete
    with an avatar of one's own or a server nickname; a member update that changes the name,
    the nickname or an avatar (``on_member_update``) becomes
    :class:`~bot.events.ProfileChanged`.

    Args:
        settings: token (``DISCORD_TOKEN``), guild ids, API base URL, channel map.
        db: the database, for the campaign ids ``/rallybot pause`` and ``resume`` suggest
            while typing, and where DM channel ids are kept (``Member.dm_channel_id``): a DM
            channel is opened once per member, not once per process.
        clock: used for the time of events Discord does not timestamp (reactions).
        http_port: unused (Discord events come over the gateway).
        client: a ready-made client; when it already has a user (tests inject one logged in
            to a local server, or a dpytest client), :meth:`start` neither logs in nor opens
            the gateway.
        requests_per_second: the outbox pacing rate.
        ready_timeout: how long :meth:`start` waits for the gateway's READY.
        sync_commands: whether :meth:`start` registers ``/rallybot`` in the servers.
    """

    platform = PLATFORM

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database | None = None,
        clock: Clock,
        http_port: int | None = None,
        client: discord.Client | None = None,
        requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND,
        ready_timeout: float = READY_TIMEOUT,
        sync_commands: bool = True,
        commands: Sequence[CommandSpec] = (),
    ) -> None:
        del http_port  # the gateway needs no listening port
        if settings.discord_token is None and client is None:
            raise DiscordStartError(
                "DISCORD_TOKEN is not set: copy the bot token from the Discord Developer "
                "Portal (your application > Bot > Reset Token) into DISCORD_TOKEN"
            )
        if not settings.discord_guild_ids:
            raise DiscordStartError(
                "no Discord server configured: set DISCORD_GUILD_IDS to your server id "
                "(Discord > User Settings > Advanced > Developer Mode, then right-click the "
                "server > Copy Server ID); several ids are separated by commas"
            )
        api_url = settings.discord_api_url.rstrip("/")
        if api_url != DEFAULT_API_URL:
            # For proxies and local test servers. Route.BASE is discord.py's process-wide REST
            # base: REST calls, webhooks and interaction callbacks all go through it.
            Route.BASE = api_url
        self.settings = settings
        self.db = db
        self.clock = clock
        self.guild_ids = frozenset(settings.discord_guild_ids)
        self.capabilities = Capabilities(
            buttons=True,
            images=True,
            named_sender=True,
            pins=True,
            threads=True,
            ephemeral=True,
            idempotent_send=True,
            confirms_sends=False,
            max_sends_per_second=requests_per_second,
        )
        self.limiter = RateLimiter(
            {"global": Rule(rate=requests_per_second, burst=PACING_BURST)}, platform=PLATFORM
        )
        self.ready_timeout = ready_timeout
        self.sync_commands = sync_commands
        self.client = client or build_client()
        # discord.py allows one command tree per client: declare_commands fills it again.
        self.tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(self.client)
        self.declare_commands(commands)
        self._sink: EventSink | None = None
        self._gateway: asyncio.Task[None] | None = None
        self._owns_client = client is None
        self._webhooks: dict[int, discord.Webhook] = {}
        self._webhook_locks: dict[int, asyncio.Lock] = {}
        self._webhook_messages: OrderedDict[int, discord.Webhook] = OrderedDict()
        self._interactions: OrderedDict[str, discord.Interaction[discord.Client]] = OrderedDict()
        self._dm_channels: OrderedDict[int, int] = OrderedDict()  # user id -> DM channel id
        self._dm_channels_loaded = False
        self._ack_locks: dict[str, asyncio.Lock] = {}  # clicks whose handlers are running
        self._malformed: dict[str, tuple[float, int]] = {}  # payload kind -> (logged, since)
        self._sent: OrderedDict[tuple[str, str], SentMessage] = OrderedDict()
        self._retrying: OrderedDict[tuple[str, str], bool] = OrderedDict()
        self._install_listeners()

    # -- life cycle ---------------------------------------------------------------------

    async def start(self, sink: EventSink) -> None:
        """Log in, connect to the gateway, sync ``/rallybot``; returns once READY."""
        self._sink = sink
        await self._load_dm_channels()
        client = self.client
        if client.user is None:  # an injected client with a user is used as it is
            await self._connect()
        if self.sync_commands:
            await self._sync_commands()
        log.info(
            "connected to Discord as %s; servers: %d",
            client.user,
            len(self.guild_ids),
        )

    async def _connect(self) -> None:
        token = self.settings.discord_token
        if token is None:
            raise DiscordStartError("DISCORD_TOKEN is not set")
        try:
            await self.client.login(token.get_secret_value())
        except discord.LoginFailure as exc:
            await self.client.close()
            raise DiscordStartError(
                "Discord refused the token in DISCORD_TOKEN: copy it again from the "
                "Developer Portal (Bot > Reset Token)"
            ) from exc
        except (aiohttp.ClientError, OSError, discord.HTTPException) as exc:
            await self.client.close()
            raise DiscordStartError(f"cannot reach Discord to log in: {exc}") from exc
        gateway = asyncio.create_task(self.client.connect(), name="discord-gateway")
        gateway.add_done_callback(_log_gateway_end)
        self._gateway = gateway
        ready = asyncio.create_task(self.client.wait_until_ready(), name="discord-ready")
        done, _ = await asyncio.wait(
            {ready, gateway}, timeout=self.ready_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if ready in done:
            return
        ready.cancel()
        await self.stop()  # closes the HTTP session and the gateway task
        if gateway.done() and not gateway.cancelled():
            error = gateway.exception()
            if isinstance(error, discord.PrivilegedIntentsRequired):
                raise DiscordStartError(
                    "Discord refused the privileged intents: in the Developer Portal, under "
                    "Bot > Privileged Gateway Intents, switch on Server Members Intent and "
                    "Message Content Intent"
                ) from error
            raise DiscordStartError(f"the Discord gateway connection ended: {error}") from error
        raise DiscordStartError(
            f"no READY from the Discord gateway within {self.ready_timeout:.0f} seconds"
        )

    async def stop(self) -> None:
        """Close the gateway connection and the HTTP session (an injected client stays open)."""
        self._sink = None
        if self._owns_client or self._gateway is not None:
            await self.client.close()
        if self._gateway is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._gateway
            self._gateway = None

    # -- application commands -----------------------------------------------------------

    def declare_commands(self, commands: Sequence[CommandSpec]) -> None:
        """Declare ``/rallybot`` with one subcommand per entry of ``commands``: the catalogue
        of the bot's features (the kernel calls it with ``Kernel.commands`` when it is
        built), in place of what was declared before; synced at :meth:`start`."""
        tree = self.tree
        tree.clear_commands(guild=None)
        if not commands:
            return  # no feature answers any: no /rallybot (Discord wants a group not empty)
        group = app_commands.Group(
            name="rallybot",
            description=app_commands.locale_str(
                N_("Rallybot: campaigns, points, quizzes, help and more")
            ),
        )
        subgroups: dict[str, app_commands.Group] = {}
        for spec in commands:
            if spec.group is None:
                group.add_command(self._subcommand(spec))
                continue
            subgroup = subgroups.get(spec.group)
            if subgroup is None:
                subgroup = app_commands.Group(
                    name=spec.group,
                    description=app_commands.locale_str(
                        N_("Community managers: steer the campaigns")
                    ),
                )
                subgroups[spec.group] = subgroup
                group.add_command(subgroup)
            subgroup.add_command(self._subcommand(spec))
        tree.add_command(group)

    def _subcommand(self, spec: CommandSpec) -> app_commands.Command[Any, ..., None]:
        """One subcommand: its options come from the catalogue; the values become the
        ``args`` the handlers parse (:func:`bot.commands.args_from_options`)."""

        async def invoke(interaction: discord.Interaction[discord.Client], **values: Any) -> None:
            words: dict[str, object] = {}
            for key, value in values.items():
                if isinstance(value, discord.abc.Snowflake) and not isinstance(value, str):
                    words[key] = f"<@{value.id}>"  # what handlers read as a mention
                else:
                    words[key] = value
            await self._command(interaction, spec.name, *args_from_options(spec, words))

        parameters = [
            inspect.Parameter(
                "interaction",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=discord.Interaction,
            )
        ]
        for param in sorted(spec.params, key=lambda p: not p.required):  # required ones first
            annotation: Any = _OPTION_TYPES[param.kind]
            if param.choices:
                annotation = Literal[param.choices]
            parameters.append(
                inspect.Parameter(
                    param.name,
                    inspect.Parameter.KEYWORD_ONLY,
                    annotation=annotation if param.required else Optional[annotation],  # noqa: UP045
                    default=inspect.Parameter.empty if param.required else None,
                )
            )
        invoke.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        invoke.__name__ = invoke.__qualname__ = f"rallybot_{spec.name}"
        # Descriptions are the catalogs' message ids: the tree's CatalogTranslator gives
        # Discord their translations, and each member sees those of their client's language.
        invoke.__discord_app_commands_param_description__ = {  # type: ignore[attr-defined]
            p.name: app_commands.locale_str(p.description[:100]) for p in spec.params
        }
        command: app_commands.Command[Any, ..., None] = app_commands.Command(
            name=spec.name,
            description=app_commands.locale_str(spec.description[:100]),
            callback=invoke,
        )
        if spec.name in {"pause", "resume"}:

            async def campaign_choices(
                interaction: discord.Interaction[discord.Client], current: str
            ) -> list[app_commands.Choice[str]]:
                return await self._campaign_choices(current)

            command.autocomplete("campaign")(campaign_choices)
        return command

    async def _campaign_choices(self, current: str) -> list[app_commands.Choice[str]]:
        """Campaign ids suggested while typing ``/rallybot pause``/``resume`` (25 at most)."""
        if self.db is None:
            return []
        typed = current.strip().lower()
        choices: list[app_commands.Choice[str]] = []
        for state in await list_states(self.db):
            if typed in state.id.lower() or typed in state.title.lower():
                label = f"{state.id} ({state.status})" + (
                    f" — {state.title}" if state.title else ""
                )
                choices.append(app_commands.Choice(name=label[:100], value=state.id[:100]))
        return choices[:25]

    async def _sync_commands(self) -> None:
        await self.tree.set_translator(CatalogTranslator())
        for guild_id in sorted(self.guild_ids):
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            try:
                await self.tree.sync(guild=guild)
            except discord.Forbidden as exc:
                raise DiscordStartError(
                    f"cannot register /rallybot in server {guild_id}: invite the bot again "
                    "with the applications.commands scope (rallybot discord invite-url)"
                ) from exc
            except discord.HTTPException as exc:
                raise DiscordStartError(
                    f"cannot register /rallybot in server {guild_id}: {exc}"
                ) from exc

    async def _command(
        self, interaction: discord.Interaction[discord.Client], name: str, *args: str
    ) -> None:
        """Hand a ``/rallybot`` invocation to the sink; it is acknowledged (deferred,
        ephemeral) once recorded, and its handlers' answer follows."""
        event_id = str(interaction.id)
        self._remember_interaction(event_id, interaction)
        channel = self._interaction_channel(interaction)
        await self._emit_then_defer(
            interaction,
            CommandInvoked(
                event_id=event_id,
                platform=PLATFORM,
                user=_user_ref(interaction.user),
                occurred_at=interaction.created_at,
                name=name,
                args=tuple(args),
                channel=channel,
            ),
            ephemeral=True,
        )

    async def _emit_then_defer(
        self,
        interaction: discord.Interaction[discord.Client],
        event: Event,
        *,
        ephemeral: bool = False,
    ) -> None:
        """Hand ``event`` to the sink and acknowledge ``interaction`` (a deferred answer) as
        soon as the sink says the event is recorded, before its handlers run; a sink without a
        journal says nothing, and the interaction is acknowledged when it returns, unless a
        handler answered it. An event that could not be recorded is not acknowledged:
        Discord tells the member the interaction failed, and they try again."""
        deferred = False

        async def defer() -> None:
            nonlocal deferred
            deferred = True
            if interaction.response.is_done():
                return
            try:
                if ephemeral:
                    await interaction.response.defer(ephemeral=True, thinking=True)
                else:
                    await interaction.response.defer()
            except discord.HTTPException as exc:  # already acknowledged (a redelivery)
                log.info("could not acknowledge interaction %s: %s", interaction.id, exc)

        with when_recorded(defer):
            await self._emit(event)
        if not deferred:
            await defer()

    def _remember_interaction(
        self, event_id: str, interaction: discord.Interaction[discord.Client]
    ) -> None:
        self._interactions[event_id] = interaction
        self._interactions.move_to_end(event_id)
        while len(self._interactions) > INTERACTIONS_KEPT:
            self._interactions.popitem(last=False)

    async def respond(self, event: Event, message: Message) -> None:
        """Answer a command or a click privately (an ephemeral follow-up, visible only to
        that person); a direct message when the interaction is unknown or expired (15 min)."""
        interaction = self._interactions.get(event.event_id)
        if interaction is not None and not interaction.is_expired():
            rendered = _render(message)
            view = _detached(rendered.view)
            lock = self._ack_locks.get(event.event_id) or contextlib.nullcontext()
            try:
                await self.limiter.acquire("global")
                async with lock:
                    await self._answer(interaction, rendered, view)
                return
            except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
                log.warning(
                    "could not answer interaction %s (%s): sending a DM", event.event_id, exc
                )
        await self.send_direct(event.user.id, message)

    @staticmethod
    async def _answer(
        interaction: discord.Interaction[discord.Client],
        rendered: RenderedMessage,
        view: discord.ui.View | None,
    ) -> None:
        """A private answer: the first answer to the interaction, or a follow-up."""
        if interaction.response.is_done():
            await interaction.followup.send(
                rendered.content or discord.utils.MISSING,
                embeds=rendered.embeds,
                view=view or discord.utils.MISSING,
                ephemeral=True,
                allowed_mentions=rendered.allowed_mentions,
            )
        else:
            await interaction.response.send_message(
                rendered.content or None,
                embeds=rendered.embeds,
                view=view or discord.utils.MISSING,
                ephemeral=True,
                allowed_mentions=rendered.allowed_mentions,
            )

    # -- inbound ------------------------------------------------------------------------

    def _install_listeners(self) -> None:
        # discord.py calls ``client.on_<event>`` for each gateway event it parses.
        client = self.client
        listeners: dict[str, Callable[..., Awaitable[None]]] = {
            "on_message": self._on_message,
            "on_raw_reaction_add": self._on_raw_reaction_add,
            "on_raw_reaction_remove": self._on_raw_reaction_remove,
            "on_member_join": self._on_member_join,
            "on_member_update": self._on_member_update,
            "on_user_update": self._on_user_update,
            "on_interaction": self._on_interaction,
            "on_raw_message_edit": self._on_raw_message_edit,
            "on_raw_message_delete": self._on_raw_message_delete,
        }
        for name, listener in listeners.items():
            setattr(client, name, self._guarded_listener(name, listener))
        # discord.py's own parsers read gateway payloads before any listener: one that is
        # missing a field or has one of the wrong type is logged once and dropped, instead of
        # raising in the gateway's reader (discord.py keeps them in ConnectionState.parsers).
        parsers: Any = getattr(getattr(client, "_connection", None), "parsers", None)
        if isinstance(parsers, dict):
            for event in _GUARDED_PAYLOADS:
                parser = parsers.get(event)
                if parser is not None and not getattr(parser, "_rallybot_guard", False):
                    parsers[event] = self._guarded_parser(event, parser)

    def _guarded_listener(
        self, name: str, listener: Callable[..., Awaitable[None]]
    ) -> Callable[..., Awaitable[None]]:
        async def guarded(*args: Any) -> None:
            try:
                await listener(*args)
            except _MALFORMED as exc:
                self._log_malformed(name, exc)

        return guarded

    def _guarded_parser(self, event: str, parser: Callable[[Any], None]) -> Callable[[Any], None]:
        def guarded(data: Any) -> None:
            try:
                parser(data)
            except _MALFORMED as exc:
                self._log_malformed(event, exc)

        guarded._rallybot_guard = True  # type: ignore[attr-defined]
        return guarded

    def _log_malformed(self, where: str, exc: BaseException) -> None:
        """One line per payload kind and minute at most; never the payload (members' words)."""
        now = time.monotonic()
        key = f"{where}:{type(exc).__name__}"
        last, since = self._malformed.get(key, (float("-inf"), 0))
        if now - last < 60.0:
            self._malformed[key] = (last, since + 1)
            return
        more = f" ({since} more in the last minute)" if since else ""
        log.warning(
            "dropped a malformed Discord %s payload (%s)%s", where, type(exc).__name__, more
        )
        self._malformed[key] = (now, 0)

    async def _emit(self, event: Event) -> None:
        if self._sink is None:
            log.debug("dropped %s before start", type(event).__name__)
            return
        try:
            await self._sink(event)
        except _MALFORMED as exc:  # the bot's failure, not the payload's: keep its traceback
            raise SinkFailedError(f"the bot failed on Discord event {event.event_id}") from exc

    def _ours(self, guild_id: int | None) -> bool:
        """Direct messages and the configured servers; other servers are ignored."""
        return guild_id is None or guild_id in self.guild_ids

    async def _on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.webhook_id is not None:
            return  # other bots, webhooks (our named sender) and ourselves
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return  # joins, pins and other system messages
        guild_id = message.guild.id if message.guild is not None else None
        if not self._ours(guild_id):
            return
        ref, thread_id = self._where(message.channel, message.channel.id)
        if thread_id is None:
            thread_id = _replied_to(message)
        await self._emit(
            MessagePosted(
                event_id=str(message.id),
                platform=PLATFORM,
                user=_user_ref(message.author),
                occurred_at=message.created_at,
                channel=ref,
                message_id=str(message.id),
                text=message.content,
                thread_id=thread_id,
                files=files_of(message),
            )
        )

    def _where(self, channel: object, channel_id: int) -> tuple[ChannelRef, str | None]:
        """The channel of a message and its thread: a thread's messages are in its parent
        channel, with the thread id as ``thread_id`` (as on Slack)."""
        if not isinstance(channel, discord.Thread | discord.DMChannel | discord.abc.GuildChannel):
            channel = self.client.get_channel(channel_id) or channel
        if isinstance(channel, discord.Thread):
            return ChannelRef(PLATFORM, str(channel.parent_id)), str(channel.id)
        if isinstance(channel, discord.DMChannel):
            return ChannelRef(PLATFORM, str(channel_id), is_direct=True), None
        if isinstance(channel, discord.abc.GuildChannel):
            return ChannelRef(PLATFORM, str(channel_id), name=channel.name), None
        return ChannelRef(PLATFORM, str(channel_id), is_direct=_is_dm_object(channel)), None

    async def _on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """An edit: the new text (``MESSAGE_UPDATE`` carries the whole message). Updates
        without ``edited_timestamp`` (a link preview added) and bots' messages are skipped."""
        data: Any = payload.data
        edited = data.get("edited_timestamp")
        content = data.get("content")
        message = payload.message
        if not edited or content is None or not self._ours(payload.guild_id):
            return
        if message.author.bot or message.webhook_id is not None:
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return
        ref, thread_id = self._where(message.channel, payload.channel_id)
        if payload.guild_id is None and not ref.is_direct:
            ref = ChannelRef(PLATFORM, ref.id, is_direct=True)
        if thread_id is None:
            thread_id = _replied_to(message)
        await self._emit(
            MessageEdited(
                event_id=f"edit:{payload.message_id}:{edited}",
                platform=PLATFORM,
                user=_user_ref(message.author),
                occurred_at=message.edited_at or self.clock.now(),
                channel=ref,
                message_id=str(payload.message_id),
                text=str(content),
                thread_id=thread_id,
            )
        )

    async def _on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        """A deletion; Discord does not say whose message it was: the author comes from
        discord.py's message cache when the message is there, else the user id is empty."""
        if not self._ours(payload.guild_id):
            return
        cached = payload.cached_message
        user = _user_ref(cached.author) if cached is not None else UserRef(PLATFORM, "")
        channel = cached.channel if cached is not None else None
        ref, thread_id = self._where(channel, payload.channel_id)
        if payload.guild_id is None and not ref.is_direct:
            ref = ChannelRef(PLATFORM, ref.id, is_direct=True)
        if thread_id is None and cached is not None:
            thread_id = _replied_to(cached)
        await self._emit(
            MessageDeleted(
                event_id=f"delete:{payload.message_id}",
                platform=PLATFORM,
                user=user,
                occurred_at=self.clock.now(),
                channel=ref,
                message_id=str(payload.message_id),
                thread_id=thread_id,
            )
        )

    async def _on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self._reaction(payload, added=True)

    async def _on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self._reaction(payload, added=False)

    async def _reaction(self, payload: discord.RawReactionActionEvent, *, added: bool) -> None:
        if not self._ours(payload.guild_id):
            return
        me = self.client.user
        if me is not None and payload.user_id == me.id:
            return
        if payload.member is not None and payload.member.bot:
            return
        emoji = payload.emoji.name or str(payload.emoji)
        kind = "reaction_added" if added else "reaction_removed"
        # Discord gives reaction events no id: derive one that a redelivery reproduces.
        emoji_key = str(payload.emoji.id) if payload.emoji.id else emoji
        event_id = f"{kind}:{payload.message_id}:{payload.user_id}:{emoji_key}"
        name = payload.member.display_name if payload.member is not None else None
        user = UserRef(PLATFORM, str(payload.user_id), name=name)
        channel = ChannelRef(PLATFORM, str(payload.channel_id), is_direct=payload.guild_id is None)
        author = (
            UserRef(PLATFORM, str(payload.message_author_id))
            if payload.message_author_id is not None
            else None
        )
        event_type = ReactionAdded if added else ReactionRemoved
        await self._emit(
            event_type(
                event_id=event_id,
                platform=PLATFORM,
                user=user,
                occurred_at=self.clock.now(),
                channel=channel,
                message_id=str(payload.message_id),
                emoji=emoji,
                author=author,
            )
        )

    async def _on_member_join(self, member: discord.Member) -> None:
        if member.guild.id not in self.guild_ids:
            return
        joined = member.joined_at or self.clock.now()
        await self._emit(
            MemberJoined(
                event_id=f"member_joined:{member.guild.id}:{member.id}:{joined.isoformat()}",
                platform=PLATFORM,
                user=_user_ref(member),
                occurred_at=joined,
            )
        )

    async def _on_member_update(self, before: discord.Member, after: discord.Member) -> None:
        """``GUILD_MEMBER_UPDATE`` with a new nickname or server avatar (role changes are not
        profile changes): :class:`~bot.events.ProfileChanged`."""
        if after.guild.id in self.guild_ids and _profile_key(before) != _profile_key(after):
            await self._profile_changed(after)

    async def _on_user_update(self, before: discord.User, after: discord.User) -> None:
        """A new account avatar or name, seen in a ``GUILD_MEMBER_UPDATE`` (discord.py updates
        the user its member objects share, so only this listener sees the before and after):
        :class:`~bot.events.ProfileChanged`, from the member in a configured server."""
        if (before.avatar, before.global_name, before.name) == (
            after.avatar,
            after.global_name,
            after.name,
        ):
            return
        for guild_id in sorted(self.guild_ids):
            guild = self.client.get_guild(guild_id)
            member = guild.get_member(after.id) if guild is not None else None
            if member is not None:
                await self._profile_changed(member)
                return

    async def _profile_changed(self, member: discord.Member) -> None:
        """Hand over a member's new profile. Discord gives the update no id: the event id is
        made of the member, what their profile now is and the time."""
        if member.bot:
            return
        now = self.clock.now()
        await self._emit(
            ProfileChanged(
                event_id=f"profile:{member.guild.id}:{member.id}:{_profile_key(member)}:"
                f"{now.isoformat()}",
                platform=PLATFORM,
                user=_user_ref(member),
                occurred_at=now,
                profile=_profile_of(member),
            )
        )

    async def _on_interaction(self, interaction: discord.Interaction[discord.Client]) -> None:
        if interaction.type is discord.InteractionType.modal_submit:
            await self._on_modal_submit(interaction)
            return
        if interaction.type is not discord.InteractionType.component:
            return  # application commands go through the command tree
        data: Any = interaction.data if isinstance(interaction.data, dict) else {}
        custom = data.get("custom_id")
        if not isinstance(custom, str):
            raise TypeError("a component interaction without a custom id")
        parsed = parse_custom_id(custom)
        if parsed is None or not self._ours(interaction.guild_id):
            return  # someone else's component
        action_id, value = parsed
        event_id = str(interaction.id)
        self._remember_interaction(event_id, interaction)
        lock = self._ack_locks[event_id] = asyncio.Lock()
        # Acknowledged once the handlers are done (one may open a form, which must be the
        # first answer), or CLICK_ACK_GRACE after it arrived, within Discord's 3 seconds; never
        # before the click is recorded (one that cannot be recorded is not acknowledged:
        # Discord tells the member it failed, and they click again).
        loop = asyncio.get_running_loop()
        arrived = loop.time()
        timer: asyncio.Task[None] | None = None
        recorded = False

        async def on_recorded() -> None:
            nonlocal timer, recorded
            recorded = True
            grace = max(0.0, CLICK_ACK_GRACE - (loop.time() - arrived))
            timer = loop.create_task(self._acknowledge_later(interaction, lock, grace))

        message_id = str(interaction.message.id) if interaction.message is not None else ""
        try:
            with when_recorded(on_recorded):
                await self._emit(
                    ButtonClicked(
                        event_id=event_id,
                        platform=PLATFORM,
                        user=_user_ref(interaction.user),
                        occurred_at=interaction.created_at,
                        channel=self._interaction_channel(interaction)
                        or ChannelRef(PLATFORM, "", is_direct=True),
                        message_id=message_id,
                        action_id=action_id,
                        value=value,
                    )
                )
            recorded = True  # a sink without a journal: handed over is as far as it goes
        finally:
            if timer is not None:
                timer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await timer
            if recorded:
                await self._acknowledge(interaction, lock)
            self._ack_locks.pop(event_id, None)

    async def _acknowledge_later(
        self, interaction: discord.Interaction[discord.Client], lock: asyncio.Lock, delay: float
    ) -> None:
        await asyncio.sleep(delay)
        await asyncio.shield(self._acknowledge(interaction, lock))

    @staticmethod
    async def _acknowledge(
        interaction: discord.Interaction[discord.Client], lock: asyncio.Lock
    ) -> None:
        """A deferred update (no visible change), unless the click was already answered."""
        async with lock:
            if interaction.response.is_done():
                return
            try:
                await interaction.response.defer()
            except discord.HTTPException as exc:  # already acknowledged (a redelivery)
                log.info("could not acknowledge interaction %s: %s", interaction.id, exc)
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:  # closing down
                log.warning("could not acknowledge interaction %s: %s", interaction.id, exc)

    async def open_form(self, event: ButtonClicked, form: Form) -> bool:
        """Answer the click ``event`` with a modal; its submission comes back as a
        :class:`~bot.events.FormSubmitted`. False when the click was already answered (its
        handlers took longer than :data:`CLICK_ACK_GRACE`) or is unknown."""
        interaction = self._interactions.get(event.event_id)
        lock = self._ack_locks.get(event.event_id)
        if interaction is None or lock is None:
            return False
        async with lock:
            if interaction.response.is_done() or interaction.is_expired():
                return False
            try:
                await interaction.response.send_modal(_modal(form))
            except discord.HTTPException as exc:
                log.warning("could not open form %s: %s", form.id, exc)
                return False
        return True

    async def _on_modal_submit(self, interaction: discord.Interaction[discord.Client]) -> None:
        data: Any = interaction.data if isinstance(interaction.data, dict) else {}
        custom_id = data.get("custom_id")
        if not isinstance(custom_id, str):
            raise TypeError("a modal submission without a custom id")
        if not custom_id.startswith(FORM_PREFIX) or not self._ours(interaction.guild_id):
            return
        event_id = str(interaction.id)
        self._remember_interaction(event_id, interaction)
        await self._emit_then_defer(  # acknowledged once recorded, within Discord's 3 seconds
            interaction,
            FormSubmitted(
                event_id=event_id,
                platform=PLATFORM,
                user=_user_ref(interaction.user),
                occurred_at=interaction.created_at,
                form_id=custom_id.removeprefix(FORM_PREFIX),
                values=_modal_values(data.get("components") or []),
                channel=self._interaction_channel(interaction),
            ),
        )

    @staticmethod
    def _interaction_channel(
        interaction: discord.Interaction[discord.Client],
    ) -> ChannelRef | None:
        if interaction.channel_id is None:
            return None
        return ChannelRef(
            PLATFORM, str(interaction.channel_id), is_direct=interaction.guild_id is None
        )

    # -- outbound -----------------------------------------------------------------------

    async def post(
        self, channel_id: str, message: Message, *, idempotency_key: str | None = None
    ) -> SentMessage:
        """Post in a channel; through the ``Rallybot`` webhook when the message names a sender."""
        channel = _snowflake(channel_id, "channel")
        rendered = _render(message)
        what = f"post in channel {channel_id}"
        if rendered.username is not None:
            retry = idempotency_key is not None and self._retrying.pop(
                (channel_id, idempotency_key), False
            )
            found = await self._webhook_copy(channel, rendered, what) if retry else None
            sent = found or await self._via_webhook(channel, rendered, what)
        else:
            target = self.client.get_partial_messageable(channel)
            sent = await self._send(target, rendered, idempotency_key, what)
        self._remember_sent(channel_id, idempotency_key, sent)
        return sent

    async def _load_dm_channels(self) -> None:
        """The DM channel ids stored by earlier runs (``Member.dm_channel_id``): a restart
        does not open every member's DM channel again."""
        if self._dm_channels_loaded or self.db is None:
            return
        self._dm_channels_loaded = True
        for user_id, channel_id in (await load_dm_channels(self.db, PLATFORM)).items():
            with contextlib.suppress(ValueError):
                self._remember_dm(int(user_id), int(channel_id))

    def _remember_dm(self, user: int, channel: int) -> None:
        self._dm_channels[user] = channel
        while len(self._dm_channels) > DM_CHANNELS_KEPT:
            self._dm_channels.popitem(last=False)

    async def send_direct(
        self, user_id: str, message: Message, *, idempotency_key: str | None = None
    ) -> SentMessage:
        """Send a direct message; the DM channel is opened once per user, then its id is kept
        in memory (discord.py itself keeps only the last 128 DM channels) and in
        ``Member.dm_channel_id`` for the next runs."""
        rendered = _render(message)
        what = f"direct message to user {user_id}"
        target = await self._dm_target(user_id, what)
        sent = await self._send(target, rendered, idempotency_key, what)
        self._remember_sent(user_id, idempotency_key, sent)
        return sent

    async def _dm_target(self, user_id: str, what: str) -> discord.PartialMessageable:
        """The member's DM channel, opened once (see :meth:`send_direct`)."""
        user = _snowflake(user_id, "user")
        if not self._dm_channels_loaded:
            await self._load_dm_channels()
        dm_id = self._dm_channels.get(user)
        if dm_id is None:
            with _errors(what):
                if self.client._connection._get_private_channel_by_user(user) is None:
                    await self.limiter.acquire("global")  # opening the DM channel is a request
                cached = self.client.get_user(user)
                if cached is not None:
                    dm = await cached.create_dm()
                else:
                    dm = await self.client.create_dm(discord.Object(id=user))
            dm_id = dm.id
            self._remember_dm(user, dm_id)
            if self.db is not None:
                await set_dm_channel(self.db, PLATFORM, user_id, str(dm_id))
        return self.client.get_partial_messageable(dm_id, type=discord.ChannelType.private)

    async def send_file(
        self,
        target: str,
        filename: str,
        content: bytes,
        message: Message | None = None,
        *,
        title: str | None = None,
        alt_text: str | None = None,
        in_channel: bool = False,
    ) -> SentMessage:
        """Upload a file (``discord.File``, a multipart message) to a member's DM (``target``
        a user id) or, with ``in_channel``, to a channel, with the message as its text.
        Discord has no file title: ``title`` is shown above a file sent without a message.
        A channel upload needs the Attach Files permission; a DM needs none."""
        if in_channel:
            what = f"file {filename} in channel {target}"
            destination = self.client.get_partial_messageable(_snowflake(target, "channel"))
        else:
            what = f"file {filename} to user {target}"
            destination = await self._dm_target(target, what)
        options: dict[str, Any] = {}
        text: str | None = None
        if message is not None:
            rendered = _render(message)
            text, options["embeds"] = rendered.content or None, rendered.embeds
            options["allowed_mentions"] = rendered.allowed_mentions
        elif title and title != filename:
            text = f"**{member_markdown(title)}**"
            options["allowed_mentions"] = discord.AllowedMentions.none()
        upload = discord.File(io.BytesIO(content), filename=filename, description=alt_text)
        await self.limiter.acquire("global")
        with _errors(what):
            sent = await destination.send(text, file=upload, **options)
        return SentMessage(channel_id=str(sent.channel.id), message_id=str(sent.id))

    async def reply(
        self,
        channel_id: str,
        thread_id: str,
        message: Message,
        *,
        idempotency_key: str | None = None,
    ) -> SentMessage:
        """Answer in the thread ``thread_id``, or as a reply to message ``thread_id``."""
        channel = _snowflake(channel_id, "channel")
        anchor = _snowflake(thread_id, "thread")
        rendered = _render(message)
        what = f"reply in channel {channel_id}"
        # The key's nonce makes Discord drop a repeated reply, like a repeated post.
        if isinstance(self.client.get_channel(anchor), discord.Thread):
            sent = await self._send(
                self.client.get_partial_messageable(anchor), rendered, idempotency_key, what
            )
        else:
            reference = discord.MessageReference(
                message_id=anchor, channel_id=channel, fail_if_not_exists=False
            )
            target = self.client.get_partial_messageable(channel)
            sent = await self._send(target, rendered, idempotency_key, what, reference=reference)
        self._remember_sent(channel_id, idempotency_key, sent)
        return sent

    async def update(self, sent: SentMessage, message: Message) -> None:
        """Edit a message the bot (or its webhook) sent."""
        rendered = _render(message)
        message_id = _snowflake(sent.message_id, "message")
        view = _detached(rendered.view)
        what = f"edit of message {sent.message_id} in channel {sent.channel_id}"
        await self.limiter.acquire("global")
        with _errors(what):
            webhook = self._webhook_messages.get(message_id)
            if webhook is not None:
                await webhook.edit_message(
                    message_id,
                    content=rendered.content or None,
                    embeds=rendered.embeds,
                    view=view,
                    allowed_mentions=rendered.allowed_mentions,
                )
                return
            partial = self._partial_message(sent)
            await partial.edit(
                content=rendered.content or None,
                embeds=rendered.embeds,
                view=view,
                allowed_mentions=rendered.allowed_mentions,
            )

    async def pin(self, sent: SentMessage) -> None:
        """Pin a message."""
        await self.limiter.acquire("global")
        with _errors(f"pin of message {sent.message_id} in channel {sent.channel_id}"):
            await self._partial_message(sent).pin()

    async def add_reaction(self, channel_id: str, message_id: str, emoji: str) -> None:
        """React to a message with a Unicode emoji or a custom one (``name:id``)."""
        sent = SentMessage(channel_id=channel_id, message_id=message_id)
        await self.limiter.acquire("global")
        with _errors(f"reaction on message {message_id} in channel {channel_id}"):
            await self._partial_message(sent).add_reaction(emoji.strip(":") or emoji)

    async def fetch_profile(self, user_id: str) -> MemberProfile | None:
        """The member's display name in a configured server (Discord has no time zone or
        locale for members: those stay None); None when no server knows them. The profile
        is complete with an avatar of their own (account or server) or a server nickname."""
        user = _snowflake(user_id, "user")
        for guild_id in sorted(self.guild_ids):
            guild = self.client.get_guild(guild_id)
            if guild is None:
                continue
            member = guild.get_member(user)
            if member is None:
                try:
                    await self.limiter.acquire("global")
                    member = await guild.fetch_member(user)
                except discord.NotFound:
                    continue
                except discord.HTTPException as exc:
                    log.warning("could not read member %s in %s: %s", user_id, guild_id, exc)
                    continue
            return _profile_of(member)
        return None

    async def lookup_member(self, text: str) -> str | None:
        """The user id of a member of a configured server named by ``text``: an id, a mention
        (``<@id>``), a username (``ana`` or the legacy ``ana#1234``), a display name or a
        nickname (one match only). Discord never tells bots members' email addresses, so
        this adapter has no ``lookup_by_email``: roster rows need their Discord id or name.
        Names are read from the member cache (the members intent)."""
        wanted = text.strip()
        match = _MENTION.fullmatch(wanted)
        if match is not None or wanted.isdigit():
            user_id = match.group(1) if match is not None else wanted
            profile = await self.fetch_profile(user_id)
            return user_id if profile is not None and not profile.is_bot else None
        wanted = wanted.removeprefix("@")
        if not wanted:
            return None
        found: set[int] = set()
        for guild_id in sorted(self.guild_ids):
            guild = self.client.get_guild(guild_id)
            member = guild.get_member_named(wanted) if guild is not None else None
            if member is not None and not member.bot:
                found.add(member.id)
            if guild is not None and member is None:
                folded = wanted.casefold()
                found.update(
                    m.id
                    for m in guild.members
                    if not m.bot
                    and folded in {(m.global_name or "").casefold(), m.display_name.casefold()}
                )
        return str(found.pop()) if len(found) == 1 else None

    async def member_groups(self) -> dict[str, list[str]]:
        """The role names of each member of the configured servers, by user id (bots and
        ``@everyone`` left out). Read from the member cache (the members intent) once
        connected; before :meth:`start` (``rallybot teams sync``) from the REST API: the
        server with its roles, then its member list."""
        groups: dict[str, list[str]] = {}
        for guild_id in sorted(self.guild_ids):
            guild = self.client.get_guild(guild_id)
            if guild is not None:
                members = list(guild.members)
            else:
                members = await self._fetch_members(guild_id)
            for member in members:
                if member.bot:
                    continue
                names = [role.name for role in member.roles if not role.is_default()]
                groups.setdefault(str(member.id), []).extend(names)
        return groups

    async def _fetch_members(self, guild_id: int) -> list[discord.Member]:
        """A server's members over REST, logging in first when not connected."""
        if self.client.http.token is None:
            token = self.settings.discord_token
            if token is None:
                raise DiscordStartError("DISCORD_TOKEN is not set")
            try:
                with _errors("logging in to Discord"):
                    await self.client.login(token.get_secret_value())
            except discord.LoginFailure as exc:
                raise DiscordStartError("Discord refused the token in DISCORD_TOKEN") from exc
        await self.limiter.acquire("global")
        with _errors(f"the members of server {guild_id}"):
            guild = await self.client.fetch_guild(guild_id)
            return [member async for member in guild.fetch_members(limit=None)]

    async def channel_members(self, channel_id: str) -> list[str]:
        """Who can read a channel, from the member cache (needs the members intent)."""
        channel = self.client.get_channel(_snowflake(channel_id, "channel"))
        if channel is None:
            await self.limiter.acquire("global")
            with _errors(f"member list of channel {channel_id}"):
                fetched = await self.client.fetch_channel(_snowflake(channel_id, "channel"))
            channel = fetched if isinstance(fetched, discord.abc.GuildChannel) else None
        members = getattr(channel, "members", None) or []
        return [str(m.id) for m in members if not m.bot]

    async def find_sent(
        self, channel_or_user_id: str, idempotency_key: str, *, thread_id: str | None = None
    ) -> SentMessage | None:
        """A keyed send this process completed; None otherwise.

        Discord cannot be searched by nonce, and needs not be: a resent post or direct
        message carries the same nonce, which makes Discord return the existing message.
        Webhook executions take no nonce, so the outbox asking (it does before resending an
        interrupted send) makes the next :meth:`post` of that key with a named sender look
        for an identical message of the webhook among the channel's latest ones first.
        """
        found = self._sent.get((channel_or_user_id, idempotency_key))
        if found is None:
            self._retrying[(channel_or_user_id, idempotency_key)] = True
            while len(self._retrying) > INTERACTIONS_KEPT:
                self._retrying.popitem(last=False)
        return found

    # -- internals ----------------------------------------------------------------------

    def _remember_sent(self, target: str, key: str | None, sent: SentMessage) -> None:
        if key is None:
            return
        self._sent[(target, key)] = sent
        while len(self._sent) > SENT_KEPT:
            self._sent.popitem(last=False)

    def _partial_message(self, sent: SentMessage) -> discord.PartialMessage:
        channel = self.client.get_partial_messageable(_snowflake(sent.channel_id, "channel"))
        return channel.get_partial_message(_snowflake(sent.message_id, "message"))

    async def _send(
        self,
        target: discord.abc.Messageable,
        rendered: RenderedMessage,
        key: str | None,
        what: str,
        *,
        reference: discord.MessageReference | None = None,
    ) -> SentMessage:
        """One paced ``send``: with the key's nonce (discord.py adds ``enforce_nonce``)."""
        options: dict[str, Any] = {
            "embeds": rendered.embeds,
            "allowed_mentions": rendered.allowed_mentions,
        }
        view = _detached(rendered.view)
        if view is not None:
            options["view"] = view
        if key is not None:
            options["nonce"] = nonce_for(key)
        if reference is not None:
            options["reference"] = reference
        await self.limiter.acquire("global")
        with _errors(what):
            sent = await target.send(rendered.content or None, **options)
        return SentMessage(channel_id=str(sent.channel.id), message_id=str(sent.id))

    async def _via_webhook(
        self, channel_id: int, rendered: RenderedMessage, what: str
    ) -> SentMessage:
        webhook = await self._webhook(channel_id, what)
        await self.limiter.acquire("global")
        with _errors(what):
            sent = await webhook.send(
                rendered.content or discord.utils.MISSING,
                username=rendered.username or discord.utils.MISSING,
                avatar_url=rendered.avatar_url or discord.utils.MISSING,
                embeds=rendered.embeds,
                view=_detached(rendered.view) or discord.utils.MISSING,
                allowed_mentions=rendered.allowed_mentions,
                wait=True,
            )
        self._webhook_messages[sent.id] = webhook
        while len(self._webhook_messages) > SENT_KEPT:
            self._webhook_messages.popitem(last=False)
        return SentMessage(channel_id=str(channel_id), message_id=str(sent.id))

    async def _webhook_copy(
        self, channel_id: int, rendered: RenderedMessage, what: str
    ) -> SentMessage | None:
        """A message of our webhook, among the channel's latest, identical to ``rendered``:
        an interrupted earlier attempt that Discord did carry out."""
        webhook = await self._webhook(channel_id, what)
        wanted = (rendered.content, [_embed_text(e) for e in rendered.embeds])
        await self.limiter.acquire("global")
        with _errors(f"{what} (looking for an earlier attempt)"):
            channel = self.client.get_partial_messageable(channel_id)
            async for earlier in channel.history(limit=WEBHOOK_LOOKBACK):
                if earlier.webhook_id != webhook.id or earlier.author.name != rendered.username:
                    continue
                if (earlier.content, [_embed_text(e) for e in earlier.embeds]) == wanted:
                    log.info("found message %s from an earlier attempt: not resent", earlier.id)
                    return SentMessage(channel_id=str(channel_id), message_id=str(earlier.id))
        return None

    async def _webhook(self, channel_id: int, what: str) -> discord.Webhook:
        """The channel's ``Rallybot`` webhook: found or created once, then kept in memory."""
        cached = self._webhooks.get(channel_id)
        if cached is not None:
            return cached
        lock = self._webhook_locks.setdefault(channel_id, asyncio.Lock())
        async with lock:
            cached = self._webhooks.get(channel_id)
            if cached is not None:
                return cached
            state = self.client._connection
            me = self.client.user
            await self.limiter.acquire("global")
            with _errors(f"{what} (listing the channel's webhooks)"):
                existing = await state.http.channel_webhooks(channel_id)
            found = None
            for data in existing:
                owner: dict[str, Any] = dict(data.get("user") or {})
                mine = me is None or str(owner.get("id")) == str(me.id)
                if data.get("name") == WEBHOOK_NAME and data.get("token") and mine:
                    found = data
                    break
            if found is None:
                await self.limiter.acquire("global")
                with _errors(f"{what} (creating the {WEBHOOK_NAME} webhook)"):
                    found = await state.http.create_webhook(channel_id, name=WEBHOOK_NAME)
            webhook = discord.Webhook.from_state(found, state)
            self._webhooks[channel_id] = webhook
            return webhook

    @property
    def connected(self) -> bool:
        """Whether the gateway session is up (``/readyz``)."""
        return self.client.is_ready() and not self.client.is_closed()

    def __repr__(self) -> str:
        return f"<DiscordAdapter guilds={sorted(self.guild_ids)} ready={self.client.is_ready()}>"


def _log_gateway_end(task: asyncio.Task[None]) -> None:
    """discord.py reconnects by itself; an ending gateway task is fatal: say why."""
    if not task.cancelled() and task.exception() is not None:
        log.error("the Discord gateway connection ended: %s", task.exception())


def _embed_text(embed: discord.Embed) -> tuple[str | None, str | None]:
    return embed.title, embed.description


def _render(message: Message) -> RenderedMessage:
    try:
        return render_message(message)
    except ValueError as exc:
        raise AdapterError(f"cannot render the message for Discord: {exc}") from exc


def _detached(view: discord.ui.View | None) -> discord.ui.View | None:
    """The view, stopped so discord.py does not keep it in memory: clicks are handled from
    the custom id (``on_interaction``), which also works for messages of earlier runs."""
    if view is not None:
        view.stop()
    return view


def _snowflake(value: str, what: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise AdapterError(f'"{value}" is not a Discord {what} id (a number)') from None


def _modal(form: Form) -> discord.ui.Modal:
    """The Discord modal of ``form`` (5 text inputs at most; Discord's length limits)."""
    modal = discord.ui.Modal(
        title=form.title[:45] or "Rallybot", custom_id=(FORM_PREFIX + form.id)[:100]
    )
    for field in form.fields[:5]:
        modal.add_item(
            discord.ui.TextInput(
                label=field.label[:45] or field.id[:45],
                custom_id=field.id[:100],
                style=discord.TextStyle.paragraph if field.multiline else discord.TextStyle.short,
                required=field.required,
                max_length=max(1, min(field.max_length, 4000)),
                placeholder=field.placeholder[:100] if field.placeholder else None,
            )
        )
    modal.stop()  # not kept in discord.py's view store: the submission is read from its data
    return modal


def _modal_values(components: Any) -> dict[str, str]:
    """The text inputs' values of a modal submission, by custom id (in action rows or in
    labels, whichever layout the modal came back in)."""
    values: dict[str, str] = {}
    stack = list(components) if isinstance(components, list) else []
    while stack:
        item = stack.pop(0)
        if not isinstance(item, dict):
            continue
        if "custom_id" in item and "value" in item:
            values[str(item["custom_id"])] = str(item["value"] or "")
        children = item.get("components")
        if isinstance(children, list):
            stack.extend(children)
        if isinstance(item.get("component"), dict):
            stack.append(item["component"])
    return values


def files_of(message: discord.Message) -> tuple[FileRef, ...]:
    """A message's attachments as links (the attachment URL, which Discord signs and lets
    expire after a while); the file itself is never downloaded."""
    return tuple(
        FileRef(
            name=attachment.filename,
            url=attachment.url,
            mimetype=attachment.content_type,
            size=attachment.size,
        )
        for attachment in message.attachments
        if attachment.url
    )


def _replied_to(message: discord.Message) -> str | None:
    """The message a reply answers (its "thread" in the neutral model), for reply messages."""
    reference = message.reference
    if message.type is discord.MessageType.reply and reference is not None:
        return str(reference.message_id) if reference.message_id is not None else None
    return None


def _is_dm_object(channel: object) -> bool:
    return getattr(channel, "type", None) == discord.ChannelType.private


def _profile_of(member: discord.Member) -> MemberProfile:
    """The neutral profile of a server member: complete with an avatar of their own (on the
    account or for this server) or a server nickname."""
    return MemberProfile(
        user_id=str(member.id),
        display_name=member.display_name,
        first_name=None,
        is_bot=member.bot,
        profile_complete=bool(member.nick or member.avatar or member.guild_avatar),
    )


def _profile_key(member: discord.Member) -> str:
    """A member's nickname, names and avatars, as one short key (it changes with them)."""
    avatar = member.avatar.key if member.avatar else ""
    guild_avatar = member.guild_avatar.key if member.guild_avatar else ""
    parts = (member.nick or "", member.global_name or "", member.name, avatar, guild_avatar)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:12]


def _user_ref(user: discord.abc.User) -> UserRef:
    return UserRef(PLATFORM, str(user.id), name=user.display_name, is_bot=user.bot)


@contextlib.contextmanager
def _errors(what: str) -> Iterator[None]:
    """Discord's failures as AdapterError (for good) or TransientSendError (retry later)."""
    try:
        yield
    except discord.RateLimited as exc:
        METRICS.throttled(PLATFORM, "rest")  # discord.py waited out the shorter ones itself
        raise TransientSendError(
            f"{what}: rate limited for {exc.retry_after:.1f}s", exc.retry_after
        ) from exc
    except discord.Forbidden as exc:
        raise AdapterError(f"{what}: Discord refused it (missing permission?): {exc.text}") from exc
    except discord.NotFound as exc:
        raise AdapterError(f"{what}: unknown to Discord: {exc.text}") from exc
    except discord.HTTPException as exc:
        if exc.status == 429:
            METRICS.throttled(PLATFORM, "rest")
        if exc.status >= 500 or exc.status == 429:
            retry = _retry_after(exc)
            raise TransientSendError(f"{what}: Discord answered {exc.status}", retry) from exc
        raise AdapterError(f"{what}: Discord answered {exc.status}: {exc.text}") from exc
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise TransientSendError(f"{what}: {type(exc).__name__}: {exc}") from exc


def _retry_after(exc: discord.HTTPException) -> float | None:
    header = exc.response.headers.get("Retry-After") if exc.response is not None else None
    try:
        return float(header) if header is not None else None
    except ValueError:
        return None
