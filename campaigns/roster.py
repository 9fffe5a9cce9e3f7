"""Roster files: the people invited to a community, as CSV with a header row.

Columns (any case, any order, spaces or dashes for ``_``; each row needs ``id``, ``email``
or ``discord``)::

    id, email, name, first_name, team, cohort, groups, start_date, locale, timezone, discord

A roster is read as spreadsheets save it: CSV in UTF-8 (with or without a byte-order mark),
UTF-16 (Excel's "Unicode text") or Windows-1252 (Excel's "CSV (separator: semicolon)" on a
French or Spanish Windows), separated by ``,``, ``;`` or a tab (whichever the header row uses
most), or an Excel workbook (``.xlsx``, its first sheet) read directly. How the file was read
is said in :class:`RosterInfo`. ``groups`` holds several
names separated by ``|`` (or by ``;`` too when the delimiter is ``,``). ``start_date`` is
``2026-09-15`` or ``2026-09-15 09:00`` in the row's time zone (its ``timezone`` cell, else the
default), or a spreadsheet date such as ``02/03/2027`` or ``02.03.2027``: day-first or
month-first as the caller says (``date_format``), else as the roster itself shows (a day over
12 in either place), else an error naming both readings. ``discord`` names the member's
Discord account: their user id (or a ``<@id>`` mention) or their username;
``rallybot roster import --platform discord`` finds the account
(:func:`handlers.onboarding.match_roster`). Every problem is reported at once, at its line
(a workbook's row) and column.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from rallybot.campaigns import words
from rallybot.campaigns.loader import WHOLE_FILE, LoadError
from rallybot.campaigns.templates import did_you_mean
from rallybot.campaigns.timeexpr import TimeExprError, localize, parse_datetime_local
from rallybot.campaigns.words import N_, render
from rallybot.campaigns.zones import zone_problem

__all__ = [
    "COLUMNS",
    "DATE_FORMATS",
    "MAX_ROSTER_BYTES",
    "Roster",
    "RosterEntry",
    "RosterInfo",
    "RosterLoadError",
    "discord_id",
    "load_roster",
    "load_roster_text",
    "member_fields",
    "read_roster",
    "read_roster_bytes",
    "summarize_errors",
]

DATE_FORMATS = ("auto", "day-first", "month-first")
"""How ``02/03/2027`` reads: from the roster itself (``auto``), 2 March, or 3 February."""

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

_SLASH_DATE = re.compile(
    r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})(?:[ T](\d{1,2})[:h](\d{2})(?::\d{2})?)?$"
)
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
    return zone_problem(name)


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


def _too_large(size: int) -> str:
    return N_("the file is {size}; roster files are limited to 20 MB", size=_size_text(size))


@dataclass(frozen=True)
class RosterInfo:
    """How a roster file was read, for the import summary.

    ``encoding`` names the text encoding found (or ``Excel workbook``); ``delimiter`` is the
    CSV separator (None for a workbook); ``date_order`` is how slash dates were read
    (``day-first`` or ``month-first``), or None when the roster had none.
    """

    encoding: str
    delimiter: str | None = None
    date_order: str | None = None

    def describe(self, locale: str | None = None) -> str:
        """One line for a person: ``read as Windows-1252, separated by ";", dates day-first``,
        in ``locale``'s language."""
        # Encodings keep their names; only the two that are descriptions are translated.
        encoding = {
            "Excel workbook": N_("an Excel workbook"),
            "text": N_("text"),
        }.get(self.encoding, self.encoding)
        parts = [N_("read as {encoding}", encoding=encoding)]
        if self.delimiter is not None:
            shown = N_("a tab") if self.delimiter == "\t" else f'"{self.delimiter}"'
            parts.append(N_("separated by {delimiter}", delimiter=shown))
        if self.date_order is not None:
            # Translators: {order} is day-first or month-first, as typed in date_format.
            parts.append(N_("dates {order}", order=self.date_order))
        return ", ".join(render(part, locale) for part in parts)


@dataclass(frozen=True)
class Roster:
    """The entries of a roster file and how it was read."""

    entries: list[RosterEntry]
    info: RosterInfo


