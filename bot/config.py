"""Settings: the only reader of the environment and of `.env`.

Every field maps to an environment variable prefixed with ``RALLYBOT_`` except where an
alias names the conventional variable (``DATABASE_URL``, ``SLACK_BOT_TOKEN``...).
Secrets are :class:`pydantic.SecretStr`, so they never appear in ``repr`` or logs; the
database password is hidden in ``repr`` too.

Where values come from, first match wins: arguments, the environment, ``NAME_FILE``
variables (a file holding the value, as Docker and Kubernetes mount secrets), ``.env``,
files named after the variables in ``RALLYBOT_SECRETS_DIR``, then the defaults. An empty
value counts as unset. :func:`load_settings` turns every problem into one line (never a
secret's value) and reports unknown ``RALLYBOT_*``, ``SLACK_*`` and ``DISCORD_*`` variables.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from dotenv import dotenv_values
from pydantic import (
    AfterValidator,
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)

from rallybot.bot.identity import identity_matches
from rallybot.bot.rota import Rota, parse_rota
from rallybot.campaigns.quiet_hours import QuietHours, parse_quiet_hours
from rallybot.campaigns.words import N_, Text, nN_
from rallybot.campaigns.zones import zone_problem

if TYPE_CHECKING:  # the database's driver stack is heavy: a command's start need not load it
    from rallybot.storage.database import DatabaseUnreachable

__all__ = [
    "LOG_FORMATS",
    "LOG_LEVELS",
    "InvalidSettings",
    "Port",
    "QuietHours",
    "Settings",
    "campaigns_problem",
    "database_problem",
    "hide_password",
    "identity_matches",
    "load_settings",
    "parse_quiet_hours",
    "path_problems",
    "raw_variables",
    "setting_sources",
    "shown_value",
    "unknown_variables",
]

#: ``RALLYBOT_LOG_LEVEL`` values (any case).
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: ``RALLYBOT_LOG_FORMAT`` values.
LOG_FORMATS = ("text", "json")
#: The prefixes of the variables checked for typos.
PREFIXES = ("RALLYBOT_", "SLACK_", "DISCORD_")
#: Variables with those prefixes that something other than the settings model reads.
OTHER_VARIABLES = frozenset({"RALLYBOT_TEST_PG_URL", "RALLYBOT_ENV_FILE"})


def _check_port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise ValueError(N_("expected a TCP port number from 1 to 65535"))
    return value


#: A TCP port setting: 1 to 65535, with a clear error otherwise.
Port = Annotated[int, AfterValidator(_check_port)]

# greedy up to the last "@" before the path: a password may hold a raw "@" (as urlsplit reads it)
_PASSWORD_IN_URL = re.compile(r"(://[^:/@\s]*:)([^\s/]*)(@)")


def hide_password(url: str) -> str:
    """``url`` with any password replaced by ``***`` (works on URLs that do not parse)."""
    return _PASSWORD_IN_URL.sub(r"\1***\3", url)


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    """Runtime settings, read once at start-up from the environment and `.env`."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        # `cp config.example.env .env` leaves many lines empty: empty means "use the default"
        env_ignore_empty=True,
        extra="ignore",
        populate_by_name=True,
    )

    database_url: str = Field(
        default="sqlite:///rallybot.db",
        validation_alias=_env("DATABASE_URL", "RALLYBOT_DATABASE_URL"),
    )
    campaigns_dir: Path = Field(
        default=Path("campaigns/examples/fr"),
        validation_alias=_env("RALLYBOT_CAMPAIGNS_DIR"),
    )
    roster_file: Path | None = Field(default=None, validation_alias=_env("RALLYBOT_ROSTER"))
    rules_file: Path | None = Field(default=None, validation_alias=_env("RALLYBOT_RULES"))
    timezone: str = Field(default="Europe/Paris", validation_alias=_env("RALLYBOT_TIMEZONE"))
    locale: str = Field(default="fr", validation_alias=_env("RALLYBOT_LOCALE"))
    quiet_hours: str = Field(default="21:00-08:00", validation_alias=_env("RALLYBOT_QUIET_HOURS"))
    admins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=_env("RALLYBOT_ADMINS")
    )
    channel_map: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict, validation_alias=_env("RALLYBOT_CHANNELS")
    )
    grace_minutes: int = Field(default=60, ge=0, validation_alias=_env("RALLYBOT_GRACE_MINUTES"))
    # how long a campaign file may be absent (moved away, a git checkout, a deploy replacing the
    # folder) before its pending messages are cancelled; see docs/explanation/reloads.md
    file_absent_minutes: int = Field(
        default=10, ge=0, validation_alias=_env("RALLYBOT_FILE_ABSENT_MINUTES")
    )
    lookahead_seconds: int = Field(
        default=300, ge=1, validation_alias=_env("RALLYBOT_LOOKAHEAD_SECONDS")
    )
    plan_interval_seconds: float = Field(
        default=30.0, gt=0, validation_alias=_env("RALLYBOT_PLAN_INTERVAL")
    )
    dispatch_interval_seconds: float = Field(
        default=1.0, gt=0, validation_alias=_env("RALLYBOT_DISPATCH_INTERVAL")
    )
    lease_seconds: int = Field(default=120, ge=5, validation_alias=_env("RALLYBOT_LEASE_SECONDS"))
    dispatch_batch: int = Field(default=100, ge=1, validation_alias=_env("RALLYBOT_DISPATCH_BATCH"))
    # replicas (bot/budget.py, bot/app.py): the heartbeat that shares the send budget and lets
    # a live replica handle a dead one's recorded events; how long handled events are kept
    heartbeat_seconds: float = Field(
        default=5.0, ge=0.1, validation_alias=_env("RALLYBOT_HEARTBEAT_SECONDS")
    )
    journal_keep_hours: float = Field(
        default=24.0, ge=0, validation_alias=_env("RALLYBOT_JOURNAL_KEEP_HOURS")
    )
    # the deduplication rows of handled events (a keyed hash of the platform's event id, the
    # hour): platforms retry within minutes, and a crash is recovered at the next start
    dedup_keep_days: int = Field(default=7, ge=1, validation_alias=_env("RALLYBOT_DEDUP_KEEP_DAYS"))
    log_level: str = Field(default="INFO", validation_alias=_env("RALLYBOT_LOG_LEVEL"))
    log_format: str = Field(default="text", validation_alias=_env("RALLYBOT_LOG_FORMAT"))

    # the bot's HTTP server (bot/http.py): /healthz, /readyz, /metrics, and /slack/events in
    # Slack's HTTP mode; 0.0.0.0 listens on every interface (in a container)
    http_host: str = Field(default="127.0.0.1", validation_alias=_env("RALLYBOT_HTTP_HOST"))
    http_port: Port = Field(default=8080, validation_alias=_env("RALLYBOT_HTTP_PORT"))
    # Prometheus metrics (bot/metrics.py); off, /metrics serves the process metrics only
    metrics: bool = Field(default=True, validation_alias=_env("RALLYBOT_METRICS"))

    # start-up (bot/config.py, storage/database.py): how long `rallybot run` and `db upgrade`
    # retry an unreachable database before giving up (0: one attempt)
    db_wait_seconds: float = Field(
        default=60.0, ge=0, validation_alias=_env("RALLYBOT_DB_WAIT_SECONDS")
    )
    # a folder of files named after the variables (Docker and Kubernetes secrets)
    secrets_dir: Path | None = Field(default=None, validation_alias=_env("RALLYBOT_SECRETS_DIR"))
    # what an unknown RALLYBOT_* variable does: error (exit 2), warn, or ignore; unknown
    # SLACK_* and DISCORD_* variables, a namespace shared with other tools, only warn
    unknown_variables: Literal["error", "warn", "ignore"] = Field(
        default="error", validation_alias=_env("RALLYBOT_UNKNOWN_VARIABLES")
    )

    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=_env("SLACK_BOT_TOKEN")
    )
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=_env("SLACK_APP_TOKEN")
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias=_env("SLACK_SIGNING_SECRET")
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/", validation_alias=_env("SLACK_API_URL")
    )
    discord_token: SecretStr | None = Field(default=None, validation_alias=_env("DISCORD_TOKEN"))
    discord_guild_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, validation_alias=_env("DISCORD_GUILD_IDS")
    )
    discord_application_id: str | None = Field(
        default=None, validation_alias=_env("DISCORD_APPLICATION_ID")
    )
    discord_api_url: str = Field(
        default="https://discord.com/api/v10", validation_alias=_env("DISCORD_API_URL")
    )

    # onboarding journeys (handlers/onboarding/)
    onboarding_buddies: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=_env("RALLYBOT_ONBOARDING_BUDDIES")
    )
    onboarding_max_nudges_per_day: int = Field(
        default=2, ge=1, validation_alias=_env("RALLYBOT_ONBOARDING_MAX_NUDGES_PER_DAY")
    )
    onboarding_escalate_after_days: int = Field(
        default=0, ge=0, validation_alias=_env("RALLYBOT_ONBOARDING_ESCALATE_AFTER_DAYS")
    )
    onboarding_escalation_channel: str | None = Field(
        default=None, validation_alias=_env("RALLYBOT_ONBOARDING_ESCALATION_CHANNEL")
    )
    community_channel: str | None = Field(
        default=None, validation_alias=_env("RALLYBOT_COMMUNITY_CHANNEL")
    )
    # the community managers' own (private) channel: help tickets nobody on duty can take,
    # challenge evidence when no manager is named in RALLYBOT_ADMINS
    managers_channel: str | None = Field(
        default=None, validation_alias=_env("RALLYBOT_MANAGERS_CHANNEL")
    )
    # where every kudos is celebrated as it is given (the community file's recognition.channel)
    recognition_channel: str | None = Field(
        default=None, validation_alias=_env("RALLYBOT_RECOGNITION_CHANNEL")
    )
    # "live": each kudos as it is given; "daily": the day's kudos in one post at recognition_at
    recognition_feed: Literal["live", "daily"] = Field(
        default="live", validation_alias=_env("RALLYBOT_RECOGNITION_FEED")
    )
    recognition_at: str = Field(default="17:00", validation_alias=_env("RALLYBOT_RECOGNITION_AT"))

    # help channel (handlers/helpdesk/)
    help_channel: str | None = Field(default=None, validation_alias=_env("RALLYBOT_HELP_CHANNEL"))
    helpers: str = Field(default="", validation_alias=_env("RALLYBOT_HELPERS"))
    helpers_timezone: str | None = Field(
        default=None, validation_alias=_env("RALLYBOT_HELPERS_TIMEZONE")
    )
    help_remind_minutes: int = Field(
        default=30, ge=1, validation_alias=_env("RALLYBOT_HELP_REMIND_MINUTES")
    )
    help_escalate_minutes: int = Field(
        default=120, ge=1, validation_alias=_env("RALLYBOT_HELP_ESCALATE_MINUTES")
    )
    help_stale_hours: int = Field(
        default=72, ge=1, validation_alias=_env("RALLYBOT_HELP_STALE_HOURS")
    )
    faq_file: Path | None = Field(default=None, validation_alias=_env("RALLYBOT_FAQ"))

    # teams from platform groups (bot/teams.py): the Slack user group handles or Discord role
    # names that are teams, in order of precedence; empty: teams come from the roster only
    team_groups: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=_env("RALLYBOT_TEAM_GROUPS")
    )

    # privacy (handlers/privacy/): unfinished survey drafts older than this many days are
    # purged, and the deduplication rows of handled events too if it is shorter than
    # RALLYBOT_DEDUP_KEEP_DAYS; None keeps the drafts
    retention_days: int | None = Field(
        default=None, ge=1, validation_alias=_env("RALLYBOT_RETENTION_DAYS")
    )
    # privacy (handlers/survey/): the secret that keys the survey buttons; unset, one is
    # generated and kept in the database (bot_secret) so a fresh install works
    secret_key: SecretStr | None = Field(default=None, validation_alias=_env("RALLYBOT_SECRET_KEY"))
    # privacy (handlers/privacy/): members deactivated by `roster import --remove-missing` are
    # erased ("forget") this many days later; 0 erases them at once
    erase_removed_after_days: int = Field(
        default=30, ge=0, validation_alias=_env("RALLYBOT_ERASE_REMOVED_AFTER_DAYS")
    )
    # indicators (handlers/reporting/): count the community managers (RALLYBOT_ADMINS) among
    # the members in scope (the funnel's "invited"); by default they are left out
    count_managers: bool = Field(default=False, validation_alias=_env("RALLYBOT_COUNT_MANAGERS"))

    # the web console (handlers/console, docs/manual/console.md): off by default; without a
    # port of its own it is served by the bot's HTTP server (RALLYBOT_HTTP_HOST/PORT) under
    # /console, else on its own host and port
    console: bool = Field(default=False, validation_alias=_env("RALLYBOT_CONSOLE"))
    console_host: str | None = Field(default=None, validation_alias=_env("RALLYBOT_CONSOLE_HOST"))
    console_port: Port | None = Field(default=None, validation_alias=_env("RALLYBOT_CONSOLE_PORT"))
    # the address people type, behind a reverse proxy (https://bot.example.com/console): the
    # sign-in redirects and one-time links use it; https makes the session cookie Secure
    console_url: str | None = Field(default=None, validation_alias=_env("RALLYBOT_CONSOLE_URL"))
    # HSTS on an https console covers the host's subdomains too (every site under it must
    # then be HTTPS for a year): only when the administrator asks
    console_hsts_subdomains: bool = Field(
        default=False, validation_alias=_env("RALLYBOT_CONSOLE_HSTS_SUBDOMAINS")
    )
    console_session_hours: float = Field(
        default=12.0, gt=0, le=24 * 30, validation_alias=_env("RALLYBOT_CONSOLE_SESSION_HOURS")
    )
    console_link_minutes: float = Field(
        default=15.0, gt=0, le=24 * 60, validation_alias=_env("RALLYBOT_CONSOLE_LINK_MINUTES")
    )
    # the proxies whose X-Forwarded-For gives the client's address (the sign-in rate limit
    # counts per client): uvicorn's own variable, read here so that .env and --env-file give it
    forwarded_allow_ips: str = Field(
        default="127.0.0.1,::1", validation_alias=_env("FORWARDED_ALLOW_IPS")
    )
    # "Sign in with Slack" (OpenID Connect) and Discord OAuth2: the app's client credentials
    # (Discord's client id is DISCORD_APPLICATION_ID)
    slack_client_id: str | None = Field(default=None, validation_alias=_env("SLACK_CLIENT_ID"))
    slack_client_secret: SecretStr | None = Field(
        default=None, validation_alias=_env("SLACK_CLIENT_SECRET")
    )
    discord_client_secret: SecretStr | None = Field(
        default=None, validation_alias=_env("DISCORD_CLIENT_SECRET")
    )
    # where "Sign in with Slack" discovers its OpenID Connect endpoints (tests use a fake)
    slack_oidc_issuer: str = Field(
        default="https://slack.com", validation_alias=_env("SLACK_OIDC_ISSUER")
    )
    # Discord's OAuth2 authorize page (its token and user endpoints are under DISCORD_API_URL)
    discord_authorize_url: str = Field(
        default="https://discord.com/oauth2/authorize",
        validation_alias=_env("DISCORD_AUTHORIZE_URL"),
    )

    @field_validator("admins", mode="before")
    @classmethod
    def _split_admins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("onboarding_buddies", mode="before")
    @classmethod
    def _split_buddies(cls, value: object) -> object:
        if isinstance(value, str):
            return list(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
        return value

    @field_validator("team_groups", mode="before")
    @classmethod
    def _split_team_groups(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip().removeprefix("@") for part in value.split(",")]
        if isinstance(value, list):
            names: dict[str, str] = {}  # casefolded -> as written, the first spelling wins
            for name in (str(part).strip() for part in value):
                if name == "*":
                    raise ValueError(
                        N_(
                            "RALLYBOT_TEAM_GROUPS lists the groups that are teams by name, e.g. "
                            '"sales,marketing"; "*" is not supported'
                        )
                    )
                if name:
                    names.setdefault(name.casefold(), name)
            return list(names.values())
        return value

    @field_validator("discord_guild_ids", mode="before")
    @classmethod
    def _split_guilds(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            bad = [part for part in parts if not part.isdigit()]
            if bad:
                raise ValueError(
                    N_('DISCORD_GUILD_IDS holds numeric server ids, not "{value}"', value=bad[0])
                )
            return [int(part) for part in parts]
        return value

    @field_validator("channel_map", mode="before")
    @classmethod
    def _split_channels(cls, value: object) -> object:
        if isinstance(value, str):
            mapping: dict[str, str] = {}
            for item in value.split(","):
                if not item.strip():
                    continue
                name, sep, target = item.partition("=")
                if not sep or not name.strip() or not target.strip():
                    raise ValueError(
                        N_(
                            'RALLYBOT_CHANNELS entries look like "annonces=C0123", not "{value}"',
                            value=item.strip(),
                        )
                    )
                mapping[name.strip()] = target.strip()
            return mapping
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        value = value.strip()
        expected = N_("expected sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/NAME")
        scheme, sep, rest = value.partition("://")
        if not sep or scheme.lower() not in _DB_SCHEMES:
            raise ValueError(expected)
        if scheme.lower().startswith("sqlite"):
            # An in-memory database (sqlite://) is fine for a program that builds its settings
            # itself (tests, embedding); path_problems refuses it for rallybot run.
            if rest and (not rest.startswith("/") or rest == "/"):
                raise ValueError(N_("expected sqlite:///PATH, a file (sqlite:////abs/path.db)"))
            return value
        try:
            urlsplit(value).port  # noqa: B018 (parsing it is the check)
        except ValueError:
            raise ValueError(
                N_("the port must be a number from 1 to 65535; {expected}", expected=expected)
            ) from None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _check_log_level(cls, value: object) -> object:
        if isinstance(value, str):
            level = value.strip().upper()
            if level not in LOG_LEVELS:
                choices = ", ".join(LOG_LEVELS)
                hint = _did_you_mean(level, LOG_LEVELS) or N_(" (DEBUG is the most detailed)")
                raise ValueError(N_("expected one of {choices}{hint}", choices=choices, hint=hint))
            return level
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _check_log_format(cls, value: object) -> object:
        if isinstance(value, str):
            fmt = value.strip().lower()
            if fmt not in LOG_FORMATS:
                hint = _did_you_mean(fmt, LOG_FORMATS)
                raise ValueError(N_("expected text or json{hint}", hint=hint))
            return fmt
        return value

    @field_validator("locale")
    @classmethod
    def _check_locale(cls, value: str) -> str:
        try:
            Locale.parse(value.strip().replace("-", "_"))
        except (UnknownLocaleError, ValueError, TypeError):
            raise ValueError(N_("expected a language code, such as fr, en or fr_CA")) from None
        return value.strip()

    @field_validator(
        "slack_api_url", "discord_api_url", "slack_oidc_issuer", "discord_authorize_url"
    )
    @classmethod
    def _check_api_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(N_("expected an http:// or https:// address"))
        return value.strip()

    @field_validator("console_url")
    @classmethod
    def _check_console_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(N_("expected the console's address, such as https://bot.example.com"))
        if parts.query or parts.fragment:
            raise ValueError(N_("expected an address without ?query or #fragment"))
        return value.strip().rstrip("/")

    @field_validator("secrets_dir")
    @classmethod
    def _check_secrets_dir(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(N_("expected a folder of secret files (no such folder)"))
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise ValueError(zone_problem(value)) from exc
        return value

    @field_validator("recognition_at")
    @classmethod
    def _check_recognition_at(cls, value: str) -> str:
        try:
            time.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                N_('expected a time of day like 17:00, not "{value}"', value=value)
            ) from None
        return value.strip()

    @field_validator("quiet_hours")
    @classmethod
    def _check_quiet_hours(cls, value: str) -> str:
        parse_quiet_hours(value)
        return value

    @field_validator("helpers_timezone")
    @classmethod
    def _check_helpers_timezone(cls, value: str | None) -> str | None:
        if value is not None:
            cls._check_timezone(value)
        return value

    @field_validator("helpers")
    @classmethod
    def _check_helpers(cls, value: str) -> str:
        parse_rota(value)
        return value

    @model_validator(mode="after")
    def _check_help_delays(self) -> Settings:
        if self.help_escalate_minutes <= self.help_remind_minutes:
            raise ValueError(
                N_(
                    "RALLYBOT_HELP_ESCALATE_MINUTES must be more than "
                    "RALLYBOT_HELP_REMIND_MINUTES ({escalate} <= {remind})",
                    escalate=self.help_escalate_minutes,
                    remind=self.help_remind_minutes,
                )
            )
        if self.help_stale_hours * 60 <= self.help_escalate_minutes:
            raise ValueError(
                N_(
                    "RALLYBOT_HELP_STALE_HOURS must come after the escalation "
                    "({hours} h <= {minutes} min)",
                    hours=self.help_stale_hours,
                    minutes=self.help_escalate_minutes,
                )
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, environment, ``NAME_FILE`` variables, ``.env``, the secrets folder."""
        return _sources(settings_cls, init_settings, env_settings, dotenv_settings)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # tokens are SecretStr already; the database URL stays a str (many readers) but its
        # password never reaches a repr, a log line or an error message
        for name, value in super().__repr_args__():
            hidden = name == "database_url" and isinstance(value, str)
            yield name, hide_password(value) if hidden else value

    @property
    def rota(self) -> Rota:
        """The helpers' rota, read in ``RALLYBOT_HELPERS_TIMEZONE`` (else the bot's zone)."""
        return parse_rota(self.helpers, self.helpers_timezone or self.timezone)

    @property
    def grace(self) -> timedelta:
        """How late a missed delivery may still be sent."""
        return timedelta(minutes=self.grace_minutes)

    @property
    def quiet(self) -> QuietHours | None:
        """The parsed quiet-hours window."""
        return parse_quiet_hours(self.quiet_hours)

    def is_admin(self, user_ref: str) -> bool:
        """Whether ``platform:id`` (a :attr:`UserRef.key`) is a community manager; exact,
        see :func:`identity_matches`."""
        return identity_matches(user_ref, self.admins)


_DB_SCHEMES = frozenset(
    {"sqlite", "sqlite+aiosqlite", "postgresql", "postgres", "postgresql+asyncpg"}
)


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return N_(' (did you mean "{close}"?)', close=close[0]) if close else ""


def _variable_names(field_name: str, field: FieldInfo) -> list[str]:
    """The environment variables of a field, as written (the first is the main one)."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [choice for choice in alias.choices if isinstance(choice, str)]
    if isinstance(alias, str):
        return [alias]
    return [field_name.upper()]


def _read_dotenv(env_file: object) -> dict[str, str]:
    """The variables of the ``.env`` file(s), upper-cased names, empty values left out."""
    if env_file is None:
        return {}
    paths: list[Any] = [env_file] if isinstance(env_file, str | os.PathLike) else []
    if not paths and isinstance(env_file, Iterable):
        paths = list(env_file)
    values: dict[str, str] = {}
    for path in (Path(p).expanduser() for p in paths):
        if path.is_file():
            for name, value in dotenv_values(path, encoding="utf-8").items():
                if value:
                    values[name.upper()] = value
    return values


def _environment() -> dict[str, str]:
    return {name.upper(): value for name, value in os.environ.items() if value}


def raw_variables(env_file: Path | None = None) -> dict[str, str]:
    """The variables as the settings read them, unchecked: the environment over ``env_file``
    (else ``.env`` in the working folder). For what is needed before the settings are read,
    or when they cannot be (the command line's language, the old settings' notes)."""
    files = env_file if env_file is not None else Settings.model_config.get("env_file")
    return {**_read_dotenv(files), **_environment()}


class _FileVariables(PydanticBaseSettingsSource):
    """``NAME_FILE=/run/secrets/name``: the value of ``NAME`` read from that file (trailing
    newline removed), the convention of Docker and Kubernetes secrets."""

    def __init__(
        self,
        settings_cls: type[BaseSettings],
        environment: Mapping[str, str],
        dotenv: Mapping[str, str],
    ) -> None:
        super().__init__(settings_cls)
        self._places = (environment, dotenv)

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Unused: :meth:`__call__` reads every field at once."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        problems: list[str] = []
        for field_name, field in self.settings_cls.model_fields.items():
            for name in _variable_names(field_name, field):
                # the environment before .env; both in one place is a mistake to report
                place = next((p for p in self._places if f"{name.upper()}_FILE" in p), {})
                path = place.get(f"{name.upper()}_FILE", "").strip()
                if not path:
                    continue
                if place.get(name.upper(), "").strip():
                    problems.append(
                        N_(
                            "Invalid setting {name}_FILE: {name} is set too; set only one of them.",
                            name=name,
                        )
                    )
                    continue
                try:
                    text = Path(path).expanduser().read_text(encoding="utf-8").rstrip("\r\n")
                except (OSError, UnicodeDecodeError) as exc:
                    reason = getattr(exc, "strerror", None) or type(exc).__name__
                    problems.append(
                        N_(
                            'Invalid setting {name}_FILE="{path}": expected a readable file '
                            "holding {name} ({reason}).",
                            name=name,
                            path=path,
                            reason=reason,
                        )
                    )
                    continue
                if not text.strip():
                    problems.append(
                        N_(
                            'Invalid setting {name}_FILE="{path}": the file is empty; expected '
                            "it to hold {name}.",
                            name=name,
                            path=path,
                        )
                    )
                    continue
                values[name] = text
        if problems:
            raise InvalidSettings(problems)
        return values


def _sources(
    settings_cls: type[BaseSettings],
    init_settings: PydanticBaseSettingsSource,
    env_settings: PydanticBaseSettingsSource,
    dotenv_settings: PydanticBaseSettingsSource,
) -> tuple[PydanticBaseSettingsSource, ...]:
    """Arguments, environment, ``NAME_FILE`` variables, ``.env``, the secrets folder."""
    environment, dotenv = _environment(), _read_dotenv(getattr(dotenv_settings, "env_file", None))
    variables = {**dotenv, **environment}
    sources = [init_settings, env_settings, _FileVariables(settings_cls, environment, dotenv)]
    sources.append(dotenv_settings)
    secrets_dir = variables.get("RALLYBOT_SECRETS_DIR", "").strip()
    if secrets_dir and Path(secrets_dir).expanduser().is_dir():  # else the field's check says so
        sources.append(SecretsSettingsSource(settings_cls, secrets_dir=Path(secrets_dir)))
    return tuple(sources)


class InvalidSettings(Exception):
    """Settings that cannot be used: :attr:`problems` holds one line for each problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _secret_variables() -> frozenset[str]:
    names: set[str] = set()
    for field_name, field in Settings.model_fields.items():
        if "SecretStr" in str(field.annotation):
            names.update(n.upper() for n in _variable_names(field_name, field))
    return frozenset(names)


def _main_variable(name: str) -> str:
    """The variable to name for an error located at ``name`` (a variable or a field)."""
    field = Settings.model_fields.get(name)
    return _variable_names(name, field)[0] if field is not None else name.upper()


def _expected(error: ErrorDetails) -> str:
    """What a value should have been, in plain words (a :class:`Text` where the words are
    ours, so that the reader's language is chosen when it is shown)."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "value_error" and "error" in ctx:
        raised = ctx["error"]
        # the validators raise ValueError(N_(...)): keep the message object, not its English
        args = getattr(raised, "args", ())
        return args[0] if args and isinstance(args[0], Text) else str(raised)
    words = {
        "int_parsing": N_("expected a whole number"),
        "int_from_float": N_("expected a whole number"),
        "float_parsing": N_("expected a number"),
        "bool_parsing": N_("expected true or false"),
        "greater_than_equal": N_("expected {limit} or more", limit=ctx.get("ge")),
        "greater_than": N_("expected more than {limit}", limit=ctx.get("gt")),
        "less_than_equal": N_("expected {limit} or less", limit=ctx.get("le")),
        "less_than": N_("expected less than {limit}", limit=ctx.get("lt")),
        # pydantic's own list of the choices ('error', 'warn' or 'ignore'), as it writes it
        "literal_error": N_("expected {choices}", choices=ctx.get("expected")),
    }
    return words.get(kind, error["msg"].removeprefix("Value error, "))


def _sentence(problem: str) -> str:
    """``problem`` ending as a sentence: a full stop unless it ends with one already (or a
    question, or a parenthesis)."""
    if problem.endswith((".", "?", ")")):
        return problem
    # Translators: a problem with a setting ends here; the full stop of your language.
    return N_("{problem}.", problem=problem)


def _describe(error: ErrorDetails, variables: Mapping[str, str]) -> str:
    """One line for one validation error: the variable, its value unless secret, what is
    expected."""
    message = _expected(error)
    if not error["loc"]:
        return N_("Invalid settings: {problem}", problem=message)
    name = _main_variable(str(error["loc"][0]))
    upper = name.upper()
    problem = _sentence(message)
    if upper not in variables and f"{upper}_FILE" in variables:
        return N_(
            "Invalid setting {name} (read from {name}_FILE, value hidden): {problem}",
            name=name,
            problem=problem,
        )
    if upper not in variables and "RALLYBOT_SECRETS_DIR" in variables:
        return N_(
            "Invalid setting {name} (read from RALLYBOT_SECRETS_DIR, value hidden): {problem}",
            name=name,
            problem=problem,
        )
    if upper in _secret_variables():
        return N_("Invalid setting {name} (value hidden): {problem}", name=name, problem=problem)
    value = hide_password(str(error.get("input", "")))
    shown = f"{value[:77]}..." if len(value) > 80 else value
    return N_(
        'Invalid setting {name}="{value}": {problem}', name=name, value=shown, problem=problem
    )


def _known_variables() -> dict[str, str]:
    """Every variable the settings read, upper-cased, mapped to its spelling."""
    names = {name.upper(): name for name in OTHER_VARIABLES}
    for field_name, field in Settings.model_fields.items():
        for name in _variable_names(field_name, field):
            names[name.upper()] = name
            names[f"{name.upper()}_FILE"] = f"{name}_FILE"
    return names


def unknown_variables(names: Iterable[str]) -> dict[str, str | None]:
    """The ``RALLYBOT_*``, ``SLACK_*`` and ``DISCORD_*`` names among ``names`` that are no
    setting, each with the closest setting's name (or None); and the other names that are
    near misses of a setting without those prefixes (``DATABSE_URL``)."""
    known = _known_variables()
    # a misspelt DATABASE_URL would leave the bot on its SQLite default: other names are only
    # reported when they are that close to it (the environment holds many unrelated ones)
    unprefixed = [upper for upper in known if not upper.startswith(PREFIXES)]
    # compared without their prefix, so that the shared "RALLYBOT_" does not make every
    # name look close to every other
    candidates: dict[str, str] = {}
    for upper, spelled in known.items():
        candidates.setdefault(upper, spelled)
        for prefix in PREFIXES:
            if upper.startswith(prefix):
                candidates.setdefault(upper.removeprefix(prefix), spelled)
    found: dict[str, str | None] = {}
    for name in names:
        upper = name.upper()
        prefix = next((p for p in PREFIXES if upper.startswith(p)), "")
        if upper in known:
            continue
        if not prefix:
            near = difflib.get_close_matches(upper, unprefixed, 1, 0.85)
            if near:
                found[name] = known[near[0]]
            continue
        close = difflib.get_close_matches(upper.removeprefix(prefix), candidates, 1, 0.75)
        found[name] = candidates[close[0]] if close else None
    return found


def _unknown_lines(
    environment: Iterable[str], dotenv: Iterable[str], policy: str
) -> tuple[list[str], list[str]]:
    """(errors, warnings) for the unknown variables of the environment and ``.env``."""
    errors: list[str] = []
    warnings: list[str] = []
    in_file = set(dotenv) - set(environment)
    for name, close in sorted(unknown_variables([*environment, *in_file]).items()):
        # the names stay as typed; the words around them are translated when shown
        where = N_(" (in .env)") if name in in_file else ""
        hint = (
            N_(": did you mean {close}?", close=close) if close else N_(": not a Rallybot setting.")
        )
        if name.upper().startswith("RALLYBOT_") and policy == "error":
            errors.append(
                N_(
                    "Unknown setting {name}{where}{hint} "
                    "(RALLYBOT_UNKNOWN_VARIABLES=warn starts anyway)",
                    name=name,
                    where=where,
                    hint=hint,
                )
            )
        elif policy != "ignore":
            warnings.append(
                N_(
                    "Warning: unknown setting {name}{where} ignored{hint}",
                    name=name,
                    where=where,
                    hint=hint,
                )
            )
    return errors, warnings


def load_settings(env_file: Path | None = None) -> tuple[Settings, list[str]]:
    """Read the settings for a command: the settings and the warning lines to show.

    Args:
        env_file: a settings file to read instead of ``.env`` in the working folder.

    Raises:
        InvalidSettings: one line per problem: a bad value (naming the variable, the value
            unless it is a secret, and what is expected), an unreadable secret file, and
            unknown ``RALLYBOT_*`` variables unless ``RALLYBOT_UNKNOWN_VARIABLES`` allows them.
    """
    if env_file is not None and not env_file.is_file():
        raise InvalidSettings(
            [
                N_(
                    'Invalid setting RALLYBOT_ENV_FILE="{path}": expected a file (no such file).',
                    path=str(env_file),
                )
            ]
        )
    files = env_file if env_file is not None else Settings.model_config.get("env_file")
    dotenv, environment = _read_dotenv(files), _environment()
    variables = {**dotenv, **environment}
    try:
        settings = Settings(_env_file=files)
    except ValidationError as exc:
        problems = [_describe(error, variables) for error in exc.errors()]
        policy = variables.get("RALLYBOT_UNKNOWN_VARIABLES", "error").strip().lower()
        # a typo often explains a bad value next to it: show both at once
        raise InvalidSettings(problems + _unknown_lines(environment, dotenv, policy)[0]) from None
    errors, warnings = _unknown_lines(environment, dotenv, settings.unknown_variables)
    if errors:
        raise InvalidSettings(errors)
    return settings, warnings


def database_problem(exc: DatabaseUnreachable) -> str:
    """The line for a database that cannot be reached at start, kept translatable (the URL,
    without its password, and the driver's reason stay as they are)."""
    if exc.kind == "sqlite":
        return N_(
            "Cannot use the database {url}: {reason} (does its folder exist, and may this user "
            "write there?)",
            url=exc.url,
            reason=exc.reason,
        )
    if exc.kind != "timeout":
        return N_("Cannot use the database {url}: {reason}", url=exc.url, reason=exc.reason)
    if not exc.waited:
        return N_(
            "Cannot reach the database {url}: {reason} (RALLYBOT_DB_WAIT_SECONDS sets how long "
            "to wait)",
            url=exc.url,
            reason=exc.reason,
        )
    return nN_(
        "Cannot reach the database {url} after {seconds} s and {n} attempt: {reason} "
        "(RALLYBOT_DB_WAIT_SECONDS sets how long to wait)",
        "Cannot reach the database {url} after {seconds} s and {n} attempts: {reason} "
        "(RALLYBOT_DB_WAIT_SECONDS sets how long to wait)",
        exc.attempts,
        url=exc.url,
        seconds=f"{exc.waited:g}",
        reason=exc.reason,
    )


def path_problems(settings: Settings) -> list[str]:
    """One line for each file setting that names no file (checked by ``rallybot run``; the
    campaigns folder is checked there too, with ``--campaigns``)."""
    problems: list[str] = []
    url = settings.database_url.strip()
    if url.lower().startswith("sqlite") and url.partition("://")[2] in {"", "/:memory:"}:
        problems.append(
            N_(
                'Invalid setting DATABASE_URL="{url}": expected sqlite:///PATH, a file (an '
                "in-memory database would lose everything at each restart).",
                url=url,
            )
        )
    files = [
        ("RALLYBOT_ROSTER", settings.roster_file),
        ("RALLYBOT_RULES", settings.rules_file),
        ("RALLYBOT_FAQ", settings.faq_file),
    ]
    for name, path in files:
        if path is not None and not path.is_file():
            if path.is_dir():
                problem = N_(
                    'Invalid setting {name}="{path}": expected a file (it is a folder).',
                    name=name,
                    path=str(path),
                )
            else:
                problem = N_(
                    'Invalid setting {name}="{path}": expected a file (no such file: {absolute}).',
                    name=name,
                    path=str(path),
                    absolute=str(path.resolve()),
                )
            problems.append(problem)
    return problems


def campaigns_problem(folder: Path, *, setting: bool) -> str | None:
    """The line for a campaigns folder that does not exist (None when it does), naming its
    absolute path: ``setting`` for ``RALLYBOT_CAMPAIGNS_DIR`` itself (``rallybot config
    check``), else for a folder of ``rallybot run``, which ``--campaigns`` may name too."""
    if folder.exists():
        return None
    if setting:
        # Translators: RALLYBOT_CAMPAIGNS_DIR, the paths and the command stay as they are.
        return N_(
            'Invalid setting RALLYBOT_CAMPAIGNS_DIR="{path}": expected a folder of campaign '
            "files (no such folder: {absolute}; rallybot examples copy DIR gives you examples "
            "to start).",
            path=str(folder),
            absolute=str(folder.resolve()),
        )
    # Translators: the commands and RALLYBOT_CAMPAIGNS_DIR stay as they are.
    return N_(
        "No campaign folder {folder}: set RALLYBOT_CAMPAIGNS_DIR or pass --campaigns "
        "(rallybot examples copy DIR gives you examples to start).",
        folder=str(folder.resolve()),
    )


def setting_sources(env_file: Path | None = None) -> dict[str, str]:
    """Where each setting's value comes from, by field name, following the precedence of
    :class:`Settings`: ``environment``, ``NAME_FILE``, ``.env``, ``secrets folder`` or
    ``default``."""
    files = env_file if env_file is not None else Settings.model_config.get("env_file")
    dotenv, environment = _read_dotenv(files), _environment()
    folder = Path({**dotenv, **environment}.get("RALLYBOT_SECRETS_DIR", "").strip() or "-")
    in_folder: set[str] = set()
    if folder.expanduser().is_dir():
        in_folder = {p.name.upper() for p in folder.expanduser().iterdir() if p.is_file()}
    sources: dict[str, str] = {}
    for field_name, field in Settings.model_fields.items():
        names = [name.upper() for name in _variable_names(field_name, field)]
        found = next((n for n in names if n in environment), None)
        label = "environment" if found else None
        if label is None:
            found = next(
                (n for n in names if f"{n}_FILE" in environment or f"{n}_FILE" in dotenv), None
            )
            label = f"{found}_FILE" if found else None
        if label is None and any(n in dotenv for n in names):
            label = ".env" if env_file is None else str(env_file)
        if label is None and any(n in in_folder for n in names):
            label = "secrets folder"
        sources[field_name] = label or "default"
    return sources


def shown_value(value: object) -> str:
    """A setting's value for display: secrets as ``***``, the database password hidden."""
    if isinstance(value, SecretStr):
        return "***" if value.get_secret_value() else ""
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if isinstance(value, dict):
        return ",".join(f"{key}={item}" for key, item in value.items())
    return hide_password(str(value))
