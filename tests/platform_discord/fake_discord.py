"""A local fake of Discord's REST API for tests and benchmarks (aiohttp on 127.0.0.1, port 0).

Point discord.py at it with ``discord.http.Route.BASE = fake.base_url`` (every REST call,
webhooks included, builds its url from that class attribute when the route is created)::

    async with FakeDiscord() as fake:
        fake.add_guild(GUILD, "Acme")
        fake.add_channel(GUILD, CHANNEL, "annonces")
        monkeypatch.setattr(discord.http.Route, "BASE", fake.base_url)
        ...

What it models, as discord.py 2.7 reads it:

- state: users, guilds, text channels and DMs, members, messages (create, edit, fetch,
  history), pins (50 per channel at most), reactions, channel webhooks and their
  executions (``username``/``avatar_url``), interaction callbacks and follow-ups, guild
  command bulk overwrite, ``GET /users/@me``, ``GET /oauth2/applications/@me`` (what
  ``Client.login`` reads) and ``GET /gateway/bot``;
- files: ``POST /channels/{id}/messages`` as ``multipart/form-data`` (``payload_json`` and
  ``files[N]`` parts, what ``discord.File`` sends): the message gets attachments, whose
  bytes are kept in :attr:`FakeDiscord.attachments`;
- idempotency: ``POST /channels/{id}/messages`` with ``nonce`` and ``enforce_nonce`` returns
  the message the same author already created with that nonce within ``nonce_window``
  seconds instead of a new one, as Discord does (the nonce is echoed only in that response);
- rate limits: per-route buckets (limit per window, per major parameter) answered with real
  ``X-RateLimit-Limit/Remaining/Reset/Reset-After/Bucket`` headers; a global limit of
  ``global_limit`` authorised requests per second; 429s with ``X-RateLimit-Scope``
  (user, shared, global), ``Retry-After``, a ``Via`` header and a body
  ``{"message", "retry_after", "global"}`` served as exactly ``application/json`` (what
  discord.py checks before trusting a 429); :meth:`FakeDiscord.force_429` injects them;
  ``scale`` multiplies every rate by one constant;
- failures: :meth:`FakeDiscord.inject_error` (before or after the request took effect), DMs
  refused by a user (:meth:`FakeDiscord.block_dms`), Discord's validation of lengths and
  empty messages, editing someone else's message (50005), acknowledging an interaction
  twice (40060) or too late (10062).

Every request is recorded in :attr:`FakeDiscord.calls`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from aiohttp import BodyPartReader, web

__all__ = ["Call", "DiscordError", "FakeDiscord", "RateLimitScope"]

API_PREFIX = "/api/v10"
DISCORD_EPOCH_MS = 1_420_070_400_000
RateLimitScope = Literal["user", "shared", "global"]
Json = Any

DEFAULT_ROUTE_LIMITS: dict[str, tuple[int, float]] = {
    "POST /channels/{channel_id}/messages": (5, 5.0),
    "PATCH /channels/{channel_id}/messages/{message_id}": (5, 5.0),
    "PUT /channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me": (1, 0.25),
    "PUT /channels/{channel_id}/messages/pins/{message_id}": (5, 5.0),
    "POST /webhooks/{webhook_id}/{webhook_token}": (5, 2.0),
}
DEFAULT_LIMIT = (50, 1.0)
MAX_PINS = 50


@dataclass(frozen=True, slots=True)
class Call:
    """One request the fake received, with the status it answered."""

    method: str
    path: str  # without the /api/v10 prefix, e.g. "/channels/1/messages"
    route: str  # the route template, e.g. "POST /channels/{channel_id}/messages"
    query: dict[str, str]
    json: Json
    time: float  # time.monotonic() when received (the event loop's clock)
    status: int
    scope: str | None = None  # rate-limit scope of a 429


class DiscordError(Exception):
    """An error answer with Discord's JSON body ``{"message", "code"}``."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class _Forced:
    scope: RateLimitScope
    retry_after: float
    times: int
    route: str | None


@dataclass
class _Injected:
    status: int
    code: int
    message: str
    times: int
    route: str | None
    after: bool


@dataclass
class _Bucket:
    limit: int
    window: float
    reset_at: float = 0.0  # monotonic
    count: int = 0


@dataclass
class _Interaction:
    id: int
    token: str
    channel_id: int
    message_id: int | None
    type: int
    created: float
    acknowledged: bool = False
    original_message_id: int | None = None


@dataclass
class _Guild:
    id: int
    name: str
    channels: list[int] = field(default_factory=list)
    members: dict[int, dict[str, Any]] = field(default_factory=dict)
    roles: list[dict[str, Any]] = field(default_factory=list)  # besides @everyone


_UPLOADS = web.RequestKey("uploads", list[dict[str, Any]])
"""The ``files[N]`` parts of a multipart request, kept on the request for its handler."""

Handler = Callable[[web.Request, dict[str, str], Json], Awaitable[web.StreamResponse]]


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


async def _read_multipart(request: web.Request) -> tuple[Json, list[dict[str, Any]]]:
    """The ``payload_json`` part and the ``files[N]`` parts of a multipart request."""
    body: Json = {}
    uploads: list[dict[str, Any]] = []
    reader = await request.multipart()
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            continue
        name = part.name or ""
        if name == "payload_json":
            body = json.loads(await part.text())
        elif name.startswith("files[") and name.endswith("]"):
            uploads.append(
                {
                    "index": name[len("files[") : -1],
                    "filename": part.filename,
                    "type": part.headers.get("Content-Type", "application/octet-stream"),
                    "data": bytes(await part.read(decode=False)),
                }
            )
    return body, uploads


