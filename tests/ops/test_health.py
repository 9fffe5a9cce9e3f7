"""``rallybot health``: a read-only check with exit codes an orchestrator can use; failed
deliveries are a warning with counts, never a failure that lasts forever."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rallybot.bot.cli import app
from rallybot.storage.database import create_database
from rallybot.storage.journal import register
from rallybot.storage.migrate import current_revision, downgrade, run_blocking, upgrade
from rallybot.storage.models import Delivery

runner = CliRunner()


def health(db_url: str, *args: str) -> tuple[int, dict[str, object]]:
    # A community manager is named: the set-up warnings (bot/rota.py) stay out of these tests.
    env = {"DATABASE_URL": db_url, "RALLYBOT_ADMINS": "slack:U0MANAGER"}
    result = runner.invoke(app, ["health", "--format", "json", *args], env=env)
    return result.exit_code, json.loads(result.stdout)


def add_delivery(db_url: str, step: str, status: str, due: datetime, updated: datetime) -> None:
    async def add() -> None:
        async with create_database(db_url) as db, db.session() as session:
            session.add(
                Delivery(
                    campaign_id="launch",
                    step_id=step,
                    recipient=f"member:{step}",
                    occurrence="once",
                    due_at=due,
                    grace_until=due + timedelta(days=1),
                    status=status,
                    created_at=due,
                    updated_at=updated,
                )
            )

    run_blocking(add())


def add_replica(db_url: str, worker_id: str, platform: str) -> None:
    async def add() -> None:
        async with create_database(db_url) as db:
            await register(db, worker_id, platform, time.time())

    run_blocking(add())


def test_failures_are_warnings_with_counts_and_old_ones_stop_warning(db_url: str) -> None:
    now = datetime.now(UTC)
    add_delivery(db_url, "old", "failed", now - timedelta(days=5), now - timedelta(days=5))
    code, report = health(db_url)
    assert code == 0 and report["status"] == "warning"  # no bot running: only that
    assert report["warnings"] == ["no running bot: no replica renewed its heartbeat lately"]
    assert report["outbox"]["by_status"] == {"failed": 1}  # type: ignore[index]
    add_delivery(db_url, "new", "failed", now - timedelta(hours=1), now - timedelta(minutes=5))
    add_delivery(db_url, "due", "pending", now - timedelta(hours=1), now - timedelta(hours=1))
    add_replica(db_url, "replica-1", "slack")
    code, report = health(db_url)
    assert code == 0 and report["status"] == "warning"
    warnings = report["warnings"]
    assert isinstance(warnings, list) and len(warnings) == 2
    assert warnings[0].startswith("1 delivery failed in the last 24 h (2 in all)")
    assert warnings[1].startswith("the oldest due message has waited 60 min (1 due)")
    assert report["replicas"] == {"slack": 1}
    outbox = report["outbox"]
    assert isinstance(outbox, dict) and outbox["failed_recently"] == 1 and outbox["due"] == 1
    # Tell it how late is too late: an hour-old backlog is then fine.
    code, report = health(db_url, "--max-lag", "7200")
    assert code == 0 and len(report["warnings"]) == 1  # type: ignore[arg-type]


def test_a_schema_behind_fails_and_is_left_as_it_is(db_url: str) -> None:
    downgrade(db_url, "0005")
    try:
        code, report = health(db_url)
        assert code == 1 and report["status"] == "error"
        (error,) = report["errors"]  # type: ignore[misc]
        assert "revision 0005" in error and "rallybot db upgrade" in error
        assert current_revision(db_url) == "0005"  # health never migrates
    finally:
        upgrade(db_url)


def test_a_missing_database_file_fails_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nothing.db"
    code, report = health(f"sqlite:///{path}")
    assert code == 1 and "does not exist" in report["errors"][0]  # type: ignore[index]
    assert not path.exists()


def test_an_unreachable_database_fails_with_one_line() -> None:
    result = runner.invoke(
        app,
        ["--locale", "en", "health"],
        env={"DATABASE_URL": "postgresql://nobody:pw-1234567@127.0.0.1:1/none"},
    )
    assert result.exit_code == 1
    assert "does not answer" in result.output and "Traceback" not in result.output
    assert "pw-1234567" not in result.output


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_table_says_the_same(db_url: str) -> None:
    result = runner.invoke(app, ["--locale", "en", "health"], env={"DATABASE_URL": db_url})
    assert result.exit_code == 0, result.output
    assert "Outbox: empty" in result.output and "WARNING at" in result.output


@pytest.mark.parametrize(
    ("locale", "outbox"),
    [
        ("fr", "File d'envoi : échoués 1, en attente 1"),
        ("de", "Postausgang: fehlgeschlagen 1, wartend 1"),
    ],
)
def test_the_table_names_the_outbox_statuses_in_the_locale(
    db_url: str, locale: str, outbox: str
) -> None:
    now = datetime.now(UTC)
    add_delivery(db_url, "old", "failed", now - timedelta(days=5), now - timedelta(days=5))
    add_delivery(db_url, "due", "pending", now - timedelta(hours=1), now - timedelta(hours=1))
    env = {"DATABASE_URL": db_url, "RALLYBOT_ADMINS": "slack:U0MANAGER", "COLUMNS": "200"}
    result = runner.invoke(app, ["--locale", locale, "health"], env=env)
    assert result.exit_code == 0, result.output
    assert outbox in result.output