def _decode(raw: str | bytes, source: str) -> tuple[str, str]:
    """The text of a CSV roster and the name of the encoding it was read with."""

    def abort(message: str) -> _Abort:
        return _Abort(LoadError(source, WHOLE_FILE, WHOLE_FILE, "", message))

    if isinstance(raw, str):
        text = raw.removeprefix("\ufeff")
        if "\x00" in text:
            raise abort(N_("this is not a text file (it contains binary data)"))
        return text, "text"
    if len(raw) > MAX_ROSTER_BYTES:
        raise abort(_too_large(len(raw)))
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" export: UTF-16 with a byte-order mark (and tabs).
        try:
            return raw.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            raise abort(
                N_("this file starts like UTF-16 text but is not (save it as CSV UTF-8)")
            ) from None
    if b"\x00" in raw:
        raise abort(N_("this is not a text file (it contains binary data)"))
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            return raw[3:].decode("utf-8"), "UTF-8 with BOM"
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start + 3) + 1
            message = N_("this file says it is UTF-8 but is not (save the CSV as UTF-8 again)")
            raise _Abort(LoadError(source, line, 1, "", message)) from None
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    # Not UTF-8: what Excel writes on Windows in Western Europe ("CSV (separator: semicolon)"
    # on a French or Spanish system) is Windows-1252; the five bytes it leaves undefined only
    # occur in Latin-1 files.
    try:
        return raw.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "Latin-1"


def _is_workbook(raw: str | bytes, source: str) -> bool:
    return isinstance(raw, bytes) and (
        raw.startswith(b"PK\x03\x04") or source.lower().endswith((".xlsx", ".xlsm"))
    )


def _cell_text(value: object) -> str:
    """A workbook cell as the text a CSV export would hold (dates in ISO form)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _workbook_rows(raw: bytes, source: str) -> list[tuple[int, list[str]]]:
    """The rows of a workbook's first sheet, with their sheet row numbers."""
    if len(raw) > MAX_ROSTER_BYTES:
        raise _Abort(LoadError(source, WHOLE_FILE, WHOLE_FILE, "", _too_large(len(raw))))
    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, InvalidFileException):
        message = N_(
            "this is not an Excel workbook that can be read (save it again as .xlsx or CSV)"
        )
        raise _Abort(LoadError(source, WHOLE_FILE, WHOLE_FILE, "", message)) from None
    try:
        sheet = book.worksheets[0]
        rows: list[tuple[int, list[str]]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            rows.append((number, [_cell_text(value) for value in values]))
        return rows
    finally:
        book.close()


def _csv_rows(text: str, state: _Reader) -> tuple[list[tuple[int, list[str]]], str]:
    """The rows of a CSV text with their first line numbers, and the delimiter used."""
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    state.group_separators = "|" if delimiter == ";" else ";|"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, list[str]]] = []
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
                reason = N_('a quoted cell is not closed (add the missing ")')
            state.error(line, 1, "", N_("this is not valid CSV: {reason}", reason=reason))
            break
        previous_end = reader.line_num
        rows.append((line, row))
    return rows, delimiter


def read_roster_bytes(
    raw: str | bytes, source: str, *, default_timezone: str, date_format: str = "auto"
) -> Roster:
    """Read a roster (CSV text or bytes, or a workbook's bytes); ``source`` names it.

    Raises :class:`RosterLoadError` with every problem, and ``ValueError`` if
    ``default_timezone`` is not a time zone or ``date_format`` not one of :data:`DATE_FORMATS`.
    """
    default_zone = _zone(default_timezone)
    if default_zone is None:
        raise ValueError(_zone_problem(default_timezone))
    if date_format not in DATE_FORMATS:
        raise ValueError(
            N_(
                'date format "{value}" is not one of {formats}',
                value=date_format,
                formats=", ".join(DATE_FORMATS),
            )
        )
    state = _Reader(source=source, default_zone=default_zone, date_format=date_format)
    delimiter: str | None = None
    try:
        if _is_workbook(raw, source):
            assert isinstance(raw, bytes)
            encoding = "Excel workbook"
            rows = _workbook_rows(raw, source)
        else:
            text, encoding = _decode(raw, source)
            if not text.strip():
                message = N_("the file is empty: a roster needs a header row (id, email, ...)")
                raise _Abort(LoadError(source, WHOLE_FILE, WHOLE_FILE, "", message))
            rows, delimiter = _csv_rows(text, state)
    except _Abort as abort:
        raise RosterLoadError([abort.args[0]]) from None
    entries = _read_rows(rows, state)
    if state.errors:
        state.errors.sort(key=lambda error: (error.line, error.column))
        raise RosterLoadError(state.errors)
    return Roster(entries, RosterInfo(encoding, delimiter, state.date_order))


def read_roster(path: str | Path, *, default_timezone: str, date_format: str = "auto") -> Roster:
    """Read a roster file (CSV or ``.xlsx``); raises :class:`RosterLoadError` listing every
    problem."""
    source = str(path)
    file = Path(path)
    try:
        size = file.stat().st_size
        with file.open("rb") as handle:
            raw = handle.read(MAX_ROSTER_BYTES + 1) if size <= MAX_ROSTER_BYTES else b""
    except OSError as exc:
        why = N_("no such file") if isinstance(exc, FileNotFoundError) else exc.strerror or str(exc)
        problem = LoadError(
            source, WHOLE_FILE, WHOLE_FILE, "", N_("cannot read the file ({why})", why=why)
        )
        raise RosterLoadError([problem]) from None
    if size > MAX_ROSTER_BYTES:
        raise RosterLoadError([LoadError(source, WHOLE_FILE, WHOLE_FILE, "", _too_large(size))])
    return read_roster_bytes(
        raw, source, default_timezone=default_timezone, date_format=date_format
    )


