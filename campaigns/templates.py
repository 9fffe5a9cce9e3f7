"""Message templates: ``{first_name}``, ``{days_to_launch}``, ``{launch:EEEE d MMMM}``.

Templates are parsed with :class:`string.Formatter` but never evaluated by ``str.format``:
names are looked up in a flat dictionary, so a template cannot reach attributes or items.
Milestone dates are formatted with Babel in the message's locale (CLDR patterns).
"""

from __future__ import annotations

import difflib
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from babel.dates import format_date, format_datetime

from rallybot.campaigns.dates import first_of_month
from rallybot.campaigns.messages import member
from rallybot.campaigns.words import N_

__all__ = [
    "MEMBER_VARIABLES",
    "TemplateError",
    "check_template",
    "did_you_mean",
    "render",
    "variables_for",
]

MEMBER_VARIABLES = frozenset({"first_name", "name", "team"})
"""Variables that only make sense in a direct message to one member; their values are member
text (see :func:`~campaigns.messages.member`)."""
MEMBER_VALUE_LIMIT = 100

_FORMATTER = string.Formatter()
DEFAULT_DATE_FORMAT = "d MMMM"


class TemplateError(ValueError):
    """A template that cannot be rendered."""


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    spec: str


def _fields(text: str) -> list[_Field]:
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError as exc:
        raise TemplateError(
            N_(
                "braces do not match ({problem}); write {{{{ and }}}} for literal braces",
                problem=exc.args[0],
            )
        ) from None
    fields: list[_Field] = []
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if conversion:
            raise TemplateError(
                N_(
                    '"{{{name}!{conversion}}}" is not allowed in a message',
                    name=name,
                    conversion=conversion,
                )
            )
        fields.append(_Field(name=name.strip(), spec=spec or ""))
    return fields


def variables_for(milestones: Iterable[str], *, per_member: bool) -> set[str]:
    """The variable names a message may use."""
    names = {"campaign", "date"}
    for milestone in milestones:
        names.add(milestone)
        names.add(f"days_to_{milestone}")
        names.add(f"days_since_{milestone}")
    if per_member:
        names |= MEMBER_VARIABLES
    return names


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean "x"?)`` for the closest candidate, or an empty string."""
    close = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return N_(' (did you mean "{name}"?)', name=close[0]) if close else ""


def check_template(text: str, known: set[str], *, per_member: bool) -> list[str]:
    """Every problem with ``text``: unknown variables, member variables in a channel post."""
    try:
        fields = _fields(text)
    except TemplateError as exc:
        return [exc.args[0]]
    problems: list[str] = []
    for field in fields:
        if not field.name:
            problems.append(N_("empty braces {}: name a variable, like {first_name}"))
        elif not field.name.replace("_", "").isalnum():
            problems.append(
                N_(
                    '"{{{name}}}" is not a variable name',
                    name=field.name,
                )
            )
        elif field.name in MEMBER_VARIABLES and not per_member:
            problems.append(
                N_(
                    '"{{{name}}}" only works in direct messages, not in channel posts',
                    name=field.name,
                )
            )
        elif field.name not in known:
            problems.append(
                N_(
                    'unknown variable "{{{name}}}"{hint}',
                    name=field.name,
                    hint=did_you_mean(field.name, known),
                )
            )
        elif (
            field.spec and _is_date(field.name, known) and ("%" in field.spec or "{" in field.spec)
        ):
            problems.append(
                N_(
                    '"{{{name}:{spec}}}" is not a date format: write a pattern such '
                    "as {{{name}:d MMMM}} or {{{name}:EEEE d MMMM}}",
                    name=field.name,
                    spec=field.spec,
                )
            )
    return problems


def _is_date(name: str, known: set[str]) -> bool:
    """Whether ``name`` is a date variable (a milestone or the current date)."""
    return name == "date" or f"days_to_{name}" in known


def _format_value(value: object, spec: str, locale: str) -> str:
    # French writes a month's first day "1er" ("le 1er décembre"), which CLDR does not
    if isinstance(value, datetime):
        if not spec:
            text = str(format_date(value.date(), DEFAULT_DATE_FORMAT, locale=locale))
        else:
            text = str(format_datetime(value, spec, locale=locale))
        return first_of_month(text, value.date(), locale)
    if isinstance(value, date):
        text = str(format_date(value, spec or DEFAULT_DATE_FORMAT, locale=locale))
        return first_of_month(text, value, locale)
    if spec:
        try:
            return format(value, spec)
        except (ValueError, TypeError):
            return str(value)
    return str(value)


def render(text: str, values: Mapping[str, object], locale: str) -> str:
    """Fill ``text`` with ``values``; a missing value leaves the field visibly empty.

    Raises :class:`TemplateError` for unbalanced braces (files are checked before this).
    """
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError as exc:
        raise TemplateError(
            N_(
                "braces do not match ({problem})",
                problem=exc.args[0],
            )
        ) from None
    out: list[str] = []
    for literal, name, spec, _conversion in parsed:
        out.append(literal)
        if name is None:
            continue
        value = values.get(name.strip())
        shown = "" if value is None else _format_value(value, spec or "", locale)
        if name.strip() in MEMBER_VARIABLES and shown:  # a member's name: the renderers escape it
            shown = member(shown, MEMBER_VALUE_LIMIT, empty="")
        out.append(shown)
    return "".join(out)
