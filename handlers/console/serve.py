"""Serving the console: inside the bot (:func:`attach_to_bot`) or alone (:func:`standalone_state`,
``rallybot console``), and the one-time sign-in links of ``rallybot console link``.

Inside the bot, without ``RALLYBOT_CONSOLE_PORT`` the console is mounted under ``/console`` on
the bot's HTTP server (the probes' host and port); with it, the console gets a server of its
own on ``RALLYBOT_CONSOLE_HOST`` (default: ``RALLYBOT_HTTP_HOST``) and that port.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from rallybot.bot.app import campaign_files
from rallybot.bot.clock import Clock, SimulatedClock, SystemClock
from rallybot.bot.community import ANY, assume_found, community_of, overlay, roster_settings
from rallybot.bot.config import Settings
from rallybot.bot.context import BotContext
from rallybot.bot.feature import NotServed
from rallybot.bot.http import HttpServer, bind_problem
from rallybot.bot.rota import NOT_FOUND
from rallybot.campaigns import words as file_words
from rallybot.campaigns.faq import is_faq_file
from rallybot.campaigns.loader import CampaignLoadError, is_community_file, load_campaign
from rallybot.campaigns.quiz import is_bank_file
from rallybot.campaigns.schema import Campaign
from rallybot.campaigns.words import N_, Text
from rallybot.handlers.console import words as console_words
from rallybot.handlers.console.app import PREFIX, console_url, create_app, to_console
from rallybot.handlers.console.kit import ConsoleState, Role, role_of
from rallybot.handlers.console.sessions import create_sign_in
from rallybot.storage.database import Database

__all__ = [
    "ConsoleOff",
    "LinkRefused",
    "attach_to_bot",
    "load_campaigns",
    "make_link",
    "roster_settings",
    "roster_state",
    "standalone_settings",
    "standalone_state",
]

log = logging.getLogger("rallybot.console")


async def attach_to_bot(
    settings: Settings, server: HttpServer | None, bot: BotContext, clock: Clock
) -> HttpServer | None:
    """Serve the console of the running ``bot``; returns the server it started for it (to
    stop at shutdown), or None when it shares the bot's. Raises :class:`NotServed` when it
    cannot be served (its port is taken, or the bot's server it would share is not running):
    the bot runs on without it and says so."""
    # A simulated clock plays the campaigns; sessions and links still last real minutes.
    wall = SystemClock() if isinstance(clock, SimulatedClock) else None
    state = ConsoleState(settings, bot.db, clock, bot=bot, wall=wall)
    app = create_app(state)
    own = settings.console_port is not None and not (
        server is not None
        and settings.console_port == server.port
        and (settings.console_host or settings.http_host) == server.host
    )
    if not own:
        if server is None:
            raise ConsoleOff(
                N_(
                    "The web console is off: the bot's HTTP server, which it shares, is not "
                    "running. The bot runs without the console; set RALLYBOT_CONSOLE_PORT to "
                    "give it a port of its own."
                )
            )
        # unnamed: the pages find their routes by their own names
        server.mount(PREFIX, app, bare=to_console(app))
        log.info("console on %s%s%s", server.listening, PREFIX, _shown_at(settings))
        return None
    assert settings.console_port is not None
    own_server = HttpServer(
        settings.console_host or settings.http_host,
        settings.console_port,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
    # unnamed: the pages find their routes by their own names
    own_server.mount(PREFIX, app, bare=to_console(app))
    own_server.add_route("/", to_console(app), name="console_root")
    try:
        await own_server.start()
    except OSError as exc:
        problem = bind_problem(own_server.host, own_server.requested_port, exc)
        raise ConsoleOff(
            N_(
                "The web console is off: {problem}. The bot runs without the console; set "
                "RALLYBOT_CONSOLE_PORT to a free port and restart it to serve the console.",
                problem=problem,
            )
        ) from None
    log.info(
        "console listening on %s, serving %s%s",
        own_server.listening,
        own_server.served(),
        _shown_at(settings),
    )
    return own_server


class ConsoleOff(NotServed):
    """The console cannot be served inside the bot; its words are the console's (their own
    domain), the reason it gives (a port taken) the bot's."""

    def text(self, locale: str | None) -> str:
        """Why, in ``locale``'s language."""
        params = {
            name: file_words.render(value, locale) if isinstance(value, str) else value
            for name, value in self.message.params.items()
        }
        return console_words.gettext(locale, self.message.template).format(**params)


def _shown_at(settings: Settings) -> str:
    """Where people see the console, when a proxy shows it elsewhere."""
    return f" (shown at {settings.console_url})" if settings.console_url else ""


def standalone_settings(settings: Settings) -> Settings:
    """The settings with the community file laid over them, as the bot does at reload. Without
    a chat platform to look people up, the file's managers and helpers count when named by
    platform id (``slack:U0123``); those named by e-mail need the bot's console, or
    :func:`roster_settings`."""
    community = community_of(settings)
    return settings if community is None else overlay(settings, assume_found(community))


