"""Load campaign files, reporting every mistake as ``file:line:column: field: message``.

YAML is only ever *composed* (``yaml.compose`` with the safe loader), never constructed:
values are built here from the node tree, so no tag can create an object or run anything,
and YAML 1.1 surprises (``10:00`` read as 600, ``no`` as False, dates as ``date``) cannot
happen. Scalars stay text, except plain ``null``/``~``/empty (None) and ``true``/``false``;
pydantic converts text to numbers or booleans where the schema wants them.

Anchors and aliases (``&name`` / ``*name``) are supported; merge keys (``<<``) are refused,
because a merged key has no line of its own to point an error at.

A file is limited by what it costs, not only by its size on disk: besides
:data:`MAX_FILE_BYTES`, :data:`MAX_DEPTH` and :data:`MAX_NODES`, the document it expands to
through aliases may hold at most :data:`MAX_EXPANDED_CHARS` characters of text, and no one
text (a step's message, a question, an answer) more than :data:`MAX_TEXT_CHARS`. Both are
counted while the tree is walked, so a file over them is refused in milliseconds.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import math
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from rallybot.campaigns.places import field_place
from rallybot.campaigns.quiet_hours import QuietHours
from rallybot.campaigns.schema import (
    Campaign,
    CampaignSpec,
    Problem,
    campaign_model,
    check_references,
    compile_campaign,
)
from rallybot.campaigns.sections import registered
from rallybot.campaigns.templates import did_you_mean
from rallybot.campaigns.words import N_, Text, render

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPANDED_CHARS",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "MAX_TEXT_CHARS",
    "CampaignLoadError",
    "DocumentKind",
    "LoadError",
    "errors_as_read",
    "field_places",
    "field_places_of",
    "is_community_file",
    "is_community_text",
    "load_campaign",
    "load_campaign_text",
    "load_document",
    "load_errors",
    "locate",
    "locate_text",
    "read_head",
    "validate_paths",
    "yaml_files",
]

MAX_FILE_BYTES = 1024 * 1024
"""Campaign files larger than this are refused before parsing."""
MAX_DEPTH = 20
"""Deepest nesting of mappings and lists accepted."""
MAX_NODES = 200_000
"""Most values a file may expand to, counting through aliases."""
MAX_EXPANDED_CHARS = 2 * MAX_FILE_BYTES
"""Most characters of text (keys and values) a file may expand to, counting through aliases."""
MAX_TEXT_CHARS = 20_000
"""Longest single text: far beyond any message a platform shows (Discord: 4,096)."""

Path_ = tuple[str | int, ...]
_YAML_TAG = "tag:yaml.org,2002:"
_ALLOWED_TAGS = frozenset(
    _YAML_TAG + name for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
)
# Tags the safe resolver gives to plain scalars ``<<`` and ``=``: text, unless ``<<`` is a key.
_TEXT_TAGS = frozenset({_YAML_TAG + "merge", _YAML_TAG + "value"})
_ALIASES = {"from_": "from", "for_": "for"}
# libyaml's safe loader when PyYAML was built with it (10x faster); the pure-Python one words
# syntax errors, so it re-reads a file libyaml refused.
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


WHOLE_FILE = 0
"""The line and column of a mistake about the whole file (unreadable, empty): no position."""


@dataclass(frozen=True)
class LoadError:
    """One mistake in a file, at a 1-based line and column (:data:`WHOLE_FILE` for both when
    it is about the whole file)."""

    file: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        return self.text(None)

    @property
    def whole_file(self) -> bool:
        """Whether the mistake is about the whole file, at no line."""
        return self.line == WHOLE_FILE

    def text(self, locale: str | None) -> str:
        """``file:line:column: field: message`` (``file: message`` about the whole file), the
        message in ``locale``'s language when it was marked for translation
        (:func:`rallybot.campaigns.words.N_`)."""
        where = self.file if self.whole_file else f"{self.file}:{self.line}:{self.column}"
        message = render(self.message, locale) if locale else self.message
        if self.field:
            return f"{where}: {self.field}: {message}"
        return f"{where}: {message}"


class CampaignLoadError(Exception):
    """A campaign file (or several) could not be loaded; ``errors`` lists every mistake."""

    def __init__(self, errors: list[LoadError]) -> None:
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = errors


class _Abort(Exception):
    """Stop reading a file: one error says why."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass
class _Document:
    """Plain Python data built from a YAML node tree, with where each value was written."""

    data: Any = None
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    refused: set[Path_] = field(default_factory=set)
    incomplete: set[Path_] = field(default_factory=set)
    problems: list[tuple[int, int, str, str]] = field(default_factory=list)

    def value_at(self, path: Path_) -> tuple[int, int]:
        """Position of the value at ``path``, or of its nearest written ancestor."""
        for end in range(len(path), -1, -1):
            position = self.values.get(path[:end])
            if position is not None:
                return position
        return (1, 1)

    def key_at(self, path: Path_) -> tuple[int, int]:
        """Position of the key naming ``path`` (falls back to its value)."""
        return self.keys.get(path) or self.value_at(path)


# ---------------------------------------------------------------------------- reading


def _size_text(size: int) -> str:
    return f"{math.ceil(size * 10 / (1024 * 1024)) / 10:.1f} MB"


def _too_big(size: int) -> _Abort:
    return _Abort(
        N_("the file is {size}; campaign files are limited to 1 MB", size=_size_text(size))
    )


_BINARY = N_("this is not a text file (it contains binary data)")
# Translators: YAML aliases (*name) repeat a part of the file; a "billion laughs" attack.
_TOO_MANY = N_("the file expands to too many values (aliases used to build a huge document?)")


