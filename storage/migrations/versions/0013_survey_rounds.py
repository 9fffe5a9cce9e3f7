"""Survey rounds, batched anonymous answers and the server secret (issue 14).

- ``survey``: ``round``, ``opens_at``, ``closes_at``, ``closed_at`` (a recurring step has a row
  per round);
- ``survey_draft.finished``: an anonymous response waiting for its batch;
- ``bot_secret``: the generated secret that keys the survey buttons;
- ``survey_answer`` on SQLite: rebuilt ``WITHOUT ROWID`` (rows in the order of their random
  ids);
- the anonymous answers already stored are rewritten as one batch per survey: shuffled, the
  survey's last answer day, and no cohort or team when a group has fewer than 5 responses
  (they were written in the responder's transaction, in the responder's order);
- ``activity.channel_id`` of direct messages emptied (a DM conversation names its member).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 22:45:00.000000
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

import rallybot.storage.models

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_K = 5  # storage.survey_models.MIN_GROUP when this revision was written


def _rebatch_anonymous_answers() -> None:
    bind = op.get_bind()
    answers = sa.table(
        "survey_answer",
        *[
            sa.column(name)
            for name in (
                "id",
                "survey_id",
                "response_id",
                "question_id",
                "kind",
                "value",
                "choices",
                "text",
                "skipped",
                "cohort",
                "team",
                "answered_on",
                "member_id",
            )
        ],
    )
    survey = sa.table("survey", sa.column("id"), sa.column("anonymous"))
    anonymous = [
        r[0] for r in bind.execute(sa.select(survey.c.id).where(survey.c.anonymous.is_(True)))
    ]
    for survey_id in anonymous:
        rows: list[dict[str, Any]] = [
            dict(r)
            for r in bind.execute(
                sa.select(answers).where(
                    answers.c.survey_id == survey_id, answers.c.member_id.is_(None)
                )
            ).mappings()
        ]
        if not rows:
            continue
        groups: dict[tuple[Any, Any], set[str]] = {}
        for row in rows:
            groups.setdefault((row["cohort"], row["team"]), set()).add(row["response_id"])
        keep = all(len(v) >= _K for v in groups.values())
        last_day = max(row["answered_on"] for row in rows)
        for row in rows:
            row["id"] = secrets.token_hex(16)
            row["answered_on"] = last_day
            if not keep:
                row["cohort"] = row["team"] = None
        secrets.SystemRandom().shuffle(rows)
        bind.execute(
            sa.delete(answers).where(
                answers.c.survey_id == survey_id, answers.c.member_id.is_(None)
            )
        )
        bind.execute(sa.insert(answers), rows)


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("survey") as batch:
        batch.add_column(
            sa.Column(
                "round",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="",
            )
        )
        batch.add_column(
            sa.Column("opens_at", rallybot.storage.models.UTCDateTime(), nullable=True)
        )
        batch.add_column(
            sa.Column("closes_at", rallybot.storage.models.UTCDateTime(), nullable=True)
        )
        batch.add_column(
            sa.Column("closed_at", rallybot.storage.models.UTCDateTime(), nullable=True)
        )
    with op.batch_alter_table("survey_draft") as batch:
        batch.add_column(
            sa.Column("finished", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "bot_secret",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("created_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_bot_secret")),
    )
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(
            "survey_answer", recreate="always", table_kwargs={"sqlite_with_rowid": False}
        ):
            pass
    _rebatch_anonymous_answers()
    activity = sa.table("activity", sa.column("kind"), sa.column("channel_id"))
    op.execute(sa.update(activity).where(activity.c.kind == "direct").values(channel_id=None))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("bot_secret")
    with op.batch_alter_table("survey_draft") as batch:
        batch.drop_column("finished")
    with op.batch_alter_table("survey") as batch:
        batch.drop_column("closed_at")
        batch.drop_column("closes_at")
        batch.drop_column("opens_at")
        batch.drop_column("round")
