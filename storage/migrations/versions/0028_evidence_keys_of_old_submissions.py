"""Challenge submissions made before 0025 get their ``evidence_key`` (issue 13).

Migration 0025 gave each submission a key naming its evidence, unique per challenge and member,
so that the same evidence sent again is the first submission; rows written before it had none,
and a replay of one of them could still make a second row. Their key is worked out here from
the text they stored, as the bot computes it for new ones
(``handlers.challenges.feature.evidence_key``):

- a command's text: ``"text:"`` and the SHA-256 of the text with its spaces made even (the
  stored text is that already, unless it was cut to 1,000 characters: then the whole text, and
  so its key, is unknown and the row keeps none; a text of 999 characters or more may be cut);
- files: ``"files:"`` and the SHA-256 of their links, sorted, one a line. The stored text is the
  caption, then ``📎 name link`` for each file; a file stored without a link (not a plain
  ``https`` one), or a text that may have been cut, leaves the row without a key.

The hashing is copied here, not imported: a migration must do the same thing for as long as it
exists, whatever the feature becomes, and the storage layer imports no feature.

Where rows of a member for a challenge already have the same evidence (a replay made a second
row before), the earliest keeps the key and the later ones none: a replay finds the earliest.
A key that a later row (written since 0025) holds moves to the earliest row in the same way.

Nothing to undo on downgrade: revision 0027 has the column and uses the keys the same way.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04 19:00:00.000000
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from itertools import groupby

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0028"
down_revision: str | Sequence[str] | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As the feature cleans a member's text (campaigns.quiz.sanitize_answer, 2026-12).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
# A link kept for a file (handlers.challenges.feature._LINK).
_LINK = re.compile(r"https://[^\s<>|`*\"]{1,600}")
_FILE = re.compile(r"(?:^| )📎 ")  # what starts each file's part of the stored text
# A submission stored at most 1,000 characters; a text cut to fit ends with "…" after at least
# 998 of them (a space before the cut is dropped), and one with files is cut at 1,000.
_MAYBE_CUT = 999
_PAGE = 500


def _even_spaces(text: str) -> str:
    """The text as the feature hashes it: NFC, no control characters, single spaces."""
    cleaned = _CONTROL.sub("", unicodedata.normalize("NFC", text))
    return " ".join(cleaned.split())


def _text_key(text: str) -> str:
    return "text:" + hashlib.sha256(_even_spaces(text).encode()).hexdigest()


def _files_key(links: Sequence[str]) -> str:
    return "files:" + hashlib.sha256("\n".join(sorted(set(links))).encode()).hexdigest()


def evidence_key(text: str) -> str | None:
    """The key of a stored submission's evidence, or None when its text cannot tell it."""
    if len(text) >= _MAYBE_CUT:
        return None  # maybe cut: the evidence hashed was longer than what is left of it
    parts = _FILE.split(text)
    if len(parts) == 1:
        return _text_key(text)
    links = []
    for part in parts[1:]:  # "name link" for each file
        last = part.rsplit(" ", 1)[-1]
        if not _LINK.fullmatch(last):
            return None  # a file kept without its link: the key hashed a link not stored
        links.append(last)
    return _files_key(links)


def upgrade() -> None:
    """Give the submissions without a key theirs; the earliest of the same evidence keeps it."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, challenge, member_id, text, evidence_key FROM challenge_submission "
            "ORDER BY challenge, member_id, submitted_at, id"
        )
    ).all()
    take: list[dict[str, object]] = []  # rows that lose a key a row written earlier gets
    give: list[dict[str, object]] = []
    for _, same_member in groupby(rows, key=lambda row: (row.challenge, row.member_id)):
        first: dict[str, int] = {}  # key -> the id of the earliest row with that evidence
        holder: dict[str, int] = {}  # key -> the id of the row holding it now
        for row in same_member:
            key = row.evidence_key or evidence_key(str(row.text or ""))
            if key is None:
                continue
            first.setdefault(key, int(row.id))
            if row.evidence_key is not None:
                holder[key] = int(row.id)
        for key, row_id in first.items():
            if holder.get(key) == row_id:
                continue
            if key in holder:
                take.append({"i": holder[key]})
            give.append({"i": row_id, "k": key})
    # The keys are unique per challenge and member: the ones that move are let go first.
    for page in range(0, len(take), _PAGE):
        bind.execute(
            sa.text("UPDATE challenge_submission SET evidence_key = NULL WHERE id = :i"),
            take[page : page + _PAGE],
        )
    for page in range(0, len(give), _PAGE):
        bind.execute(
            sa.text("UPDATE challenge_submission SET evidence_key = :k WHERE id = :i"),
            give[page : page + _PAGE],
        )


def downgrade() -> None:
    """Nothing to undo: revision 0027 reads the keys as this one does."""