def load_roster_text(
    text: str | bytes, source: str, *, default_timezone: str, date_format: str = "auto"
) -> list[RosterEntry]:
    """The entries of :func:`read_roster_bytes`."""
    return read_roster_bytes(
        text, source, default_timezone=default_timezone, date_format=date_format
    ).entries


def load_roster(
    path: str | Path, *, default_timezone: str, date_format: str = "auto"
) -> list[RosterEntry]:
    """The entries of :func:`read_roster`."""
    return read_roster(path, default_timezone=default_timezone, date_format=date_format).entries


_QUOTED = re.compile(r'"[^"]*"')


def _line_ranges(lines: list[int]) -> str:
    """``2, 3, 4, 9`` -> ``2–4, 9``."""
    ranges: list[str] = []
    ordered = sorted(set(lines))
    start = previous = ordered[0]
    for line in [*ordered[1:], None]:
        if line is not None and line == previous + 1:
            previous = line
            continue
        ranges.append(str(start) if start == previous else f"{start}–{previous}")
        if line is not None:
            start = previous = line
    return ", ".join(ranges)


Located = Callable[[LoadError, str], str]
"""A problem's line from its (first) error and what it says: its place, its column's name
(``error.field``, when it has one), then the words."""


def _at_file_line_column(error: LoadError, words: str) -> str:
    where = error.file if error.whole_file else f"{error.file}:{error.line}:{error.column}"
    return f"{where}: {error.field}: {words}" if error.field else f"{where}: {words}"


def summarize_errors(
    errors: list[LoadError],
    *,
    at_least: int = 3,
    locale: str | None = None,
    located: Located = _at_file_line_column,
) -> list[str]:
    """Roster problems for a person: the same mistake in ``at_least`` rows or more becomes
    one line (``start_date: 150 rows (2–151): "31/02/2027" is not a real date``), in the order
    of first appearance; other problems keep their own line. Messages marked for translation
    are shown in ``locale``'s language; each line starts with its place as ``located`` writes
    it (``file:line:column:`` by default, as the command line and editors read it)."""
    groups: dict[tuple[str, str, str], list[LoadError]] = {}
    for error in errors:
        key = (error.file, error.field, _QUOTED.sub('"…"', error.message))
        groups.setdefault(key, []).append(error)
    lines: list[str] = []
    for found in groups.values():
        if len(found) < at_least:
            for error in found:
                lines.append(
                    located(error, render(error.message, locale) if locale else error.message)
                )
            continue
        first = found[0]
        rows = _line_ranges([error.line for error in found])
        # Translators: {count} rows of a roster (CSV lines), {rows} their numbers (2–151).
        many = words.gettext(locale, "{count} rows ({rows}), for example: {message}")
        example = render(first.message, locale) if locale else first.message
        lines.append(located(first, many.format(count=len(found), rows=rows, message=example)))
    return lines


_UNNAMED = None  # a header cell left empty
_IGNORED = ""  # an unknown or repeated column, already reported: its cells are skipped


