"""Sign-in with the chat platform: "Sign in with Slack" (OpenID Connect) and Discord OAuth2.

Authlib builds the authorization requests (with PKCE) and joserfc, Authlib's JOSE library,
checks Slack's signed ID token (signature against the published keys, issuer, audience,
expiry, nonce) and that its team is the bot's workspace (as the bot token's ``auth.test``
says). The person's platform key (``slack:U0123``, ``discord:80351110224678912``)
is what the roles are read from: only community managers and helpers get a session.

Both need the platform's extra (``rallybot[slack]`` or ``rallybot[discord]``), which brings
Authlib and httpx; without it the sign-in page offers the one-time link only.
"""

from __future__ import annotations

import abc
import importlib.util
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rallybot.bot.config import Settings

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DiscordProvider",
    "Provider",
    "SignInFailed",
    "SlackProvider",
    "providers_from_settings",
]

log = logging.getLogger("rallybot.console")

#: Makes the HTTP client a provider talks through (tests pass one on a fake provider).
ClientFactory = Callable[[], "httpx.AsyncClient"]
_TIMEOUT = 10.0


def _client() -> httpx.AsyncClient:
    import httpx  # noqa: PLC0415 (the signin extra)

    return httpx.AsyncClient(timeout=_TIMEOUT, follow_redirects=False)


class SignInFailed(Exception):
    """The provider refused the sign-in or answered something unusable (``str()`` says what,
    never a token)."""


@dataclass(kw_only=True)
class Provider(abc.ABC):
    """An OAuth2 provider the console trusts to say who someone is on its platform."""

    name: str  # "slack" or "discord": the platform of the keys it gives
    client_id: str
    client_secret: str = field(repr=False)
    client: ClientFactory = _client
    scope: str = ""

    async def authorize_url(self, redirect_uri: str, state: str, nonce: str, verifier: str) -> str:
        """Where to send the browser to sign in."""
        from authlib.oauth2.rfc6749.parameters import prepare_grant_uri  # noqa: PLC0415 (the signin extra)
        from authlib.oauth2.rfc7636 import create_s256_code_challenge  # noqa: PLC0415 (the signin extra)

        endpoint = await self._endpoint("authorization_endpoint")
        extra: dict[str, str] = {"nonce": nonce} if self.name == "slack" else {}
        return str(
            prepare_grant_uri(
                endpoint,
                self.client_id,
                "code",
                redirect_uri=redirect_uri,
                scope=self.scope,
                state=state,
                code_challenge=create_s256_code_challenge(verifier),
                code_challenge_method="S256",
                **extra,
            )
        )

    @abc.abstractmethod
    async def identify(self, code: str, redirect_uri: str, nonce: str, verifier: str) -> str:
        """Exchange the authorization ``code``; the person's platform key."""

    @abc.abstractmethod
    async def _endpoint(self, name: str) -> str:
        """The URL of one of the provider's endpoints (``authorization_endpoint``...)."""

    async def _token(self, code: str, redirect_uri: str, verifier: str) -> dict[str, Any]:
        """The token response for ``code`` (client_secret_post, as both platforms accept)."""
        import httpx  # noqa: PLC0415 (the signin extra)

        endpoint = await self._endpoint("token_endpoint")
        async with self.client() as http:
            try:
                response = await http.post(
                    endpoint,
                    data={
                        "grant_type": "authorization_code",
                        "code": code,
                        "redirect_uri": redirect_uri,
                        "client_id": self.client_id,
                        "client_secret": self.client_secret,
                        "code_verifier": verifier,
                    },
                    headers={"Accept": "application/json"},
                )
            except httpx.HTTPError as exc:
                raise SignInFailed(
                    f"{self.name} could not be reached ({type(exc).__name__})"
                ) from None
        body = _json(response)
        # Slack answers 200 with {"ok": false, "error": ...}; OAuth2 servers a 4xx
        if response.status_code != 200 or body.get("ok") is False or "error" in body:
            error = str(body.get("error", response.status_code))[:80]
            raise SignInFailed(f"{self.name} refused the sign-in ({error})")
        return body


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {}


