"""Where settings come from: environment, NAME_FILE variables, .env, the secrets folder;
passwords hidden; unknown variables reported."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rallybot.bot.cli import app
from rallybot.bot.config import (
    InvalidSettings,
    Settings,
    hide_password,
    load_settings,
    unknown_variables,
)

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_the_example_env_file_copied_as_is_loads_with_the_defaults(tmp_path: Path) -> None:
    # the README's first step: `cp config.example.env .env`; its empty lines mean "default"
    shutil.copy(ROOT / "config.example.env", tmp_path / ".env")
    settings, warnings = load_settings()
    assert warnings == []
    assert settings.helpers_timezone is None and settings.roster_file is None
    assert settings.quiet_hours == "21:00-08:00" and settings.log_level == "INFO"


def test_name_file_variables_hold_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "token").write_text("xoxb-from-a-file\n")  # as `echo ... > file` writes it
    (tmp_path / "url").write_text("postgresql://rallybot:pw-in-file@db:5432/rallybot")
    monkeypatch.setenv("SLACK_BOT_TOKEN_FILE", str(tmp_path / "token"))
    monkeypatch.setenv("DATABASE_URL_FILE", str(tmp_path / "url"))
    monkeypatch.delenv("DATABASE_URL")
    settings, warnings = load_settings()
    assert warnings == []
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-from-a-file"
    assert settings.database_url == "postgresql://rallybot:pw-in-file@db:5432/rallybot"


def test_a_variable_and_its_file_together_are_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "token").write_text("xoxb-from-a-file")
    monkeypatch.setenv("SLACK_BOT_TOKEN_FILE", str(tmp_path / "token"))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-the-environment")
    with pytest.raises(InvalidSettings) as caught:
        load_settings()
    assert caught.value.problems == [
        "Invalid setting SLACK_BOT_TOKEN_FILE: SLACK_BOT_TOKEN is set too; set only one of them."
    ]


def test_a_missing_secret_file_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN_FILE", "/run/secrets/discord")
    result = runner.invoke(app, ["--locale", "en", "db", "current"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        'Invalid setting DISCORD_TOKEN_FILE="/run/secrets/discord": expected a readable file '
        "holding DISCORD_TOKEN (No such file or directory)."
    ]


def test_a_secrets_folder_as_docker_and_kubernetes_mount_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "slack_bot_token").write_text("xoxb-docker-secret\n")  # names in any case
    (secrets / "DISCORD_TOKEN").write_text("discord-k8s-secret")
    (secrets / "RALLYBOT_TIMEZONE").write_text("UTC")
    monkeypatch.setenv("RALLYBOT_SECRETS_DIR", str(secrets))
    settings, _ = load_settings()
    assert settings.slack_bot_token is not None and settings.discord_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-docker-secret"
    assert settings.discord_token.get_secret_value() == "discord-k8s-secret"
    assert settings.timezone == "UTC"


def test_precedence_environment_then_files_then_dotenv_then_secrets_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for name in ("RALLYBOT_TIMEZONE", "RALLYBOT_LOCALE", "RALLYBOT_QUIET_HOURS", "RALLYBOT_ADMINS"):
        (secrets / name).write_text("from-secrets")
    (secrets / "RALLYBOT_ADMINS").write_text("U-secrets")
    (tmp_path / ".env").write_text(
        f"RALLYBOT_SECRETS_DIR={secrets}\nRALLYBOT_TIMEZONE=Asia/Tokyo\nRALLYBOT_LOCALE=de\n"
        "RALLYBOT_QUIET_HOURS=22:00-07:00\n"
    )
    (tmp_path / "locale").write_text("en\n")
    monkeypatch.setenv("RALLYBOT_LOCALE_FILE", str(tmp_path / "locale"))
    monkeypatch.setenv("RALLYBOT_TIMEZONE", "UTC")
    settings, _ = load_settings()
    assert settings.timezone == "UTC"  # the environment first
    assert settings.locale == "en"  # then NAME_FILE, over .env
    assert settings.quiet_hours == "22:00-07:00"  # then .env, over the secrets folder
    assert settings.admins == ["U-secrets"]  # then the secrets folder, over the default


def test_the_database_password_is_hidden_in_every_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://rallybot:pw-s3cret@db:5432/rallybot")
    settings = Settings()
    assert settings.database_url.endswith("pw-s3cret@db:5432/rallybot")  # still usable
    for text in (repr(settings), str(settings), f"{settings!r}"):
        assert "pw-s3cret" not in text
        assert "postgresql://rallybot:***@db:5432/rallybot" in text
    assert hide_password("postgresql://u:p@ss@h/db") == "postgresql://u:***@h/db"
    assert hide_password("sqlite:///rallybot.db") == "sqlite:///rallybot.db"


def test_unknown_variables_get_a_did_you_mean() -> None:
    found = unknown_variables(
        [
            "RALLYBOT_TIMEZON",
            "rallybot_loglevel",
            "SLACK_BOT_TOKN",
            "RALLYBOT_SLACK_BOT_TOKEN",
            "DISCORD_TOKEN_FLIE",
            "RALLYBOT_WHATEVER",
            "RALLYBOT_TIMEZONE",
            "SLACK_BOT_TOKEN_FILE",
            "RALLYBOT_TEST_PG_URL",
            "HOME",
            "DATABSE_URL",
            "DATABASE_HOST",
            "POSTGRES_PASSWORD",
        ]
    )
    assert found == {
        "DATABSE_URL": "DATABASE_URL",  # would leave the bot on SQLite
        "RALLYBOT_TIMEZON": "RALLYBOT_TIMEZONE",
        "rallybot_loglevel": "RALLYBOT_LOG_LEVEL",
        "SLACK_BOT_TOKN": "SLACK_BOT_TOKEN",
        "RALLYBOT_SLACK_BOT_TOKEN": "SLACK_BOT_TOKEN",
        "DISCORD_TOKEN_FLIE": "DISCORD_TOKEN_FILE",
        "RALLYBOT_WHATEVER": None,
    }


def test_unknown_slack_and_discord_variables_only_warn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKN", "xoxb-typo")
    monkeypatch.setenv("DISCORD_WEBHOOK", "another tool's")
    monkeypatch.setenv("DATABASE_ULR", "postgresql://db/rallybot")
    result = runner.invoke(app, ["--locale", "en", "db", "current"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "Warning: unknown setting DATABASE_ULR ignored: did you mean DATABASE_URL?",
        "Warning: unknown setting DISCORD_WEBHOOK ignored: not a Rallybot setting.",
        "Warning: unknown setting SLACK_BOT_TOKN ignored: did you mean SLACK_BOT_TOKEN?",
    ]


def test_unknown_variables_policy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("RALLYBOT_TIMEZON=UTC\n")
    result = runner.invoke(app, ["--locale", "en", "db", "current"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Unknown setting RALLYBOT_TIMEZON (in .env): did you mean RALLYBOT_TIMEZONE? "
        "(RALLYBOT_UNKNOWN_VARIABLES=warn starts anyway)"
    ]
    monkeypatch.setenv("RALLYBOT_UNKNOWN_VARIABLES", "warn")
    result = runner.invoke(app, ["--locale", "en", "db", "current"])
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "Warning: unknown setting RALLYBOT_TIMEZON (in .env) ignored: did you mean "
        "RALLYBOT_TIMEZONE?"
    ]
    monkeypatch.setenv("RALLYBOT_UNKNOWN_VARIABLES", "ignore")
    result = runner.invoke(app, ["--locale", "en", "db", "current"])
    assert result.exit_code == 0 and result.stderr == ""


def test_env_file_option(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("RALLYBOT_LOG_LEVEL=verbose\n")  # not read with --env-file
    (tmp_path / "prod.env").write_text(f"DATABASE_URL=sqlite:///{tmp_path / 'prod.db'}\n")
    monkeypatch.delenv("DATABASE_URL")
    result = runner.invoke(app, ["--locale", "en", "--env-file", "prod.env", "db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "prod.db").exists()
    result = runner.invoke(
        app, ["--locale", "en", "db", "current"], env={"RALLYBOT_ENV_FILE": "prod.env"}
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["--locale", "en", "--env-file", "missing.env", "db", "current"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        'Invalid setting RALLYBOT_ENV_FILE="missing.env": expected a file (no such file).'
    ]


def test_config_check_shows_each_value_and_its_source(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "discord_token").write_text("discord-s3cret")
    (tmp_path / "token").write_text("xoxb-s3cret")
    (tmp_path / ".env").write_text(f"RALLYBOT_LOCALE=en\nRALLYBOT_SECRETS_DIR={secrets}\n")
    monkeypatch.setenv("SLACK_BOT_TOKEN_FILE", str(tmp_path / "token"))
    monkeypatch.setenv("DATABASE_URL", "postgresql://rallybot:pw-s3cret@db:5432/rallybot")
    result = runner.invoke(app, ["--locale", "en", "config", "check", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output
    report = json.loads(result.stdout)
    assert report["valid"] is True
    listed = report["settings"]
    assert listed["DATABASE_URL"] == {
        "value": "postgresql://rallybot:***@db:5432/rallybot",
        "source": "environment",
    }
    assert listed["SLACK_BOT_TOKEN"] == {"value": "***", "source": "SLACK_BOT_TOKEN_FILE"}
    assert listed["RALLYBOT_LOCALE"] == {"value": "en", "source": ".env"}
    assert listed["DISCORD_TOKEN"] == {"value": "***", "source": "secrets folder"}
    assert listed["RALLYBOT_TIMEZONE"] == {"value": "Europe/Paris", "source": "default"}
    assert listed["SLACK_APP_TOKEN"] == {"value": "", "source": "default"}
    result = runner.invoke(app, ["--locale", "en", "config", "check"])
    assert result.exit_code == 0
    assert result.stdout.startswith("Settings are valid: 2 from .env, 1 from SLACK_BOT_TOKEN_FILE")
    monkeypatch.setenv("RALLYBOT_RULES", "missing.yaml")
    result = runner.invoke(app, ["--locale", "en", "config", "check"])
    assert result.exit_code == 2
    assert result.stderr.startswith('Invalid setting RALLYBOT_RULES="missing.yaml"')


@pytest.mark.parametrize("how", ["--env-file", "RALLYBOT_ENV_FILE", ".env"])
def test_every_command_reads_the_language_from_the_settings_file(how: str, tmp_path: Path) -> None:
    # The default language is French: an English file must turn every command to English,
    # help and usage errors included, which are told before the settings are read.
    settings = "RALLYBOT_LOCALE=en\nRALLYBOT_ADMINS=slack:U1\n"
    (tmp_path / (".env" if how == ".env" else "prod.env")).write_text(settings)
    (tmp_path / "campaigns" / "examples" / "fr" / "empty.yaml").write_text("[]\n")
    before = ["--env-file", "prod.env"] if how == "--env-file" else []
    env = {"RALLYBOT_ENV_FILE": "prod.env"} if how == "RALLYBOT_ENV_FILE" else {}

    def run(*args: str) -> str:
        return runner.invoke(app, [*before, *args], env=env).output

    assert "Usage: rallybot [OPTIONS] COMMAND" in run("--help")
    assert "Show the timeline" in run("plan", "--help")
    assert "No such command 'plann'" in run("plann")
    assert "no such file" in run("plan", "missing.yaml")
    checked = run("validate", "campaigns/examples/fr")
    assert "file checked" in checked or "files checked" in checked, checked
    # validate reads the same settings as the run: the old setting in the file is noted
    assert "note: RALLYBOT_ADMINS still works" in checked
    assert "Database" in run("health")


def test_each_setting_of_the_reference_has_its_own_words() -> None:
    import re as regex

    page = (ROOT / "docs" / "reference" / "settings.md").read_text(encoding="utf-8")
    rows = dict(regex.findall(r"^\| `([A-Z_]+)`[^|]*\| [^|]* \| (.*) \|$", page, regex.M))
    # the proxy guide's setting is in the reference and in the example file
    assert "X-Forwarded-For" in rows["FORWARDED_ALLOW_IPS"]
    assert rows["SLACK_CLIENT_SECRET"] != rows["SLACK_CLIENT_ID"]
    # the default campaigns folder is the source tree's: an installed Rallybot is told so
    assert "rallybot examples copy" in rows["RALLYBOT_CAMPAIGNS_DIR"]


def test_forwarded_allow_ips_is_read_from_the_settings_file(tmp_path: Path) -> None:
    (tmp_path / "prod.env").write_text("FORWARDED_ALLOW_IPS=10.0.0.7\n")
    settings, _ = load_settings(tmp_path / "prod.env")
    assert settings.forwarded_allow_ips == "10.0.0.7"
    assert load_settings()[0].forwarded_allow_ips == "127.0.0.1,::1"
