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

from rallybot.campaigns.messages import member

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
            f"braces do not match ({exc}); write {{{{ and }}}} for literal braces"
        ) from None
    fields: list[_Field] = []
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if conversion:
            raise TemplateError(f'"{{{name}!{conversion}}}" is not allowed in a message')
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
    return f' (did you mean "{close[0]}"?)' if close else ""


def check_template(text: str, known: set[str], *, per_member: bool) -> list[str]:
    """Every problem with ``text``: unknown variables, member variables in a channel post."""
    try:
        fields = _fields(text)
    except TemplateError as exc:
        return [str(exc)]
    problems: list[str] = []
    for field in fields:
        if not field.name:
            problems.append("empty braces {}: name a variable, like {first_name}")
        elif not field.name.replace("_", "").isalnum():
            problems.append(f'"{{{field.name}}}" is not a variable name')
        elif field.name in MEMBER_VARIABLES and not per_member:
            problems.append(
                f'"{{{field.name}}}" only works in direct messages, not in channel posts'
            )
        elif field.name not in known:
            problems.append(f'unknown variable "{{{field.name}}}"{did_you_mean(field.name, known)}')
        elif (
            field.spec and _is_date(field.name, known) and ("%" in field.spec or "{" in field.spec)
        ):
            problems.append(
                f'"{{{field.name}:{field.spec}}}" is not a date format: write a pattern such as '
                f"{{{field.name}:d MMMM}} or {{{field.name}:EEEE d MMMM}}"
            )
    return problems


def _is_date(name: str, known: set[str]) -> bool:
    """Whether ``name`` is a date variable (a milestone or the current date)."""
    return name == "date" or f"days_to_{name}" in known


def _format_value(value: object, spec: str, locale: str) -> str:
    if isinstance(value, datetime):
        if not spec:
            return str(format_date(value.date(), DEFAULT_DATE_FORMAT, locale=locale))
        return str(format_datetime(value, spec, locale=locale))
    if isinstance(value, date):
        return str(format_date(value, spec or DEFAULT_DATE_FORMAT, locale=locale))
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
        raise TemplateError(f"braces do not match ({exc})") from None
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