@dataclass(kw_only=True)
class SlackProvider(Provider):
    """ "Sign in with Slack": OpenID Connect, discovered from ``issuer``."""

    name: str = "slack"
    issuer: str = "https://slack.com"
    scope: str = "openid profile"
    #: the bot's token and Web API: ``auth.test`` names the workspace a sign-in must belong to
    bot_token: str = field(default="", repr=False)
    api_url: str = "https://slack.com/api/"
    _config: dict[str, Any] | None = field(default=None, repr=False)
    _team: str | None = field(default=None, repr=False)

    async def _workspace(self) -> str:
        """The bot's workspace id (``auth.test``, asked once): a user id alone does not say
        which workspace signed in, and an app can be installed in several."""
        import httpx  # noqa: PLC0415 (the signin extra)

        if self._team is None:
            if not self.bot_token:
                raise SignInFailed("slack's workspace is unknown (SLACK_BOT_TOKEN is not set)")
            async with self.client() as http:
                try:
                    response = await http.post(
                        f"{self.api_url.rstrip('/')}/auth.test",
                        headers={"Authorization": f"Bearer {self.bot_token}"},
                    )
                except httpx.HTTPError as exc:
                    raise SignInFailed(
                        f"slack could not be reached ({type(exc).__name__})"
                    ) from None
            team = _json(response).get("team_id")
            if response.status_code != 200 or not isinstance(team, str) or not team:
                raise SignInFailed("slack did not say which workspace the bot is in")
            self._team = team
        return self._team

    async def _discover(self) -> dict[str, Any]:
        import httpx  # noqa: PLC0415 (the signin extra)

        if self._config is None:
            url = f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"
            async with self.client() as http:
                try:
                    response = await http.get(url)
                except httpx.HTTPError as exc:
                    raise SignInFailed(
                        f"slack could not be reached ({type(exc).__name__})"
                    ) from None
            config = _json(response)
            if response.status_code != 200 or "token_endpoint" not in config:
                raise SignInFailed("slack's OpenID Connect configuration could not be read")
            self._config = config
        return self._config

    async def _endpoint(self, name: str) -> str:
        return str((await self._discover())[name])

    async def identify(self, code: str, redirect_uri: str, nonce: str, verifier: str) -> str:
        """Check the signed ID token; the key ``slack:<user id>``."""
        import httpx  # noqa: PLC0415 (the signin extra)
        from joserfc import jwt  # noqa: PLC0415 (the signin extra)
        from joserfc.errors import JoseError  # noqa: PLC0415 (the signin extra)
        from joserfc.jwk import KeySet  # noqa: PLC0415 (the signin extra)

        token = await self._token(code, redirect_uri, verifier)
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SignInFailed("slack sent no ID token")
        config = await self._discover()
        async with self.client() as http:
            try:
                keys = _json(await http.get(str(config["jwks_uri"])))
            except httpx.HTTPError as exc:
                raise SignInFailed(f"slack could not be reached ({type(exc).__name__})") from None
        try:
            decoded = jwt.decode(id_token, KeySet.import_key_set(keys))  # type: ignore[arg-type]
            jwt.JWTClaimsRegistry(
                leeway=60,
                iss={"essential": True, "value": str(config.get("issuer", self.issuer))},
                aud={"essential": True, "value": self.client_id},
                exp={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(decoded.claims)
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise SignInFailed(f"slack's ID token is not valid ({type(exc).__name__})") from None
        user_id = decoded.claims.get("https://slack.com/user_id")
        if not isinstance(user_id, str) or not user_id:
            raise SignInFailed("slack's ID token names no user")
        # user ids are only unique within a workspace: the same id elsewhere is someone else
        if decoded.claims.get("https://slack.com/team_id") != await self._workspace():
            raise SignInFailed("slack's ID token is from another workspace")
        return f"slack:{user_id}"


@dataclass(kw_only=True)
class DiscordProvider(Provider):
    """Discord OAuth2 (scope ``identify``): the user comes from ``/users/@me``."""

    name: str = "discord"
    api_url: str = "https://discord.com/api/v10"
    authorize_endpoint: str = "https://discord.com/oauth2/authorize"
    scope: str = "identify"

    async def _endpoint(self, name: str) -> str:
        if name == "authorization_endpoint":
            return self.authorize_endpoint
        return f"{self.api_url.rstrip('/')}/oauth2/token"

    async def identify(self, code: str, redirect_uri: str, nonce: str, verifier: str) -> str:
        """The key ``discord:<user id>`` of the token's owner."""
        import httpx  # noqa: PLC0415 (the signin extra)

        token = await self._token(code, redirect_uri, verifier)
        access = token.get("access_token")
        if not isinstance(access, str):
            raise SignInFailed("discord sent no access token")
        async with self.client() as http:
            try:
                response = await http.get(
                    f"{self.api_url.rstrip('/')}/users/@me",
                    headers={"Authorization": f"Bearer {access}"},
                )
            except httpx.HTTPError as exc:
                raise SignInFailed(f"discord could not be reached ({type(exc).__name__})") from None
        user_id = _json(response).get("id")
        if response.status_code != 200 or not isinstance(user_id, str) or not user_id.isdigit():
            raise SignInFailed("discord did not say who signed in")
        return f"discord:{user_id}"


def providers_from_settings(settings: Settings) -> list[Provider]:
    """The sign-in providers the settings configure (client id and secret both set)."""
    if any(importlib.util.find_spec(name) is None for name in ("authlib", "httpx")):
        if settings.slack_client_id or settings.discord_client_secret:
            log.warning(
                "console: sign-in with Slack or Discord needs Authlib: "
                "pip install 'rallybot[slack]' or 'rallybot[discord]'"
            )
        return []
    found: list[Provider] = []
    if settings.slack_client_id and settings.slack_client_secret:
        found.append(
            SlackProvider(
                client_id=settings.slack_client_id,
                client_secret=settings.slack_client_secret.get_secret_value(),
                issuer=settings.slack_oidc_issuer,
                bot_token=(
                    settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
                ),
                api_url=settings.slack_api_url,
            )
        )
    if settings.discord_application_id and settings.discord_client_secret:
        found.append(
            DiscordProvider(
                client_id=settings.discord_application_id,
                client_secret=settings.discord_client_secret.get_secret_value(),
                api_url=settings.discord_api_url,
                authorize_endpoint=settings.discord_authorize_url,
            )
        )
    return found


def new_secret() -> str:
    """A nonce or PKCE verifier (256 bits, URL-safe: 43 characters)."""
    return secrets.token_urlsafe(32)
