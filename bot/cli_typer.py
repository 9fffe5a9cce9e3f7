"""Typer's and Click's own words ("Usage:", "Options", "Missing argument"...) in the command
line's language.

Why not a translation of the default gettext domain, installed before Typer is imported (what
Click proper would read)? Typer 0.29 ships its own copy of Click with gettext taken out: its
"Usage:", "Missing argument" and "No such option" are plain f-strings, and only a few words of
Typer's own still pass through ``gettext`` (its rich panels' titles, read once at import, and
"No such command"). So the least fragile way that covers them all:

- the words are ours: their English is written below with ``N_`` and extracted into our
  catalogs like any other word; no build step reads the installed Typer's sources;
- before each run (Typer builds a fresh command tree for each), :func:`apply` puts them in
  through Typer's own seams: the rich module's constants (read by its functions at each call),
  Typer's ``_`` (its gettext), each command's ``context_class`` (whose formatter writes
  "Usage:"), ``options_metavar`` and ``subcommand_metavar``, each parameter's ``metavar``;
- a usage error is rewritten by :func:`translate_error` from its fields (the parameter, the
  option's name, the possibilities, the validation error behind it), not from its English
  text, but for the few errors that carry nothing else (unexpected extra arguments, an option
  missing its value), recognized by their pattern.

Whatever a later Typer changes falls back to its English, and tests/test_cli_words.py, which
lists those English words, fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import typer
import typer.core
import typer.rich_utils
from typer._click.core import Context
from typer._click.exceptions import (
    BadParameter,
    MissingParameter,
    NoArgsIsHelpError,
    NoSuchOption,
    UsageError,
)
from typer._click.formatting import HelpFormatter

from rallybot.bot import i18n
from rallybot.bot.i18n import N_

__all__ = ["apply", "argument_names", "translate_error", "typer_words"]

# The rich help's and errors' fixed words, by the name of their constant in typer.rich_utils.
# Translators: the words of the command line's help ("rallybot --help"); {} is a value or a
# variable's name, [blue]...[/] a colour: keep both.
_RICH_WORDS = {
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"),
    "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commands"),
    "ERRORS_PANEL_TITLE": N_("Error"),
    "ABORTED_TEXT": N_("Aborted."),
    "RICH_HELP": N_("Try [blue]'{command_path} {help_option}'[/] for help."),
    "DEFAULT_STRING": N_("[default: {}]"),
    "ENVVAR_STRING": N_("[env var: {}]"),
    "REQUIRED_LONG_STRING": N_("[required]"),
    "DEPRECATED_STRING": N_("(deprecated) "),
}

# The words Typer itself passes to gettext (typer.core's ``_``): the same English, so that
# our catalogs answer its calls.
_TYPER_GETTEXT = (
    N_("Missing command."),
    N_("No such command {name!r}."),
    N_("Aborted!"),
    N_("(dynamic)"),
    N_("default: {default}"),
    N_("required"),
    N_("env var: {var}"),
)

_USAGE = N_("Usage: ")
_OPTIONS = N_("[OPTIONS]")
_COMMAND = N_("COMMAND [ARGS]...")
_HELP = N_("Show this message and exit.")

# The placeholder of an option's value, by the type Typer would show (<str>, <path>...); a
# flag takes no value and shows none, a choice shows its values (they are typed as they are).
_VALUE_WORDS = {
    "<str>": N_("TEXT"),
    "<path>": N_("PATH"),
    "<list[Path]>": N_("PATH"),
    "<int>": N_("INTEGER"),
    "<int range>": N_("INTEGER"),
    "<float>": N_("NUMBER"),
}

_words: str | None = None
"""The language of the current run's Typer words (set by :func:`apply`)."""


def _say(message: str) -> str:
    return i18n.gettext(_words, message)


