"""Roster files: the people invited to a community, as CSV with a header row.

Columns (any case, any order, spaces or dashes for ``_``; each row needs ``id``, ``email``
or ``discord``)::

    id, email, name, first_name, team, cohort, groups, start_date, locale, timezone, discord

The delimiter is ``,`` or ``;`` (whichever the header row uses). ``groups`` holds several
names separated by ``|`` (or by ``;`` too when the delimiter is ``,``). ``start_date`` is
``2026-09-15`` or ``2026-09-15 09:00`` in the row's time zone (its ``timezone`` cell, else the
default). ``discord`` names the member's Discord account: their user id (or a ``<@id>``
mention) or their username; ``rallybot roster import --platform discord`` finds the account
(:func:`handlers.onboarding.match_roster`). Every problem is reported at once, at its CSV line
and column.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from rallybot.campaigns.loader import LoadError
from rallybot.campaigns.templates import did_you_mean
from rallybot.campaigns.timeexpr import TimeExprError, localize, parse_datetime_local

__all__ = [
    "COLUMNS",
    "MAX_ROSTER_BYTES",
    "RosterEntry",
    "RosterLoadError",
    "discord_id",
    "load_roster",
    "load_roster_text",
    "member_fields",
]

MAX_ROSTER_BYTES = 20 * 1024 * 1024
"""Roster files larger than this are refused before reading."""

COLUMNS = (
    "id",
    "email",
    "name",
    "first_name",
    "team",
    "cohort",
    "groups",
    "start_date",
    "locale",
    "timezone",
    "discord",
)
"""The columns a roster may have."""

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LOCALE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
_DISCORD_ID = re.compile(r"^(?:<@!?(\d{15,21})>|(\d{15,21}))$")


@dataclass(frozen=True)
class RosterEntry:
    """One invited person.

    ``start_date`` is an aware UTC datetime; ``timezone`` is the row's own zone, or None when
    the row did not give one (the default applies). ``discord`` is the ``discord`` cell as
    written (a Discord user id, a mention or a username).
    """

    id: str | None
    email: str | None
    name: str | None = None
    first_name: str | None = None
    team: str | None = None
    cohort: str | None = None
    groups: tuple[str, ...] = ()
    start_date: datetime | None = None
    locale: str | None = None
    timezone: str | None = None
    discord: str | None = None
    line: int = field(default=0, compare=False)


def discord_id(cell: str | None) -> str | None:
    """The Discord user id a ``discord`` cell holds (an id or a ``<@id>`` mention), else None
    (a username, found on the server by ``rallybot roster import``)."""
    match = _DISCORD_ID.match((cell or "").strip())
    return (match.group(1) or match.group(2)) if match is not None else None


def member_fields(entry: RosterEntry) -> tuple[str, dict[str, object]]:
    """The member a roster row describes: its platform id (the row's id, else the part of
    the email before ``@``, else the Discord id or name of its ``discord`` cell) and the
    fields the row sets (empty cells change nothing). A team is marked as the roster's
    (``team_source``), which the team sync never changes; a row without a team leaves the
    member's team and its source alone."""
    user_id = (
        entry.id
        or (entry.email or "").split("@")[0]
        or discord_id(entry.discord)
        or (entry.discord or "")
    )
    fields: dict[str, object] = {
        "display_name": entry.name,
        "first_name": entry.first_name,
        "email": entry.email,
        "team": entry.team,
        "team_source": "roster" if entry.team is not None else None,  # models.TeamSource
        "cohort": entry.cohort,
        "groups": list(entry.groups) or None,
        "locale": entry.locale,
        "timezone": entry.timezone,
        "joined_at": entry.start_date,
    }
    return user_id, {name: value for name, value in fields.items() if value is not None}


class RosterLoadError(Exception):
    """A roster file could not be loaded; ``errors`` lists every problem."""

    def __init__(self, errors: list[LoadError]) -> None:
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = errors


class _Abort(Exception):
    pass


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _zone_problem(name: str) -> str:
    hint = did_you_mean(name, _zone_names()) or " (use a name like Europe/Paris)"
    return f'unknown time zone "{name}"{hint}'


_COLUMN_SPELLINGS = {
    "e_mail": "email",
    "firstname": "first_name",
    "startdate": "start_date",
    "time_zone": "timezone",
}