def _json_response(
    body: Json, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON answer whose Content-Type is exactly ``application/json`` (discord.py checks)."""
    response = web.Response(body=json.dumps(body).encode(), status=status)
    response.headers["Content-Type"] = "application/json"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


class FakeDiscord:
    """A stateful fake Discord REST API. Use as ``async with FakeDiscord() as fake``.

    Args:
        token: the bot token it accepts (``Authorization: Bot <token>``).
        application_id: the application (and bot user) id.
        global_limit: authorised requests per second before a global 429 (None: no limit).
        route_limits: per-route bucket ``{"METHOD /template": (limit, window_seconds)}``
            overriding :data:`DEFAULT_ROUTE_LIMITS`; other routes get 50 per second.
        scale: multiplies every rate (global and per route) by this constant.
        nonce_window: seconds during which a repeated nonce returns the existing message.
        interaction_deadline: seconds within which an interaction must be acknowledged.
    """

    def __init__(
        self,
        *,
        token: str = "fake-token",
        application_id: int = 900_000_000_000_000_001,
        bot_name: str = "Rallybot",
        global_limit: float | None = 50.0,
        route_limits: Mapping[str, tuple[int, float]] | None = None,
        scale: float = 1.0,
        nonce_window: float = 120.0,
        interaction_deadline: float = 3.0,
    ) -> None:
        self.token = token
        self.application_id = application_id
        self.global_limit = global_limit
        self.route_limits = {**DEFAULT_ROUTE_LIMITS, **(route_limits or {})}
        self.scale = scale
        self.nonce_window = nonce_window
        self.interaction_deadline = interaction_deadline
        self.owner_id = 0  # a user id to report as the application owner
        self.calls: list[Call] = []
        self.users: dict[int, dict[str, Any]] = {}
        self.guilds: dict[int, _Guild] = {}
        self.channels: dict[int, dict[str, Any]] = {}
        self.messages: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
        self.pins: dict[int, list[int]] = defaultdict(list)
        self.webhooks: dict[int, dict[str, Any]] = {}
        self.attachments: list[dict[str, Any]] = []  # uploaded files, with their "data" bytes
        self.commands: dict[tuple[int, int], list[dict[str, Any]]] = {}
        self.interactions: dict[int, _Interaction] = {}
        self.interaction_responses: list[dict[str, Any]] = []
        self._responded = asyncio.Condition()
        self.blocked_dms: set[int] = set()
        self._dm_by_user: dict[int, int] = {}
        self._nonces: dict[tuple[int, str], tuple[float, int, int]] = {}
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._global_times: deque[float] = deque()
        self._forced: list[_Forced] = []
        self._injected: list[_Injected] = []
        self._last_id = 0
        self._runner: web.AppRunner | None = None
        self._routes: list[tuple[str, str, re.Pattern[str], Handler]] = []
        self.base_url = ""
        self.bot_user = self.add_user(application_id, bot_name, bot=True)
        self._register_routes()

    # ----------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = getattr(site, "_server", None)
        assert server is not None and server.sockets
        port = server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}{API_PREFIX}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ----------------------------------------------------------------- world set-up

    def snowflake(self) -> int:
        """A new, increasing Discord id (a real snowflake: its time is now)."""
        now = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last_id = max(self._last_id + 1, now)
        return self._last_id

    def add_user(
        self, user_id: int, name: str, *, bot: bool = False, global_name: str | None = None
    ) -> dict[str, Any]:
        """Create (or replace) a user."""
        user = {
            "id": str(user_id),
            "username": name.lower().replace(" ", "_"),
            "discriminator": "0",
            "global_name": global_name if global_name is not None else name,
            "avatar": None,
            "bot": bot,
            "public_flags": 0,
            "flags": 0,
        }
        self.users[user_id] = user
        return user

    def add_guild(self, guild_id: int, name: str = "Guild") -> None:
        """Create a server (the bot is a member of it)."""
        self.guilds[guild_id] = _Guild(guild_id, name)
        self.add_member(guild_id, self.application_id, self.users[self.application_id]["username"])

    def add_channel(self, guild_id: int, channel_id: int, name: str, *, type: int = 0) -> None:
        """Create a text channel (type 0) or another guild channel type in ``guild_id``."""
        self.guilds[guild_id].channels.append(channel_id)
        self.channels[channel_id] = {
            "id": str(channel_id),
            "type": type,
            "guild_id": str(guild_id),
            "name": name,
            "position": len(self.guilds[guild_id].channels),
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }

    def add_member(
        self, guild_id: int, user_id: int, name: str, *, nick: str | None = None, bot: bool = False
    ) -> dict[str, Any]:
        """Add a member to a server (creating the user when unknown)."""
        user = self.users.get(user_id) or self.add_user(user_id, name, bot=bot)
        member: dict[str, Any] = {
            "user": user,
            "nick": nick,
            "avatar": None,
            "roles": [],
            "joined_at": _iso(time.time()),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
        }
        self.guilds[guild_id].members[user_id] = member
        return member

    def block_dms(self, user_id: int) -> None:
        """Messages to this user's DM fail with 50007, as when they closed their DMs."""
        self.blocked_dms.add(user_id)

    def add_interaction(
        self,
        interaction_id: int,
        token: str,
        channel_id: int,
        *,
        message_id: int | None = None,
        type: int = 3,
    ) -> None:
        """Declare an interaction the gateway delivered, so its callback can be answered."""
        self.interactions[interaction_id] = _Interaction(
            interaction_id, token, channel_id, message_id, type, time.monotonic()
        )

    # ----------------------------------------------------------------- fault injection

    def force_429(
        self,
        scope: RateLimitScope = "global",
        retry_after: float = 0.5,
        times: int = 1,
        route: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests (of ``route``, e.g. ``"POST
        /channels/{channel_id}/messages"``, or any) with a 429 of ``scope``."""
        self._forced.append(_Forced(scope, retry_after, times, route))

    def inject_error(
        self,
        status: int,
        *,
        code: int = 0,
        message: str = "Injected error",
        times: int = 1,
        route: str | None = None,
        after: bool = False,
    ) -> None:
        """Fail the next ``times`` requests of ``route`` (or any) with ``status``.

        With ``after=True`` the request takes effect first and only its answer is lost,
        as when a connection drops after Discord created the message.
        """
        self._injected.append(_Injected(status, code, message, times, route, after))

    # ----------------------------------------------------------------- inspection

    async def wait_for_responses(self, count: int, within: float = 5.0) -> list[dict[str, Any]]:
        """Wait until ``count`` interaction answers (callbacks, follow-ups) were received."""
        async with asyncio.timeout(within), self._responded:
            await self._responded.wait_for(lambda: len(self.interaction_responses) >= count)
        return list(self.interaction_responses)

    async def _answered(self) -> None:
        async with self._responded:
            self._responded.notify_all()

    def messages_in(self, channel_id: int) -> list[dict[str, Any]]:
        """The messages of a channel, oldest first."""
        return list(self.messages.get(channel_id, {}).values())

    def dm_channel_of(self, user_id: int) -> int | None:
        """The DM channel opened with ``user_id``, if any."""
        return self._dm_by_user.get(user_id)

    def dms_to(self, user_id: int) -> list[dict[str, Any]]:
        """The messages sent in the DM channel of ``user_id``."""
        channel = self._dm_by_user.get(user_id)
        return self.messages_in(channel) if channel is not None else []

    def count_429(self, scope: str | None = None) -> int:
        """How many 429s were answered (of one scope, or all)."""
        return sum(1 for c in self.calls if c.status == 429 and scope in (None, c.scope))

    def calls_to(self, route: str) -> list[Call]:
        """The recorded calls of one route template, e.g. ``"PUT /channels/..."``."""
        return [c for c in self.calls if c.route == route]

    # ----------------------------------------------------------------- dispatch

    def _register_routes(self) -> None:
        add = self._add
        add("GET", "/users/@me", self._get_me)
        add("GET", "/users/{user_id}", self._get_user)
        add("GET", "/gateway/bot", self._get_gateway)
        add("GET", "/oauth2/applications/@me", self._get_application)
        add("POST", "/users/@me/channels", self._open_dm)
        add("GET", "/guilds/{guild_id}", self._get_guild)
        add("GET", "/guilds/{guild_id}/channels", self._get_guild_channels)
        add("GET", "/guilds/{guild_id}/members", self._list_members)
        add("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member)
        add("GET", "/channels/{channel_id}", self._get_channel)
        add("GET", "/channels/{channel_id}/messages", self._history)
        add("POST", "/channels/{channel_id}/messages", self._create_message)
        add("GET", "/channels/{channel_id}/messages/pins", self._list_pins)
        add("PUT", "/channels/{channel_id}/messages/pins/{message_id}", self._pin)
        add("DELETE", "/channels/{channel_id}/messages/pins/{message_id}", self._unpin)
        add("GET", "/channels/{channel_id}/messages/{message_id}", self._get_message)
        add("PATCH", "/channels/{channel_id}/messages/{message_id}", self._edit_message)
        add(
            "PUT",
            "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
            self._add_reaction,
        )
        add(
            "DELETE",
            "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
            self._remove_reaction,
        )
        add("GET", "/channels/{channel_id}/webhooks", self._list_webhooks)
        add("POST", "/channels/{channel_id}/webhooks", self._create_webhook)
        add("POST", "/webhooks/{webhook_id}/{webhook_token}", self._execute_webhook)
        add(
            "GET",
            "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
            self._get_webhook_message,
        )
        add(
            "PATCH",
            "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
            self._edit_webhook_message,
        )
        add("POST", "/interactions/{interaction_id}/{token}/callback", self._callback)
        add(
            "PUT",
            "/applications/{application_id}/guilds/{guild_id}/commands",
            self._overwrite_commands,
        )
        add(
            "GET",
            "/applications/{application_id}/guilds/{guild_id}/commands",
            self._get_commands,
        )

    def _add(self, method: str, template: str, handler: Handler) -> None:
        pattern = re.escape(template)
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
        self._routes.append((method, template, re.compile(f"^{pattern}$"), handler))

    def _match(self, method: str, path: str) -> tuple[str, dict[str, str], Handler] | None:
        for m, template, regex, handler in self._routes:
            found = regex.match(path)
            if m == method and found:
                return f"{m} {template}", found.groupdict(), handler
        return None

    @staticmethod
    def _authorised(route: str) -> bool:
        """Whether the request is made as the bot (webhook and interaction routes are not)."""
        return not (
            route.startswith("POST /interactions/")
            or "/webhooks/{webhook_id}/{webhook_token}" in route
        )

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if not path.startswith(API_PREFIX):
            return _json_response({"message": "404: Not Found", "code": 0}, 404)
        path = path[len(API_PREFIX) :]
        body: Json = None
        if request.can_read_body and request.content_type == "multipart/form-data":
            body, request[_UPLOADS] = await _read_multipart(request)
        elif request.can_read_body:
            raw = await request.read()
            if raw and request.content_type == "application/json":
                body = json.loads(raw)
        # one clock for the record and the limits (loop time is time.monotonic by default)
        received = time.monotonic()
        query = dict(request.query)
        matched = self._match(request.method, path)
        route = matched[0] if matched else f"{request.method} {path}"

        def record(status: int, scope: str | None = None) -> None:
            self.calls.append(
                Call(request.method, path, route, query, body, received, status, scope)
            )

        if matched is None:
            record(404)
            return _json_response({"message": "404: Not Found", "code": 0}, 404)
        _, params, handler = matched
        as_bot = self._authorised(route)
        if as_bot and request.headers.get("Authorization") != f"Bot {self.token}":
            record(401)
            return _json_response({"message": "401: Unauthorized", "code": 0}, 401)

        limited = self._rate_limit(route, params, as_bot, received)
        if limited is not None:
            scope, retry_after, bucket_headers = limited
            record(429, scope)
            return self._too_many(scope, retry_after, bucket_headers)

        injected = self._take_injected(route)
        if injected is not None and not injected.after:
            record(injected.status)
            return _json_response(
                {"message": injected.message, "code": injected.code}, injected.status
            )
        try:
            response = await handler(request, params, body)
        except DiscordError as exc:
            record(exc.status)
            headers = self._bucket_headers(route, params)
            return _json_response({"message": exc.message, "code": exc.code}, exc.status, headers)
        if injected is not None:
            record(injected.status)
            return _json_response(
                {"message": injected.message, "code": injected.code}, injected.status
            )
        record(response.status)
        for key, value in self._bucket_headers(route, params).items():
            response.headers[key] = value
        return response

    # ----------------------------------------------------------------- rate limits

    def _take_injected(self, route: str) -> _Injected | None:
        for item in self._injected:
            if item.route in (None, route):
                item.times -= 1
                if item.times <= 0:
                    self._injected.remove(item)
                return item
        return None

    def _limits(self, route: str) -> tuple[int, float]:
        limit, window = self.route_limits.get(route, DEFAULT_LIMIT)
        return limit, window / self.scale

    @staticmethod
    def _major(params: Mapping[str, str]) -> str:
        keys = ("channel_id", "guild_id", "webhook_id", "webhook_token", "interaction_id")
        return "+".join(params[k] for k in keys if k in params)

    def _bucket(self, route: str, params: Mapping[str, str]) -> _Bucket:
        key = (route, self._major(params))
        bucket = self._buckets.get(key)
        if bucket is None:
            limit, window = self._limits(route)
            bucket = self._buckets[key] = _Bucket(limit, window)
        now = time.monotonic()
        if now >= bucket.reset_at:
            bucket.count = 0
            bucket.reset_at = now + bucket.window
        return bucket

    def _bucket_headers(self, route: str, params: Mapping[str, str]) -> dict[str, str]:
        bucket = self._bucket(route, params)
        reset_after = max(bucket.reset_at - time.monotonic(), 0.0)
        return {
            "X-RateLimit-Limit": str(bucket.limit),
            "X-RateLimit-Remaining": str(max(bucket.limit - bucket.count, 0)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": hashlib.sha1(route.encode()).hexdigest()[:16],
        }

    def _rate_limit(
        self, route: str, params: Mapping[str, str], as_bot: bool, now: float
    ) -> tuple[RateLimitScope, float, dict[str, str]] | None:
        for forced in self._forced:
            if forced.route in (None, route):
                forced.times -= 1
                if forced.times <= 0:
                    self._forced.remove(forced)
                headers = {} if forced.scope == "global" else self._bucket_headers(route, params)
                if headers:
                    headers["X-RateLimit-Remaining"] = "0"
                return forced.scope, forced.retry_after, headers
        if as_bot and self.global_limit is not None:
            window = 1.0
            allowed = self.global_limit * self.scale
            while self._global_times and self._global_times[0] <= now - window:
                self._global_times.popleft()
            if len(self._global_times) >= allowed:
                retry_after = self._global_times[0] + window - now
                return "global", max(retry_after, 0.001), {}
        bucket = self._bucket(route, params)
        if bucket.count >= bucket.limit:
            headers = self._bucket_headers(route, params)
            return "user", max(bucket.reset_at - now, 0.001), headers
        bucket.count += 1
        if as_bot and self.global_limit is not None:
            self._global_times.append(now)
        return None

    @staticmethod
    def _too_many(
        scope: RateLimitScope, retry_after: float, bucket_headers: Mapping[str, str]
    ) -> web.Response:
        headers = {
            **bucket_headers,
            "Retry-After": str(math.ceil(retry_after)),
            "X-RateLimit-Scope": scope,
            "Via": "1.1 google",
        }
        if scope == "global":
            headers["X-RateLimit-Global"] = "true"
        body = {
            "message": "You are being rate limited.",
            "retry_after": round(retry_after, 3),
            "global": scope == "global",
        }
        return _json_response(body, 429, headers)

    # ----------------------------------------------------------------- helpers

    def _channel(self, params: Mapping[str, str]) -> dict[str, Any]:
        channel = self.channels.get(int(params["channel_id"]))
        if channel is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        return channel

    def _message(self, params: Mapping[str, str]) -> dict[str, Any]:
        channel = self._channel(params)
        message = self.messages[int(channel["id"])].get(int(params["message_id"]))
        if message is None:
            raise DiscordError(404, 10008, "Unknown Message")
        return message

    def _check_payload(self, payload: Json, *, editing: bool = False) -> None:
        if not isinstance(payload, dict):
            raise DiscordError(400, 50109, "The request body contains invalid JSON.")
        content = payload.get("content") or ""
        embeds = payload.get("embeds") or []
        components = payload.get("components") or []
        errors: list[str] = []
        if len(content) > 2000:
            errors.append("content: Must be 2000 or fewer in length.")
        if len(embeds) > 10:
            errors.append("embeds: Must be 10 or fewer in length.")
        total = 0
        for embed in embeds:
            title, description = embed.get("title") or "", embed.get("description") or ""
            footer = (embed.get("footer") or {}).get("text") or ""
            if len(title) > 256:
                errors.append("embeds.title: Must be 256 or fewer in length.")
            if len(description) > 4096:
                errors.append("embeds.description: Must be 4096 or fewer in length.")
            if len(footer) > 2048:
                errors.append("embeds.footer.text: Must be 2048 or fewer in length.")
            total += len(title) + len(description) + len(footer)
            total += len((embed.get("author") or {}).get("name") or "")
            for f in embed.get("fields") or []:
                total += len(f.get("name", "")) + len(f.get("value", ""))
        if total > 6000:
            errors.append("embeds: Embed size exceeds maximum size of 6000")
        if len(components) > 5:
            errors.append("components: Must be 5 or fewer in length.")
        custom_ids: list[str] = []
        for row in components:
            inner = row.get("components") or []
            if len(inner) > 5:
                errors.append("components.components: Must be 5 or fewer in length.")
            for c in inner:
                if "custom_id" in c:
                    custom_ids.append(c["custom_id"])
                    if len(c["custom_id"]) > 100:
                        errors.append("custom_id: Must be 100 or fewer in length.")
                if len(c.get("label") or "") > 80:
                    errors.append("label: Must be 80 or fewer in length.")
        if len(custom_ids) != len(set(custom_ids)):
            errors.append("components: Component custom id cannot be duplicated")
        nonce = payload.get("nonce")
        if isinstance(nonce, str) and len(nonce) > 25:
            errors.append("nonce: Must be 25 or fewer in length.")
        if errors:
            raise DiscordError(400, 50035, "Invalid Form Body: " + "; ".join(errors))
        if not editing and not (
            content or embeds or components or payload.get("sticker_ids") or payload.get("_files")
        ):
            raise DiscordError(400, 50006, "Cannot send an empty message")

    def _new_message(
        self,
        channel: dict[str, Any],
        author: dict[str, Any],
        payload: dict[str, Any],
        *,
        webhook_id: int | None = None,
        interaction: _Interaction | None = None,
    ) -> dict[str, Any]:
        message_id = self.snowflake()
        now = time.time()
        message: dict[str, Any] = {
            "id": str(message_id),
            "type": 0,
            "channel_id": channel["id"],
            "author": author,
            "content": payload.get("content") or "",
            "timestamp": _iso(now),
            "edited_timestamp": None,
            "tts": bool(payload.get("tts", False)),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": payload.get("embeds") or [],
            "components": payload.get("components") or [],
            "pinned": False,
            "flags": int(payload.get("flags") or 0),
            "reactions": [],
        }
        if webhook_id is not None:
            message["webhook_id"] = str(webhook_id)
        if interaction is not None:
            message["application_id"] = str(self.application_id)
            message["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": self.bot_user,
                "authorizing_integration_owners": {},
            }
        if "message_reference" in payload:
            message["message_reference"] = payload["message_reference"]
            message["type"] = 19
        self.messages[int(channel["id"])][message_id] = message
        channel["last_message_id"] = str(message_id)
        return message

    # ----------------------------------------------------------------- handlers

    async def _get_me(self, request: web.Request, p: dict[str, str], body: Json) -> web.Response:
        return _json_response(
            {**self.bot_user, "verified": True, "mfa_enabled": False, "locale": "en-US"}
        )

    async def _get_user(self, request: web.Request, p: dict[str, str], body: Json) -> web.Response:
        user = self.users.get(int(p["user_id"]))
        if user is None:
            raise DiscordError(404, 10013, "Unknown User")
        return _json_response(user)

    async def _get_gateway(
        self, request: web.Request, p: dict[str, str], body: Json
    ) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return _json_response(
            {"url": "wss://gateway.discord.gg", "shards": 1, "session_start_limit": limit}
        )

    async def _get_application(
        self, request: web.Request, p: dict[str, str], body: Json
    ) -> web.Response:
        owner = self.users.get(self.owner_id) or self.bot_user
        return _json_response(
            {
                "id": str(self.application_id),
                "name": self.bot_user["global_name"],
                "description": "",
                "icon": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": owner,
                "team": None,
                "verify_key": "0" * 64,
                "flags": (1 << 15) | (1 << 19),  # members and message content intents (limited)
                "interactions_endpoint_url": None,
                "bot": self.bot_user,
            }
        )

    async def _open_dm(self, request: web.Request, p: dict[str, str], body: Json) -> web.Response:
        recipient = int((body or {}).get("recipient_id", 0))
        user = self.users.get(recipient)
        if user is None:
            raise DiscordError(400, 50035, "Invalid Form Body: recipient_id: Unknown User")
        channel_id = self._dm_by_user.get(recipient)
        if channel_id is None:
            channel_id = self.snowflake()
            self._dm_by_user[recipient] = channel_id
            self.channels[channel_id] = {
                "id": str(channel_id),
                "type": 1,
                "last_message_id": None,
                "flags": 0,
                "recipients": [user],
                "_recipient": recipient,
            }
        channel = self.channels[channel_id]
        return _json_response({k: v for k, v in channel.items() if not k.startswith("_")})

    async def _get_guild(self, request: web.Request, p: dict[str, str], body: Json) -> web.Response:
        guild = self.guilds.get(int(p["guild_id"]))
        if guild is None:
            raise DiscordError(404, 10004, "Unknown Guild")
        return _json_response(
            {
                "id": str(guild.id),
                "name": guild.name,
                "icon": None,
                "owner_id": str(self.application_id),
                "roles": list(guild.roles),
                "emojis": [],
                "features": [],
                "verification_level": 0,
                "default_message_notifications": 0,
                "explicit_content_filter": 0,
                "mfa_level": 0,
                "system_channel_id": None,
                "system_channel_flags": 0,
                "premium_tier": 0,
                "preferred_locale": "en-US",
                "nsfw_level": 0,
            }
        )

    async def _get_guild_channels(
        self, request: web.Request, p: dict[str, str], body: Json
    ) -> web.Response:
        guild = self.guilds.get(int(p["guild_id"]))
        if guild is None:
            raise DiscordError(404, 10004, "Unknown Guild")
        return _json_response([self.channels[c] for c in guild.channels])

    async def _list_members(
        self, request: web.Request, p: dict[str, str], body: Json
    ) -> web.Response:
        guild = self.guilds.get(int(p["guild_id"]))
        if guild is None:
            raise DiscordError(404, 10004, "Unknown Guild")
        limit = min(int(request.query.get("limit", "1")), 1000)
        after = int(request.query.get("after", "0"))
        ids = sorted(uid for uid in guild.members if uid > after)[:limit]
        return _json_response([guild.members[uid] for uid in ids])

    async def _get_member(
        self, request: web.Request, p: dict[str, str], body: Json
    ) -> web.Response:
        guild = self.guilds.get(int(p["guild_id"]))
        if guild is None:
            raise DiscordError(404, 10004, "Unknown Guild")
        member = guild.members.get(int(p["user_id"]))
        if member is None:
            raise DiscordError(404, 10007, "Unknown Member")
        return _json_response(member)

    async def _get_channel(
        self, request: web.Request, p: dict[str, str], body: Json
    ) -> web.Response:
        channel = self._channel(p)
        return _json_response({k: v for k, v in channel.items() if not k.startswith("_")})

    async def _history(self, request: web.Request, p: dict[str, str], body: Json) -> web.Response:
        channel = self._channel(p)
        limit = min(int(request.query.get("limit", "50")), 100)
        messages = sorted(self.messages[int(channel["id"])].items(), reverse=True)
        if "before" in request.query:
            before = int(request.query["before"])
            messages = [m for m in messages if m[0] < before]
        if "after" in request.query:
            after = int(request.query["after"])
            messages = sorted(m for m in messages if m[0] > after)
        return _json_response([m for _, m in messages[:limit]])

    async def _create_message(
        self, request: web.Request, p: dict[str, str], body: Json
    ) -> web.Response:
        channel = self._channel(p)
        uploads = request.get(_UPLOADS) or []
        if len(uploads) > 10:
            raise DiscordError(400, 50035, "Invalid Form Body: files: Must be 10 or fewer.")
        if any(len(u["data"]) > 10 * 1024 * 1024 for u in uploads):
            raise DiscordError(413, 40005, "Request entity too large")
        self._check_payload({**body, "_files": bool(uploads)} if isinstance(body, dict) else body)
        if channel["type"] == 1 and channel.get("_recipient") in self.blocked_dms:
            raise DiscordError(403, 50007, "Cannot send messages to this user")
        nonce = body.get("nonce")
        key = (self.application_id, str(nonce))
        now = time.monotonic()
        if nonce is not None and body.get("enforce_nonce"):
            seen = self._nonces.get(key)
            if seen is not None and now - seen[0] <= self.nonce_window:
                existing = self.messages[seen[1]].get(seen[2])
                if existing is not None:
                    return _json_response({**existing, "nonce": nonce})
        message = self._new_message(channel, self.bot_user, body)
        if uploads:
            message["attachments"] = self._attach(message, body.get("attachments") or [], uploads)
        if nonce is not None:
            self._nonces[key] = (now, int(channel["id"]), int(message["id"]))
            return _json_response({**message, "nonce": nonce})
        return _json_response(message)

    def _attach(
        self,
        message: dict[str, Any],
        described: list[dict[str, Any]],
        uploads: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """The attachments of a message: each ``files[N]`` part, with what ``payload_json``'s
        ``attachments`` entry of id N says of it (file name, description)."""
        by_index = {str(a.get("id")): a for a in described}
        attachments: list[dict[str, Any]] = []
        for upload in uploads:
            info = by_index.get(upload["index"], {})
            attachment_id = self.snowflake()
            filename = str(info.get("filename") or upload["filename"] or "file")
            url = f"{self.base_url}/attachments/{message['channel_id']}/{attachment_id}/{filename}"
            attachment = {
                "id": str(attachment_id),
                "filename": filename,
                "size": len(upload["data"]),
                "url": url,
                "proxy_url": url,
                "content_type": "image/png" if filename.endswith(".png") else upload["type"],
            }
            if info.get("description"):
                attachment["description"] = info["description"]
            attachments.append(attachment)
            self.attachments.append(
                {
                    **attachment,
                    "channel_id": message["channel_id"],
                    "message_id": message["id"],
                    "data": upload["data"],
                }
            )
        return attachments

    async def _get_message(
        self, request: web.Request, p: dict[str, str], body: Json
    ) -> web.Response:
        return _json_response(self._message(p))

    async def _edit_message(
        self, request: web.Request, p: dict[str, str], body: Json
    ) -> web.Response:
        message = self._message(p)
        if message["author"]["id"] != self.bot_user["id"] or "webhook_id" in message:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        self._check_payload(body, editing=True)
        self._apply_edit(message, body)
        return _json_response(message)

    @staticmethod
    def _apply_edit(message: dict[str, Any], body: dict[str, Any]) -> None:
        for key in ("content", "embeds", "components", "flags"):
            if key in body:
                message[key] = (
                    body[key] if body[key] is not None else ([] if key != "content" else "")
                )
        message["edited_timestamp"] = _iso(time.time())

    async def _list_pins(self, request: web.Request, p: dict[str, str], body: Json) -> web.Response:
        channel = self._channel(p)
        cid = int(channel["id"])
        items = [
            {"pinned_at": _iso(time.time()), "message": self.messages[cid][mid]}
            for mid in reversed(self.pins[cid])
        ]
        return _json_response({"items": items, "has_more": False})

    async def _pin(self, request: web.Request, p: dict[str, str], body: Json) -> web.Response:
        message = self._message(p)
        cid, mid = int(p["channel_id"]), int(p["message_id"])
        if mid not in self.pins[cid]:
            if len(self.pins[cid]) >= MAX_PINS:
                raise DiscordError(400, 30003, "Maximum number of pins reached (50)")
            self.pins[cid].append(mid)
        message["pinned"] = True
        return web.Response(status=204)

    async def _unpin(self, request: web.Request, p: dict[str, str], body: Json) -> web.Response:
        message = self._message(p)
        cid, mid = int(p["channel_id"]), int(p["message_id"])
        if mid in self.pins[cid]:
            self.pins[cid].remove(mid)
        message["pinned"] = False
        return web.Response(status=204)

    @staticmethod
    def _emoji(raw: str) -> dict[str, Any]:
        name, _, emoji_id = raw.partition(":")
        return {"id": emoji_id or None, "name": name}

    async def _add_reaction(
        self, request: web.Request, p: dict[str, str], body: Json
    ) -> web.Response:
        message = self._message(p)
        emoji = self._emoji(p["emoji"])
        for reaction in message["reactions"]:
            if reaction["emoji"] == emoji:
                if not reaction["me"]:
                    reaction["me"] = True
                    reaction["count"] += 1
                    reaction["count_details"]["normal"] += 1
                break
        else:
            message["reactions"].append(
                {
                    "count": 1,
                    "count_details": {"burst": 0, "normal": 1},
                    "me": True,
                    "me_burst": False,
                    "burst_colors": [],
                    "emoji": emoji,
                }
            )
        return web.Response(status=204)

    async def _remove_reaction(
        self, request: web.Request, p: dict[str, str], body: Json
    ) -> web.Response:
        message = self._message(p)
        emoji = self._emoji(p["emoji"])
        for reaction in list(message["reactions"]):
            if reaction["emoji"] == emoji and reaction["me"]:
                reaction["me"] = False
                reaction["count"] -= 1
                reaction["count_details"]["normal"] -= 1
                if reaction["count"] <= 0:
                    message["reactions"].remove(reaction)
        return web.Response(status=204)

    async def _list_webhooks(
        self, request: web.Request, p: dict[str, str], body: Json
    ) -> web.Response:
        channel = self._channel(p)
        hooks = [h for h in self.webhooks.values() if h["channel_id"] == channel["id"]]
        return _json_response(hooks)

    async def _create_webhook(
        self, request: web.Request, p: dict[str, str], body: Json
    ) -> web.Response:
        channel = self._channel(p)
        if channel["type"] != 0:
            raise DiscordError(400, 50035, "Invalid Form Body: webhooks need a text channel")
        name = (body or {}).get("name") or ""
        if not 1 <= len(name) <= 80 or any(w in name.lower() for w in ("discord", "clyde")):
            raise DiscordError(400, 50035, "Invalid Form Body: name")
        webhook_id = self.snowflake()
        hook = {
            "id": str(webhook_id),
            "type": 1,
            "guild_id": channel["guild_id"],
            "channel_id": channel["id"],
            "name": name,
            "avatar": None,
            "token": hashlib.sha256(f"{webhook_id}".encode()).hexdigest()[:68],
            "application_id": str(self.application_id),
            "user": self.bot_user,
        }
        self.webhooks[webhook_id] = hook
        return _json_response(hook)

    def _webhook_or_interaction(
        self, p: Mapping[str, str]
    ) -> tuple[dict[str, Any] | None, _Interaction | None]:
        webhook_id, token = int(p["webhook_id"]), p["webhook_token"]
        hook = self.webhooks.get(webhook_id)
        if hook is not None and hook["token"] == token:
            return hook, None
        if webhook_id == self.application_id:
            for interaction in self.interactions.values():
                if interaction.token == token:
                    return None, interaction
        raise DiscordError(404, 10015, "Unknown Webhook")

    async def _execute_webhook(
        self, request: web.Request, p: dict[str, str], body: Json
    ) -> web.StreamResponse:
        hook, interaction = self._webhook_or_interaction(p)
        self._check_payload(body)
        if hook is not None:
            channel = self.channels[int(hook["channel_id"])]
            username = body.get("username") or hook["name"]
            if len(username) > 80 or any(w in username.lower() for w in ("discord", "clyde")):
                raise DiscordError(400, 50035, "Invalid Form Body: username")
            author = {
                "id": hook["id"],
                "username": username,
                "discriminator": "0000",
                "global_name": None,
                "avatar": None,
                "bot": True,
            }
            message = self._new_message(channel, author, body, webhook_id=int(hook["id"]))
            message["_avatar_url"] = body.get("avatar_url")
        else:
            assert interaction is not None
            if not interaction.acknowledged:
                raise DiscordError(404, 10015, "Unknown Webhook")
            channel = self.channels[interaction.channel_id]
            message = self._new_message(
                channel,
                self.bot_user,
                body,
                webhook_id=self.application_id,
                interaction=interaction,
            )
            self.interaction_responses.append(
                {"interaction_id": interaction.id, "type": "followup", "data": body}
            )
            await self._answered()
        if request.query.get("wait", "false").lower() not in {"true", "1"}:
            return web.Response(status=204)
        return _json_response({k: v for k, v in message.items() if not k.startswith("_")})

    def _webhook_message(self, p: Mapping[str, str]) -> dict[str, Any]:
        hook, interaction = self._webhook_or_interaction(p)
        raw = p["message_id"]
        if raw == "@original":
            if interaction is None or interaction.original_message_id is None:
                raise DiscordError(404, 10008, "Unknown Message")
            channel_id, message_id = interaction.channel_id, interaction.original_message_id
        else:
            message_id = int(raw)
            channel_id = int(hook["channel_id"]) if hook else interaction.channel_id  # type: ignore[union-attr]
        message = self.messages[channel_id].get(message_id)
        expected = hook["id"] if hook else str(self.application_id)
        if message is None or message.get("webhook_id", str(self.application_id)) != expected:
            raise DiscordError(404, 10008, "Unknown Message")
        return message

    async def _get_webhook_message(
        self, request: web.Request, p: dict[str, str], body: Json
    ) -> web.Response:
        message = self._webhook_message(p)
        return _json_response({k: v for k, v in message.items() if not k.startswith("_")})

    async def _edit_webhook_message(
        self, request: web.Request, p: dict[str, str], body: Json
    ) -> web.Response:
        message = self._webhook_message(p)
        self._check_payload(body, editing=True)
        self._apply_edit(message, body)
        return _json_response({k: v for k, v in message.items() if not k.startswith("_")})

    async def _callback(self, request: web.Request, p: dict[str, str], body: Json) -> web.Response:
        interaction = self.interactions.get(int(p["interaction_id"]))
        if interaction is None or interaction.token != p["token"]:
            raise DiscordError(404, 10062, "Unknown interaction")
        if interaction.acknowledged:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        if time.monotonic() - interaction.created > self.interaction_deadline:
            raise DiscordError(404, 10062, "Unknown interaction")
        body = body or {}
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        interaction.acknowledged = True
        self.interaction_responses.append(
            {"interaction_id": interaction.id, "type": kind, "data": data}
        )
        await self._answered()
        answer: dict[str, Any] = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(int(data.get("flags") or 0) & 64),
            },
            "resource": {"type": kind},
        }
        channel = self.channels.get(interaction.channel_id)
        if kind == 4 and channel is not None:  # CHANNEL_MESSAGE_WITH_SOURCE
            self._check_payload(data)
            message = self._new_message(
                channel,
                self.bot_user,
                data,
                webhook_id=self.application_id,
                interaction=interaction,
            )
            interaction.original_message_id = int(message["id"])
            answer["interaction"]["response_message_id"] = message["id"]
            answer["resource"]["message"] = message
        elif kind == 7 and interaction.message_id is not None:  # UPDATE_MESSAGE
            target = self.messages[interaction.channel_id].get(interaction.message_id)
            if target is not None:
                self._apply_edit(target, data)
                answer["interaction"]["response_message_id"] = target["id"]
                answer["resource"]["message"] = target
        return _json_response(answer)

    async def _overwrite_commands(
        self, request: web.Request, p: dict[str, str], body: Json
    ) -> web.Response:
        app_id, guild_id = int(p["application_id"]), int(p["guild_id"])
        if app_id != self.application_id:
            raise DiscordError(403, 50001, "Missing Access")
        if guild_id not in self.guilds:
            raise DiscordError(403, 50001, "Missing Access")
        if not isinstance(body, list):
            raise DiscordError(400, 50035, "Invalid Form Body")
        commands = [
            {
                "id": str(self.snowflake()),
                "application_id": str(app_id),
                "guild_id": str(guild_id),
                "version": str(self.snowflake()),
                "type": 1,
                "default_member_permissions": None,
                "dm_permission": True,
                "nsfw": False,
                "description": "",
                "options": [],
                **command,
            }
            for command in body
        ]
        self.commands[(app_id, guild_id)] = commands
        return _json_response(commands)

    async def _get_commands(
        self, request: web.Request, p: dict[str, str], body: Json
    ) -> web.Response:
        return _json_response(self.commands.get((int(p["application_id"]), int(p["guild_id"])), []))
