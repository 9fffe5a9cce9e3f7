"""Settings: environment and .env, defaults, secrets hidden, clear errors."""

from __future__ import annotations

import logging
from datetime import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from rallybot.bot.config import QuietHours, Settings, parse_quiet_hours
from rallybot.bot.logs import RedactingFilter, configure_logging


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in (
        "DATABASE_URL",
        "RALLYBOT_ADMINS",
        "RALLYBOT_CHANNELS",
        "SLACK_BOT_TOKEN",
        "RALLYBOT_TIMEZONE",
        "RALLYBOT_QUIET_HOURS",
        "DISCORD_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_sqlite_in_the_working_folder_and_paris_time() -> None:
    settings = Settings()
    assert settings.database_url == "sqlite:///rallybot.db"
    assert settings.timezone == "Europe/Paris"
    assert settings.quiet == QuietHours(time(21), time(8))
    assert settings.grace.total_seconds() == 3600
    assert settings.campaigns_dir == Path("campaigns/examples/fr")


def test_environment_and_dotenv_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "RALLYBOT_ADMINS=U1, U2\nRALLYBOT_CHANNELS=annonces=C01,aide=C02\n"
    )
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/rallybot")
    settings = Settings()
    assert settings.database_url == "postgresql://db/rallybot"
    assert settings.admins == ["U1", "U2"]
    assert settings.channel_map == {"annonces": "C01", "aide": "C02"}
    assert settings.is_admin("slack:U1") and not settings.is_admin("slack:U3")


def test_tokens_never_appear_in_repr_or_str(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1111-2222-secretvalue")
    monkeypatch.setenv("DISCORD_TOKEN", "discord-secret-value")
    settings = Settings()
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-1111-2222-secretvalue"
    for text in (repr(settings), str(settings), str(settings.model_dump())):
        assert "secretvalue" not in text and "discord-secret-value" not in text


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("RALLYBOT_TIMEZONE", "Paris", 'unknown time zone "Paris"'),
        ("RALLYBOT_TIMEZONE", "Europe", 'unknown time zone "Europe"'),
        ("RALLYBOT_QUIET_HOURS", "late", 'quiet hours must look like "21:00-08:00", not "late"'),
        ("RALLYBOT_CHANNELS", "annonces", 'entries look like "annonces=C0123", not "annonces"'),
    ],
)
def test_bad_settings_say_what_is_wrong(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=message):
        Settings()


def test_quiet_hours_wrap_around_midnight() -> None:
    quiet = parse_quiet_hours("21:00-08:00")
    assert quiet is not None
    assert quiet.contains(time(23, 0)) and quiet.contains(time(7, 59))
    assert not quiet.contains(time(8, 0)) and not quiet.contains(time(20, 59))
    assert parse_quiet_hours("off") is None
    day = parse_quiet_hours("12:00-14:00")
    assert day is not None and day.contains(time(13)) and not day.contains(time(15))


def test_logs_scrub_secrets_and_token_shapes(caplog: pytest.LogCaptureFixture) -> None:
    record = logging.LogRecord(
        "t",
        logging.INFO,
        __file__,
        1,
        "calling with %s and %s",
        ("xoxb-9999-8888-abcdef", "my-own-secret"),
        None,
    )
    RedactingFilter(["my-own-secret"]).filter(record)
    assert record.getMessage() == "calling with [redacted] and [redacted]"


def test_configure_logging_json(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json", ["topsecret-token"])
    logging.getLogger("rallybot.test").info("token is topsecret-token")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert '"message": "token is [redacted]"' in line and '"level": "info"' in line
    configure_logging("WARNING", "text")


def test_discord_guild_ids_are_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_GUILD_IDS", "123, 456")
    assert Settings().discord_guild_ids == [123, 456]
    monkeypatch.setenv("DISCORD_GUILD_IDS", "123,general")
    with pytest.raises(ValidationError, match='not "general"'):
        Settings()
