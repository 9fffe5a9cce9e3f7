"""A replayed challenge submission or free-text quiz answer counts once (issue 13).

``challenge_submission.evidence_key`` names the evidence (a hash of its text, or of its files'
links), unique per challenge and member: the same evidence sent again (a platform retry under
a new event id, a member sending the same thing twice) is the first submission, not a second
one for the managers. Submissions made before have no key (NULLs never conflict).

``quiz_answer.message_ref`` names the message that gave a free-text answer, unique per
member: a message replayed after the quiz moved on cannot answer the next question.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 15:30:00.000000
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0025"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


@contextmanager
def _member_reflected_quietly() -> Iterator[None]:
    """On SQLite, batch mode copies each table it alters, reflecting the tables its foreign keys
    name: ``member`` among them, whose expression index ``ix_member_name_order`` (0023)
    SQLAlchemy cannot reflect and says so. ``member`` is only read here, never copied, so its
    index stays: that one warning is noise. Narrowly filtered, so that a migration rebuilding
    ``member`` itself would still warn."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message="Skipped unsupported reflection of expression-based index ix_member_name_order",
            category=sa.exc.SAWarning,
        )
        yield


def upgrade() -> None:
    """Upgrade schema."""
    with _member_reflected_quietly():
        _upgrade()


def _upgrade() -> None:
    with op.batch_alter_table("challenge_submission") as batch:
        batch.add_column(
            sa.Column("evidence_key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True)
        )
        batch.create_unique_constraint(
            "uq_challenge_submission_evidence", ["challenge", "member_id", "evidence_key"]
        )
    with op.batch_alter_table("quiz_answer") as batch:
        batch.add_column(
            sa.Column("message_ref", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        batch.create_unique_constraint("uq_quiz_answer_message", ["member_id", "message_ref"])


def downgrade() -> None:
    """Downgrade schema."""
    with _member_reflected_quietly():
        _downgrade()


def _downgrade() -> None:
    with op.batch_alter_table("quiz_answer") as batch:
        batch.drop_constraint("uq_quiz_answer_message", type_="unique")
        batch.drop_column("message_ref")
    with op.batch_alter_table("challenge_submission") as batch:
        batch.drop_constraint("uq_challenge_submission_evidence", type_="unique")
        batch.drop_column("evidence_key")