@dataclass
class _Reader:
    """State while reading one roster: columns, ids seen, problems found."""

    source: str
    default_zone: ZoneInfo
    date_format: str = "auto"
    date_order: str | None = None  # how slash dates read: decided before the rows
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
                close = did_you_mean(name, COLUMNS)
                hint = (
                    N_(' (did you mean "{name}"?)', name=close.split('"')[1])
                    if close
                    else N_("; known columns: {columns}", columns=", ".join(COLUMNS))
                )
                unknown = N_('unknown column "{column}"{hint}', column=cell.strip(), hint=hint)
                self.error(line, index + 1, name, unknown)
                self.columns.append(_IGNORED)
            elif name in self.columns:
                self.error(line, index + 1, name, N_('column "{name}" appears twice', name=name))
                self.columns.append(_IGNORED)
            else:
                self.columns.append(name)
        if not {"id", "email", "discord"} & {c for c in self.columns if c}:
            self.error(
                line,
                1,
                "",
                N_(
                    'the roster needs an "id", an "email" or a "discord" column (the first row '
                    "names the columns)"
                ),
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
                    N_(
                        "this row has more cells than the header has columns ({n})",
                        n=len(self.columns),
                    ),
                )
                break
            name = self.columns[index]
            if name:
                values[name] = value
                where[name] = index + 1
            elif name is _UNNAMED and index not in self.unnamed_reported:
                self.unnamed_reported.add(index)
                self.error(
                    line, index + 1, "", N_("this cell is in a column with no name in the header")
                )
        return values, where

    def decide_date_order(self, rows: list[tuple[int, list[str]]]) -> None:
        """Settle how slash dates read, from ``date_format`` or from the roster itself: a
        first number over 12 means day-first, a second one month-first."""
        if "start_date" not in self.columns:
            return
        index = self.columns.index("start_date")
        day_first: int | None = None
        month_first: int | None = None
        any_slash = False
        for line, row in rows:
            match = _SLASH_DATE.match(row[index].strip()) if index < len(row) else None
            if match is None:
                continue
            any_slash = True
            first, second = int(match.group(1)), int(match.group(2))
            if first > 12 and day_first is None:
                day_first = line
            if second > 12 and month_first is None:
                month_first = line
        if not any_slash:
            return
        if self.date_format != "auto":
            self.date_order = self.date_format
        elif day_first is not None and month_first is not None:
            self.error(
                max(day_first, month_first),
                index + 1,
                "start_date",
                N_(
                    "this roster mixes day-first dates (line {day_first}) and month-first dates "
                    "(line {month_first}); write every date like 2027-03-02",
                    day_first=day_first,
                    month_first=month_first,
                ),
            )
        elif day_first is not None:
            self.date_order = "day-first"
        elif month_first is not None:
            self.date_order = "month-first"

    def start_date(self, cell: str) -> datetime:
        """A ``start_date`` cell as a naive local datetime."""
        match = _SLASH_DATE.match(cell.strip())
        if match is None:
            return parse_datetime_local(cell)
        first, second, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
        if self.date_order is None:
            if self.date_format == "auto" and first <= 12 and second <= 12:
                raise TimeExprError(
                    N_(
                        '"{cell}" can be read as {day_first} (day-first) or {month_first} '
                        "(month-first); write it like 2027-03-02, or say date_format: "
                        "day-first (or month-first)",
                        cell=cell,
                        day_first=_day_text(year, second, first),
                        month_first=_day_text(year, first, second),
                    )
                )
            raise TimeExprError(N_('"{cell}" is not a date (write it like 2027-03-02)', cell=cell))
        day, month = (first, second) if self.date_order == "day-first" else (second, first)
        try:
            found = date(year, month, day)
        except ValueError:
            raise TimeExprError(
                N_(
                    '"{cell}" is not a real calendar date (read {order})',
                    cell=cell,
                    order=self.date_order,
                )
            ) from None
        clock = time(0, 0)
        if match.group(4) is not None:
            try:
                clock = time(int(match.group(4)), int(match.group(5)))
            except ValueError:
                raise TimeExprError(N_('"{cell}" has no real time of day', cell=cell)) from None
        return datetime.combine(found, clock)

    def row(self, row: list[str], line: int) -> RosterEntry | None:
        """The entry of one data row, or None if it has problems (recorded)."""
        before = len(self.errors)
        values, where = self.cells(row, line)

        def problem(name: str, message: str) -> None:
            self.error(line, where.get(name) or self.column_of(name), name, message)

        email = values.get("email")
        if email is not None and not _EMAIL.match(email):
            problem("email", N_('"{email}" is not an email address', email=email))
        if not {"id", "email", "discord"} & set(values):
            where_missing = next(c for c in ("id", "email", "discord") if c in self.columns)
            message = (
                N_("this row has no id, email or discord")
                if "discord" in self.columns
                else N_("this row has neither an id nor an email")
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
                used = N_(
                    '{column} "{value}" is already used on line {line}',
                    column=name,
                    value=values[name],
                    line=seen[key],
                )
                problem(name, used)
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
                start = localize(self.start_date(values["start_date"]), zone)
            except TimeExprError as exc:
                # The message itself, not str(exc): a marked one stays translatable.
                problem("start_date", exc.args[0] if exc.args else str(exc))

        locale = values.get("locale")
        if locale is not None and not _LOCALE.match(locale):
            problem(
                "locale",
                N_('"{locale}" is not a language code (use fr, en, en-GB...)', locale=locale),
            )

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


def _day_text(year: int, month: int, day: int) -> str:
    try:
        return date(year, month, day).strftime("%-d %B %Y")
    except ValueError:
        return f"day {day} of month {month}"


def _read_rows(rows: list[tuple[int, list[str]]], state: _Reader) -> list[RosterEntry]:
    rows = [(line, row) for line, row in rows if any(cell.strip() for cell in row)]
    if not rows:
        if not state.errors:
            empty = N_("the file is empty: a roster needs a header row (id, email, ...)")
            state.error(WHOLE_FILE, WHOLE_FILE, "", empty)
        return []
    (header_line, header), data = rows[0], rows[1:]
    if not state.header(header, header_line):
        return []
    state.decide_date_order(data)
    entries: list[RosterEntry] = []
    for line, row in data:
        entry = state.row(row, line)
        if entry is not None:
            entries.append(entry)
    return entries