def _column_key(header: str) -> str:
    """``First Name`` -> ``first_name``; a few common spellings are accepted."""
    key = re.sub(r"[\s-]+", "_", header.strip().lower())
    return _COLUMN_SPELLINGS.get(key, key)


def _size_text(size: int) -> str:
    return f"{math.ceil(size * 10 / (1024 * 1024)) / 10:.1f} MB"


def _decode(raw: str | bytes, source: str) -> str:
    def abort(message: str) -> _Abort:
        return _Abort(LoadError(source, 1, 1, "", message))

    if isinstance(raw, bytes):
        if len(raw) > MAX_ROSTER_BYTES:
            raise abort(f"the file is {_size_text(len(raw))}; roster files are limited to 20 MB")
        if b"\x00" in raw:
            raise abort("this is not a text file (it contains binary data)")
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            message = "this is not UTF-8 text (save the CSV as UTF-8; or it is a binary file)"
            raise _Abort(LoadError(source, line, 1, "", message)) from None
    text = raw.removeprefix("\ufeff")
    if "\x00" in text:
        raise abort("this is not a text file (it contains binary data)")
    return text


def load_roster_text(text: str | bytes, source: str, *, default_timezone: str) -> list[RosterEntry]:
    """Read a roster from memory; ``source`` names the file in messages.

    Raises :class:`RosterLoadError` with every problem, and ``ValueError`` if
    ``default_timezone`` itself is not a time zone.
    """
    default_zone = _zone(default_timezone)
    if default_zone is None:
        raise ValueError(_zone_problem(default_timezone))
    try:
        content = _decode(text, source)
    except _Abort as abort:
        raise RosterLoadError([abort.args[0]]) from None
    entries, errors = _read_rows(content, source, default_zone)
    if errors:
        errors.sort(key=lambda error: (error.line, error.column))
        raise RosterLoadError(errors)
    return entries


def load_roster(path: str | Path, *, default_timezone: str) -> list[RosterEntry]:
    """Read a roster CSV file; raises :class:`RosterLoadError` listing every problem."""
    source = str(path)
    file = Path(path)
    try:
        size = file.stat().st_size
        with file.open("rb") as handle:
            raw = handle.read(MAX_ROSTER_BYTES + 1) if size <= MAX_ROSTER_BYTES else b""
    except OSError as exc:
        reason = "no such file" if isinstance(exc, FileNotFoundError) else exc.strerror or exc
        problem = LoadError(source, 1, 1, "", f"cannot read the file ({reason})")
        raise RosterLoadError([problem]) from None
    if size > MAX_ROSTER_BYTES:
        message = f"the file is {_size_text(size)}; roster files are limited to 20 MB"
        raise RosterLoadError([LoadError(source, 1, 1, "", message)])
    return load_roster_text(raw, source, default_timezone=default_timezone)


_UNNAMED = None  # a header cell left empty
_IGNORED = ""  # an unknown or repeated column, already reported: its cells are skipped


