"""The Slack adapter: slack-bolt's ``AsyncApp`` inbound, the Web API outbound.

Inbound, an Events API event is acknowledged once the bot has recorded it (its inbound
journal, one transaction per burst), never before: Slack does not resend an acknowledged
event. Interactive requests (clicks, commands, forms) are handed to the sink in a task of their
own and acknowledged as soon as the sink says they are recorded
(:func:`~bot.adapters.base.when_recorded`), before they are handled, so their answer never
waits on the router or the rate limiter (Slack wants it within 3 seconds); one that cannot be
recorded is answered with an error, and the member sees that the click did not go through. A
form is closed by that acknowledgement. (Bolt runs with ``process_before_response=True``: our
listeners return once the event is recorded, and the tasks are
ours to count, bound and await on :meth:`SlackAdapter.stop`.) One member's events are handled
in the order they arrived; different members' events run side by side, a bounded number at
once. Slack retries an event it thinks was not acknowledged (``X-Slack-Retry-Num``); a retry
carries the same ids, so the router drops it on ``event_id``.

Outbound, every Web API call first takes its tokens from a limiter modelled on Slack's tiers
(:mod:`bot.adapters.slack.limits`); a 429 penalizes that method's (or channel's) bucket for
the integer ``Retry-After`` and the call is tried again, without holding back other channels.
Campaign posts carry message metadata with their outbox key, so :meth:`SlackAdapter.find_sent`
can tell whether an ambiguous send (timeout, connection reset) went out before it is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import aiohttp
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from starlette.requests import Request
from starlette.responses import Response

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
from rallybot.bot.adapters.slack.http_guard import (
    HANDLED_EVENTS,
    Accepted,
    Ignored,
    Rejected,
    check_request,
)
from rallybot.bot.adapters.slack.limits import rate_keys, slack_limiter
from rallybot.bot.adapters.slack.profiles import is_active_member, profile_from_user
from rallybot.bot.adapters.slack.render import (
    FORM_CALLBACK_PREFIX,
    fallback_text,
    is_link_action,
    original_action_id,
    render_form,
    render_message,
)
from rallybot.bot.clock import Clock
from rallybot.bot.config import Settings
from rallybot.bot.events import (
    ButtonClicked,
    ChannelRef,
    CommandInvoked,
    Event,
    FileRef,
    FormSubmitted,
    HomeOpened,
    MemberJoined,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ProfileChanged,
    ReactionAdded,
    ReactionRemoved,
    UserRef,
)
from rallybot.bot.http import DEFAULT_HOST, HttpServer
from rallybot.bot.messages import Form, Message
from rallybot.bot.metrics import METRICS
from rallybot.bot.ratelimit import RateLimiter
from rallybot.storage.database import Database
from rallybot.storage.repositories import (
    get_member_by_platform_id,
    load_dm_channels,
    set_dm_channel,
    upsert_member,
)

__all__ = [
    "DELIVERY_EVENT_TYPE",
    "SlackAdapter",
    "SlackConfigError",
    "clicks_from_block_actions",
    "command_from_slash",
    "event_from_callback",
    "files_of",
    "form_from_view_submission",
]

log = logging.getLogger("rallybot.slack")

PLATFORM = "slack"
DELIVERY_EVENT_TYPE = "rallybot_delivery"
"""The ``metadata.event_type`` of campaign posts; ``event_payload.key`` is the outbox key."""

#: Message subtypes that are still a person talking (the others are edits, joins, bots...).
_HUMAN_SUBTYPES = frozenset({None, "thread_broadcast", "file_share"})
#: Web API errors that may go away by themselves: retried by the outbox.
_TRANSIENT_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}
)
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]+$")


class EventNotRecorded(Exception):
    """The bot could not record an inbound event: it must not be acknowledged."""


class SlackConfigError(PlatformStartError):
    """A token or secret the chosen Slack mode needs is missing or refused."""


# ---- translation: Slack payloads -> neutral events (pure) ------------------------------------


def _when(value: object, default: datetime | None = None) -> datetime:
    """A Slack timestamp (``"1700000000.000100"`` or seconds) as an aware UTC datetime."""
    try:
        return datetime.fromtimestamp(float(str(value)), UTC)
    except (TypeError, ValueError, OverflowError):
        return default if default is not None else datetime.now(UTC)


def _channel(channel_id: str, channel_type: object = None, name: str | None = None) -> ChannelRef:
    direct = channel_type == "im" or channel_id.startswith("D") or name == "directmessage"
    return ChannelRef(PLATFORM, channel_id, name=name, is_direct=direct)


def _user(user_id: str, name: object = None, *, is_bot: bool = False) -> UserRef:
    return UserRef(PLATFORM, user_id, name=str(name) if name else None, is_bot=is_bot)


def files_of(event: Mapping[str, Any]) -> tuple[FileRef, ...]:
    """The files of a message event (``file_share``) as links: the ``permalink`` (opens in
    Slack for whoever may see the file), else ``url_private``. Files Slack does not describe
    (``file_access: check_file_info``, Slack Connect) or that were deleted are left out."""
    found: list[FileRef] = []
    for item in event.get("files") or ():
        if not isinstance(item, Mapping) or item.get("mode") in ("tombstone", "hidden_by_limit"):
            continue
        url = item.get("permalink") or item.get("url_private")
        if not url:
            continue
        size = item.get("size")
        found.append(
            FileRef(
                name=str(item.get("name") or item.get("title") or item.get("id") or "file"),
                url=str(url),
                mimetype=str(item["mimetype"]) if item.get("mimetype") else None,
                size=size if isinstance(size, int) and not isinstance(size, bool) else None,
            )
        )
    return tuple(found)


def _message(event: Mapping[str, Any]) -> MessagePosted | None:
    if event.get("subtype") not in _HUMAN_SUBTYPES or event.get("bot_id"):
        return None
    user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
    if not (user and channel and ts):
        return None
    thread_ts = event.get("thread_ts")
    # One id for the message whatever announces it: a mention arrives both as ``message``
    # and as ``app_mention`` (two Slack event ids), and must be handled once.
    return MessagePosted(
        event_id=f"message:{channel}:{ts}",
        platform=PLATFORM,
        user=_user(str(user)),
        occurred_at=_when(ts),
        channel=_channel(str(channel), event.get("channel_type")),
        message_id=str(ts),
        text=str(event.get("text") or ""),
        thread_id=str(thread_ts) if thread_ts and thread_ts != ts else None,
        files=files_of(event),
    )


def _thread_of(message: Mapping[str, Any], ts: object) -> str | None:
    thread_ts = message.get("thread_ts")
    return str(thread_ts) if thread_ts and thread_ts != ts else None


def _edited(event: Mapping[str, Any]) -> MessageEdited | None:
    """A ``message_changed``: an edit by its author. Slack also sends one when a message
    gets thread replies or an unfurl (no ``edited`` then): those are left out, and so are
    bots' messages (the bot's own ``chat.update``)."""
    message = event.get("message") or {}
    edited = message.get("edited") or {}
    user, channel, ts = message.get("user"), event.get("channel"), message.get("ts")
    if not (edited.get("ts") and user and channel and ts) or message.get("bot_id"):
        return None
    return MessageEdited(
        event_id=f"edit:{channel}:{ts}:{edited['ts']}",
        platform=PLATFORM,
        user=_user(str(user)),
        occurred_at=_when(edited["ts"]),
        channel=_channel(str(channel), event.get("channel_type")),
        message_id=str(ts),
        text=str(message.get("text") or ""),
        thread_id=_thread_of(message, ts),
    )


def _deleted(event: Mapping[str, Any]) -> MessageDeleted | None:
    """A ``message_deleted``; the author comes from ``previous_message`` (empty if absent)."""
    channel, ts = event.get("channel"), event.get("deleted_ts")
    if not (channel and ts):
        return None
    previous = event.get("previous_message") or {}
    author = previous.get("user") or ""
    return MessageDeleted(
        event_id=f"delete:{channel}:{ts}",
        platform=PLATFORM,
        user=_user(str(author), is_bot=bool(previous.get("bot_id"))),
        occurred_at=_when(event.get("event_ts") or event.get("ts")),
        channel=_channel(str(channel), event.get("channel_type")),
        message_id=str(ts),
        thread_id=_thread_of(previous, ts),
    )


def _reaction(
    event: Mapping[str, Any], event_id: str, occurred: datetime
) -> ReactionAdded | ReactionRemoved | None:
    item = event.get("item") or {}
    if item.get("type") != "message" or not event.get("user") or not item.get("channel"):
        return None
    author = item.get("item_user") or event.get("item_user")
    cls = ReactionAdded if event.get("type") == "reaction_added" else ReactionRemoved
    return cls(
        event_id=event_id,
        platform=PLATFORM,
        user=_user(str(event["user"])),
        occurred_at=occurred,
        channel=_channel(str(item["channel"])),
        message_id=str(item.get("ts") or ""),
        emoji=str(event.get("reaction") or ""),
        author=_user(str(author)) if author else None,
    )


def _joined(event: Mapping[str, Any], event_id: str, occurred: datetime) -> MemberJoined | None:
    if event.get("type") == "team_join":
        user = event.get("user") or {}
        if not isinstance(user, Mapping) or not user.get("id"):
            return None
        profile = user.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or user.get("real_name")
        return MemberJoined(
            event_id=event_id,
            platform=PLATFORM,
            user=_user(str(user["id"]), name, is_bot=bool(user.get("is_bot"))),
            occurred_at=occurred,
        )
    if not event.get("user") or not event.get("channel"):
        return None
    return MemberJoined(
        event_id=event_id,
        platform=PLATFORM,
        user=_user(str(event["user"])),
        occurred_at=occurred,
        channel=_channel(str(event["channel"]), event.get("channel_type")),
    )


def _profile_changed(
    event: Mapping[str, Any], event_id: str, occurred: datetime
) -> ProfileChanged | None:
    """``user_change`` / ``user_profile_changed``: the whole user object, as it is now.
    Deactivated accounts, bots, apps and Slackbot are ignored."""
    user = event.get("user")
    if not isinstance(user, dict) or not user.get("id") or not is_active_member(user):
        return None
    profile = profile_from_user(user)
    return ProfileChanged(
        event_id=event_id,
        platform=PLATFORM,
        user=_user(profile.user_id, profile.display_name),
        occurred_at=occurred,
        profile=profile,
    )


def event_from_callback(body: Mapping[str, Any], *, now: datetime | None = None) -> Event | None:
    """The neutral event of an Events API ``event_callback`` body, or None to ignore it.

    Messages get the id ``message:<channel>:<ts>`` (a mention comes as two Slack events),
    edits ``edit:<channel>:<ts>:<edit ts>``, deletions ``delete:<channel>:<ts>``; the other
    events keep Slack's ``event_id``, which a retried delivery repeats.
    """
    event = body.get("event") or {}
    kind = event.get("type")
    if kind == "message" and event.get("subtype") == "message_changed":
        return _edited(event)
    if kind == "message" and event.get("subtype") == "message_deleted":
        return _deleted(event)
    if kind in ("message", "app_mention"):
        return _message(event)
    event_id = str(body.get("event_id") or "")
    if not event_id:
        return None
    occurred = _when(body.get("event_time") or event.get("event_ts"), now)
    if kind in ("reaction_added", "reaction_removed"):
        return _reaction(event, event_id, occurred)
    if kind in ("member_joined_channel", "team_join"):
        return _joined(event, event_id, occurred)
    if kind in ("user_change", "user_profile_changed"):
        return _profile_changed(event, event_id, occurred)
    if kind == "app_home_opened" and event.get("tab") == "home" and event.get("user"):
        user = UserRef(PLATFORM, str(event["user"]))
        return HomeOpened(event_id=event_id, platform=PLATFORM, user=user, occurred_at=occurred)
    return None


def clicks_from_block_actions(
    body: Mapping[str, Any], *, now: datetime | None = None
) -> list[ButtonClicked]:
    """One :class:`ButtonClicked` per action of a ``block_actions`` payload (link buttons,
    which Slack also reports, are left out). The id is ``<message ts>:<action ts>:<user>``."""
    user = body.get("user") or {}
    user_id = str(user.get("id") or "")
    container = body.get("container") or {}
    channel_id = str((body.get("channel") or {}).get("id") or container.get("channel_id") or "")
    message_ts = str(container.get("message_ts") or (body.get("message") or {}).get("ts") or "")
    if not user_id:
        return []
    clicks: list[ButtonClicked] = []
    for index, action in enumerate(body.get("actions") or ()):
        action_id = str(action.get("action_id") or "")
        if not action_id or is_link_action(action_id):
            continue
        action_ts = str(action.get("action_ts") or "")
        suffix = f":{index}" if index else ""
        clicks.append(
            ButtonClicked(
                event_id=f"{message_ts}:{action_ts}:{user_id}{suffix}",
                platform=PLATFORM,
                user=_user(user_id, user.get("username") or user.get("name")),
                occurred_at=_when(action_ts, now),
                channel=_channel(channel_id),
                message_id=message_ts,
                action_id=original_action_id(action_id),
                value=str(action.get("value") or ""),
            )
        )
    return clicks


def command_from_slash(body: Mapping[str, Any], *, now: datetime) -> CommandInvoked:
    """The :class:`CommandInvoked` of a slash command body: ``/rallybot pause launch`` gives
    ``name="pause", args=("launch",)``; an empty text is ``help``. The id is the trigger id.

    The command is escaped (``should_escape`` in the manifest): a mention comes as
    ``<@U123|ana>``, kept as it is for the handlers; ``&amp;``, ``&lt;`` and ``&gt;`` in the
    other words are turned back into ``&``, ``<`` and ``>``."""
    words = [_unescape(w) for w in str(body.get("text") or "").split()]
    user_id = str(body.get("user_id") or "")
    channel_id = str(body.get("channel_id") or "")
    channel_name = body.get("channel_name")
    event_id = str(body.get("trigger_id") or f"{channel_id}:{user_id}:{now.timestamp()}")
    return CommandInvoked(
        event_id=event_id,
        platform=PLATFORM,
        user=_user(user_id, body.get("user_name")),
        occurred_at=now,
        name=words[0].lower() if words else "help",
        args=tuple(words[1:]),
        channel=_channel(channel_id, name=str(channel_name) if channel_name else None)
        if channel_id
        else None,
    )


def form_from_view_submission(body: Mapping[str, Any], *, now: datetime) -> FormSubmitted | None:
    """The :class:`FormSubmitted` of a ``view_submission`` of one of our modals (its
    ``callback_id`` is ``rallybot-form:<form id>``), None for other views. The values are
    keyed by field id (the inputs' ``action_id``); the event id is the view id."""
    view = body.get("view") or {}
    callback = str(view.get("callback_id") or "")
    user = body.get("user") or {}
    if not callback.startswith(FORM_CALLBACK_PREFIX) or not user.get("id") or not view.get("id"):
        return None
    values: dict[str, str] = {}
    for actions in ((view.get("state") or {}).get("values") or {}).values():
        for action_id, action in (actions or {}).items():
            values[str(action_id)] = str((action or {}).get("value") or "")
    channel_id = ""
    with contextlib.suppress(ValueError, TypeError, AttributeError):
        channel_id = str(json.loads(view.get("private_metadata") or "{}").get("channel") or "")
    return FormSubmitted(
        event_id=str(view["id"]),
        platform=PLATFORM,
        user=_user(str(user["id"]), user.get("username") or user.get("name")),
        occurred_at=now,
        form_id=callback.removeprefix(FORM_CALLBACK_PREFIX),
        values=values,
        channel=_channel(channel_id) if channel_id else None,
    )


def _unescape(word: str) -> str:
    if word.startswith("<") and word.endswith(">"):
        return word  # a mention, a channel or a link: what Slack resolved
    return word.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# ---- the adapter -----------------------------------------------------------------------------


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def _error_of(exc: SlackApiError) -> str:
    """Slack's error code of a refused call (``HTTP 500`` for a body that is not JSON)."""
    data = exc.response.data
    error = data.get("error") if isinstance(data, dict) else None
    return str(error or f"HTTP {exc.response.status_code}")


def _retry_after(exc: SlackApiError) -> float | None:
    """The integer ``Retry-After`` of a 429 answer, None when it was not a rate limit."""
    response = exc.response
    if response.status_code != 429 and _error_of(exc) != "ratelimited":
        return None
    raw = (response.headers or {}).get("Retry-After") or (response.headers or {}).get("retry-after")
    try:
        return max(1.0, float(str(raw)))
    except (TypeError, ValueError):
        return 1.0


def _acting_user(payload: Mapping[str, Any]) -> str | None:
    """The user an event is about, found where slack-bolt looks for it (``user`` as an id or
    an object, ``user_id``, then an edited or deleted message's author)."""
    user = payload.get("user")
    if isinstance(user, str):
        return user
    if isinstance(user, Mapping) and "id" in user:
        return str(user["id"])
    if "user_id" in payload:
        return str(payload["user_id"])
    for nested in ("message", "previous_message"):
        inner = payload.get(nested)
        if isinstance(inner, Mapping):
            return _acting_user(inner)
    return None


class _Turn:
    """The lock that makes one member's events wait for each other, and how many do."""

    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class SlackAdapter:
    """The ``slack`` platform (see the module docstring).

    Args:
        settings: tokens, the signing secret and ``slack_api_url``.
        db: where DM channel ids and synchronised profiles are kept.
        clock: the bot's clock (command timestamps, member updates).
        http_port: serve the Events API over HTTP on this port (0 picks a free one, see
            :attr:`port`); None uses Socket Mode. Ignored when ``server`` is given.
        server: the bot's HTTP server (:mod:`bot.http`): HTTP mode adds ``path`` to it
            instead of serving a port of its own; the bot starts and stops it.
        limiter_scale: multiplies every rate limit (tests against a scaled fake).
        limiter: a ready rate limiter (overrides ``limiter_scale``).
        host: the HTTP interface to listen on (without ``server``).
        path: the Events API path (also receives interactivity and slash commands).
        command: the slash command's name.
        max_rate_retries: how many 429s one call absorbs before the outbox retries later.
        timeout: seconds before a Web API call is abandoned (then retried by the outbox).
        profile_ttl: seconds a fetched profile is kept.
        history_window: seconds of channel history :meth:`find_sent` looks through.
        dm_channels: DM channel ids already known, by user id (else read from the database).
        sink_concurrency: how many acknowledged events are handed to the sink at the same time
            (the bot records them together and bounds its own handlers).
    """

    platform = PLATFORM
    capabilities = Capabilities(
        buttons=True,
        images=True,
        named_sender=True,
        pins=True,
        threads=True,
        ephemeral=True,
        confirms_sends=True,
    )

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        clock: Clock,
        http_port: int | None = None,
        server: HttpServer | None = None,
        limiter_scale: float = 1.0,
        limiter: RateLimiter | None = None,
        host: str = DEFAULT_HOST,
        path: str = "/slack/events",
        command: str = "/rallybot",
        max_rate_retries: int = 5,
        timeout: int = 30,
        profile_ttl: float = 3600.0,
        history_window: float = 24 * 3600.0,
        dm_channels: Mapping[str, str] | None = None,
        sink_concurrency: int = 256,
    ) -> None:
        bot_token = _secret(settings.slack_bot_token)
        if not bot_token:
            raise SlackConfigError(
                "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) "
                "from your Slack app's OAuth & Permissions page"
            )
        self._app_token = _secret(settings.slack_app_token)
        signing_secret = _secret(settings.slack_signing_secret)
        if http_port is None and not self._app_token:
            raise SlackConfigError(
                "SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token (xapp-...) "
                "with the connections:write scope; or run with --http --port N"
            )
        if http_port is None and self._app_token and not self._app_token.startswith("xapp-"):
            raise SlackConfigError(
                "SLACK_APP_TOKEN must be an app-level token starting with xapp- "
                "(Basic Information > App-Level Tokens), not a bot or user token"
            )
        if http_port is not None and not signing_secret:
            raise SlackConfigError(
                "SLACK_SIGNING_SECRET is not set: HTTP mode checks every request's signature "
                "with it (Basic Information > App Credentials)"
            )
        self.settings = settings
        self.db = db
        self.clock = clock
        self.http_port = http_port
        self.server = server
        self.host = host
        self.path = path
        self.command = command
        self.max_rate_retries = max_rate_retries
        self.profile_ttl = profile_ttl
        self.history_window = history_window
        self.limiter = limiter or slack_limiter(limiter_scale)
        self.web = AsyncWebClient(
            token=bot_token,
            base_url=settings.slack_api_url,
            timeout=timeout,
            retry_handlers=[],  # retries are ours: a blind resend could post twice
        )
        self.app = AsyncApp(
            client=self.web,
            signing_secret=signing_secret or "unused-in-socket-mode",
            process_before_response=True,  # listeners return at once; our tasks do the work
            # Every HTTP request's signature and timestamp are checked once, by the guard
            # (http_guard.check_request), before anything reads it; a second check in Bolt
            # would cost each event another HMAC and parse and refuse nothing more.
            request_verification_enabled=False,
        )
        self._signing_secret = signing_secret or ""
        # The bot's own user and bot ids (auth.test at start): its own events are dropped,
        # as slack-bolt drops them on the path it serves.
        self._self_ids: tuple[str | None, str | None] = (None, None)
        self._register_listeners()
        self.app.error(self._on_listener_error)
        self._refusals: dict[str, tuple[float, int]] = {}  # reason -> (last logged, since)
        self._http_handler = AsyncSlackRequestHandler(self.app)
        self.port: int | None = None
        self.rate_limited = 0  # 429s received
        self._sink: EventSink | None = None
        self._own_server: HttpServer | None = None  # HTTP mode without the bot's server
        self._socket: AsyncSocketModeHandler | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # Acknowledged events wait here beyond this many in the sink: the bot records those in
        # the sink together (one transaction per burst) and runs its handlers a few at a time.
        self._sink_slots = asyncio.Semaphore(sink_concurrency)
        self._member_turns: dict[str, _Turn] = {}
        self._dm_channels: dict[str, str] = dict(dm_channels or {})
        self._dm_channels_loaded = False
        self._dm_load_lock = asyncio.Lock()
        self._profiles: dict[str, tuple[float, MemberProfile | None]] = {}
        self._response_urls: OrderedDict[str, str] = OrderedDict()
        self._triggers: OrderedDict[str, str] = OrderedDict()  # click event id -> trigger_id

    # ---- life cycle ------------------------------------------------------------------------

    async def start(self, sink: EventSink) -> None:
        """Serve the Events API (HTTP mode) or connect to Slack (Socket Mode)."""
        self._ensure_session()
        await self._check_token()
        self._sink = sink
        if self.http_port is not None:
            server = self.server
            if server is None:
                server = self._own_server = HttpServer(self.host, self.http_port)
            if not any(getattr(r, "path", None) == self.path for r in server.routes):
                server.add_route(self.path, self._handle_http, methods=("POST",), name="slack")
            if self._own_server is not None:
                await self._own_server.start()
            self.port = server.port if server.port is not None else self.http_port
            log.info("Slack events served on %s%s", server.url, self.path)
        else:
            self._socket = AsyncSocketModeHandler(self.app, self._app_token)
            await self._socket.connect_async()  # type: ignore[no-untyped-call]
            log.info("connected to Slack over Socket Mode")

    async def _check_token(self) -> None:
        try:
            identity = await self.web.auth_test()
        except SlackApiError as exc:
            raise SlackConfigError(
                f"Slack refused SLACK_BOT_TOKEN ({_error_of(exc)}): check the Bot User OAuth "
                "Token and that the app is installed in the workspace"
            ) from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise PlatformStartError(
                f"cannot reach the Slack Web API at {self.web.base_url} ({exc})"
            ) from exc
        log.info("Slack: signed in as %s in %s", identity.get("user"), identity.get("team"))
        user_id, bot_id = identity.get("user_id"), identity.get("bot_id")
        self._self_ids = (str(user_id) if user_id else None, str(bot_id) if bot_id else None)

    async def stop(self) -> None:
        """Stop receiving, let the events already acknowledged finish, close the client."""
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
        if self._own_server is not None:
            await self._own_server.stop()
            self._own_server = None
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._sink = None
        session = self.web.session
        if session is not None and not session.closed:
            await session.close()
        self.web.session = None

    def _ensure_session(self) -> aiohttp.ClientSession:
        # One pooled session for every call (slack_sdk opens one per call otherwise).
        session = self.web.session
        if session is None or session.closed:
            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=64),
                timeout=aiohttp.ClientTimeout(total=self.web.timeout),
            )
            self.web.session = session
        return session

    # ---- inbound ---------------------------------------------------------------------------

    async def _handle_http(self, request: Request) -> Response:
        if self._sink is None:  # stopping or not started: Slack retries, maybe on a replica
            return Response("not accepting events", status_code=503)
        # Headers and body are checked before slack-bolt sees them (bot.adapters.slack.
        # http_guard): bad input gets a 4xx and one log line, never a 500 or a traceback.
        verdict = check_request(
            request.headers,
            await request.body(),  # Starlette keeps it for the handler below
            signing_secret=self._signing_secret,
            now=time.time(),  # Slack signs with the real clock, not the bot's
        )
        if isinstance(verdict, Rejected):
            self._log_refusal(verdict)
            return Response(verdict.reason, status_code=verdict.status)
        if isinstance(verdict, Ignored):  # acknowledged, or Slack retries and counts a failure
            METRICS.event(PLATFORM, verdict.kind, "ignored")
            return Response(status_code=200)
        if isinstance(verdict, Accepted) and verdict.kind.startswith("event:"):
            # An Events API event, checked and parsed once by the guard: straight to the
            # translation, without slack-bolt's second parse, middleware chain and listener
            # matching (most of an event's cost on this path). Interactions, commands and
            # the URL check still go through slack-bolt.
            assert verdict.data is not None  # a JSON body, parsed by the guard
            return await self._handle_event_callback(verdict.data)
        try:
            return await self._http_handler.handle(request)
        except Exception as exc:  # slack-bolt could not read a payload the guard let through
            self._log_refusal(Rejected(400, f"malformed payload ({type(exc).__name__})"))
            return Response("malformed payload", status_code=400)

    async def _handle_event_callback(self, body: dict[str, Any]) -> Response:
        """Answer an Events API request: 200 once its event is recorded (or when there is
        nothing to record), 503 when it could not be recorded, so that Slack sends it again."""
        if self._is_self_event(body):
            return Response(status_code=200)
        try:
            await self._take_event(body)
        except EventNotRecorded as exc:
            log.warning("Slack request not recorded (%s): answered with an error", exc)
            return Response("not recorded, send it again", status_code=503)
        except Exception as exc:  # a payload the guard let through but the translation cannot
            self._log_refusal(Rejected(400, f"malformed payload ({type(exc).__name__})"))
            return Response("malformed payload", status_code=400)
        return Response(status_code=200)

    def _is_self_event(self, body: Mapping[str, Any]) -> bool:
        """Whether the event is the bot's own doing (its own reaction, message or profile
        change), which slack-bolt's ``ignoring_self_events`` drops: the same rule (the
        event's user, or the bot id of a bot message; channel joins are kept)."""
        user_id, bot_id = self._self_ids
        event = body.get("event") or {}
        if event.get("type") in ("member_joined_channel", "member_left_channel"):
            return False
        if bot_id is not None and event.get("bot_id") == bot_id:
            return True
        return user_id is not None and _acting_user(event) == user_id

    def _log_refusal(self, verdict: Rejected) -> None:
        """One warning per reason and minute at most: a flood of bad requests cannot fill
        the logs."""
        now = time.monotonic()
        last, since = self._refusals.get(verdict.reason, (float("-inf"), 0))
        if now - last < 60.0:
            self._refusals[verdict.reason] = (last, since + 1)
            return
        more = f" ({since} more in the last minute)" if since else ""
        log.warning("Slack endpoint: %s %s%s", verdict.status, verdict.reason, more)
        self._refusals[verdict.reason] = (now, 0)
        while len(self._refusals) > 100:
            self._refusals.pop(next(iter(self._refusals)))

    async def _on_listener_error(self, error: Exception) -> BoltResponse:
        """A payload the guard let through but a listener could not read: 400, one line.
        An event the bot could not record: 503, so that Slack sends it again."""
        if isinstance(error, EventNotRecorded):
            # Slack sends an event again; a person sees that their click did not go through.
            log.warning("Slack request not recorded (%s): answered with an error", error)
            return BoltResponse(status=503, body="not recorded, send it again")
        log.warning("Slack endpoint: malformed payload (%s)", type(error).__name__)
        return BoltResponse(status=400, body="malformed payload")

    @property
    def connected(self) -> bool:
        """Whether events can arrive: the socket is open, or the endpoint is served."""
        if self._socket is not None:
            session = getattr(self._socket.client, "current_session", None)
            return session is not None and not session.closed
        return self._sink is not None and self.http_port is not None

    def _register_listeners(self) -> None:
        # The same list as the HTTP guard's: an event one knows and the other drops would work
        # in Socket Mode and vanish over HTTP (as the Home tab once did).
        for kind in sorted(HANDLED_EVENTS):
            self.app.event(kind)(self._on_event)
        self.app.action(re.compile(".*"))(self._on_action)
        self.app.command(self.command)(self._on_command)
        self.app.view(re.compile("^" + re.escape(FORM_CALLBACK_PREFIX)))(self._on_view)

    async def _on_event(self, body: dict[str, Any], ack: AsyncAck) -> None:
        await self._take_event(body)
        await ack()

    async def _take_event(self, body: Mapping[str, Any]) -> None:
        """Translate an ``event_callback`` and hand its event to the sink; returns once the
        bot has recorded it (raises :class:`EventNotRecorded` when it could not)."""
        event = event_from_callback(body, now=self.clock.now())
        if isinstance(event, ProfileChanged):  # fetch_profile answers with the new profile
            self._remember_profile(event.user.id, event.profile)
        if event is not None:
            # Slack never sends an acknowledged event again: it is answered only once the bot
            # has recorded it (the sink returns then, see Rallybot.accept), and a failure to
            # record answers an error, so that Slack retries (Bolt answers only when this
            # listener returns: process_before_response).
            await self._deliver(event, strict=True)

    async def _on_action(self, body: dict[str, Any], ack: AsyncAck) -> None:
        trigger = body.get("trigger_id")
        clicks = clicks_from_block_actions(body, now=self.clock.now())
        for click in clicks:
            if trigger:  # open_form answers the click with a modal (within 3 seconds)
                self._triggers[click.event_id] = str(trigger)
                while len(self._triggers) > 1000:
                    self._triggers.popitem(last=False)
        await self._record_then_ack(clicks, ack)

    async def _on_view(self, body: dict[str, Any], ack: AsyncAck) -> None:
        event = form_from_view_submission(body, now=self.clock.now())
        # The acknowledgement closes the modal: once the answers are recorded.
        await self._record_then_ack([event] if event is not None else [], ack)

    async def _on_command(self, body: dict[str, Any], ack: AsyncAck) -> None:
        event = command_from_slash(body, now=self.clock.now())
        response_url = body.get("response_url")
        if response_url:
            self._response_urls[event.event_id] = str(response_url)
            while len(self._response_urls) > 1000:
                self._response_urls.popitem(last=False)
        await self._record_then_ack([event], ack)

    async def _record_then_ack(self, events: Sequence[Event], ack: AsyncAck) -> None:
        """Hand ``events`` to the sink, each in a task of its own, and acknowledge once every
        one is recorded (the sink's signal, or its return); their handling goes on after.
        One that cannot be recorded raises :class:`EventNotRecorded`: Slack hears an error."""
        loop = asyncio.get_running_loop()
        recorded: list[asyncio.Future[None]] = []
        for event in events:
            future: asyncio.Future[None] = loop.create_future()
            recorded.append(future)
            self._spawn(event, recorded=future)
        await asyncio.gather(*recorded)
        await ack()

    async def idle(self) -> None:
        """Wait until every event acknowledged so far has been handled by the sink."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, event: Event, *, recorded: asyncio.Future[None] | None = None) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(event, recorded=recorded))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(
        self,
        event: Event,
        *,
        strict: bool = False,
        recorded: asyncio.Future[None] | None = None,
    ) -> None:
        """Hand ``event`` to the sink, in its member's turn. With ``strict``, a failure raises
        :class:`EventNotRecorded`; with ``recorded``, that future is done once the sink says
        the event is recorded (or returns), or fails with :class:`EventNotRecorded`."""

        async def on_recorded() -> None:
            if recorded is not None and not recorded.done():
                recorded.set_result(None)

        def not_recorded(reason: str) -> None:
            if recorded is not None and not recorded.done():
                recorded.set_exception(EventNotRecorded(reason))

        sink = self._sink
        if sink is None:
            not_recorded("the adapter is stopped")
            if strict:
                raise EventNotRecorded("the adapter is stopped")
            log.warning(
                "dropped %s %s: the adapter is stopped", type(event).__name__, event.event_id
            )
            return
        # One member's events are handled one at a time, in the order they arrived (a double
        # click, a reaction then its removal); different members' events run side by side.
        turn = self._member_turns.get(event.user.id)
        if turn is None:
            turn = self._member_turns[event.user.id] = _Turn()
        turn.users += 1
        try:
            async with turn.lock, self._sink_slots:
                with when_recorded(on_recorded):
                    await sink(event)
            await on_recorded()  # a sink without a journal: handed over is as far as it goes
        except Exception as exc:
            not_recorded(type(exc).__name__)
            if strict:
                raise EventNotRecorded(type(exc).__name__) from exc
            log.exception("the bot failed on Slack event %s", event.event_id)
        except BaseException:
            not_recorded("cancelled")
            raise
        finally:
            turn.users -= 1
            if turn.users == 0:
                del self._member_turns[event.user.id]

    async def respond(self, event: CommandInvoked, message: Message) -> None:
        """Answer a command privately: an ephemeral message where it was typed, else through
        its ``response_url``, else a direct message."""
        rendered = render_message(message)
        content: dict[str, Any] = {k: rendered[k] for k in ("text", "blocks") if k in rendered}
        if event.channel is not None:
            try:
                await self._api(
                    "chat.postEphemeral",
                    {"channel": event.channel.id, "user": event.user.id, **content},
                    channel=event.channel.id,
                    what=f"channel {event.channel.id}",
                )
                return
            except TransientSendError:
                raise
            except AdapterError as exc:
                url = self._response_urls.get(event.event_id)
                if url is not None and await self._post_response_url(url, content):
                    return
                log.info("no ephemeral answer in %s (%s): sending a DM", event.channel.id, exc)
        await self.send_direct(event.user.id, message)

    async def _post_response_url(self, url: str, content: Mapping[str, Any]) -> bool:
        try:
            async with self._ensure_session().post(
                url, json={"response_type": "ephemeral", **content}
            ) as response:
                return response.status < 300
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("could not answer through response_url: %s", exc)
            return False

    # ---- the Web API -----------------------------------------------------------------------

    async def _api(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        channel: str | None = None,
        what: str = "",
    ) -> AsyncSlackResponse:
        """Call ``method`` through the limiter; 429s are absorbed up to ``max_rate_retries``.

        Raises:
            TransientSendError: timeouts, connection errors, 5xx, too many 429s.
            AdapterError: Slack refused for good (the message names the channel or user).
        """
        self._ensure_session()
        keys = rate_keys(method, channel)
        call = getattr(self.web, method.replace(".", "_"))
        attempt = 0
        while True:
            # Slack's 429 does not say which allowance ran out. If this channel's own bucket
            # had not been used lately, it was the workspace's: holding back only the channel
            # would let the next channels' posts run into the same wall, one 429 each.
            wider = len(keys) > 1 and self.limiter.untouched(keys[-1])
            await self.limiter.acquire(*keys, label=method)
            try:
                response: AsyncSlackResponse = await call(**params)
                return response
            except SlackApiError as exc:
                retry_after = _retry_after(exc)
                if retry_after is None:
                    raise self._refusal(method, what, exc) from exc
                self.rate_limited += 1
                METRICS.throttled(PLATFORM, method)
                # Otherwise the most specific bucket (a busy channel) is the one hit.
                self.limiter.penalize(keys[0] if wider else keys[-1], retry_after)
                attempt += 1
                if attempt > self.max_rate_retries:
                    raise TransientSendError(
                        f"Slack {method} still rate limited for {what} after {attempt} tries",
                        retry_after,
                    ) from exc
                log.info("%s rate limited for %s: retrying in %ss", method, what, retry_after)
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                raise TransientSendError(
                    f"Slack {method} for {what} did not complete: {type(exc).__name__} {exc}"
                ) from exc

    @staticmethod
    def _refusal(method: str, what: str, exc: SlackApiError) -> AdapterError:
        status = exc.response.status_code
        error = _error_of(exc)
        text = f"Slack {method} failed for {what}: {error}"
        if status >= 500 or error in _TRANSIENT_ERRORS:
            return TransientSendError(text)
        return AdapterError(text)

    async def _post(
        self, channel_id: str, message: Message, *, key: str | None, what: str, **extra: Any
    ) -> SentMessage:
        params: dict[str, Any] = {"channel": channel_id, **render_message(message), **extra}
        if key is not None:
            params["metadata"] = {
                "event_type": DELIVERY_EVENT_TYPE,
                "event_payload": {"key": key},
            }
        response = await self._api("chat.postMessage", params, channel=channel_id, what=what)
        return SentMessage(str(response.get("channel") or channel_id), str(response["ts"]))

    # ---- outbound --------------------------------------------------------------------------

    async def post(
        self, channel_id: str, message: Message, *, idempotency_key: str | None = None
    ) -> SentMessage:
        """``chat.postMessage`` in a channel, with the outbox key in the message metadata."""
        return await self._post(
            channel_id, message, key=idempotency_key, what=f"channel {channel_id}"
        )

    async def send_direct(
        self, user_id: str, message: Message, *, idempotency_key: str | None = None
    ) -> SentMessage:
        """A direct message, in the DM channel opened once and kept in the database."""
        channel_id = await self.dm_channel(user_id)
        return await self._post(channel_id, message, key=idempotency_key, what=f"user {user_id}")

    async def reply(
        self,
        channel_id: str,
        thread_id: str,
        message: Message,
        *,
        idempotency_key: str | None = None,
    ) -> SentMessage:
        """Answer in the thread of ``thread_id``, with the outbox key in the metadata."""
        return await self._post(
            channel_id,
            message,
            key=idempotency_key,
            what=f"channel {channel_id}",
            thread_ts=thread_id,
        )

    async def update(self, sent: SentMessage, message: Message) -> None:
        """``chat.update`` with the new content."""
        rendered = render_message(message)
        params: dict[str, Any] = {"channel": sent.channel_id, "ts": sent.message_id}
        params.update((k, rendered[k]) for k in ("text", "blocks") if k in rendered)
        await self._api(
            "chat.update", params, channel=sent.channel_id, what=f"channel {sent.channel_id}"
        )

    async def pin(self, sent: SentMessage) -> None:
        """``pins.add`` (a message already pinned is fine)."""
        params = {"channel": sent.channel_id, "timestamp": sent.message_id}
        try:
            await self._api(
                "pins.add", params, channel=sent.channel_id, what=f"channel {sent.channel_id}"
            )
        except AdapterError as exc:
            if "already_pinned" not in str(exc):
                raise

    async def add_reaction(self, channel_id: str, message_id: str, emoji: str) -> None:
        """``reactions.add`` (a reaction already there is fine)."""
        params = {"channel": channel_id, "timestamp": message_id, "name": emoji.strip(":")}
        try:
            await self._api(
                "reactions.add", params, channel=channel_id, what=f"channel {channel_id}"
            )
        except AdapterError as exc:
            if "already_reacted" not in str(exc):
                raise

    async def fetch_profile(self, user_id: str) -> MemberProfile | None:
        """``users.info`` with the locale, cached ``profile_ttl`` seconds; None if unknown."""
        cached = self._profiles.get(user_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            response = await self._api(
                "users.info", {"user": user_id, "include_locale": True}, what=f"user {user_id}"
            )
        except AdapterError as exc:
            if isinstance(exc, TransientSendError) or "user_not_found" not in str(exc):
                raise
            profile: MemberProfile | None = None
        else:
            profile = profile_from_user(response["user"])
        self._remember_profile(user_id, profile)
        return profile

    def _remember_profile(self, user_id: str, profile: MemberProfile | None) -> None:
        self._profiles[user_id] = (time.monotonic() + self.profile_ttl, profile)
        if len(self._profiles) > 50_000:
            now = time.monotonic()
            self._profiles = {k: v for k, v in self._profiles.items() if v[0] > now}

    async def sync_members(self) -> int:
        """Read every member with ``users.list`` (paginated) and store their names, time
        zone, locale and profile completeness; returns how many people were stored."""
        count = 0
        now = self.clock.now()
        cursor = ""
        while True:
            params: dict[str, Any] = {"limit": 200, "include_locale": True}
            if cursor:
                params["cursor"] = cursor
            response = await self._api("users.list", params, what="the workspace")
            for user in response.get("members") or ():
                if not is_active_member(user):
                    continue
                profile = profile_from_user(user)
                self._remember_profile(profile.user_id, profile)
                fields = {
                    "display_name": profile.display_name,
                    "first_name": profile.first_name,
                    "locale": profile.locale,
                    "timezone": profile.timezone,
                }
                await upsert_member(
                    self.db,
                    PLATFORM,
                    profile.user_id,
                    now,
                    profile_complete=profile.profile_complete,
                    **{k: v for k, v in fields.items() if v is not None},
                )
                count += 1
            cursor = str((response.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                return count

    async def channel_members(self, channel_id: str) -> list[str]:
        """``conversations.members``, every page."""
        members: list[str] = []
        cursor = ""
        while True:
            # 1,000 a page, Slack's most: a 100,000-member channel in 100 Tier 4 calls
            params: dict[str, Any] = {"channel": channel_id, "limit": 1000}
            if cursor:
                params["cursor"] = cursor
            response = await self._api(
                "conversations.members", params, what=f"channel {channel_id}"
            )
            members.extend(str(m) for m in response.get("members") or ())
            cursor = str((response.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                return members

    async def member_groups(self) -> dict[str, list[str]]:
        """The user group handles of each member, by user id: one ``usergroups.list`` call
        with the users of each group (Tier 2, paced by the limiter; needs the
        ``usergroups:read`` scope). Disabled groups are left out. Works before :meth:`start`."""
        response = await self._api(
            "usergroups.list", {"include_users": True}, what="the workspace's user groups"
        )
        groups: dict[str, list[str]] = {}
        for group in response.get("usergroups") or ():
            handle = str(group.get("handle") or "")
            if not handle or group.get("date_delete"):
                continue
            for user_id in group.get("users") or ():
                groups.setdefault(str(user_id), []).append(handle)
        return groups

    async def publish_home(self, user_id: str, message: Message) -> None:
        """Show ``message`` as the member's App Home tab (``views.publish``)."""
        view = {"type": "home", "blocks": render_message(message)["blocks"]}
        await self._api("views.publish", {"user_id": user_id, "view": view}, what="the Home tab")

    async def lookup_by_email(self, email: str) -> str | None:
        """The user id of the active member with ``email`` (``users.lookupByEmail``, which
        needs the ``users:read.email`` scope; Tier 3, paced by the limiter); None when no
        person of the workspace has it. Works before :meth:`start`."""
        email = email.strip()
        if not email:
            return None
        try:
            response = await self._api(
                "users.lookupByEmail", {"email": email}, what="a lookup by email"
            )
        except AdapterError as exc:
            if isinstance(exc, TransientSendError) or "users_not_found" not in str(exc):
                raise
            return None
        user = response.get("user") or {}
        if not user.get("id") or not is_active_member(user):
            return None
        return str(user["id"])

    async def open_form(self, event: ButtonClicked, form: Form) -> bool:
        """Answer the click ``event`` with a modal (``views.open`` with the click's
        ``trigger_id``, valid 3 seconds); its submission comes back as a
        :class:`~bot.events.FormSubmitted`. False when the click is unknown or too old."""
        trigger = self._triggers.pop(event.event_id, None)
        if trigger is None:
            return False
        view = render_form(form, private_metadata=json.dumps({"channel": event.channel.id}))
        try:
            await self._api(
                "views.open", {"trigger_id": trigger, "view": view}, what=f"user {event.user.id}"
            )
        except AdapterError as exc:
            log.warning("could not open form %s: %s", form.id, exc)
            return False
        return True

    # ---- files -----------------------------------------------------------------------------

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
        """Upload a file to a member's DM (``target`` a user id) or, with ``in_channel``, to a
        channel, as slack_sdk's ``files_upload_v2`` does: ``files.getUploadURLExternal``, the
        bytes POSTed to the URL it returns, then ``files.completeUploadExternal`` shares the
        file with the message's text as its comment. Needs the ``files:write`` scope. The
        message id returned is the file id (Slack shares the file asynchronously)."""
        channel_id = target if in_channel else await self.dm_channel(target)
        what = f"channel {channel_id}" if in_channel else f"user {target}"
        ticket: dict[str, Any] = {"filename": filename, "length": len(content)}
        if alt_text:
            ticket["alt_txt"] = alt_text[:1000]
        share: dict[str, Any] = {"channel_id": channel_id}
        if message is not None:
            share["initial_comment"] = fallback_text(message)
        try:
            answer = await self._api("files.getUploadURLExternal", ticket, what=what)
            file_id = str(answer["file_id"])
            await self._upload(str(answer["upload_url"]), content, what=f"{filename} for {what}")
            share["files"] = [{"id": file_id, "title": title or filename}]
            await self._api("files.completeUploadExternal", share, channel=channel_id, what=what)
        except AdapterError as exc:
            if "missing_scope" in str(exc):
                raise AdapterError(
                    f"{exc}: the Slack app lacks the files:write scope; paste the manifest of "
                    "`rallybot slack manifest` in App Manifest and reinstall the app"
                ) from exc
            raise
        return SentMessage(channel_id, file_id)

    async def _upload(self, url: str, content: bytes, *, what: str) -> None:
        """Step 2 of an upload: the bytes, POSTed to the URL Slack gave (no token needed)."""
        try:
            async with self._ensure_session().post(url, data=content) as response:
                if response.status == 200:
                    return
                detail = (await response.text())[:200]
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise TransientSendError(
                f"Slack file upload of {what} did not complete: {type(exc).__name__} {exc}"
            ) from exc
        text = f"Slack refused the file upload of {what}: HTTP {response.status} {detail}"
        if response.status >= 500 or response.status == 429:
            raise TransientSendError(text)
        raise AdapterError(text)

    async def dm_channel(self, user_id: str) -> str:
        """The DM channel with a member: from memory, the database, else ``conversations.open``
        (Tier 3, so its answer is stored in ``Member.dm_channel_id``)."""
        if not self._dm_channels_loaded:
            await self._load_dm_channels()
        cached = self._dm_channels.get(user_id)
        if cached is not None:
            return cached
        member = await get_member_by_platform_id(self.db, PLATFORM, user_id)
        if member is not None and member.dm_channel_id:
            self._dm_channels[user_id] = member.dm_channel_id
            return member.dm_channel_id
        response = await self._api("conversations.open", {"users": user_id}, what=f"user {user_id}")
        channel_id = str(response["channel"]["id"])
        self._dm_channels[user_id] = channel_id
        if member is not None:
            await set_dm_channel(self.db, PLATFORM, user_id, channel_id)
        return channel_id

    async def _load_dm_channels(self) -> None:
        # One query for every DM channel known, rather than one per member in a fan-out.
        async with self._dm_load_lock:
            if self._dm_channels_loaded:
                return
            known = await load_dm_channels(self.db, PLATFORM)
            self._dm_channels = {**known, **self._dm_channels}
            self._dm_channels_loaded = True

    async def find_sent(
        self, channel_or_user_id: str, idempotency_key: str, *, thread_id: str | None = None
    ) -> SentMessage | None:
        """Look through the recent history of the channel (or the member's DM) for a message
        whose metadata carries ``idempotency_key``; with ``thread_id``, through that thread's
        replies (``conversations.history`` does not list them). Channel ids start with C, G or
        D; anything else is a user id.

        Raises:
            TransientSendError: Slack could not be asked; the caller must not resend yet.
        """
        target = channel_or_user_id
        try:
            channel_id = target if _CHANNEL_ID.match(target) else await self.dm_channel(target)
            params: dict[str, Any] = {
                "channel": channel_id,
                "include_all_metadata": True,
                "limit": 200,
                "oldest": f"{time.time() - self.history_window:.6f}",
            }
            method = "conversations.history"
            if thread_id is not None:
                method = "conversations.replies"
                params["ts"] = thread_id
            response = await self._api(method, params, what=f"channel {channel_id}")
        except TransientSendError:
            raise
        except AdapterError as exc:
            log.warning("cannot look for %s in %s: %s", idempotency_key, target, exc)
            return None
        for message in response.get("messages") or ():
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if (
                metadata.get("event_type") == DELIVERY_EVENT_TYPE
                and payload.get("key") == idempotency_key
            ):
                return SentMessage(channel_id, str(message["ts"]))
        return None

    def __repr__(self) -> str:
        mode = f"http:{self.port or self.http_port}" if self.http_port is not None else "socket"
        return f"<SlackAdapter {mode} in_flight={len(self._tasks)}>"