class _Formatter(HelpFormatter):
    """Click's help formatter, with "Usage:" in the command line's language."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        """Write the usage line, its prefix translated."""
        super().write_usage(prog, args, _say(_USAGE) if prefix is None else prefix)


class _Context(Context):
    """Click's context, whose formatter speaks the command line's language."""

    formatter_class = _Formatter


def _commands(command: Any) -> Iterator[Any]:
    """``command`` and every command under it."""
    yield command
    for sub in getattr(command, "commands", {}).values():
        yield from _commands(sub)


def argument_names(command: object) -> Iterator[str]:
    """The placeholder of every argument of the command tree (``PATHS``: its name in capitals),
    shown in the usage line, the help and the errors; ``make catalogs`` extracts them
    (tools/cli_pot.py)."""
    for each in _commands(command):
        for param in each.params:
            if isinstance(param, typer.core.TyperArgument):
                yield _placeholder(param)


def _placeholder(param: typer.core.TyperArgument) -> str:
    # Kept on the parameter: apply() replaces metavar with its translation.
    english = getattr(param, "_rallybot_placeholder", None)
    if english is None:
        english = str(param.name).upper()
        param._rallybot_placeholder = english  # type: ignore[attr-defined]
    return str(english)


class _Argument(typer.core.TyperArgument):
    """An argument shown by its name, as a command line's usage conventionally does:
    ``PATHS...`` when required, ``[REVISION]`` when not. Typer 0.29 writes ``{paths}...``,
    which reads as a set of choices (argparse's notation) holding the word "paths"."""

    def get_usage_pieces(self, ctx: Any) -> list[str]:
        """The argument in the usage line."""
        name = self.display_name_raw + ("..." if self.nargs != 1 else "")
        return [name if self.required else f"[{name}]"]

    def display_type_rich(self, ctx: Any) -> str | None:
        """No type beside the name (it is a placeholder already), but the choices."""
        return super().display_type_rich(ctx) if self.type_descriptor.is_choice else None


def apply(root: Any, locale: str | None) -> None:
    """Put Typer's words in ``locale``'s language for the run of the command tree ``root``."""
    global _words
    _words = locale
    for name, english in _RICH_WORDS.items():
        if hasattr(typer.rich_utils, name):  # a constant a later Typer drops is not added
            setattr(typer.rich_utils, name, _say(english))
    # Typer's own gettext calls ("No such command"): ours, whatever the default domain holds.
    setattr(typer.core, "_", _say)  # noqa: B010 (a private name: no attribute to type)
    for command in _commands(root):
        command.context_class = _Context
        if command.options_metavar == "[OPTIONS]":
            command.options_metavar = _say(_OPTIONS)
        if getattr(command, "subcommand_metavar", None) == "COMMAND [ARGS]...":
            command.subcommand_metavar = _say(_COMMAND)
        help_option = command.get_help_option(_Context(command))
        if help_option is not None:
            help_option.help = _say(_HELP)
        for param in [*command.params, *([help_option] if help_option else [])]:
            _name_value(command, param)


def _name_value(command: Any, param: Any) -> None:
    """The placeholder of ``param``'s value, in the run's language."""
    if isinstance(param, typer.core.TyperArgument):
        english = _placeholder(param)
        # Same layout, one method more: Typer builds its arguments itself, with no class
        # to choose, and a fresh tree each run.
        param.__class__ = _Argument
        param.metavar = _say(english)
    elif isinstance(param, typer.core.TyperOption) and param.metavar is None:
        if param.is_flag:
            param.metavar = ""  # a flag takes no value: Typer 0.29 would show <bool>
        else:
            shown = param.display_type(_Context(command))
            if shown in _VALUE_WORDS:
                param.metavar = _say(_VALUE_WORDS[shown])


def typer_words() -> list[str]:
    """Every English word of this module, for the tests."""
    return [
        *_RICH_WORDS.values(),
        *_TYPER_GETTEXT,
        _USAGE,
        _OPTIONS,
        _COMMAND,
        _HELP,
        *_VALUE_WORDS.values(),
        *_ERROR_WORDS,
    ]


# ------------------------------------------------------------------------------ errors

_ERROR_WORDS = (
    N_("Missing argument {name}."),
    N_("Missing option {name}."),
    N_("Missing parameter {name}."),
    N_("Choose from:"),
    N_("No such option: {name}"),
    N_("(Possible options: {options})"),
    N_("Option {name} does not take a value."),
    N_("Invalid value for {name}: {problem}"),
    N_("Invalid value: {problem}"),
    N_("Did you mean {commands}?"),
    N_("{value} is not a whole number."),
    N_("{value} is not a number."),
    N_("{value} is more than {limit}."),
    N_("{value} is less than {limit}."),
    N_("{value} is not one of {choices}."),
)

_EXTRA = re.compile(r"Got unexpected extra argument\(s\) \((?P<args>.*)\)", re.DOTALL)
_NO_VALUE = re.compile(r"Option (?P<name>.+) does not take a value\.")
_NEEDS = re.compile(r"Option (?P<name>.+) requires (?:an argument|(?P<n>\d+) arguments)\.")
_TAKES = re.compile(r"Argument (?P<name>.+) takes (?P<n>\d+) values\.")
_SUGGESTION = re.compile(r"(?P<message>.*)\. Did you mean (?P<commands>.+)\?", re.DOTALL)


def _hint(hint: Sequence[str] | str | None) -> str | None:
    if hint is None or isinstance(hint, str):
        return hint
    return " / ".join(repr(x) for x in hint)


def _value_problem(exc: BadParameter, locale: str | None) -> str:
    """Why a value was refused: the validation error behind Typer's English message, in
    ``locale``'s language; a message of ours (already translated) stays as it is."""
    cause = exc.__cause__
    errors = getattr(cause, "errors", None)
    if not callable(errors):
        return exc.message
    try:
        first = errors()[0]
    except (IndexError, TypeError):
        return exc.message
    value, limits = repr(first.get("input")), first.get("ctx") or {}
    kind = str(first.get("type", ""))
    if kind.startswith("int_"):
        return i18n.gettext(locale, "{value} is not a whole number.").format(value=value)
    if kind.startswith("float_"):
        return i18n.gettext(locale, "{value} is not a number.").format(value=value)
    if kind in {"less_than_equal", "less_than"}:
        limit = limits.get("le", limits.get("lt"))
        return i18n.gettext(locale, "{value} is more than {limit}.").format(
            value=value, limit=limit
        )
    if kind in {"greater_than_equal", "greater_than"}:
        limit = limits.get("ge", limits.get("gt"))
        return i18n.gettext(locale, "{value} is less than {limit}.").format(
            value=value, limit=limit
        )
    param = exc.param
    choices = getattr(getattr(param, "type_descriptor", None), "choices", None)
    if choices:
        shown = ", ".join(repr(str(getattr(c, "value", c))) for c in choices)
        return i18n.gettext(locale, "{value} is not one of {choices}.").format(
            value=value, choices=shown
        )
    return exc.message


def _missing(exc: MissingParameter, locale: str | None) -> str:
    param = exc.param
    hint = _hint(exc.param_hint) or (param.get_error_hint() if param is not None else "")
    kind = exc.param_type or (param.param_type_name if param is not None else "parameter")
    message = {
        "argument": "Missing argument {name}.",
        "option": "Missing option {name}.",
    }.get(kind, "Missing parameter {name}.")
    text = i18n.gettext(locale, message).format(name=hint)
    extra = param.get_missing_message(ctx=exc.ctx) if param is not None else None
    if extra and extra.startswith("Choose from:"):
        extra = i18n.gettext(locale, "Choose from:") + extra.removeprefix("Choose from:")
    parts = [exc.message, extra] if exc.message else [extra]
    return " ".join([text, *(p for p in parts if p)])


def _error_text(exc: UsageError, locale: str | None) -> str | None:
    """``exc``'s message in ``locale``'s language, or None when it is not one Typer writes."""
    if isinstance(exc, MissingParameter):
        return _missing(exc, locale)
    if isinstance(exc, BadParameter):
        hint = _hint(exc.param_hint) or (exc.param.get_error_hint() if exc.param else None)
        problem = _value_problem(exc, locale)
        if hint is None:
            return i18n.gettext(locale, "Invalid value: {problem}").format(problem=problem)
        return i18n.gettext(locale, "Invalid value for {name}: {problem}").format(
            name=hint, problem=problem
        )
    if isinstance(exc, NoSuchOption):
        text = exc.message
        if text.startswith("No such option: "):
            text = i18n.gettext(locale, "No such option: {name}").format(
                name=text.partition(": ")[2]
            )
        if exc.possibilities:
            options = ", ".join(sorted(exc.possibilities))
            text += " " + i18n.gettext(locale, "(Possible options: {options})").format(
                options=options
            )
        return text
    if isinstance(exc, UsageError):  # BadOptionUsage, BadArgumentUsage, ctx.fail()
        if found := _NO_VALUE.fullmatch(exc.message):
            return i18n.gettext(locale, "Option {name} does not take a value.").format(
                name=found["name"]
            )
        if found := _NEEDS.fullmatch(exc.message):
            n = int(found["n"] or 1)
            return i18n.ngettext(
                locale, "Option {name} needs {n} value.", "Option {name} needs {n} values.", n
            ).format(name=found["name"], n=n)
        if found := _TAKES.fullmatch(exc.message):
            n = int(found["n"])
            return i18n.ngettext(
                locale, "Argument {name} takes {n} value.", "Argument {name} takes {n} values.", n
            ).format(name=found["name"], n=n)
        if found := _EXTRA.fullmatch(exc.message):
            extra = found["args"]
            n = len(extra.split())
            return i18n.ngettext(
                locale,
                "{n} argument too many: {arguments}",
                "{n} arguments too many: {arguments}",
                n,
            ).format(n=n, arguments=extra)
        if found := _SUGGESTION.fullmatch(exc.message):
            # "No such command" came through typer.core's _ (translated); Typer adds the
            # suggestion in English after it.
            then = i18n.gettext(locale, "Did you mean {commands}?").format(
                commands=found["commands"]
            )
            return f"{found['message'].rstrip('.')}. {then}"
    return None


def translate_error(exc: UsageError, locale: str | None) -> UsageError:
    """``exc`` told in ``locale``'s language: the same error (class, context, exit code),
    whose message is rewritten. A help page raised as an error (``no_args_is_help``) and a
    message Typer does not write are left as they are."""
    if isinstance(exc, NoArgsIsHelpError):
        return exc
    text = _error_text(exc, locale)
    if text is None:
        return exc
    told = UsageError(text, exc.ctx)
    told.exit_code = exc.exit_code
    return told
