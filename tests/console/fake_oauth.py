"""A fake sign-in provider for the console's tests: Slack's OpenID Connect and Discord's OAuth2.

An ASGI app serving discovery, authorize, token, JWKS, userinfo and ``/users/@me``. The
authorize endpoint approves at once as :attr:`FakeProvider.user` and redirects back with a
code; the token endpoint checks the client, the redirect URI and PKCE, honours each code once
(a replayed code gets ``invalid_grant``), and signs an ID token (RS256) with the nonce.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from rallybot.handlers.console.oauth import DiscordProvider, SlackProvider

ISSUER = "https://slack.fake"
DISCORD = "https://discord.fake/api"
CLIENT_ID, CLIENT_SECRET = "client-1", "secret-1"
BOT_TOKEN = "xoxb-fake"


@dataclass
class _Grant:
    user: str
    team: str
    redirect_uri: str
    nonce: str | None
    challenge: str


@dataclass
class FakeProvider:
    """The fake's state: who signs in next, the codes given, the tokens."""

    user: str = "UMANAGER"  # the platform user id the next authorize approves
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, {"kid": "k1"}))
    grants: dict[str, _Grant] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    tokens: dict[str, str] = field(default_factory=dict)  # access token -> user
    wrong_nonce: bool = False  # sign ID tokens with another nonce (a replayed ID token)
    wrong_key: bool = False  # sign ID tokens with a key not published in the JWKS
    workspace: str = "T1"  # the bot's workspace, as auth.test answers
    team: str = "T1"  # the workspace of whoever signs in next (the ID token's team)

    def app(self) -> Starlette:
        """The provider as an ASGI app."""
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/openid/connect/authorize", self.authorize),
                Route("/api/openid.connect.token", self.token, methods=["POST"]),
                Route("/openid/connect/keys", self.jwks),
                Route("/api/auth.test", self.auth_test, methods=["POST"]),
                Route("/oauth2/authorize", self.authorize),
                Route("/api/oauth2/token", self.token, methods=["POST"]),
                Route("/api/users/@me", self.me),
            ]
        )

    def client(self) -> httpx.AsyncClient:
        """An HTTP client that reaches this fake (for the providers)."""
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app()))

    def slack(self) -> SlackProvider:
        """The console's Slack provider, on this fake."""
        return SlackProvider(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            issuer=ISSUER,
            bot_token=BOT_TOKEN,
            api_url=f"{ISSUER}/api/",
            client=self.client,
        )

    def discord(self) -> DiscordProvider:
        """The console's Discord provider, on this fake."""
        return DiscordProvider(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            api_url=DISCORD,
            authorize_endpoint="https://discord.fake/oauth2/authorize",
            client=self.client,
        )

    async def discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": ISSUER,
                "authorization_endpoint": f"{ISSUER}/openid/connect/authorize",
                "token_endpoint": f"{ISSUER}/api/openid.connect.token",
                "jwks_uri": f"{ISSUER}/openid/connect/keys",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def jwks(self, request: Request) -> Response:
        return JSONResponse(KeySet([self.key]).as_dict(private=False))

    async def auth_test(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {BOT_TOKEN}":
            return JSONResponse({"ok": False, "error": "invalid_auth"})
        return JSONResponse({"ok": True, "team_id": self.workspace, "user_id": "UBOT"})

    async def authorize(self, request: Request) -> Response:
        params = request.query_params
        if params.get("client_id") != CLIENT_ID or params.get("response_type") != "code":
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        if params.get("code_challenge_method") != "S256":
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        code = secrets.token_urlsafe(16)
        self.grants[code] = _Grant(
            self.user,
            self.team,
            params["redirect_uri"],
            params.get("nonce"),
            params["code_challenge"],
        )
        back = urlencode({"code": code, "state": params.get("state", "")})
        return RedirectResponse(f"{params['redirect_uri']}?{back}", status_code=302)

    async def token(self, request: Request) -> Response:
        form = await request.form()
        code = str(form.get("code", ""))
        grant = self.grants.get(code)
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if grant is None or code in self.used:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        self.used.add(code)
        verifier = str(form.get("code_verifier", ""))
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if challenge.rstrip(b"=").decode() != grant.challenge:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if form.get("redirect_uri") != grant.redirect_uri:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        access = secrets.token_urlsafe(16)
        self.tokens[access] = grant.user
        body: dict[str, Any] = {"access_token": access, "token_type": "Bearer"}
        if grant.nonce is not None:  # Slack's OpenID Connect
            now = int(time.time())
            claims = {
                "iss": ISSUER,
                "sub": grant.user,
                "aud": CLIENT_ID,
                "exp": now + 300,
                "iat": now,
                "nonce": "other" if self.wrong_nonce else grant.nonce,
                "https://slack.com/user_id": grant.user,
                "https://slack.com/team_id": grant.team,
            }
            key = RSAKey.generate_key(2048, {"kid": "k1"}) if self.wrong_key else self.key
            body["id_token"] = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
            body["ok"] = True
        return JSONResponse(body)

    async def me(self, request: Request) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        user = self.tokens.get(token)
        if user is None:
            return JSONResponse({"message": "401: Unauthorized"}, status_code=401)
        return JSONResponse({"id": user, "username": "someone"})
