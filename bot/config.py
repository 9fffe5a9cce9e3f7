"""Settings: the only reader of the environment and of `.env`.

Every field maps to an environment variable prefixed with ``RALLYBOT_`` except where an
alias names the conventional variable (``DATABASE_URL``, ``SLACK_BOT_TOKEN``...).
Secrets are :class:`pydantic.SecretStr`, so they never appear in ``repr`` or logs.
"""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

if TYPE_CHECKING:
    from rallybot.bot.rota import Rota

__all__ = ["QuietHours", "Settings", "parse_quiet_hours"]


class QuietHours:
    """A daily window, in a member's local time, during which no direct message is sent."""

    __slots__ = ("end", "start")

    def __init__(self, start: time, end: time) -> None:
        self.start = start
        self.end = end

    def contains(self, t: time) -> bool:
        """Whether the local wall-clock time ``t`` falls inside the window."""
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def __repr__(self) -> str:
        return f"QuietHours({self.start:%H:%M}-{self.end:%H:%M})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, QuietHours) and (self.start, self.end) == (other.start, other.end)

    def __hash__(self) -> int:
        return hash((self.start, self.end))


def parse_quiet_hours(value: str) -> QuietHours | None:
    """Parse ``"21:00-08:00"``; an empty string or ``"off"`` means no quiet hours."""
    text = value.strip().lower()
    if text in {"", "off", "none"}:
        return None
    try:
        start_s, end_s = (part.strip() for part in text.split("-"))
        return QuietHours(time.fromisoformat(start_s), time.fromisoformat(end_s))
    except ValueError as exc:
        raise ValueError(f'quiet hours must look like "21:00-08:00", not "{value}"') from exc


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    """Runtime settings, read once at start-up from the environment and `.env`."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
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
    log_level: str = Field(default="INFO", validation_alias=_env("RALLYBOT_LOG_LEVEL"))
    log_format: str = Field(default="text", validation_alias=_env("RALLYBOT_LOG_FORMAT"))

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

    # onboarding journeys (handlers/onboarding.py)
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

    # help channel (handlers/helpdesk.py)
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

    # privacy (bot/privacy.py): raw inbound events and unfinished survey drafts older than
    # this many days are purged; None keeps them
    retention_days: int | None = Field(
        default=None, ge=1, validation_alias=_env("RALLYBOT_RETENTION_DAYS")
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
                        "RALLYBOT_TEAM_GROUPS lists the groups that are teams by name, e.g. "
                        '"sales,marketing"; "*" is not supported'
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
                raise ValueError(f'DISCORD_GUILD_IDS holds numeric server ids, not "{bad[0]}"')
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
                    example = 'look like "annonces=C0123"'
                    raise ValueError(f'RALLYBOT_CHANNELS entries {example}, not "{item.strip()}"')
                mapping[name.strip()] = target.strip()
            return mapping
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise ValueError(f'unknown time zone "{value}" (try "Europe/Paris")') from exc
        return value

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
        from rallybot.bot.rota import parse_rota

        parse_rota(value)
        return value

    @model_validator(mode="after")
    def _check_help_delays(self) -> Settings:
        if self.help_escalate_minutes <= self.help_remind_minutes:
            raise ValueError(
                "RALLYBOT_HELP_ESCALATE_MINUTES must be more than RALLYBOT_HELP_REMIND_MINUTES "
                f"({self.help_escalate_minutes} <= {self.help_remind_minutes})"
            )
        if self.help_stale_hours * 60 <= self.help_escalate_minutes:
            raise ValueError(
                "RALLYBOT_HELP_STALE_HOURS must come after the escalation "
                f"({self.help_stale_hours} h <= {self.help_escalate_minutes} min)"
            )
        return self

    @property
    def rota(self) -> Rota:
        """The helpers' rota, read in ``RALLYBOT_HELPERS_TIMEZONE`` (else the bot's zone)."""
        from rallybot.bot.rota import parse_rota

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
        """Whether a platform user id (or ``platform:id``) is a community manager."""
        return user_ref in self.admins or user_ref.split(":", 1)[-1] in self.admins
