"""Text search that ignores case and accents, the same way in Python, SQLite and PostgreSQL.

A manager types "amelie" for "Amélie", "equipe" for "Équipe": :func:`fold` writes both without
accents and in lower case. In PostgreSQL the column side is ``lower(translate(column, ...))``
(an immutable expression, so migration 0029 gives the members' names a trigram index on it);
SQLite has no ``translate``, so each connection gets the same folding as a function
(``rallybot_fold``), called only on the rows a plain ``LIKE`` lets through (see
:func:`folded_contains`): calling Python on every row of 100,000 members took seconds.

The letters folded are those of Latin-1 and Latin Extended-A with a diacritic (French, Spanish,
German, Portuguese, the Nordic and Central European languages); others keep their accents.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "ACCENTED",
    "PLAIN",
    "SQLITE_FOLD",
    "escape_like",
    "fold",
    "folded_contains",
    "folded_sql",
]

ACCENTED = (
    "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊ"
    "ċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽž"
)
"""Letters with a diacritic, each written as the letter of :data:`PLAIN` at its place."""
PLAIN = (
    "AAAAAACEEEEIIIINOOOOOUUUUYaaaaaaceeeeiiiinooooouuuuyyAaAaAaCcCcCcCcDdEeEeEeEeEeG"
    "gGgGgGgHhIiIiIiIiIJjKkLlLlLlNnNnNnOoOoOoRrRrRrSsSsSsSsTtTtUuUuUuUuUuUuWwYyYZzZzZz"
)

_TABLE = str.maketrans(ACCENTED, PLAIN)
_PLAIN_LETTERS = frozenset(PLAIN.lower())
SQLITE_FOLD = "rallybot_fold"
"""The name of :func:`fold` in every SQLite connection (see ``storage.database``)."""


def fold(text: str | None) -> str | None:
    """``text`` without the accents of :data:`ACCENTED`, in lower case (None stays None)."""
    if text is None:
        return None
    return text.translate(_TABLE).lower()


def escape_like(text: str) -> str:
    """``text`` with LIKE's wildcards escaped (escape character ``\\``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def folded_sql(column: sa.ColumnElement[str | None]) -> sa.ColumnElement[str]:
    """PostgreSQL's :func:`fold` of ``column``: written with the letters as constants, not
    parameters, so that the planner sees the expression of the index on it (migration 0029)."""
    accented = sa.literal_column(f"'{ACCENTED}'", sa.String)
    plain = sa.literal_column(f"'{PLAIN}'", sa.String)
    return sa.func.lower(sa.func.translate(column, accented, plain), type_=sa.String)


def folded_contains(
    column: sa.ColumnElement[str | None], text: str, dialect: str
) -> sa.ColumnElement[bool]:
    """Whether ``column`` contains ``text``, both folded (:func:`fold`)."""
    folded = fold(text) or ""
    pattern = f"%{escape_like(folded)}%"
    if dialect == "postgresql":
        expression = folded_sql(column)
        return expression.like(pattern, escape="\\")
    # SQLite: its LIKE ignores the case of ASCII letters; a letter that may be written with
    # an accent becomes "_" (any one character), so this cheap test keeps every row that can
    # match, and the folding function checks only those.
    loose = "".join("_" if char in _PLAIN_LETTERS else escape_like(char) for char in folded)
    return sa.and_(
        column.like(f"%{loose}%", escape="\\"),
        getattr(sa.func, SQLITE_FOLD)(column).like(pattern, escape="\\"),
    )