def signable(key: str) -> bool:
    """Whether the RALLYBOT_ADMINS entry ``key`` is a person's account (``platform:id``), not
    a placeholder for someone not found (``any:x@example.com``, ``unknown:...``)."""
    platform, sep, user_id = key.partition(":")
    return bool(sep and user_id) and platform not in {ANY, NOT_FOUND}


def standalone_state(settings: Settings, db: Database, clock: Clock) -> ConsoleState:
    """The console's state for ``rallybot console``: the campaigns read from
    RALLYBOT_CAMPAIGNS_DIR once, at the first page that needs them."""

    def load() -> dict[str, Campaign]:
        return load_campaigns([settings.campaigns_dir], settings)

    return ConsoleState(standalone_settings(settings), db, clock, load_campaigns=load)


async def roster_state(settings: Settings, db: Database, clock: Clock) -> ConsoleState:
    """:func:`standalone_state` whose managers and helpers named by e-mail are found among
    the roster's members (:func:`roster_settings`), as the bot finds them."""
    state = standalone_state(settings, db, clock)
    state.settings_ = await roster_settings(settings, db)
    return state


def load_campaigns(paths: list[Path], settings: Settings) -> dict[str, Campaign]:
    """The campaigns of ``paths`` as the bot reads them (quiz banks, FAQ and community files
    left out); a broken file is logged and skipped."""
    campaigns: dict[str, Campaign] = {}
    for path in campaign_files(paths):
        if is_community_file(path) or is_bank_file(path) or is_faq_file(path):
            continue
        try:
            campaign = load_campaign(path, default_quiet_hours=settings.quiet)
        except CampaignLoadError as exc:
            for error in exc.errors:
                log.warning("campaign file error: %s", error)
            continue
        except (MemoryError, RecursionError, OSError) as exc:
            log.warning("campaign file %s cannot be read (%s)", path, type(exc).__name__)
            continue
        campaigns.setdefault(campaign.id, campaign)
    return campaigns


class LinkRefused(Exception):
    """``rallybot console link`` cannot make a link (the message says why, in English;
    :meth:`text` says it in a reader's language, from the console's catalogs)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def text(self, locale: str | None) -> str:
        """Why, in ``locale``'s language."""
        return _render(self.message, locale)


def _render(message: str, locale: str | None) -> str:
    if not isinstance(message, Text):
        return str(message)
    params = {
        name: _render(value, locale) if isinstance(value, str) else value
        for name, value in message.params.items()
    }
    return console_words.gettext(locale, message.template).format(**params)


async def make_link(
    settings: Settings, db: Database, clock: Clock, manager: str | None, port: int | None
) -> str:
    """A one-time sign-in URL for ``manager`` (a ``platform:id`` key of a community manager or
    a helper; by default the only community manager), valid RALLYBOT_CONSOLE_LINK_MINUTES
    minutes."""
    settings = await roster_settings(settings, db)
    # Only people can sign in: a manager the file names by e-mail and no roster lists is an
    # ``any:`` placeholder, offered to nobody.
    managers = [key for key in settings.admins if signable(key)]
    missing = [key.partition(":")[2] for key in settings.admins if not signable(key)]
    if manager is None:
        if len(managers) != 1:
            # Kept translatable (N_, the console's domain): the CLI shows it in its language.
            if managers:
                raise LinkRefused(
                    N_(
                        "choose the manager to sign in with --manager, one of: {managers}",
                        managers=", ".join(managers),
                    )
                )
            if missing:
                raise LinkRefused(
                    N_(
                        "no community manager has an account here: no roster lists {people}. "
                        "Import the roster that lists them, or pass --manager with a "
                        "platform:id key, such as console:alice or slack:U0123",
                        people=", ".join(missing),
                    )
                )
            raise LinkRefused(
                N_(
                    "no community manager: name one in the community file (managers) or in "
                    "RALLYBOT_ADMINS, then pass --manager with a platform:id key, such as "
                    "console:alice or slack:U0123"
                )
            )
        manager = managers[0]
    if not signable(manager):
        raise LinkRefused(
            N_(
                '"{manager}" is not a platform:id key, such as console:alice or slack:U0123',
                manager=manager,
            )
        )
    # A helper signs in too (the help desk is theirs): on the console platform a link is the
    # only way in.
    if role_of(settings, manager) < Role.HELPER:
        raise LinkRefused(
            N_(
                "{manager} is neither a community manager (RALLYBOT_ADMINS, managers in the "
                "community file) nor a helper of the help rota",
                manager=manager,
            )
        )
    lifetime = timedelta(minutes=settings.console_link_minutes)
    token = await create_sign_in(db, "link", clock.now(), lifetime, actor=manager)
    base = console_url(settings)
    if port is not None:
        parts = urlsplit(base)
        host = parts.hostname or "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        base = urlunsplit((parts.scheme, f"{host}:{port}", parts.path, "", ""))
    return f"{base}/signin/link/{token}"