def _decode(raw: str | bytes) -> str:
    if isinstance(raw, bytes):
        if len(raw) > MAX_FILE_BYTES:
            raise _too_big(len(raw))
        if b"\x00" in raw:
            raise _Abort(_BINARY)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _Abort(_BINARY) from None
    else:
        text = raw.removeprefix("\ufeff")
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError:  # lone surrogates: decoded from bytes that were not text
            raise _Abort(_BINARY) from None
        if size > MAX_FILE_BYTES:
            raise _too_big(size)
        if "\x00" in text:
            raise _Abort(_BINARY)
    return text


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _too_big(size)
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise _Abort(N_("no such file")) from None
    except IsADirectoryError:
        raise _Abort(N_("this is a folder, not a file (or it cannot be listed)")) from None
    except OSError as exc:
        raise _Abort(N_("cannot read the file ({why})", why=exc.strerror or str(exc))) from None
    if len(raw) > MAX_FILE_BYTES:
        raise _too_big(len(raw))
    return raw


# ---------------------------------------------------------------------------- YAML syntax

# Our own words for the YAML parser's commonest complaints ({problem} is the parser's, in
# English; {found} what it found instead).
_SYNTAX_HINTS: tuple[tuple[str, str], ...] = (
    (
        "mapping values are not allowed here",
        N_("{problem} (check the indentation or quote the text)"),
    ),
    (
        "expected <block end>",
        N_("this line is not indented like the lines around it (check the indentation)"),
    ),
    ("found unexpected end of stream", N_("a quoted text is not closed (add the missing quote)")),
    (
        "could not find expected ':'",
        N_("a key is missing its colon (key: value), or the text needs quotes"),
    ),
    ("did not find expected key", N_("{problem} (check the indentation)")),
    ("did not find expected '-' indicator", N_("{problem} (check the indentation of this list)")),
    (
        "found unknown escape character",
        N_("{problem} (inside double quotes write \\\\ for a backslash, or use single quotes)"),
    ),
    (
        "but found another document",
        N_(
            "the file holds more than one YAML document (a line with ---): keep one campaign "
            "per file"
        ),
    ),
    (
        "expected '<document start>'",
        N_(
            "this line does not fit the structure above it (check the indentation or quote "
            "the text)"
        ),
    ),
    (
        "expected the node content",
        N_("a value is missing here (quote the text if it starts with {found})"),
    ),
    (
        "expected a comment or a line break",
        N_("unexpected text after the value (put all of it in quotes)"),
    ),
    ("sequence entries are not allowed here", N_("{problem} (check the indentation of this list)")),
    ("found unexpected ':'", N_("{problem} (quote the text)")),
    (
        "expected chomping or indentation indicators",
        N_("after | or > the text starts on the next line"),
    ),
)


def _not_closed(problem: str) -> str:
    if problem.startswith("expected ',' or ']'"):
        return N_("a list in [brackets] is not closed (add the missing ])")
    # Translators: {braces} and {close} are "{ }" and "}" (a catalog cannot hold a lone
    # brace): a mapping written between braces, on one line.
    return N_(
        "a mapping in {braces} is not closed (add the missing {close})", braces="{ }", close="}"
    )


def _readable_problem(exc: yaml.MarkedYAMLError) -> str:
    problem = (exc.problem or exc.context or "invalid YAML").strip()
    if problem.startswith("found character '\\t'"):
        return N_("a tab character cannot be used here: indent and separate with spaces")
    match = re.match(r"found character '(.)' that cannot start any token", problem)
    if match:
        return N_("a value cannot start with {sign} (put the text in quotes)", sign=match.group(1))
    match = re.match(r"found undefined alias '(.*)'", problem)
    if match:
        name = match.group(1)
        # Translators: *{name} and &{name} are YAML's alias and anchor, written as they are.
        return N_("*{name} refers to an anchor &{name} that is not defined before it", name=name)
    if problem.startswith("expected <block end>") and "'<scalar>'" in problem:
        return N_("unexpected text after the value (put all of it in quotes)")
    if problem.startswith(("expected ',' or ']'", "expected ',' or '}'")):
        if "<stream end>" in problem:
            return _not_closed(problem)
        brackets = "[ ]" if problem.startswith("expected ',' or ']'") else "{ }"
        # Translators: {brackets} is "[ ]" or "{ }", a list or a mapping written on one line;
        # {signs} are the signs ": , [ ] { }" (a catalog cannot hold a lone brace).
        return N_(
            "inside {brackets}, separate the entries with commas and quote any text that "
            "contains {signs}",
            brackets=brackets,
            signs=": , [ ] { }",
        )
    found = re.search(r"but found (.*)$", problem)
    for needle, template in _SYNTAX_HINTS:
        if needle in problem:
            return Text(template, {"problem": problem, "found": found.group(1) if found else "it"})
    return problem


def _syntax_abort(exc: yaml.YAMLError, text: str) -> _Abort:
    if isinstance(exc, yaml.reader.ReaderError):
        position = max(0, min(exc.position, len(text)))
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        character = exc.character if isinstance(exc.character, str) else chr(exc.character)
        code = f"#x{ord(character):04x}"
        return _Abort(
            N_(
                "the file contains a control character ({code}) that is not allowed in text",
                code=code,
            ),
            line,
            column,
        )
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or ""
        opened = exc.context_mark
        if opened and ("end of stream" in problem or "<stream end>" in problem):
            mark = opened  # point at what was left open, not at the end of the file
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        if (
            opened
            and problem.startswith(("expected ',' or ']'", "expected ',' or '}'"))
            and opened.line + 1 != line
        ):
            # The next line was read as part of the list: most likely a missing ] or }.
            message = N_("YAML syntax error: {problem}", problem=_not_closed(problem))
            return _Abort(message, opened.line + 1, opened.column + 1)
        # Translators: {problem} says what is wrong (the YAML parser's own words, in English,
        # when we have none of ours).
        return _Abort(
            N_("YAML syntax error: {problem}", problem=_readable_problem(exc)), line, column
        )
    return _Abort(f"YAML syntax error: {exc}")  # pragma: no cover - every YAMLError is marked


def _check_events(text: str, loader: Any) -> None:
    """Refuse deep nesting and huge files from the event stream, before composing.

    The composer is recursive: a file of a million ``[`` must never reach it.
    """
    depth = 0
    count = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.NodeEvent):
            count += 1
            if count > MAX_NODES:
                raise _Abort(_TOO_MANY)
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
                raise _Abort(
                    N_("the file nests more than {depth} levels deep", depth=MAX_DEPTH),
                    line,
                    column,
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _show_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_YAML_TAG) if tag.startswith(_YAML_TAG) else tag