@dataclass
class _Reader:
    """State while reading one roster: columns, ids seen, problems found."""

    source: str
    default_zone: ZoneInfo
    group_separators: str = ";|"
    columns: list[str | None] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    seen: dict[str, dict[str, int]] = field(
        default_factory=lambda: {"id": {}, "email": {}, "discord": {}}
    )
    unnamed_reported: set[int] = field(default_factory=set)

    def error(self, line: int, column: int, name: str, message: str) -> None:
        self.errors.append(LoadError(self.source, line, column, name, message))

    def column_of(self, name: str) -> int:
        return self.columns.index(name) + 1 if name in self.columns else 1

    def header(self, row: list[str], line: int) -> bool:
        """Read the header row; False if the roster cannot be read further."""
        for index, cell in enumerate(row):
            name = _column_key(cell)
            if not name:
                self.columns.append(_UNNAMED)
            elif name not in COLUMNS:
                hint = did_you_mean(name, COLUMNS) or "; known columns: " + ", ".join(COLUMNS)
                self.error(line, index + 1, name, f'unknown column "{cell.strip()}"{hint}')
                self.columns.append(_IGNORED)
            elif name in self.columns:
                self.error(line, index + 1, name, f'column "{name}" appears twice')
                self.columns.append(_IGNORED)
            else:
                self.columns.append(name)
        if not {"id", "email", "discord"} & {c for c in self.columns if c}:
            self.error(
                line,
                1,
                "",
                'the roster needs an "id", an "email" or a "discord" column (the first row '
                "names the columns)",
            )
            return False
        return True

    def cells(self, row: list[str], line: int) -> tuple[dict[str, str], dict[str, int]]:
        """The non-empty cells of a row by column name, and their 1-based columns."""
        values: dict[str, str] = {}
        where: dict[str, int] = {}
        for index, cell in enumerate(row):
            value = cell.strip()
            if not value:
                continue
            if index >= len(self.columns):
                self.error(
                    line,
                    index + 1,
                    "",
                    f"this row has more cells than the header has columns ({len(self.columns)})",
                )
                break
            name = self.columns[index]
            if name:
                values[name] = value
                where[name] = index + 1
            elif name is _UNNAMED and index not in self.unnamed_reported:
                self.unnamed_reported.add(index)
                self.error(
                    line, index + 1, "", "this cell is in a column with no name in the header"
                )
        return values, where

    def row(self, row: list[str], line: int) -> RosterEntry | None:
        """The entry of one data row, or None if it has problems (recorded)."""
        before = len(self.errors)
        values, where = self.cells(row, line)

        def problem(name: str, message: str) -> None:
            self.error(line, where.get(name) or self.column_of(name), name, message)

        email = values.get("email")
        if email is not None and not _EMAIL.match(email):
            problem("email", f'"{email}" is not an email address')
        if not {"id", "email", "discord"} & set(values):
            where_missing = next(c for c in ("id", "email", "discord") if c in self.columns)
            message = (
                "this row has no id, email or discord"
                if "discord" in self.columns
                else "this row has neither an id nor an email"
            )
            problem(where_missing, message)
        discord = values.get("discord")
        keys = (
            ("id", values.get("id")),
            ("email", email.casefold() if email else None),
            (
                "discord",
                (discord_id(discord) or discord.removeprefix("@").casefold()) if discord else None,
            ),
        )
        for name, key in keys:
            if key is None:
                continue
            seen = self.seen[name]
            if key in seen:
                problem(name, f'{name} "{values[name]}" is already used on line {seen[key]}')
            else:
                seen[key] = line

        zone = self.default_zone
        zone_name = values.get("timezone")
        if zone_name is not None:
            found = _zone(zone_name)
            if found is None:
                problem("timezone", _zone_problem(zone_name))
            else:
                zone = found

        start: datetime | None = None
        if "start_date" in values:
            try:
                start = localize(parse_datetime_local(values["start_date"]), zone)
            except TimeExprError as exc:
                problem("start_date", str(exc))

        locale = values.get("locale")
        if locale is not None and not _LOCALE.match(locale):
            problem("locale", f'"{locale}" is not a language code (use fr, en, en-GB...)')

        groups: tuple[str, ...] = ()
        if "groups" in values:
            parts = re.split("[" + re.escape(self.group_separators) + "]", values["groups"])
            groups = tuple(dict.fromkeys(part.strip() for part in parts if part.strip()))

        if len(self.errors) > before:
            return None
        return RosterEntry(
            id=values.get("id"),
            email=email,
            name=values.get("name"),
            first_name=values.get("first_name"),
            team=values.get("team"),
            cohort=values.get("cohort"),
            groups=groups,
            start_date=start,
            locale=locale,
            timezone=zone_name,
            discord=discord,
            line=line,
        )


def _read_rows(
    text: str, source: str, default_zone: ZoneInfo
) -> tuple[list[RosterEntry], list[LoadError]]:
    state = _Reader(source=source, default_zone=default_zone)
    if not text.strip():
        state.error(1, 1, "", "the file is empty: a roster needs a header row (id, email, ...)")
        return [], state.errors
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    state.group_separators = "|" if delimiter == ";" else ";|"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    entries: list[RosterEntry] = []
    has_header = False
    previous_end = 0
    while True:
        line = previous_end + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            reason = str(exc)
            if "unexpected end of data" in reason:
                reason = 'a quoted cell is not closed (add the missing ")'
            state.error(line, 1, "", f"this is not valid CSV: {reason}")
            break
        previous_end = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if not has_header:
            has_header = True
            if not state.header(row, line):
                break
            continue
        entry = state.row(row, line)
        if entry is not None:
            entries.append(entry)
    return entries, state.errors
