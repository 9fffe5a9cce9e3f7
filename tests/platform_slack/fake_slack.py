"""A local fake of the Slack Web API, with Slack-like rate limits and a Socket Mode stand-in.

Typical use::

    async with FakeSlack(scale=50) as fake:
        fake.add_user("U1", "Ana", tz="Europe/Paris")
        fake.add_channel("C1", "general", members=["U1"])
        settings = Settings(slack_bot_token=fake.bot_token, slack_api_url=fake.api_url, ...)

Every call is recorded in :attr:`FakeSlack.calls`. Rate limits follow Slack's tiers (per
method, per minute) and ``chat.postMessage``'s one message per second per channel plus a
workspace allowance; ``scale`` multiplies every rate so that tests run quickly while the
ratios stay the same. A refused call gets HTTP 429 with an integer ``Retry-After`` header and
``{"ok": false, "error": "ratelimited"}``, as Slack answers.

Failures can be injected with :meth:`FakeSlack.fail_next` ("drop the connection after the
message was stored", "answer 500", "answer a Slack error"), to test ambiguous sends.

Files go through Slack's three steps: ``files.getUploadURLExternal`` answers an
``upload_url`` on the fake itself (loopback), the bytes POSTed there are kept, and
``files.completeUploadExternal`` shares them in a channel (:attr:`FakeSlack.files`). The
upload step is recorded as a call of the method ``upload``, which ``fail_next("upload",
"status_500")`` makes fail.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import WSMsgType, web

__all__ = [
    "DEFAULT_LIMITS",
    "SENT_AT",
    "TIER_PER_MINUTE",
    "FakeCall",
    "FakeChannel",
    "FakeLimit",
    "FakeSlack",
]

JSON = dict[str, Any]

#: Slack's documented tiers, in calls per minute ("Tier 1: 1+ per minute" and so on).
TIER_PER_MINUTE = {1: 1.0, 2: 20.0, 3: 50.0, 4: 100.0}


@dataclass(frozen=True)
class FakeLimit:
    """``per_minute`` calls a minute, with up to ``burst`` of them at once."""

    per_minute: float
    burst: int = 1


def _tier(n: int, burst: int | None = None) -> FakeLimit:
    per_minute = TIER_PER_MINUTE[n]
    return FakeLimit(per_minute, burst if burst is not None else max(1, int(per_minute // 10)))


#: Limits by method (workspace-wide), and ``chat.postMessage:channel`` per channel.
DEFAULT_LIMITS: dict[str, FakeLimit] = {
    "apps.connections.open": _tier(1, 2),
    "users.list": _tier(2),
    "pins.add": _tier(2),
    "conversations.open": _tier(3),
    "conversations.history": _tier(3),
    "conversations.replies": _tier(3),
    "chat.update": _tier(3),
    "reactions.add": _tier(3),
    "users.info": _tier(4),
    "users.lookupByEmail": _tier(3),
    "usergroups.list": _tier(2),
    "views.open": _tier(4),
    "views.publish": _tier(4),
    "files.getUploadURLExternal": _tier(4),
    "files.completeUploadExternal": _tier(4),
    "conversations.members": _tier(4),
    "chat.postEphemeral": _tier(4),
    "chat.postMessage": FakeLimit(600.0, 10),  # the workspace allowance: several hundred a minute
    "chat.postMessage:channel": FakeLimit(60.0, 1),  # about one message a second per channel
}

FailureMode = Literal["drop_after_store", "drop_before", "status_500", "slack_error", "slow"]


@dataclass
class FakeCall:
    """One Web API call the fake received."""

    method: str
    params: JSON
    time: float
    status: int = 200
    error: str | None = None


@dataclass
class FakeChannel:
    """A channel, private channel or direct-message conversation."""

    id: str
    name: str
    members: set[str] = field(default_factory=set)
    is_im: bool = False
    is_private: bool = False
    is_archived: bool = False
    user: str | None = None  # the other person of a direct-message conversation
    messages: list[JSON] = field(default_factory=list)  # oldest first


@dataclass
class _Failure:
    method: str
    mode: FailureMode
    error: str = "internal_error"
    seconds: float = 0.0


class _Bucket:
    def __init__(self, limit: FakeLimit, scale: float) -> None:
        self.rate = limit.per_minute * scale / 60.0
        self.burst = float(limit.burst)
        self.tokens = self.burst
        self.updated = time.monotonic()

    def take(self, now: float) -> float:
        """0 when a call made at ``now`` is allowed (and counted), else seconds until the next
        one is. Calls judged out of order (see :data:`SENT_AT`) refill nothing backwards."""
        if now > self.updated:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


SENT_AT = "X-Fake-Sent-At"
"""A header a test's HTTP session may add to every call: the moment (``time.monotonic()``,
the same clock in every process of the machine) the caller sent it. The limits then judge
the call at that moment, not when the fake got round to reading it: on a loaded machine the
fake itself may be held back for a few hundred milliseconds and then read a backlog all at
once, a burst that no caller sent and that Slack, on machines of its own, would never see."""


def _sent_at(request: web.Request) -> float:
    stamp = request.headers.get(SENT_AT)
    if stamp is not None:
        with contextlib.suppress(ValueError):
            return min(float(stamp), time.monotonic())  # never a moment still to come
    return time.monotonic()


class _SlackError(Exception):
    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


class FakeSlack:
    """A stateful fake Slack workspace served on ``127.0.0.1`` (see the module docstring).

    Args:
        scale: multiplies every rate limit (1.0 = Slack's own limits).
        limits: overrides of :data:`DEFAULT_LIMITS`, by method.
        rate_limits: False turns rate limiting off.
        bot_token / app_token: the tokens the fake accepts.
    """

    bot_user_id = "UBOT"
    bot_id = "BBOT"
    team_id = "T0FAKE"

    def __init__(
        self,
        *,
        scale: float = 1.0,
        limits: dict[str, FakeLimit] | None = None,
        rate_limits: bool = True,
        bot_token: str = "xoxb-fake-token",
        app_token: str = "xapp-fake-token",
    ) -> None:
        self.scale = scale
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        self.rate_limits = rate_limits
        self.bot_token = bot_token
        self.app_token = app_token
        self.users: dict[str, JSON] = {}
        self.channels: dict[str, FakeChannel] = {}
        self.usergroups: dict[str, JSON] = {}  # user groups (usergroups.list), by id
        self.dms: dict[str, str] = {}  # user id -> D channel id
        self.pins: set[tuple[str, str]] = set()
        self.reactions: dict[tuple[str, str], dict[str, list[str]]] = {}
        self.ephemerals: list[JSON] = []
        self.views: list[JSON] = []  # modals opened with views.open
        self.uploads: dict[str, JSON] = {}  # file id -> what getUploadURLExternal was told
        self.files: list[JSON] = []  # files shared by files.completeUploadExternal
        self.home_views: dict[str, JSON] = {}  # user id -> the Home tab view published
        self.trigger_ids: set[str] = set()  # trigger ids views.open accepts (from clicks)
        self.calls: list[FakeCall] = []
        self.responses: list[JSON] = []  # what was posted to response_url hooks
        self.socket_acks: dict[str, JSON] = {}
        self.sockets: list[web.WebSocketResponse] = []
        self._buckets: dict[str, _Bucket] = {}
        self._failures: list[_Failure] = []
        self._last_ts = 0.0
        self._ids = itertools.count(1)
        self._envelopes = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Serve on a free loopback port."""
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_post("/api/{method}", self._handle)
        app.router.add_get("/api/{method}", self._handle)
        app.router.add_post("/hooks/{token}", self._hook)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket-mode", self._socket)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        """Close the sockets and the server."""
        for ws in list(self.sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        """The Web API base URL, for ``SLACK_API_URL`` (ends with a slash)."""
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, token: str = "cmd") -> str:
        """A ``response_url`` served by the fake (what it receives lands in ``responses``)."""
        return f"http://127.0.0.1:{self.port}/hooks/{token}"

    # -- state helpers ------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        real_name: str = "",
        *,
        display_name: str | None = None,
        first_name: str | None = None,
        title: str = "",
        image: bool = False,
        tz: str = "Europe/Paris",
        locale: str = "fr-FR",
        is_bot: bool = False,
        deleted: bool = False,
        email: str | None = None,
    ) -> JSON:
        """Create a user in the workspace, shaped like a ``users.info`` user object."""
        real_name = real_name or user_id
        first = first_name if first_name is not None else real_name.split(" ")[0]
        profile: JSON = {
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": display_name if display_name is not None else "",
            "display_name_normalized": display_name or "",
            "first_name": first,
            "last_name": " ".join(real_name.split(" ")[1:]),
            "title": title,
            "team": self.team_id,
            "image_72": "https://avatars.example/u.png" if image else "",
            "image_192": "https://avatars.example/u.png" if image else "",
        }
        if email is not None:
            profile["email"] = email
        if image:
            profile["image_original"] = "https://avatars.example/u-original.png"
            profile["is_custom_image"] = True
        user: JSON = {
            "id": user_id,
            "team_id": self.team_id,
            "name": (display_name or real_name).lower().replace(" ", "."),
            "deleted": deleted,
            "real_name": real_name,
            "tz": tz,
            "tz_label": tz,
            "tz_offset": 0,
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": int(time.time()),
            "locale": locale,
        }
        self.users[user_id] = user
        return user

    def add_channel(
        self,
        channel_id: str,
        name: str,
        members: Iterable[str] = (),
        *,
        is_private: bool = False,
        bot_member: bool = True,
    ) -> FakeChannel:
        """Create a channel; the bot is a member unless ``bot_member`` is False."""
        channel = FakeChannel(channel_id, name, set(members), is_private=is_private)
        if bot_member:
            channel.members.add(self.bot_user_id)
        self.channels[channel_id] = channel
        return channel

    def add_usergroup(
        self,
        group_id: str,
        handle: str,
        users: Iterable[str] = (),
        *,
        name: str | None = None,
        disabled: bool = False,
    ) -> JSON:
        """Create (or replace) a user group; change its ``users`` list to move people."""
        members = list(users)
        group: JSON = {
            "id": group_id,
            "team_id": self.team_id,
            "is_usergroup": True,
            "name": name or handle.capitalize(),
            "description": "",
            "handle": handle,
            "is_external": False,
            "date_create": int(time.time()),
            "date_update": int(time.time()),
            "date_delete": int(time.time()) if disabled else 0,
            "auto_type": None,
            "created_by": self.bot_user_id,
            "updated_by": self.bot_user_id,
            "deleted_by": None,
            "prefs": {"channels": [], "groups": []},
            "users": members,
            "user_count": len(members),
        }
        self.usergroups[group_id] = group
        return group

    def messages(self, channel_id: str) -> list[JSON]:
        """The messages of a channel (or of the DM with a user id), oldest first."""
        channel_id = self.dms.get(channel_id, channel_id)
        channel = self.channels.get(channel_id)
        return list(channel.messages) if channel else []

    def all_messages(self) -> list[tuple[str, JSON]]:
        """Every (channel id, message) in the workspace."""
        return [(c.id, m) for c in self.channels.values() for m in c.messages]

    def calls_to(self, method: str, *, status: int | None = None) -> list[FakeCall]:
        """The recorded calls of ``method`` (optionally only those answered ``status``)."""
        return [
            c for c in self.calls if c.method == method and (status is None or c.status == status)
        ]

    def fail_next(
        self,
        method: str,
        mode: FailureMode = "drop_after_store",
        *,
        times: int = 1,
        error: str = "internal_error",
        seconds: float = 0.0,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail.

        Modes: ``drop_after_store`` (the message is stored, then the connection is closed
        without an answer — an ambiguous send), ``drop_before`` (closed, nothing stored),
        ``status_500``, ``slack_error`` (``{"ok": false, "error": error}``), ``slow`` (waits
        ``seconds`` before answering normally).
        """
        self._failures.extend(_Failure(method, mode, error, seconds) for _ in range(times))

    # -- Socket Mode stand-in -----------------------------------------------------------

    async def wait_for_socket(self, within: float = 5.0) -> web.WebSocketResponse:
        """Wait until a Socket Mode client is connected; its server-side socket."""
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: any(not ws.closed for ws in self.sockets)),
                within,
            )
        return next(ws for ws in self.sockets if not ws.closed)

    async def push_envelope(
        self, kind: str, payload: JSON, *, retry_attempt: int = 0, accepts_response: bool = False
    ) -> str:
        """Send a Socket Mode envelope (``events_api``, ``interactive``, ``slash_commands``)
        to the connected client; returns its ``envelope_id``."""
        ws = await self.wait_for_socket()
        envelope_id = f"env-{next(self._envelopes)}"
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response,
            "retry_attempt": retry_attempt,
            "retry_reason": "timeout" if retry_attempt else "",
        }
        await ws.send_str(json.dumps(envelope))
        return envelope_id

    async def wait_for_ack(self, envelope_id: str, within: float = 5.0) -> JSON:
        """Wait for the client's acknowledgement of an envelope; what it sent."""
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: envelope_id in self.socket_acks), within
            )
        return self.socket_acks[envelope_id]

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": len([s for s in self.sockets if not s.closed]),
                    "debug_info": {"host": "fake-slack", "approximate_connection_time": 3600},
                    "connection_info": {"app_id": "AFAKE"},
                }
            )
        )
        await self._notify()
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                data = json.loads(msg.data)
                if "envelope_id" in data:
                    self.socket_acks[data["envelope_id"]] = data
                    await self._notify()
        await self._notify()
        return ws

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- HTTP ---------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> JSON:
        params: JSON = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    params.update(body)
            else:
                form = await request.post()
                params.update({k: v for k, v in form.items() if isinstance(v, str)})
        for key in ("blocks", "metadata", "attachments"):
            if isinstance(params.get(key), str):
                with contextlib.suppress(json.JSONDecodeError):
                    params[key] = json.loads(params[key])
        return params

    def _check_limit(self, method: str, params: JSON, now: float) -> float:
        if not self.rate_limits:
            return 0.0
        keys = [method]
        if method == "chat.postMessage":
            keys.append(f"chat.postMessage:channel:{params.get('channel', '')}")
        waits: list[float] = []
        buckets: list[_Bucket] = []
        for key in keys:
            rule_name = "chat.postMessage:channel" if key.count(":") >= 2 else key
            limit = self.limits.get(rule_name)
            if limit is None:
                continue
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(limit, self.scale)
            buckets.append(bucket)
        for bucket in buckets:
            waits.append(bucket.take(now))
        if any(waits):
            # a refused call costs nothing: give back what the other buckets took
            for bucket, wait in zip(buckets, waits, strict=True):
                if wait == 0.0:
                    bucket.tokens += 1.0
            return max(waits)
        return 0.0

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await self._params(request)
        call = FakeCall(method, params, _sent_at(request))
        self.calls.append(call)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        token = token or str(params.get("token", ""))
        wanted = self.app_token if method == "apps.connections.open" else self.bot_token
        if token != wanted:
            call.error = "invalid_auth" if token else "not_authed"
            return web.json_response({"ok": False, "error": call.error})
        wait = self._check_limit(method, params, call.time)
        if wait > 0:
            call.status, call.error = 429, "ratelimited"
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        failure = next((f for f in self._failures if f.method == method), None)
        if failure is not None:
            self._failures.remove(failure)
            if failure.mode == "drop_before":
                call.status, call.error = 0, "dropped"
                return self._drop(request)
            if failure.mode == "status_500":
                call.status, call.error = 500, "internal_error"
                return web.Response(status=500, text="Internal Server Error")
            if failure.mode == "slack_error":
                call.error = failure.error
                return web.json_response({"ok": False, "error": failure.error})
            if failure.mode == "slow":
                await asyncio.sleep(failure.seconds)
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if handler is None:
            call.status, call.error = 404, "unknown_method"
            return web.json_response({"ok": False, "error": "unknown_method"}, status=404)
        try:
            result: JSON = handler(params)
        except _SlackError as exc:
            call.error = exc.error
            return web.json_response({"ok": False, "error": exc.error, **exc.extra})
        if failure is not None and failure.mode == "drop_after_store":
            call.status, call.error = 0, "dropped"
            return self._drop(request)
        return web.json_response({"ok": True, **result})

    @staticmethod
    def _drop(request: web.Request) -> web.StreamResponse:
        transport = request.transport
        if transport is not None:
            transport.abort()
        raise asyncio.CancelledError  # the connection is gone: nothing is answered

    async def _upload(self, request: web.Request) -> web.Response:
        """Step 2 of a file upload: the bytes (raw, or the ``file`` part of a form)."""
        file_id = request.match_info["file_id"]
        if request.content_type == "multipart/form-data":
            form = await request.post()
            part = form.get("file") or form.get("filename")
            data = part.file.read() if isinstance(part, web.FileField) else b""
        else:
            data = await request.read()
        call = FakeCall("upload", {"file_id": file_id, "length": len(data)}, time.monotonic())
        self.calls.append(call)
        failure = next((f for f in self._failures if f.method == "upload"), None)
        if failure is not None:
            self._failures.remove(failure)
            call.status, call.error = 500, "internal_error"
            return web.Response(status=500, text="upload failed")
        upload = self.uploads.get(file_id)
        if upload is None or upload.get("data") is not None:
            call.status, call.error = 404, "file_not_found"
            return web.Response(status=404, text="unknown upload")
        if len(data) != upload["length"]:
            call.status, call.error = 400, "length_mismatch"
            return web.Response(status=400, text="length mismatch")
        upload["data"] = data
        return web.Response(text=f"OK - {len(data)}")

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.responses.append({"token": request.match_info["token"], **body})
        return web.Response(text="ok")

    # -- methods ------------------------------------------------------------------------

    def _next_ts(self) -> str:
        ts = max(time.time(), self._last_ts + 0.000001)
        self._last_ts = ts
        return f"{ts:.6f}"

    def _channel(self, channel_id: object) -> FakeChannel:
        channel_id = str(channel_id or "")
        if not channel_id:
            raise _SlackError("channel_not_found")
        if channel_id in self.users:  # posting to a user id goes to the DM
            channel_id = self._open_dm(channel_id)
        channel = self.channels.get(channel_id)
        if channel is None:
            raise _SlackError("channel_not_found")
        return channel

    def _message(self, channel: FakeChannel, ts: object) -> JSON:
        for message in channel.messages:
            if message["ts"] == str(ts):
                return message
        raise _SlackError("message_not_found")

    def _open_dm(self, user_id: str) -> str:
        if user_id not in self.users or self.users[user_id].get("deleted"):
            raise _SlackError("user_not_found")
        if self.users[user_id].get("is_bot"):
            raise _SlackError("cannot_dm_bot")
        dm = self.dms.get(user_id)
        if dm is None:
            dm = f"D{next(self._ids):08d}"
            self.dms[user_id] = dm
            self.channels[dm] = FakeChannel(
                dm, dm, {user_id, self.bot_user_id}, is_im=True, user=user_id
            )
        return dm

    def _api_auth_test(self, params: JSON) -> JSON:
        return {
            "url": "https://fake.slack.com/",
            "team": "Fake workspace",
            "user": "rallybot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _api_apps_connections_open(self, params: JSON) -> JSON:
        return {"url": f"ws://127.0.0.1:{self.port}/socket-mode?ticket={next(self._ids)}"}

    def _api_chat_postMessage(self, params: JSON) -> JSON:
        channel = self._channel(params.get("channel"))
        if channel.is_archived:
            raise _SlackError("is_archived")
        if channel.is_private and self.bot_user_id not in channel.members:
            raise _SlackError("not_in_channel")
        if not params.get("text") and not params.get("blocks"):
            raise _SlackError("no_text")
        message: JSON = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": "AFAKE",
            "text": params.get("text", ""),
            "ts": self._next_ts(),
            "team": self.team_id,
        }
        for key in ("blocks", "username", "icon_url", "icon_emoji", "metadata"):
            if params.get(key):
                message[key] = params[key]
        if params.get("thread_ts"):
            message["thread_ts"] = str(params["thread_ts"])
        if str(params.get("unfurl_links", "")).lower() in ("false", "0"):
            message["unfurl_links"] = False
        channel.messages.append(message)
        public = {k: v for k, v in message.items() if k != "metadata"}
        return {"channel": channel.id, "ts": message["ts"], "message": public}

    def _api_chat_update(self, params: JSON) -> JSON:
        channel = self._channel(params.get("channel"))
        message = self._message(channel, params.get("ts"))
        if message.get("bot_id") != self.bot_id:
            raise _SlackError("cant_update_message")
        message["text"] = params.get("text", message.get("text", ""))
        if "blocks" in params:
            message["blocks"] = params["blocks"]
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {
            "channel": channel.id,
            "ts": message["ts"],
            "text": message["text"],
            "message": {k: v for k, v in message.items() if k != "metadata"},
        }

    def _api_chat_postEphemeral(self, params: JSON) -> JSON:
        channel = self._channel(params.get("channel"))
        user = str(params.get("user", ""))
        if user not in self.users:
            raise _SlackError("user_not_found")
        if not channel.is_im and user not in channel.members:
            raise _SlackError("user_not_in_channel")
        ts = self._next_ts()
        self.ephemerals.append(
            {
                "channel": channel.id,
                "user": user,
                "text": params.get("text", ""),
                "blocks": params.get("blocks"),
                "ts": ts,
            }
        )
        return {"message_ts": ts}

    def _api_pins_add(self, params: JSON) -> JSON:
        channel = self._channel(params.get("channel"))
        message = self._message(channel, params.get("timestamp"))
        key = (channel.id, message["ts"])
        if key in self.pins:
            raise _SlackError("already_pinned")
        self.pins.add(key)
        return {}

    def _api_reactions_add(self, params: JSON) -> JSON:
        channel = self._channel(params.get("channel"))
        message = self._message(channel, params.get("timestamp"))
        name = str(params.get("name", "")).strip(":")
        if not name:
            raise _SlackError("invalid_name")
        users = self.reactions.setdefault((channel.id, message["ts"]), {}).setdefault(name, [])
        if self.bot_user_id in users:
            raise _SlackError("already_reacted")
        users.append(self.bot_user_id)
        return {}

    def _api_conversations_open(self, params: JSON) -> JSON:
        users = [u for u in str(params.get("users", "")).split(",") if u]
        if len(users) != 1:
            raise _SlackError("users_list_not_supplied" if not users else "not_supported")
        already = users[0] in self.dms
        dm = self._open_dm(users[0])
        return {"no_op": already, "already_open": already, "channel": {"id": dm}}

    def _user(self, user_id: str, include_locale: bool) -> JSON:
        user = dict(self.users[user_id])
        if not include_locale:
            user.pop("locale", None)
        return user

    @staticmethod
    def _flag(value: object) -> bool:
        return str(value).lower() in ("1", "true")

    def _api_users_lookupByEmail(self, params: JSON) -> JSON:
        email = str(params.get("email") or "").strip().lower()
        if not email:
            raise _SlackError("invalid_arguments")
        for user_id, user in self.users.items():
            if str(user["profile"].get("email") or "").lower() == email:
                return {"user": self._user(user_id, False)}
        raise _SlackError("users_not_found")

    def _api_views_publish(self, params: JSON) -> JSON:
        user_id = str(params.get("user_id") or "")
        view = params.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if user_id not in self.users or not isinstance(view, dict) or view.get("type") != "home":
            raise _SlackError("invalid_arguments")
        self.home_views[user_id] = view
        return {"view": {"id": f"V-HOME-{user_id}", **view}}

    def _api_views_open(self, params: JSON) -> JSON:
        trigger = str(params.get("trigger_id") or "")
        view = params.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if trigger not in self.trigger_ids:
            raise _SlackError("invalid_trigger_id")
        if not isinstance(view, dict) or view.get("type") != "modal":
            raise _SlackError("invalid_arguments")
        for key in ("title", "submit", "close"):
            if len(str((view.get(key) or {}).get("text", ""))) > 24:
                raise _SlackError("invalid_arguments", response_metadata={"messages": [key]})
        if not view.get("blocks") or len(view["blocks"]) > 100:
            raise _SlackError("invalid_arguments")
        self.trigger_ids.discard(trigger)  # a trigger id opens one view
        opened = {**view, "id": f"V{next(self._ids):08d}", "team_id": self.team_id}
        self.views.append(opened)
        return {"view": opened}

    def _api_files_getUploadURLExternal(self, params: JSON) -> JSON:
        filename = str(params.get("filename") or "")
        try:
            length = int(params.get("length") or 0)
        except ValueError:
            length = 0
        if not filename or length <= 0:
            raise _SlackError("invalid_arguments" if not filename else "missing_argument")
        if len(str(params.get("alt_txt") or "")) > 1000:
            raise _SlackError("alt_txt_too_large")
        file_id = f"F{next(self._ids):08d}"
        self.uploads[file_id] = {
            "filename": filename,
            "length": length,
            "alt_txt": params.get("alt_txt"),
            "data": None,
        }
        return {"upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}", "file_id": file_id}

    def _api_files_completeUploadExternal(self, params: JSON) -> JSON:
        raw = params.get("files")
        try:
            files = json.loads(raw) if isinstance(raw, str) else raw
        except json.JSONDecodeError:
            raise _SlackError("invalid_arguments") from None
        if not isinstance(files, list) or not files:
            raise _SlackError("invalid_arguments")
        channel: FakeChannel | None = None
        if params.get("channel_id"):
            channel = self._channel(params["channel_id"])
            if self.bot_user_id not in channel.members:
                raise _SlackError("not_in_channel")
        shared: list[JSON] = []
        for item in files:
            upload = self.uploads.get(str(item.get("id") or ""))
            if upload is None or upload["data"] is None:
                raise _SlackError("file_not_found")
            shared.append(
                {
                    "id": item["id"],
                    "title": item.get("title") or upload["filename"],
                    "name": upload["filename"],
                    "alt_txt": upload["alt_txt"],
                    "size": upload["length"],
                }
            )
        comment = str(params.get("initial_comment") or "")
        for info, item in zip(shared, files, strict=True):
            self.files.append(
                {
                    **info,
                    "channel": channel.id if channel else None,
                    "initial_comment": comment,
                    "data": self.uploads[str(item["id"])]["data"],
                }
            )
        if channel is not None:
            channel.messages.append(
                {
                    "type": "message",
                    "user": self.bot_user_id,
                    "bot_id": self.bot_id,
                    "text": comment,
                    "files": shared,
                    "ts": self._next_ts(),
                    "team": self.team_id,
                }
            )
        return {"files": [{"id": f["id"], "title": f["title"]} for f in shared]}

    def _api_users_info(self, params: JSON) -> JSON:
        user_id = str(params.get("user", ""))
        if user_id not in self.users:
            raise _SlackError("user_not_found")
        return {"user": self._user(user_id, self._flag(params.get("include_locale")))}

    @staticmethod
    def _page(items: list[Any], params: JSON, default: int = 100) -> tuple[list[Any], str]:
        cursor = str(params.get("cursor") or "")
        start = int(base64.b64decode(cursor).decode().split(":")[1]) if cursor else 0
        limit = max(1, min(int(params.get("limit") or default), 1000))
        end = start + limit
        next_cursor = base64.b64encode(f"next:{end}".encode()).decode() if end < len(items) else ""
        return items[start:end], next_cursor

    def _api_users_list(self, params: JSON) -> JSON:
        include_locale = self._flag(params.get("include_locale"))
        members = [self._user(uid, include_locale) for uid in sorted(self.users)]
        page, cursor = self._page(members, params, default=200)
        return {
            "members": page,
            "cache_ts": int(time.time()),
            "response_metadata": {"next_cursor": cursor},
        }

    def _api_usergroups_list(self, params: JSON) -> JSON:
        include_users = self._flag(params.get("include_users"))
        include_disabled = self._flag(params.get("include_disabled"))
        groups = []
        for group in self.usergroups.values():
            if group["date_delete"] and not include_disabled:
                continue
            shown = {**group, "users": list(group["users"]), "user_count": len(group["users"])}
            if not include_users:
                shown.pop("users")
            groups.append(shown)
        return {"usergroups": groups}

    def _api_conversations_members(self, params: JSON) -> JSON:
        channel = self._channel(params.get("channel"))
        page, cursor = self._page(sorted(channel.members), params)
        return {"members": page, "response_metadata": {"next_cursor": cursor}}

    def _api_conversations_history(self, params: JSON) -> JSON:
        channel = self._channel(params.get("channel"))
        if self.bot_user_id not in channel.members:
            raise _SlackError("not_in_channel")
        oldest = float(params.get("oldest") or 0)
        latest = float(params.get("latest") or "inf")
        include_metadata = self._flag(params.get("include_all_metadata"))
        selected = [
            m
            for m in reversed(channel.messages)  # newest first, as Slack answers
            if oldest < float(m["ts"]) < latest
            # A thread's replies are not in the channel's history (conversations.replies)
            and m.get("thread_ts", m["ts"]) == m["ts"]
        ]
        if not include_metadata:
            selected = [{k: v for k, v in m.items() if k != "metadata"} for m in selected]
        page, cursor = self._page(selected, params)
        return {
            "messages": page,
            "has_more": bool(cursor),
            "pin_count": sum(1 for c, _ in self.pins if c == channel.id),
            "response_metadata": {"next_cursor": cursor},
        }

    def _api_conversations_replies(self, params: JSON) -> JSON:
        channel = self._channel(params.get("channel"))
        if self.bot_user_id not in channel.members:
            raise _SlackError("not_in_channel")
        parent = str(params.get("ts") or "")
        if not any(m["ts"] == parent for m in channel.messages):
            raise _SlackError("thread_not_found")
        oldest = float(params.get("oldest") or 0)
        include_metadata = self._flag(params.get("include_all_metadata"))
        selected = [  # the parent first, then its replies, oldest first, as Slack answers
            m
            for m in channel.messages
            if (m["ts"] == parent or m.get("thread_ts") == parent) and oldest < float(m["ts"])
        ]
        if not include_metadata:
            selected = [{k: v for k, v in m.items() if k != "metadata"} for m in selected]
        page, cursor = self._page(selected, params)
        return {
            "messages": page,
            "has_more": bool(cursor),
            "response_metadata": {"next_cursor": cursor},
        }