def _position(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Builder:
    """Walks a composed node tree into plain data, counting values through aliases."""

    def __init__(self) -> None:
        self.document = _Document()
        self.count = 0
        self.chars = 0  # characters of text built so far, through aliases
        self._long: set[int] = set()  # scalar nodes already reported as too long

    def build(self, node: Node, path: Path_, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _Abort(_TOO_MANY)
        line, column = _position(node)
        self.document.values[path] = (line, column)
        if node.tag not in _ALLOWED_TAGS and not (
            isinstance(node, ScalarNode) and node.tag in _TEXT_TAGS
        ):
            self._refuse(node, path)
            return None
        if isinstance(node, ScalarNode):
            self._count_text(node, path)
            return self._scalar(node)
        if depth > MAX_DEPTH:  # reached through an alias: the event check saw only the text
            raise _Abort(
                N_("the file nests more than {depth} levels deep", depth=MAX_DEPTH), line, column
            )
        if isinstance(node, SequenceNode):
            return [
                self.build(item, (*path, index), depth + 1) for index, item in enumerate(node.value)
            ]
        assert isinstance(node, MappingNode)
        return self._mapping(node, path, depth)

    def _count_text(self, node: ScalarNode, path: Path_) -> None:
        """Count a text towards :data:`MAX_EXPANDED_CHARS` (aborts beyond it) and report it
        once when longer than :data:`MAX_TEXT_CHARS`."""
        size = len(node.value)
        self.chars += size
        line, column = _position(node)
        if self.chars > MAX_EXPANDED_CHARS:
            raise _Abort(
                N_(
                    "the file expands to more than {limit} characters of text (an anchor "
                    "reused many times?); the text here is where it went over",
                    limit=f"{MAX_EXPANDED_CHARS:,}",
                ),
                line,
                column,
            )
        if size > MAX_TEXT_CHARS and id(node) not in self._long:
            self._long.add(id(node))
            self.document.problems.append(
                (
                    line,
                    column,
                    _format_path(path),
                    N_(
                        "this text is {size} characters long; at most {limit}",
                        size=f"{size:,}",
                        limit=f"{MAX_TEXT_CHARS:,}",
                    ),
                )
            )
            self.document.refused.add(path)

    def _refuse(self, node: Node, path: Path_) -> None:
        line, column = _position(node)
        self.document.refused.add(path)
        self.document.problems.append(
            (
                line,
                column,
                _format_path(path),
                N_(
                    'YAML tag "{tag}" is not allowed: campaign files hold plain text, lists '
                    "and mappings",
                    tag=_show_tag(node.tag),
                ),
            )
        )

    @staticmethod
    def _scalar(node: ScalarNode) -> str | bool | None:
        value: str = node.value
        if node.tag == _YAML_TAG + "null":
            return None
        if node.tag == _YAML_TAG + "bool" and value.lower() in {"true", "false"}:
            return value.lower() == "true"
        return value

    def _mapping(self, node: MappingNode, path: Path_, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            self.count += 1
            line, column = _position(key_node)
            if not isinstance(key_node, ScalarNode):
                self.document.problems.append(
                    (
                        line,
                        column,
                        _format_path(path),
                        "a key must be a word, not a list or a mapping",
                    )
                )
                self.document.incomplete.add(path)
                continue
            if key_node.tag not in _ALLOWED_TAGS and key_node.tag not in _TEXT_TAGS:
                self._refuse(key_node, path)
                continue
            key = str(key_node.value)
            self._count_text(key_node, path)
            if key_node.tag == _YAML_TAG + "merge" and not key_node.style:
                self.document.problems.append(
                    (
                        line,
                        column,
                        _format_path(path),
                        'merge keys "<<" are not supported: write the keys out in full',
                    )
                )
                self.document.incomplete.add(path)
                continue
            if key in result:
                self.document.problems.append(
                    (
                        line,
                        column,
                        _format_path((*path, key)),
                        N_('key "{key}" appears twice in this mapping', key=key),
                    )
                )
                continue
            self.document.keys[(*path, key)] = (line, column)
            result[key] = self.build(value_node, (*path, key), depth + 1)
        return result


_CAMPAIGN_EMPTY = N_("the file is empty: a campaign needs at least id, title and steps")
_CAMPAIGN_KEYS = "id: ..., title: ..., steps: ..."


def _parse(text: str, *, empty: str = _CAMPAIGN_EMPTY, keys: str = _CAMPAIGN_KEYS) -> _Document:
    """Compose ``text`` safely and build plain data with positions; raises :class:`_Abort`."""
    fast_error: yaml.YAMLError | None = None
    try:
        _check_events(text, _FAST_LOADER)
        root = yaml.compose(text, Loader=_FAST_LOADER)
    except yaml.YAMLError as exc:
        fast_error = exc
    if fast_error is not None:
        try:
            _check_events(text, yaml.SafeLoader)
            yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            raise _syntax_abort(exc, text) from None
        raise _syntax_abort(fast_error, text)
    if root is None:
        raise _Abort(empty)
    builder = _Builder()
    if root.tag not in _ALLOWED_TAGS:
        builder.build(root, (), 1)
        if builder.document.problems:  # "=" alone is a plain text (YAML's value tag): go on
            problem = builder.document.problems[0]
            raise _Abort(problem[3], problem[0], problem[1])
    if not isinstance(root, MappingNode):
        kind = N_("a list") if isinstance(root, SequenceNode) else N_("a single value")
        line, column = _position(root)
        raise _Abort(
            # Translators: {keys} are the file's first keys (id: ..., title: ...), as written.
            N_("the file should be a mapping of keys ({keys}), not {kind}", keys=keys, kind=kind),
            line,
            column,
        )
    builder.document.data = builder.build(root, (), 1)
    return builder.document


# ---------------------------------------------------------------------------- pydantic errors

_MISSING = object()
_TYPE_ERRORS = frozenset(
    {
        "string_type",
        "dict_type",
        "list_type",
        "model_type",
        "model_attributes_type",
        "literal_error",
        "bool_type",
        "bool_parsing",
        "int_type",
        "int_parsing",
        "float_type",
        "float_parsing",
    }
)
# Translators: the next texts name what a campaign file should give at a place ("expected
# {expected}, got ..."); the words inside parentheses are the file's keys and values, written
# as they are.
_MODEL_WORDS = {
    "AudienceSpec": N_("a mapping such as {cohort: pilot}"),
    "ButtonSpec": N_("a button (label: ..., url: ... or action: ...)"),
    "ImageSpec": N_("an image (url: ..., alt: ...)"),
    "SenderSpec": N_("a sender (name: ..., icon: ...)"),
    "StepSpec": N_("a step (a mapping starting with id: ...)"),
    "CampaignSpec": N_("a campaign"),
    "QuestionSpec": N_("a question (a mapping starting with id: ...)"),
    "ChoiceSpec": N_("a choice (text: ..., correct: true or false)"),
    "BankSpec": N_("a quiz bank"),
    "SurveySpec": N_("a survey (anonymous: ..., questions: ...)"),
    "LeaderboardSpec": N_("a leaderboard (period: 7d, top: 10)"),
    "ChallengeSpec": N_("a challenge (a mapping starting with id: ...)"),
    "GoalSpec": N_("a goal (kind: post_in_channel, count: 3)"),
    "SurveyQuestionSpec": N_("a survey question (id: ..., kind: ..., text: ...)"),
}


def _model_words(name: str) -> str:
    """How messages name a value of the model ``name``: the schema's words, then those of
    the registered step sections (:mod:`campaigns.sections`)."""
    if name in _MODEL_WORDS:
        return _MODEL_WORDS[name]
    for section in registered():
        if section.model.__name__ == name:
            return section.words
    return N_("a mapping")


_LIST_WORDS = {
    "steps": N_("a list of steps"),
    "challenges": N_("a list of challenges"),
    "buttons": N_("a list of buttons"),
    "questions": N_("a list of questions"),
    "choices": N_("a list of choices"),
}
_DICT_WORDS = {
    "milestones": N_("a mapping of milestone names to dates (launch: 2026-09-15 09:30)"),
    "channels": N_("a mapping of channel names to platform channels (annonces: general)"),
    "audiences": N_("a mapping of audience names (pilote: {cohort: pilot})"),
}


def _either(words: Iterable[str], separator: str = "or") -> str:
    """Alternatives joined in the reader's language: ``a, or b, or c`` (``separator`` "or"
    between whole descriptions, "or-values" between values written in the file)."""
    joined: str | None = None
    for word in words:
        if joined is None:
            joined = word
        elif separator == "or":
            # Translators: two descriptions of what a file may give ("a text, or a list").
            joined = N_("{first}, or {second}", first=joined, second=word)
        else:
            # Translators: two values a file may use, as written in it ("live or daily").
            joined = N_("{first} or {second}", first=joined, second=word)
    return joined or ""


_ID_PATTERN = "^[a-z0-9][a-z0-9_-]{0,62}$"
_MILESTONE_PATTERN = "^[a-z_][a-z0-9_]{0,62}$"


def _format_path(path: Path_) -> str:
    out = ""
    for element in path:
        if isinstance(element, int):
            out += f"[{element}]"
        else:
            name = _ALIASES.get(element, element)
            out += f".{name}" if out else name
    return out


def _describe(value: Any) -> str:
    if value is None or value is _MISSING:
        # Translators: what a campaign file gave where it needed something else.
        return N_("nothing")
    if isinstance(value, bool):
        # Translators: {value} is true or false, as written in YAML; keep it as it is.
        return N_("{value} (put it in quotes if you mean the word)", value=str(value).lower())
    if isinstance(value, list):
        return N_("a list")
    if isinstance(value, dict):
        # Translators: a YAML mapping (key: value lines).
        return N_("a mapping")
    return N_("a text")


def _model_name(label: str) -> str | None:
    match = re.search(r"([A-Z]\w*)\]*$", label)
    return match.group(1) if match else None


def _label_words(label: str) -> str:
    if label.startswith("literal["):
        return _either(re.findall(r"'([^']*)'", label), "or-values") or label
    if label == "str" or label.startswith("constrained-str"):
        return N_("a text")
    if label.startswith("dict[str,str]"):
        return N_("a mapping of language to text (fr: ..., en: ...)")
    if label == "list[str]":
        return N_("a list of texts")
    if label.startswith("list["):
        return N_("a list")
    if label == "bool":
        # Translators: true and false are YAML words, written as they are.
        return N_("true or false")
    name = _model_name(label)
    if name:
        return _model_words(name)
    return N_("a mapping") if label.startswith("dict[") else label


def _label_order(label: str) -> int:
    if label.startswith("literal["):
        return 0
    if label == "str" or label.startswith("constrained-str") or label == "bool":
        return 1
    if label.startswith("list["):
        return 2
    return 3


def _fits(label: str, value: Any) -> bool:
    """Whether a union branch could take ``value`` (so its errors are the relevant ones)."""
    if isinstance(value, bool):
        return label == "bool"
    if isinstance(value, str):
        return label in {"str", "bool"} or label.startswith(("literal[", "constrained-str"))
    if isinstance(value, list):
        return label.startswith(("list[", "tuple[", "set["))
    if isinstance(value, dict):
        return label.startswith("dict[") or _model_name(label) is not None
    return False


def _unwrap(annotation: Any) -> Iterator[Any]:
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        yield from _unwrap(get_args(annotation)[0])
    elif origin is Union or origin is types.UnionType:
        for arg in get_args(annotation):
            yield from _unwrap(arg)
    else:
        yield annotation


_ROOT_MODEL: contextvars.ContextVar[type[BaseModel]] = contextvars.ContextVar(
    "root_model", default=CampaignSpec
)
"""The model of the whole file being validated (a campaign, or a quiz bank)."""


def _models_at(path: Path_) -> list[type[BaseModel]]:
    """The schema models that could describe the mapping at ``path``."""
    current: list[Any] = [_ROOT_MODEL.get()]
    for element in path:
        following: list[Any] = []
        for annotation in current:
            for candidate in _unwrap(annotation):
                origin = get_origin(candidate)
                if isinstance(element, int) and origin in (list, tuple):
                    following.extend(get_args(candidate)[:1])
                elif isinstance(element, str) and origin is dict:
                    following.extend(get_args(candidate)[1:2])
                elif (
                    isinstance(element, str)
                    and isinstance(candidate, type)
                    and issubclass(candidate, BaseModel)
                ):
                    for name, info in candidate.model_fields.items():
                        if element in {name, info.alias}:
                            following.append(info.annotation)
        current = following
    return [
        candidate
        for annotation in current
        for candidate in _unwrap(annotation)
        if isinstance(candidate, type) and issubclass(candidate, BaseModel)
    ]


def _allowed_keys(path: Path_) -> list[str]:
    keys: list[str] = []
    for model in _models_at(path):
        for name, info in model.model_fields.items():
            key = info.alias or name
            if key not in keys:
                keys.append(key)
    return keys


@dataclass
class _Issue:
    """A pydantic error placed on the YAML data: real path, union branches crossed."""

    path: Path_
    type: str
    message: str
    ctx: dict[str, Any]
    value: Any
    given: Any = None
    is_key: bool = False
    branches: list[tuple[Path_, str]] = field(default_factory=list)


def _place(error: Any, data: Any) -> _Issue:
    path: list[str | int] = []
    current = data
    is_key = False
    branches: list[tuple[Path_, str]] = []
    loc = tuple(error["loc"])
    for index, element in enumerate(loc):
        if element == "[key]":
            is_key = True
            continue
        if isinstance(element, str) and isinstance(current, dict):
            name = _ALIASES.get(element, element)
            if name in current:
                path.append(name)
                current = current[name]
                continue
            if error["type"] == "missing" and index == len(loc) - 1:
                path.append(name)
                current = _MISSING
                continue
        elif isinstance(element, int) and isinstance(current, list) and 0 <= element < len(current):
            path.append(element)
            current = current[element]
            continue
        branches.append((tuple(path), str(element)))
    return _Issue(
        path=tuple(path),
        type=error["type"],
        message=error["msg"],
        ctx=dict(error.get("ctx") or {}),
        value=current,
        given=error.get("input"),
        is_key=is_key,
        branches=branches,
    )


def _last_word(path: Path_) -> str:
    for element in reversed(path):
        if isinstance(element, str):
            return element
    return ""


def _message(issue: _Issue) -> str:
    """Plain words for one pydantic error."""
    kind, ctx, value = issue.type, issue.ctx, issue.value
    last = issue.path[-1] if issue.path else ""
    if kind == "extra_forbidden":
        key = str(last)
        allowed = _allowed_keys(issue.path[:-1])
        hint = did_you_mean(key, allowed)
        if not hint and allowed:
            hint = N_("; allowed keys: {keys}", keys=", ".join(allowed))
        elif hint:
            hint = N_(' (did you mean "{name}"?)', name=hint.split('"')[1])
        # Translators: {key} is a YAML key of the file, {hint} a suggestion or nothing.
        return N_('unknown key "{key}"{hint}', key=key, hint=hint)
    if kind == "missing":
        # Translators: {key} is a YAML key that must be written.
        return N_('missing "{key}"', key=str(last))
    if kind in {"value_error", "assertion_error"}:
        error = ctx.get("error")
        if error is not None and error.args and isinstance(error.args[0], Text):
            return error.args[0]  # a check's own message, still translatable
        return (
            str(error)
            if error is not None
            else re.sub(r"^(Value|Assertion) error, ", "", issue.message)
        )
    if kind == "string_pattern_mismatch":
        shown = str(issue.given)
        pattern = ctx.get("pattern")
        too_long = pattern in {_ID_PATTERN, _MILESTONE_PATTERN} and len(shown) > 63
        if pattern not in {_ID_PATTERN, _MILESTONE_PATTERN}:
            return N_('"{value}" is not in the expected form', value=shown)
        if pattern == _MILESTONE_PATTERN:
            if too_long:
                return N_(
                    '"{value}" is not a valid milestone name: use lowercase letters, digits '
                    "and _ (at most 63 characters)",
                    value=shown,
                )
            return N_(
                '"{value}" is not a valid milestone name: use lowercase letters, digits and _',
                value=shown,
            )
        if too_long:
            return N_(
                '"{value}" is not a valid {what}: use lowercase letters, digits, - and _ '
                "(at most 63 characters)",
                value=shown,
                what=N_("name") if issue.is_key else N_("id"),
            )
        return N_(
            '"{value}" is not a valid {what}: use lowercase letters, digits, - and _',
            value=shown,
            # Translators: a key's name, or an identifier (id) of a step, a quiz...
            what=N_("name") if issue.is_key else N_("id"),
        )
    if kind == "string_too_short":
        return N_("this text is empty") if ctx.get("min_length") == 1 else issue.message
    if kind == "string_too_long":
        return N_("this text is too long (at most {count} characters)", count=ctx.get("max_length"))
    if kind == "too_short":
        if issue.path == ("steps",):
            return N_("the list is empty: a campaign needs at least one step")
        least = ctx.get("min_length")
        if least == 1:
            return N_("the list needs at least 1 item")
        return N_("the list needs at least {count} items", count=least)
    if kind == "too_long":
        what = _last_word(issue.path) or "items"
        # Translators: {what} is the file's key for the list (steps, choices...), kept as is.
        return N_("too many {what}: at most {count}", what=what, count=ctx.get("max_length"))
    if kind == "string_type":
        return N_("expected a text, got {value}", value=_describe(value))
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        got = f'"{value}"' if isinstance(value, str) else _describe(value)
        return N_("expected a whole number, got {value}", value=got)
    if kind in {"greater_than_equal", "greater_than"}:
        bound = ctx.get("ge", ctx.get("gt"))
        return (
            N_("this number must be at least {bound}", bound=bound)
            if kind == "greater_than_equal"
            else N_("this number must be more than {bound}", bound=bound)
        )
    if kind in {"less_than_equal", "less_than"}:
        bound = ctx.get("le", ctx.get("lt"))
        return (
            N_("this number must be at most {bound}", bound=bound)
            if kind == "less_than_equal"
            else N_("this number must be less than {bound}", bound=bound)
        )
    if kind in {"bool_type", "bool_parsing"}:
        got = f'"{value}"' if isinstance(value, str) else _describe(value)
        return N_("expected true or false, got {value}", value=got)
    if kind == "list_type":
        expected: str = _LIST_WORDS.get(str(last), N_("a list"))
        return N_("expected {expected}, got {value}", expected=expected, value=_describe(value))
    if kind == "dict_type":
        words: str = N_("a mapping")
        if len(issue.path) == 1:
            words = _DICT_WORDS.get(str(last), words)
        return N_("expected {expected}, got {value}", expected=words, value=_describe(value))
    if kind in {"model_type", "model_attributes_type"}:
        words = _model_words(str(ctx.get("class_name")))
        return N_("expected {expected}, got {value}", expected=words, value=_describe(value))
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", '"')
        # Translators: {allowed} lists the values the file may use, kept as they are.
        return N_(
            '"{value}" is not allowed here: use {allowed}', value=issue.given, allowed=expected
        )
    return issue.message


def _resolve_unions(issues: list[_Issue], data: Any) -> list[tuple[_Issue, str]]:
    """One message per real place: keep the union branch that fits the value, else merge."""
    out: list[tuple[_Issue, str]] = []
    groups: dict[Path_, list[_Issue]] = {}
    for issue in issues:
        if issue.branches:
            groups.setdefault(issue.branches[0][0], []).append(issue)
        else:
            out.append((issue, _message(issue)))
    for site, group in groups.items():
        value = _value_at(data, site)
        labels = sorted(dict.fromkeys(issue.branches[0][1] for issue in group), key=_label_order)
        fitting = [label for label in labels if _fits(label, value)]
        if len(fitting) == 1:
            chosen = [issue for issue in group if issue.branches[0][1] == fitting[0]]
            shallow = all(
                issue.path == site and len(issue.branches) == 1 and issue.type in _TYPE_ERRORS
                for issue in chosen
            )
            if not shallow:
                for issue in chosen:
                    issue.branches = issue.branches[1:]
                out.extend(_resolve_unions(chosen, data))
                continue
        words = _either(dict.fromkeys(_label_words(label) for label in labels))
        head = _Issue(path=site, type="union", message="", ctx={}, value=value)
        if value is None or isinstance(value, bool):  # YAML read it as a special value
            message = N_("expected {expected}, got {value}", expected=words, value=_describe(value))
        else:
            # Translators: {expected} lists what the file may give at this place.
            message = N_("expected {expected}", expected=words)
        out.append((head, message))
    return out


def _value_at(data: Any, path: Path_) -> Any:
    current = data
    for element in path:
        try:
            current = current[element]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return current


_WHOLE_VALUE_ERRORS = frozenset({"value_error", "assertion_error"})


def _consequence(issue: _Issue, document: _Document) -> bool:
    """Whether ``issue`` only follows from a value already refused (no need to say it twice)."""
    for refused in document.refused:
        if issue.path[: len(refused)] == refused:
            return True  # inside the refused value
        if issue.type in _WHOLE_VALUE_ERRORS and refused[: len(issue.path)] == issue.path:
            return True  # a check of a mapping that lost one of its values
    place = issue.path[:-1] if issue.type == "missing" else issue.path
    return place in document.incomplete and issue.type in _WHOLE_VALUE_ERRORS | {"missing"}


def _validation_errors(
    exc: ValidationError, document: _Document
) -> list[tuple[int, int, str, str]]:
    issues = [_place(error, document.data) for error in exc.errors(include_url=False)]
    issues = [issue for issue in issues if not _consequence(issue, document)]
    found: list[tuple[int, int, str, str]] = []
    for issue, message in _resolve_unions(issues, document.data):
        if issue.type == "missing":
            parent = issue.path[:-1]
            line, column = document.value_at(parent)
            found.append((line, column, _format_path(parent), message))
            continue
        if issue.type == "extra_forbidden" or issue.is_key:
            line, column = document.key_at(issue.path)
        else:
            line, column = document.value_at(issue.path)
        found.append((line, column, _format_path(issue.path), message))
    return found


# ---------------------------------------------------------------------------- loading


M = typing.TypeVar("M", bound=BaseModel)


_COMMUNITY_KEY = re.compile(r"^community\s*:", re.MULTILINE)


def is_community_file(path: str | Path) -> bool:
    """Whether the file at ``path`` is the community file (a top-level ``community:`` key):
    it sits beside the campaigns but is not one (see :mod:`rallybot.campaigns.community`)."""
    text = read_head(path)
    return text is not None and is_community_text(text)


def is_community_text(text: str) -> bool:
    """Whether a YAML text is a community file (a top-level ``community:`` key)."""
    return _COMMUNITY_KEY.search(text) is not None


def locate(path: str | Path) -> Callable[[Path_], tuple[int, int, str]]:
    """For messages about a file's values: ``where(loc)`` gives the line, column and field
    name (``steps[2].at``) of the value at ``loc`` (``("steps", 2, "at")``); 1, 1 when the
    file cannot be read."""
    try:
        raw: bytes | None = _read(Path(path))
    except _Abort:
        raw = None
    return locate_text(raw)


def locate_text(raw: str | bytes | None) -> Callable[[Path_], tuple[int, int, str]]:
    """:func:`locate` for a file held in memory (a draft pasted in the console)."""
    try:
        document: _Document | None = _parse(_decode(raw)) if raw is not None else None
    except _Abort:
        document = None

    def where(loc: Path_) -> tuple[int, int, str]:
        loc = tuple(_ALIASES.get(part, part) if isinstance(part, str) else part for part in loc)
        line, column = document.value_at(loc) if document is not None else (1, 1)
        return line, column, _format_path(loc)

    return where


def read_head(path: str | Path, limit: int = MAX_FILE_BYTES) -> str | None:
    """The first ``limit`` bytes of a file as text (undecodable bytes replaced), or None when
    it cannot be read: enough to tell a campaign from a quiz bank, a FAQ or a rules file."""
    try:
        with Path(path).open("rb") as handle:
            return handle.read(limit + 1).decode("utf-8", errors="replace")
    except OSError:
        return None


def load_document(
    raw: str | bytes | None,
    source: str,
    model: type[M],
    *,
    path: Path | None = None,
    check: Callable[[M], Iterable[Problem]] | None = None,
    empty: str = _CAMPAIGN_EMPTY,
    keys: str = _CAMPAIGN_KEYS,
) -> tuple[M | None, list[tuple[int, int, str, str]], _Document | None]:
    """Read ``raw`` (or the file at ``path``) safely and validate it against ``model``.

    Returns the validated model (None when the file could not be read or validated), every
    mistake as ``(line, column, field, message)`` (``check`` adds the cross-field ones) and the
    document, whose ``value_at`` places further errors. Used for campaigns and quiz banks.
    """
    try:
        if path is not None:
            raw = _read(path)
        assert raw is not None
        document = _parse(_decode(raw), empty=empty, keys=keys)
    except _Abort as abort:
        return None, [(abort.line, abort.column, "", abort.message)], None

    found = list(document.problems)
    spec: M | None = None
    salvage: _Salvage[M] | None = None
    token = _ROOT_MODEL.set(model)
    try:
        spec = model.model_validate(document.data)
    except ValidationError as exc:
        found.extend(_validation_errors(exc, document))
        if check is not None:
            salvage = _salvage(document.data, exc, model)
    finally:
        _ROOT_MODEL.reset(token)
    checked = spec if spec is not None else salvage.spec if salvage is not None else None
    if checked is not None and check is not None:
        for problem in check(checked):
            if salvage is not None and salvage.hides(problem.message):
                continue  # it names something already refused above
            loc = tuple(
                _ALIASES.get(str(part), part) if isinstance(part, str) else part
                for part in problem.loc
            )
            if salvage is not None:
                loc = salvage.original(loc)
            line, column = document.value_at(loc)
            found.append((line, column, _format_path(loc), problem.message))
    return spec, found, document


def load_errors(source: str, found: Iterable[tuple[int, int, str, str]]) -> list[LoadError]:
    """The mistakes :func:`load_document` found, as errors of the file ``source``: each
    once, in the order of the file."""
    errors = [LoadError(source, *item) for item in dict.fromkeys(found)]
    errors.sort(key=lambda error: (error.line, error.column))
    return errors


T = typing.TypeVar("T")


@dataclass(frozen=True)
class DocumentKind(typing.Generic[M, T]):
    """A kind of file read with :func:`load_document` (a quiz bank, a FAQ, the community
    file): its model, the checks that need the whole file, what a valid file becomes, and how
    an empty or misshapen file is described."""

    model: type[M]
    build: Callable[[M, str], T]
    """The loaded form, from the validated model and the file's name."""
    empty: str
    keys: str
    check: Callable[[M], Iterable[Problem]] | None = None

    def read(
        self, raw: str | bytes | None, source: str, path: Path | None = None
    ) -> tuple[T | None, list[LoadError], _Document | None]:
        """The loaded file (None when it has a mistake), every mistake, and the document
        (its ``value_at`` places further errors; None when the file could not be read)."""
        spec, found, document = load_document(
            raw, source, self.model, path=path, check=self.check, empty=self.empty, keys=self.keys
        )
        errors = load_errors(source, found)
        if spec is None or errors:
            return None, errors, document
        return self.build(spec, source), [], document

    def load_text(self, text: str | bytes, source: str) -> T:
        """Load a file held in memory (``source`` names it in messages); raises
        :class:`CampaignLoadError` listing every mistake."""
        loaded, errors, _ = self.read(text, source)
        if loaded is None:
            raise CampaignLoadError(errors)
        return loaded

    def load(self, path: str | Path) -> T:
        """Load the file at ``path``; raises :class:`CampaignLoadError` listing every mistake."""
        loaded, errors, _ = self.read(None, str(path), Path(path))
        if loaded is None:
            raise CampaignLoadError(errors)
        return loaded


# A field's mistake must not hide the rest of its file: without the parts already refused,
# the file is checked again for the mistakes that need the whole file (unknown channels,
# milestones, audiences...), so one run of validate shows every error.
_SALVAGE_LISTS = ("steps", "challenges")
_SALVAGE_MAPS = frozenset({"milestones", "channels", "audiences"})
_SALVAGE_FIELDS = frozenset(
    {"timezone", "locale", "quiet_hours", "grace", "roster", "journey", "on_weekend"}
)
_SALVAGE_ROUNDS = 5


@dataclass
class _Salvage(typing.Generic[M]):
    """A file's model without its refused parts, and how to speak of the original."""

    spec: M
    kept: dict[str, list[int]]  # a list's name -> the original index of each item left
    removed: set[str]  # names of removed milestones, channels, audiences and steps

    def hides(self, message: str) -> bool:
        """Whether ``message`` is about a removed name (already reported as refused)."""
        return any(f'"{name}"' in message for name in self.removed)

    def original(self, loc: Path_) -> Path_:
        """``loc`` with list indexes of the salvaged data turned back into the file's own."""
        if len(loc) > 1 and loc[0] in self.kept and isinstance(loc[1], int):
            kept = self.kept[str(loc[0])]
            if loc[1] < len(kept):
                return (loc[0], kept[loc[1]], *loc[2:])
        return loc


def _salvage(data: Any, exc: ValidationError, model: type[M]) -> _Salvage[M] | None:
    """``model`` validated from ``data`` less the parts ``exc`` refused, or None when a
    mistake is in a part the file cannot do without (its id, every step...)."""
    if not isinstance(data, dict):
        return None
    current = copy.deepcopy(data)
    kept = {
        name: list(range(len(current[name])))
        for name in _SALVAGE_LISTS
        if isinstance(current.get(name), list)
    }
    removed: set[str] = set()
    error = exc
    for _ in range(_SALVAGE_ROUNDS):
        dropped: dict[str, set[int]] = {}
        for issue in error.errors(include_url=False):
            loc = issue["loc"]
            head = loc[0] if loc else None
            if head in kept and len(loc) > 1 and isinstance(loc[1], int):
                dropped.setdefault(str(head), set()).add(loc[1])
            elif head in _SALVAGE_MAPS and len(loc) > 1 and isinstance(current.get(head), dict):
                if loc[1] in current[head]:
                    removed.add(str(loc[1]))
                    del current[head][loc[1]]
            elif head in _SALVAGE_FIELDS and head in current:
                del current[head]
            else:
                return None
        for name, indexes in dropped.items():
            items = current[name]
            for index in indexes:
                item = items[index] if index < len(items) else None
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    removed.add(item["id"])
            current[name] = [item for i, item in enumerate(items) if i not in indexes]
            kept[name] = [old for i, old in enumerate(kept[name]) if i not in indexes]
        try:
            return _Salvage(model.model_validate(current), kept, removed)
        except ValidationError as again:
            error = again
    return None


def _load(
    raw: str | bytes | None,
    source: str,
    *,
    path: Path | None = None,
    default_quiet_hours: QuietHours | None = None,
) -> tuple[Campaign | None, list[LoadError], _Document | None]:
    spec, found, document = load_document(
        raw, source, campaign_model(), path=path, check=check_references
    )
    if document is None:
        return None, [LoadError(source, *found[0])], None

    campaign: Campaign | None = None
    if spec is not None and not found:
        try:
            campaign = compile_campaign(spec, source, default_quiet_hours=default_quiet_hours)
        except ValueError as exc:  # check_references should have caught it: still no traceback
            found.append((1, 1, "", N_("cannot compile the campaign: {problem}", problem=str(exc))))

    errors = load_errors(source, found)
    return (campaign if not errors else None), errors, document


def load_campaign_text(
    text: str | bytes, source: str, *, default_quiet_hours: QuietHours | None = None
) -> Campaign:
    """Load a campaign from memory; ``source`` names the file in messages.

    Raises :class:`CampaignLoadError` listing every mistake found.
    """
    campaign, errors, _ = _load(text, source, default_quiet_hours=default_quiet_hours)
    if campaign is None:
        raise CampaignLoadError(errors)
    return campaign


def load_campaign(path: str | Path, *, default_quiet_hours: QuietHours | None = None) -> Campaign:
    """Load one campaign file; raises :class:`CampaignLoadError` listing every mistake."""
    campaign, errors, _ = _load(
        None, str(path), path=Path(path), default_quiet_hours=default_quiet_hours
    )
    if campaign is None:
        raise CampaignLoadError(errors)
    return campaign


def yaml_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files to load, in order: folders give their ``*.yaml``/``*.yml``; each file once."""
    seen: set[Path] = set()
    for entry in paths:
        path = Path(entry)
        found = [path]
        if path.is_dir():
            # An unreadable folder stays in the list: reading it reports the problem.
            with contextlib.suppress(OSError):
                found = sorted(
                    child
                    for child in path.iterdir()
                    if child.suffix.lower() in {".yaml", ".yml"} and child.is_file()
                )
        for file in found:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                yield file


def validate_paths(
    paths: Iterable[str | Path], *, default_quiet_hours: QuietHours | None = None
) -> tuple[list[Campaign], list[LoadError]]:
    """Load every file (folders: their ``*.yaml``/``*.yml``); return campaigns and all errors.

    A campaign id used by two files is an error at the second file's ``id``.
    """
    campaigns: list[Campaign] = []
    errors: list[LoadError] = []
    owners: dict[str, str] = {}
    for path in yaml_files(paths):
        if is_community_file(path):
            continue  # the community file lives beside the campaigns
        source = str(path)
        campaign, found, document = _load(
            None, source, path=path, default_quiet_hours=default_quiet_hours
        )
        errors.extend(found)
        if campaign is None:
            continue
        if campaign.id in owners:
            line, column = document.value_at(("id",)) if document else (1, 1)
            errors.append(
                LoadError(
                    source,
                    line,
                    column,
                    "id",
                    N_(
                        'campaign id "{id}" is already used by {file}',
                        id=campaign.id,
                        file=owners[campaign.id],
                    ),
                )
            )
            continue
        owners[campaign.id] = source
        campaigns.append(campaign)
    return campaigns, errors


def field_places(raw: str | bytes | None) -> Callable[[str, str | None], str]:
    """For messages about a file held in memory: ``place(field, locale)`` gives where
    ``field`` (``steps[1].at``) is as its author reads it ("step 2 (id teaser-1), field
    at"), see :func:`rallybot.campaigns.places.field_place`."""
    try:
        data = _parse(_decode(raw)).data if raw is not None else None
    except _Abort:
        data = None

    def place(name: str, locale: str | None) -> str:
        return field_place(name, data, locale)

    return place


def field_places_of(path: str | Path) -> Callable[[str, str | None], str]:
    """:func:`field_places` for the file at ``path`` (the list elements by number alone
    when it cannot be read)."""
    try:
        raw: bytes | None = _read(Path(path))
    except _Abort:
        raw = None
    return field_places(raw)


def errors_as_read(errors: Iterable[LoadError], locale: str | None) -> list[LoadError]:
    """``errors`` as a person reads them: each field where its author reads it in the file
    ("step 2 (id teaser-1), field at", see :func:`field_places`), in ``locale``; each file
    read once, and only for a field that names a list element."""
    namers: dict[str, Callable[[str, str | None], str]] = {}
    shown: list[LoadError] = []
    for error in errors:
        if "[" not in error.field:
            shown.append(error)
            continue
        if error.file not in namers:
            namers[error.file] = field_places_of(error.file)
        shown.append(replace(error, field=namers[error.file](error.field, locale)))
    return shown
