"""The ``rallybot`` command line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from babel.core import Locale, UnknownLocaleError
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer._click.exceptions import UsageError
from typer.core import TyperGroup

from rallybot.bot import cli_typer, formats, i18n
from rallybot.bot.config import (
    InvalidSettings,
    Settings,
    campaigns_problem,
    database_problem,
    hide_password,
    load_settings,
    parse_quiet_hours,
    path_problems,
    raw_variables,
    setting_sources,
    shown_value,
)
from rallybot.bot.extras import MissingExtraError, missing_extra
from rallybot.campaigns import words as file_words

if TYPE_CHECKING:
    from collections.abc import Iterable

    from rallybot.campaigns.community import Community
    from rallybot.campaigns.loader import LoadError
    from rallybot.campaigns.roster import RosterEntry
    from rallybot.campaigns.timeline import WaveRow
    from rallybot.storage.database import Database
    from rallybot.storage.migrate import SchemaStatus
    from rallybot.storage.models import CampaignState

__all__ = [
    "app",
    "example_comment_id",
    "example_comments",
    "example_settings",
    "help_texts",
    "main",
]


def help_texts(command: object, path: str = "rallybot") -> Iterator[tuple[str, object, str]]:
    """Every help text of ``command`` (the command tree Typer builds) and of its subcommands,
    options and arguments: where it is shown (``rallybot db upgrade --revision``), what holds
    it, and the text. ``make catalogs`` extracts them from here (tools/cli_pot.py), and they
    are translated here."""
    text = getattr(command, "help", None)
    if isinstance(text, str) and text:
        yield path, command, text
    for param in getattr(command, "params", ()):
        text = getattr(param, "help", None)  # typer's arguments have a help too
        if isinstance(text, str) and text:
            yield f"{path} {param.opts[0] if param.opts else param.name}", param, text
    # Typer ships its own copy of click: its groups are told by their commands.
    for name, sub in getattr(command, "commands", {}).items():
        yield from help_texts(sub, f"{path} {name}")


def _help_locale(args: Sequence[str]) -> str:
    """The language of the command line's words, decided before the arguments are parsed
    (help is printed while they are, before the settings and even ``--locale``'s callback are
    read): a ``--locale`` among the arguments, else ``RALLYBOT_LOCALE`` from the environment,
    else from the ``--env-file`` among the arguments (or ``RALLYBOT_ENV_FILE``, else ``.env``),
    as the settings read it, else the settings' default."""
    found: str | None = None
    env_file: str | None = None
    for index, arg in enumerate(args):
        if arg in {"--locale", "--env-file"} and index + 1 < len(args):
            if arg == "--locale":
                found = args[index + 1]
            else:
                env_file = args[index + 1]
        elif arg.startswith("--locale="):
            found = arg.partition("=")[2]
        elif arg.startswith("--env-file="):
            env_file = arg.partition("=")[2]
    if found is not None and not _is_language(found):
        found = None  # refused by --locale's check, in the language of what follows
    env_file = env_file or os.environ.get("RALLYBOT_ENV_FILE", "").strip() or None
    return found or _settings_locale(Path(env_file) if env_file else None)


def _settings_locale(env_file: Path | None) -> str:
    """``RALLYBOT_LOCALE`` as the settings read it (the environment, else ``env_file`` or
    ``.env``), unchecked, else the settings' default."""
    default = str(Settings.model_fields["locale"].default)
    return raw_variables(env_file).get("RALLYBOT_LOCALE", "").strip() or default


def _is_language(code: str) -> bool:
    """Whether Babel knows ``code`` as a language (``fr``, ``fr-CA``, ``de_DE``)."""
    try:
        Locale.parse(code.strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return False
    return True


class _RootGroup(TyperGroup):
    """The ``rallybot`` command: its help texts, and every subcommand's, in the language of
    the command line, and so are Typer's own words and usage errors
    (:mod:`rallybot.bot.cli_typer`). Typer builds a fresh command tree for each run, so
    translating the texts in place before parsing changes nothing else."""

    _words: str | None = None

    def main(self, args: Sequence[str] | None = None, *rest: Any, **extra: Any) -> Any:
        """Translate the help texts, then run as usual."""
        locale = _help_locale(sys.argv[1:] if args is None else args)
        for _, holder, text in list(help_texts(self)):
            setattr(holder, "help", i18n.gettext(locale, text))  # noqa: B010 (any holder)
        cli_typer.apply(self, locale)
        self._words = locale
        global _run_words
        _run_words = locale
        return super().main(args, *rest, **extra)

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        """The root's context; a usage error in its options is told in the run's language."""
        try:
            return super().make_context(*args, **kwargs)
        except UsageError as exc:
            raise cli_typer.translate_error(exc, self._words) from exc.__cause__

    def invoke(self, ctx: Any) -> Any:
        """Run the command; a usage error in a subcommand's arguments (or an unknown command)
        is told in the run's language."""
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            raise cli_typer.translate_error(exc, self._words) from exc.__cause__


app = typer.Typer(
    cls=_RootGroup,
    name="rallybot",
    help="Run the launch and daily life of an internal community on Slack, Discord or the console.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema: upgrade and inspect migrations.", no_args_is_help=True)
campaign_app = typer.Typer(help="List, pause and resume campaigns.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(campaign_app, name="campaign")
roster_app = typer.Typer(help="Import the roster of invited members.", no_args_is_help=True)
app.add_typer(roster_app, name="roster")
discord_app = typer.Typer(help="Discord: add the bot to a server.", no_args_is_help=True)
app.add_typer(discord_app, name="discord")
slack_app = typer.Typer(help="Slack: install the app in a workspace.", no_args_is_help=True)
app.add_typer(slack_app, name="slack")
teams_app = typer.Typer(
    help="Teams from platform groups (RALLYBOT_TEAM_GROUPS).", no_args_is_help=True
)
app.add_typer(teams_app, name="teams")
config_app = typer.Typer(help="Settings: the example environment file.", no_args_is_help=True)
app.add_typer(config_app, name="config")
examples_app = typer.Typer(
    help="The example campaign, quiz, FAQ and rules files shipped with Rallybot.",
    no_args_is_help=True,
)
app.add_typer(examples_app, name="examples")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


class Format(StrEnum):
    """Output formats of ``plan``."""

    table = "table"
    json = "json"
    ics = "ics"  # a calendar file: rallybot plan c.yaml --format ics > timeline.ics
    html = "html"  # one page to share


class Output(StrEnum):
    """Output formats of ``roster import`` and ``teams sync``."""

    text = "text"
    json = "json"


class ClockKind(StrEnum):
    """Which clock ``run`` uses."""

    system = "system"
    simulated = "simulated"


#: ``--env-file``: the settings file read instead of ``.env`` (set by the main callback).
_env_file: Path | None = None
_locale: str | None = None  # --locale: the language of the CLI's words, over RALLYBOT_LOCALE
#: The run's language as decided before its arguments were parsed (see :func:`_help_locale`).
_run_words: str | None = None


def _early_words() -> str:
    """The language of the CLI's words when the settings are not read (or cannot be):
    ``--locale``, else ``RALLYBOT_LOCALE`` from the environment, ``--env-file`` or ``.env``,
    else the settings' default; the same as the help's (:func:`_help_locale`). A
    ``RALLYBOT_LOCALE`` that is no language code gives English, the language of the message
    ids (as the catalogs do for any unknown language): nothing tells which language its
    writer reads."""
    return _locale or _run_words or _settings_locale(_env_file)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"rallybot {version('rallybot')}")
        except PackageNotFoundError:  # run from a source tree that was never installed
            unknown = i18n.gettext(_early_words(), "rallybot (version unknown: not installed)")
            typer.echo(unknown)
        raise typer.Exit()


def _check_locale(value: str | None) -> str | None:
    """``--locale``: a language code Babel knows, else a usage error."""
    if value is None:
        return None
    try:
        Locale.parse(value.strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        # The code given is no language: say so in RALLYBOT_LOCALE's (or the default's).
        problem = i18n.gettext(
            _early_words(), '"{value}" is not a language code (use fr, en, es, de, fr_CA...)'
        )
        raise typer.BadParameter(problem.format(value=value)) from None
    return value.strip()


def _words(settings: Settings) -> str:
    """The language of the CLI's words: ``--locale``, else ``RALLYBOT_LOCALE``."""
    return _locale or settings.locale


@app.callback()
def _main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    env_file: Annotated[
        Path | None,
        typer.Option(
            "--env-file",
            envvar="RALLYBOT_ENV_FILE",
            help="Read settings from this file instead of .env in the working folder.",
        ),
    ] = None,
    locale: Annotated[
        str | None,
        typer.Option(
            "--locale",
            callback=_check_locale,
            help="The language of the report and of the commands' messages (fr, en, es, de...); "
            "default: RALLYBOT_LOCALE.",
        ),
    ] = None,
) -> None:
    """Run the launch and daily life of an internal community on Slack, Discord or the
    console."""
    global _env_file, _locale
    _env_file = env_file
    _locale = locale
    # The installed features, for the step sections they add to campaign files (poll:...):
    # rallybot check and plan read those files without starting a bot.
    import rallybot.bot.assembly  # noqa: F401


def _settings() -> Settings:
    """The settings, read once; every problem is one line on stderr, then exit 2. The lines
    are in the language of ``--locale``, else ``RALLYBOT_LOCALE``, even when the settings
    themselves are broken."""
    try:
        settings, warnings = load_settings(_env_file)
    except InvalidSettings as exc:
        _echo_problems(exc.problems, _early_words())
        raise typer.Exit(2) from None
    _echo_problems(warnings, _words(settings))
    return settings


def _echo_problems(lines: Iterable[str], locale: str) -> None:
    """Settings problems (messages of :mod:`rallybot.bot.config`) on stderr, one a line, in
    ``locale``'s language; names, values and paths stay as typed."""
    for line in lines:
        typer.echo(file_words.render(line, locale), err=True)


def _token_platforms(settings: Settings) -> list[str]:
    """The chat platforms whose token is set."""
    tokens = (("slack", settings.slack_bot_token), ("discord", settings.discord_token))
    return [name for name, token in tokens if token is not None]


def _unknown_people(
    settings: Settings, platform: str, community: Community, path: Path
) -> list[LoadError]:
    """The community file's people that ``platform`` does not know, as errors at their place
    (one error for the whole file when the platform cannot be reached)."""
    import contextlib

    from rallybot.bot.adapters.base import AdapterError, PlatformStartError, create_adapter
    from rallybot.bot.clock import SystemClock
    from rallybot.bot.community import members_by_email, resolve
    from rallybot.bot.events import Event
    from rallybot.campaigns.loader import LoadError, locate
    from rallybot.storage.database import create_database

    async def check() -> list[str]:
        db = create_database(settings.database_url)  # lookups only
        kwargs: dict[str, object] = {}
        if platform in {"slack", "discord"}:
            kwargs = {"settings": settings, "db": db, "clock": SystemClock(), "http_port": None}
        if platform == "discord":
            kwargs["sync_commands"] = False
        adapter = create_adapter(platform, **kwargs)

        async def ignore(event: Event) -> None:
            """Events arriving during the check are not for validate."""

        try:
            if platform == "discord":
                await adapter.start(ignore)  # names are looked up in the member list
            # E-mails the platform cannot look up: among the members the rosters brought.
            members = members_by_email(db, platform)
            return (await resolve(community, adapter, platform, members=members)).unresolved
        finally:
            with contextlib.suppress(Exception):
                await adapter.stop()
            await db.dispose()

    try:
        unresolved = asyncio.run(check())
    except (PlatformStartError, AdapterError, OSError) as exc:
        why = file_words.N_(
            "cannot check its people on {platform} ({problem}); they are checked at start",
            platform=platform,
            problem=str(exc),
        )
        return [LoadError(str(path), 1, 1, "community", why)]
    where = locate(path)
    places = community.places()
    found: list[LoadError] = []
    for person in unresolved:
        line, column, field = where(places.get(person, ()))
        message = file_words.N_(
            '"{person}" is not a {platform} account: check the spelling, or name them by id',
            person=person,
            platform=platform,
        )
        found.append(LoadError(str(path), line, column, field, message))
    return found


@app.command()
def validate(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Campaign files, quiz banks, FAQs, rules files, or folders of them."),
    ],
    strict: Annotated[
        bool, typer.Option("--strict", help="Warnings fail too (exit 1), as errors do.")
    ] = False,
    platform: Annotated[
        str | None,
        typer.Option(
            help="Find the community file's people on this platform now (default: Slack or "
            "Discord when its token is set)."
        ),
    ] = None,
) -> None:
    """Check everything a run will read, in one pass, with every error and warning.

    Campaign files, quiz banks, FAQs, rules, the community file, the rosters the campaigns
    name and the settings; each problem as file:line:column: field: message, then a summary
    that adds up.
    """
    from rallybot.bot.community import assume_found, legacy_notes, overlay
    from rallybot.bot.reloads import committed_rename_warnings
    from rallybot.bot.rota import staffing_warnings
    from rallybot.campaigns.checks import campaign_warnings, channel_warnings, text_warnings
    from rallybot.campaigns.community import load_community, person_kind, roster_date_format
    from rallybot.campaigns.faq import is_faq_file, load_faqs
    from rallybot.campaigns.loader import (
        CampaignLoadError,
        LoadError,
        errors_as_read,
        field_places_of,
        is_community_file,
        locate,
        yaml_files,
    )
    from rallybot.campaigns.planner import MemberView
    from rallybot.campaigns.quiz import validate_all
    from rallybot.campaigns.roster import RosterLoadError, read_roster, summarize_errors
    from rallybot.campaigns.rules import RulesLoadError, is_rules_file, load_rules
    from rallybot.campaigns.words import render

    missing = [p for p in paths if not p.exists()]
    named_rules = [p for p in paths if p.is_file() and is_rules_file(p)]
    listed = list(yaml_files(p for p in paths if p.exists() and p not in named_rules))
    # A rules file beside the campaigns is checked as one, not read as a broken campaign.
    rules_files = [*named_rules, *(p for p in listed if is_rules_file(p))]
    listed = [p for p in listed if p not in rules_files]
    faq_files = [p for p in listed if is_faq_file(p)]  # help channel FAQs: a top-level "faq:"
    campaigns, banks, errors = validate_all([p for p in listed if p not in faq_files])
    faqs, faq_errors = load_faqs(faq_files)
    errors.extend(faq_errors)
    valid_rules = 0
    for path in rules_files:  # points rules files, named one by one
        try:
            load_rules(path)
            valid_rules += 1
        except RulesLoadError as exc:
            errors.extend(exc.errors)
    # What a run reads besides the files: the settings (through the community file). Their
    # problems are errors here too; their quiet hours apply to campaigns that set none.
    settings_problems: list[str] = []
    settings: Settings | None = None
    quiet = parse_quiet_hours("21:00-08:00")
    try:
        settings, _ = load_settings(_env_file)
    except InvalidSettings as exc:
        settings_problems = exc.problems
    # broken settings: their problems (and the rest) still in --locale's or RALLYBOT_LOCALE's
    words = _words(settings) if settings is not None else _early_words()
    # Translators: the word before a problem that does not fail validate (file:1:2: warning: ...).
    warning_word = i18n.gettext(words, "warning")
    notes: list[str] = []
    unchecked: list[tuple[str, int, int, str]] = []
    unlisted: tuple[Path, list[str]] | None = None  # the community file, people to find
    listed_emails: set[str] = set()  # the e-mails of the campaigns' rosters
    communities = 0
    community_files = [p for p in listed if is_community_file(p)]
    for path in community_files[1:]:
        errors.append(
            LoadError(
                str(path),
                1,
                1,
                "community",
                file_words.N_(
                    "a second community file: one community per bot (the first is {first})",
                    first=str(community_files[0]),
                ),
            )
        )
    for path in community_files[:1]:
        try:
            community = load_community(path)
        except CampaignLoadError as exc:
            errors.extend(exc.errors)
            continue
        communities += 1
        checked_on: list[str] = []
        if settings is not None:  # the run will read the settings through the file
            checked_on = [platform] if platform else _token_platforms(settings)
            for name in checked_on:
                errors.extend(_unknown_people(settings, name, community, path))
            settings = overlay(settings, assume_found(community))
        named = [p for p in community.people() if person_kind(p) != "id"]
        if named and not checked_on:
            # No platform: the console's, where the rosters bring the people named by e-mail.
            # Those the campaigns' rosters list are checked; say so for the others only,
            # once the rosters are read (below).
            unlisted = (path, named)
    warnings: list[tuple[str, int, int, str]] = [*unchecked]  # file, line, column, text
    if settings is not None:
        quiet = settings.quiet
    # Slack and Discord post by channel id: with a platform configured, say which logical
    # channels are not mapped to one.
    channel_map = settings.channel_map if settings is not None else {}
    configured_platforms = [
        name
        for name, token in (
            ("slack", settings.slack_bot_token if settings else None),
            ("discord", settings.discord_token if settings else None),
        )
        if token is not None
    ]
    rosters: dict[Path, int] = {}  # roster file -> members read (or -1: errors)
    for path in listed:
        text = path.read_text(encoding="utf-8", errors="replace")
        for w in text_warnings(text, str(path)):
            shown = render(w.message, words)
            text_line = f"{w.file}:{w.line}:{w.column}: {warning_word}: {shown}"
            warnings.append((w.file, w.line, w.column, text_line))
    for campaign in campaigns:
        members: list[MemberView] = []
        roster_file = (
            Path(campaign.source).parent / campaign.roster_path if campaign.roster_path else None
        )
        if roster_file is not None:
            try:
                roster = read_roster(
                    roster_file,
                    default_timezone=campaign.spec.timezone,
                    date_format=roster_date_format(paths),
                )
            except RosterLoadError as exc:
                errors.extend(exc.errors)
                rosters[roster_file] = -1
            else:
                rosters[roster_file] = len(roster.entries)
                listed_emails.update(e.email.strip().lower() for e in roster.entries if e.email)
                members = [
                    MemberView(
                        key=e.id or e.email or e.discord or f"row{e.line}",
                        locale=e.locale,
                        timezone=e.timezone,
                        joined_at=e.start_date,
                        team=e.team,
                        cohort=e.cohort,
                        groups=frozenset(e.groups),
                    )
                    for e in roster.entries
                ]
        where = locate(campaign.source)
        # where a problem is as its author reads the file, not the loader's 0-based path
        field_place = field_places_of(campaign.source)
        for loc, message in [
            *campaign_warnings(
                campaign,
                members,
                roster_given=roster_file is not None and rosters.get(roster_file, -1) >= 0,
                default_timezone=campaign.spec.timezone,
                default_quiet_hours=quiet,
            ),
            *committed_rename_warnings(campaign),  # a step renamed without renamed_from
            *[
                warning
                for platform in configured_platforms
                for warning in channel_warnings(campaign, channel_map, platform)
            ],
        ]:
            line, column, field = where(loc)
            field = field_place(field, words)
            shown = render(message, words)
            text = f"{campaign.source}:{line}:{column}: {warning_word}: {field}: {shown}"
            warnings.append((campaign.source, line, column, text))
    # People named by e-mail that a campaign's roster lists are found on the console
    # platform (the roster brings them): only the others are unchecked.
    unfound = (
        []
        if unlisted is None
        else [p for p in unlisted[1] if p.strip().lower() not in listed_emails]
    )
    if unlisted is not None and unfound:
        community_path = unlisted[0]
        line, column, _ = locate(community_path)(("community",))
        why = i18n.ngettext(
            words,
            "{n} person named by email or handle not checked (no platform configured: set "
            "its token or pass --platform); the bot finds them when it starts and leaves "
            "out, with a warning, anyone it cannot find",
            "{n} people named by email or handle not checked (no platform configured: set "
            "its token or pass --platform); the bot finds them when it starts and leaves "
            "out, with a warning, anyone it cannot find",
            len(unfound),
        ).format(n=len(unfound))
        text = f"{community_path}:{line}:{column}: {warning_word}: {why}"
        warnings.append((str(community_path), line, column, text))
    if settings is not None:  # who the run would tell: managers for evidence, help clocks
        evidence = any(
            challenge.goal.kind == "submit_evidence"
            for campaign in campaigns
            for challenge in campaign.spec.challenges
        )
        for message in staffing_warnings(
            settings.admins,
            settings.managers_channel,
            settings.help_channel,
            settings.rota,
            evidence=evidence,
            locale=words,
        ):
            warnings.append(("settings", 0, 0, f"settings: {warning_word}: {message}"))

    for path in missing:
        typer.echo(i18n.gettext(words, "{path}: no such file or folder").format(path=path))
    for problem in settings_problems:
        typer.echo(f"settings: {file_words.render(problem, words)}")
    for summary in summarize_errors(errors_as_read(errors, words), locale=words):
        typer.echo(summary)
    for *_, text in sorted(warnings):
        typer.echo(text)
    for note in [*notes, *legacy_notes(raw_variables(_env_file), words)]:
        typer.echo(note)

    checked = len(listed) + len(rules_files) + len(missing) + len(rosters)
    failed = len({e.file for e in errors}) + len(missing)
    error_count = len(errors) + len(missing) + len(settings_problems)
    valid_rosters = sum(1 for n in rosters.values() if n >= 0)
    counted = [
        (
            communities,
            i18n.ngettext(words, "{n} community file", "{n} community files", communities),
        ),
        (len(campaigns), i18n.ngettext(words, "{n} campaign", "{n} campaigns", len(campaigns))),
        (len(banks), i18n.ngettext(words, "{n} quiz bank", "{n} quiz banks", len(banks))),
        (len(faqs), i18n.ngettext(words, "{n} FAQ file", "{n} FAQ files", len(faqs))),
        # Translators: a points rules file (rules.yaml).
        (valid_rules, i18n.ngettext(words, "{n} rules file", "{n} rules files", valid_rules)),
        (valid_rosters, i18n.ngettext(words, "{n} roster", "{n} rosters", valid_rosters)),
    ]
    valid = [text.format(n=n) for n, text in counted if n]
    valid_text = ", ".join(valid)
    warnings_text = i18n.ngettext(words, "{n} warning", "{n} warnings", len(warnings))
    warnings_text = warnings_text.format(n=len(warnings))
    if error_count:
        place = ""
        if failed:
            # Translators: {failed} files of {n} have errors.
            place = i18n.ngettext(
                words,
                "in {failed} of {n} file checked",
                "in {failed} of {n} files checked",
                checked,
            ).format(failed=failed, n=checked)
        if settings_problems:
            settings_place = i18n.gettext(words, "in the settings")
            if place:
                # Translators: joins "in 2 of 5 files checked" and "in the settings".
                settings_place = i18n.gettext(words, "{first} and {second}").format(
                    first=place, second=settings_place
                )
            place = settings_place
        # Whole sentences, not pieces joined here: each language puts its own punctuation
        # (French spaces before ";" and ":").
        if warnings:
            # Translators: {errors} is "3 errors", {place} where ("in 2 of 5 files
            # checked"), {warnings} "2 warnings", {valid} the list of valid files ("2
            # campaigns, 1 quiz bank").
            summary = i18n.gettext(words, "✗ {errors} {place}, {warnings}; valid: {valid}.")
        else:
            # Translators: {errors} is "3 errors", {place} where ("in 2 of 5 files
            # checked"), {valid} the list of valid files ("2 campaigns, 1 quiz bank").
            summary = i18n.gettext(words, "✗ {errors} {place}; valid: {valid}.")
        out.print(
            summary.format(
                errors=i18n.ngettext(words, "{n} error", "{n} errors", error_count).format(
                    n=error_count
                ),
                place=place,
                warnings=warnings_text,
                # Translators: what validate found valid when no file of any kind is.
                valid=valid_text or i18n.pgettext(words, "valid files", "none"),
            ),
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    if warnings and strict:
        summary = i18n.ngettext(
            words,
            "✗ {warnings} (--strict) in {n} file checked; valid: {valid}.",
            "✗ {warnings} (--strict) in {n} files checked; valid: {valid}.",
            checked,
        )
        out.print(
            summary.format(
                warnings=warnings_text,
                n=checked,
                valid=valid_text or i18n.pgettext(words, "valid files", "none"),
            ),
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    # What was checked, then the verdict: the list of files in brackets, so that it is not
    # read as the warnings' list.
    files = i18n.ngettext(words, "{n} file checked", "{n} files checked", checked)
    files = files.format(n=checked) + (f" ({valid_text})" if valid_text else "")
    if warnings:
        # Translators: {files} is "5 files checked (2 campaigns, 1 roster)", {warnings}
        # "2 warnings".
        summary = i18n.gettext(words, "✓ {files}: no errors, {warnings}.")
    else:
        # Translators: {files} is "5 files checked (2 campaigns, 1 roster)".
        summary = i18n.gettext(words, "✓ {files}: no errors.")
    out.print(
        summary.format(files=files, warnings=warnings_text),
        markup=False,
        soft_wrap=True,
    )


def _parse_when(text: str | None, campaign: object) -> datetime | None:
    from rallybot.campaigns.schema import Campaign
    from rallybot.campaigns.timeexpr import TimeExprError, parse_time_expr

    if text is None:
        return None
    assert isinstance(campaign, Campaign)
    try:
        expr = parse_time_expr(text, allow_join=False)
        if expr.anchor not in {"absolute", *campaign.milestones}:
            raise TimeExprError(f'unknown milestone "{expr.anchor}"')
        return expr.resolve(campaign.zone, campaign.milestones)
    except TimeExprError as exc:
        # The time expression's own problem stays in English (the campaign language's).
        err.print(f"{text}: {exc}", style="red", markup=False)
        raise typer.Exit(2) from None


@app.command()
def plan(
    path: Annotated[Path, typer.Argument(help="A campaign file.")],
    roster: Annotated[
        Path | None, typer.Option(help="Roster CSV of members (default: the file's roster:).")
    ] = None,
    from_: Annotated[
        str | None,
        typer.Option("--from", help='Start: a date, "2026-09-01 08:00" or "launch - 7d".'),
    ] = None,
    to: Annotated[str | None, typer.Option(help="End (same forms as --from).")] = None,
    format: Annotated[
        Format, typer.Option(help="table, json, ics (a calendar file) or html (one page).")
    ] = Format.table,
    member: Annotated[
        str | None,
        typer.Option(help="One person's whole journey: their id, email or Discord name."),
    ] = None,
) -> None:
    """Show the timeline: what goes to whom, when, in which language.

    Every kind of step (posts, direct messages, quizzes, digests), in the campaign's time and
    each recipient's own.
    """
    from rallybot.campaigns.community import roster_date_format
    from rallybot.campaigns.loader import CampaignLoadError, load_campaign
    from rallybot.campaigns.planner import MemberView, openings
    from rallybot.campaigns.roster import RosterLoadError, load_roster
    from rallybot.campaigns.timeline import default_window, timeline
    from rallybot.campaigns.timeline import waves as wave_rows

    settings = _settings()
    words = _words(settings)
    try:
        campaign = load_campaign(path, default_quiet_hours=settings.quiet)
    except CampaignLoadError as exc:
        for error in exc.errors:
            typer.echo(error.text(words), err=True)
        raise typer.Exit(1) from None
    roster_path = roster
    if roster_path is None and campaign.roster_path:
        roster_path = path.parent / campaign.roster_path
    members: list[MemberView] = []
    if roster_path is not None:
        try:
            entries = load_roster(
                roster_path,
                default_timezone=campaign.spec.timezone,
                date_format=roster_date_format([path.parent]),
            )
        except RosterLoadError as exc:
            for error in exc.errors:
                typer.echo(error.text(words), err=True)
            raise typer.Exit(1) from None
        except OSError as exc:
            err.print(f"{roster_path}: {exc.strerror or exc}", markup=False)
            raise typer.Exit(1) from None
        members = [
            MemberView(
                key=e.id or e.email or f"row{i}",
                name=e.name,
                first_name=e.first_name,
                locale=e.locale,
                timezone=e.timezone,
                joined_at=e.start_date,
                team=e.team,
                cohort=e.cohort,
                groups=frozenset(e.groups),
            )
            for i, e in enumerate(entries, start=2)
            if member is None
            or member.casefold()
            in {(e.id or "").casefold(), (e.email or "").casefold(), (e.discord or "").casefold()}
        ]
    if member is not None and not members:
        missing = (
            i18n.gettext(words, "No member {member} in {roster}.")
            if roster_path is not None
            else i18n.gettext(words, "No member {member} (no roster: give --roster).")
        )
        err.print(
            missing.format(member=member, roster=roster_path),
            style="red",
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(2)
    start, end = default_window(campaign, members)
    start = _parse_when(from_, campaign) or start
    end = _parse_when(to, campaign) or end
    if end <= start:
        err.print(i18n.gettext(words, "--to must come after --from"), style="red")
        raise typer.Exit(2)
    rows = timeline(
        campaign,
        members,
        start,
        end,
        default_timezone=settings.timezone,
        openings=openings(members, [campaign]),
    )
    if format is Format.json:
        typer.echo(json.dumps([r.to_json() for r in rows], ensure_ascii=False, indent=2))
        return
    if format is Format.ics:
        from rallybot.bot.timeline_export import to_ics

        sys.stdout.buffer.write(to_ics(rows, campaign_title=campaign.spec.title, words=words))
        return
    if format is Format.html:
        from rallybot.bot.timeline_export import to_html

        typer.echo(
            to_html(
                rows, campaign_title=campaign.spec.title, zone=campaign.spec.timezone, words=words
            ),
            nl=False,
        )
        return
    table = Table(title=f"{campaign.spec.title} — {campaign.spec.timezone}", show_lines=False)
    columns = (
        i18n.pgettext(words, "plan column", "When"),
        # Translators: the recipient's local time.
        i18n.pgettext(words, "plan column", "Their time"),
        i18n.pgettext(words, "plan column", "Step"),
        i18n.pgettext(words, "plan column", "To"),
        # Translators: the language of the message (a short column header).
        i18n.pgettext(words, "plan column", "Lang"),
        "#",
        i18n.pgettext(words, "plan column", "Preview"),
    )
    for column in columns:
        table.add_column(column, overflow="fold")
    marks = {"post": "", "dm": "✉ ", "quiz": "? ", "digest": "Σ "}
    # Translators: a message sent under another name ("as Alice").
    sent_as = i18n.gettext(words, " · as {sender}")
    pinned = i18n.gettext(words, " · pinned")
    for r in rows:
        to_text = marks.get(r.kind, "") + r.target
        if r.sender:
            to_text += sent_as.format(sender=r.sender)
        if r.pin:
            to_text += pinned
        table.add_row(
            formats.weekday_iso(words, r.due_local),
            f"{r.recipient_local:%H:%M} {r.zone}" if r.kind == "dm" else "",
            r.step,
            to_text,
            r.locale,
            str(r.count),
            r.preview,
        )
    out.print(table)
    total = sum(r.count for r in rows)
    parts = (
        i18n.ngettext(words, "{n} message", "{n} messages", total).format(n=total),
        i18n.ngettext(words, "in {n} send", "in {n} sends", len(rows)).format(n=len(rows)),
    )
    roster_part = i18n.ngettext(
        words, "{n} member in the roster", "{n} members in the roster", len(members)
    ).format(n=len(members))
    # Translators: "64 messages" "in 37 sends", "6 members in the roster".
    last = i18n.gettext(words, "{messages} {sends}, {members}.")
    out.print(last.format(messages=parts[0], sends=parts[1], members=roster_part), markup=False)
    _print_waves(wave_rows(campaign, members), campaign.spec.timezone, words)


def _print_waves(rows: Sequence[WaveRow], zone: str, words: str | None) -> None:
    """The waves under the timeline: when each opens and who waits for it."""
    if not rows:
        return
    title = i18n.gettext(words, "Waves — nobody hears anything before their wave opens ({zone})")
    table = Table(title=title.format(zone=zone))
    for column in (
        i18n.pgettext(words, "plan column", "Wave"),
        i18n.pgettext(words, "plan column", "Opens"),
        # Translators: how many members wait for the wave (a column of numbers).
        i18n.pgettext(words, "plan column", "Waiting"),
        i18n.pgettext(words, "plan column", "Members"),
    ):
        table.add_column(column, overflow="fold")
    # Translators: the command stays as it is.
    manual = i18n.gettext(words, "manual: /rallybot wave open {wave}")
    for row in rows:
        opens = (
            formats.weekday_iso(words, row.opens_local)
            if row.opens_local is not None
            else manual.format(wave=row.name)
        )
        shown = ", ".join(row.members[:5]) + (" …" if len(row.members) > 5 else "")
        table.add_row(row.name, opens, str(len(row.members)), shown)
    out.print(table)


@app.command()
def run(
    platform: Annotated[
        str, typer.Option(help="Chat platform: console (a terminal), slack or discord.")
    ] = "console",
    campaigns: Annotated[
        list[Path] | None, typer.Option(help="Campaign files or folders (default: settings).")
    ] = None,
    roster: Annotated[Path | None, typer.Option(help="Import this roster CSV at start.")] = None,
    clock: Annotated[ClockKind, typer.Option(help="system or simulated.")] = ClockKind.system,
    start: Annotated[
        str | None,
        typer.Option(
            help='Simulated clock start, e.g. "2026-08-10 08:00", in the community\'s time zone '
            '(RALLYBOT_TIMEZONE) unless it says its offset ("2026-08-10 08:00+02:00", "…Z").'
        ),
    ] = None,
    speed: Annotated[float, typer.Option(help="Simulated seconds per real second.")] = 1.0,
    watch: Annotated[bool, typer.Option(help="Reload campaign files when they change.")] = True,
    interactive: Annotated[
        bool, typer.Option(help="Console only: read commands from the keyboard.")
    ] = True,
    worker_id: Annotated[str | None, typer.Option(help="Name of this replica in logs.")] = None,
    http: Annotated[
        bool,
        typer.Option(
            "--http",
            help="Slack only: receive events over HTTP (/slack/events) instead of Socket Mode.",
        ),
    ] = False,
    port: Annotated[
        int | None,
        typer.Option(
            help="Port of the bot's HTTP server: probes, /metrics and, with --http, "
            "/slack/events (default: RALLYBOT_HTTP_PORT, 8080).",
            min=1,
            max=65535,
        ),
    ] = None,
) -> None:
    """Run the bot until interrupted (Ctrl-C or SIGTERM finish the sends under way)."""
    from rallybot.bot.adapters.base import ADAPTERS, PlatformStartError
    from rallybot.bot.http import HttpServer
    from rallybot.bot.runner import run_bot, simulated_start

    if platform not in ADAPTERS:
        known = ", ".join(sorted(ADAPTERS))
        unknown = i18n.gettext(
            _early_words(), 'Unknown platform "{platform}" (available: {known}).'
        )
        err.print(unknown.format(platform=platform, known=known), style="red", markup=False)
        raise typer.Exit(2)
    settings = _settings()
    words = _words(settings)
    if problems := path_problems(settings):  # files named in the settings, before any wait
        _echo_problems(problems, words)
        raise typer.Exit(2)
    if clock is ClockKind.simulated:
        try:
            simulated_start(start, settings.timezone)
        except ValueError:
            unreadable = i18n.gettext(
                words,
                'Cannot read --start "{start}": write a date and time like "2026-09-28 06:00" '
                '(in {zone}), or with its offset: "2026-09-28 06:00+02:00".',
            )
            shown = unreadable.format(start=start, zone=settings.timezone)
            err.print(shown, style="red", markup=False, soft_wrap=True)
            raise typer.Exit(2) from None
    campaign_paths = campaigns or [settings.campaigns_dir]
    for folder in campaign_paths:
        # not "0 campaigns loaded": the bot would run with nothing
        if (none := campaigns_problem(folder, setting=False)) is not None:
            shown = file_words.render(none, words)
            err.print(shown, style="red", markup=False, soft_wrap=True)
            raise typer.Exit(2)
    try:
        code = asyncio.run(
            run_bot(
                settings,
                platform=platform,
                campaign_paths=campaign_paths,
                roster=roster,
                simulated=clock is ClockKind.simulated,
                start=start,
                speed=speed,
                watch=watch,
                interactive=interactive,
                worker_id=worker_id,
                console=out,
                http_port=(port or settings.http_port) if http else None,
                server=(
                    HttpServer(
                        settings.http_host, port, forwarded_allow_ips=settings.forwarded_allow_ips
                    )
                    if port is not None
                    else None
                ),
                words=words,
            )
        )
    except PlatformStartError as exc:
        cannot = i18n.gettext(words, "Cannot start on {platform}: {problem}")
        err.print(
            cannot.format(platform=platform, problem=exc), style="red", markup=False, soft_wrap=True
        )
        raise typer.Exit(2) from None
    raise typer.Exit(code)


@app.command()
def demo(
    lang: Annotated[str, typer.Option(help="fr or en: which example campaign to play.")] = "fr",
) -> None:
    """Play the example launch campaign on the console, J-35 to J+14, on a simulated clock."""
    from rallybot.bot.demo import run_demo

    if lang not in {"fr", "en"}:
        wrong = i18n.gettext(_early_words(), '--lang is "fr" or "en"')
        err.print(wrong, style="red", markup=False)
        raise typer.Exit(2)
    # The demo's settings start from the environment too: one line per problem.
    words = _words(_settings())
    raise typer.Exit(asyncio.run(run_demo(lang=lang, console=out, locale=words)))


@app.command("try")
def try_(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Your campaign files (and quiz banks, FAQs), or their folder."),
    ],
    from_: Annotated[
        str | None,
        typer.Option(
            "--from", help='Start, in the campaign\'s time zone: "launch - 7d", "2027-03-01 08:00".'
        ),
    ] = None,
    to: Annotated[str | None, typer.Option(help="End (same forms as --from).")] = None,
    speed: Annotated[
        float,
        typer.Option(help="Simulated hours per real second, to watch it unfold (0: at once)."),
    ] = 0.0,
) -> None:
    """Play your own campaign on the console before it goes live.

    A simulated clock, a throwaway database and the roster your campaign names, from the
    first message to the last.
    """
    from rallybot.bot.demo import run_try

    missing = [p for p in paths if not p.exists()]
    no_such = i18n.gettext(_early_words(), "{path}: no such file or folder")
    for path in missing:
        err.print(no_such.format(path=path), style="red", markup=False)
    if missing:
        raise typer.Exit(2)
    words = _words(_settings())  # its settings start from the environment too
    played = run_try(paths, console=out, start=from_, end=to, speed=speed, locale=words)
    raise typer.Exit(asyncio.run(played))


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Create or migrate the database schema."""
    from rallybot.storage.database import create_database
    from rallybot.storage.migrate import SchemaError, current_revision, upgrade

    settings = _settings()
    asyncio.run(_wait_for_db(settings))  # a one-shot migration job may start before PostgreSQL
    safe = create_database(settings.database_url).safe_url
    try:
        upgrade(settings.database_url, revision)  # under the migration lock
    except SchemaError as exc:
        err.print(f"[red]{exc}[/red]", soft_wrap=True)
        raise typer.Exit(2) from None
    done = i18n.gettext(_words(settings), "Database {url} is at revision {revision}.")
    reached = current_revision(settings.database_url)
    out.print(done.format(url=safe, revision=reached), markup=False, soft_wrap=True)


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database."""
    from rallybot.storage.migrate import current_revision

    settings = _settings()
    try:
        revision = current_revision(settings.database_url)
    except Exception as exc:  # an inspection answers at once: one line, no traceback, no wait
        if missing_extra(exc) is not None:
            raise  # no driver, not an unreachable database: main() names the extra
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        unreachable = i18n.gettext(_words(settings), "Database unreachable: {problem}")
        problem = f"{type(exc).__name__}: {reason}"
        err.print(unreachable.format(problem=problem), style="red", markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    # Translators: the database has no schema yet; the command stays as it is.
    out.print(revision or i18n.gettext(_words(settings), "empty (run: rallybot db upgrade)"))


@db_app.command("backup")
def db_backup(
    path: Annotated[Path, typer.Argument(help="The backup file to write.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Back up the database while the bot runs (SQLite: online backup; PostgreSQL: pg_dump)."""
    from rallybot.storage.backup import BackupError, backup

    settings = _settings()
    words = _words(settings)
    if path.exists() and not force:
        exists = i18n.gettext(words, "{path} exists: choose another name or pass --force.")
        err.print(exists.format(path=path), style="red", markup=False)
        raise typer.Exit(1)
    try:
        backup(settings.database_url, path)
    except BackupError as exc:
        failed = i18n.gettext(words, "Backup failed: {problem}")
        err.print(failed.format(problem=exc), style="red", markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    size = path.stat().st_size
    saved = i18n.ngettext(
        words, "Backed up to {path} ({n} byte).", "Backed up to {path} ({n} bytes).", size
    )
    out.print(saved.format(path=path, n=size), markup=False, soft_wrap=True)


@db_app.command("restore")
def db_restore(
    path: Annotated[Path, typer.Argument(help="A file written by rallybot db backup.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Do not ask: the current content is replaced.")
    ] = False,
) -> None:
    """Replace the database with a backup (stop the bots first; then rallybot db upgrade)."""
    from rallybot.storage.backup import BackupError, restore
    from rallybot.storage.database import create_database

    settings = _settings()
    words = _words(settings)
    safe = create_database(settings.database_url).safe_url
    ask = i18n.gettext(words, "Replace everything in {url} with {path}?")
    if not yes and not typer.confirm(ask.format(url=safe, path=path)):
        raise typer.Exit(1)
    try:
        restore(settings.database_url, path)
    except BackupError as exc:
        failed = i18n.gettext(words, "Restore failed: {problem}")
        err.print(failed.format(problem=exc), style="red", markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    restored = i18n.gettext(words, "Restored {path} into {url}.")
    out.print(restored.format(path=path, url=safe), markup=False, soft_wrap=True)


_SETTING_LINE = re.compile(r"(?:# )?[A-Z][A-Z0-9_]*=")  # a setting, maybe commented out


def example_comments() -> Iterator[tuple[int, list[str]]]:
    """The comment blocks of the example settings file (config.example.env): the line each
    starts on and its lines, without "# ". The settings' lines, even commented out
    (``# RALLYBOT_RETENTION_DAYS=30``), are no comment. ``make catalogs`` extracts each
    block as one message (tools/cli_pot.py)."""
    from importlib.resources import files

    text = files("rallybot.bot").joinpath("config.example.env").read_text(encoding="utf-8")
    block: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("#") and not _SETTING_LINE.match(line):
            if not block:
                start = number
            block.append(line.removeprefix("#").strip())
            continue
        if block:
            yield start, block
            block = []
    if block:
        yield start, block


def example_comment_id(lines: Sequence[str]) -> str:
    """The message of a comment block: its lines joined by spaces (the file's line breaks
    only wrap the text)."""
    return " ".join(lines)


def example_settings(locale: str | None) -> str:
    """The example settings file with its comments in ``locale``'s language; the settings'
    names and values stay as they are. In English, the file itself, byte for byte."""
    import textwrap
    from importlib.resources import files

    text = files("rallybot.bot").joinpath("config.example.env").read_text(encoding="utf-8")
    lines = text.splitlines()
    for start, block in sorted(example_comments(), reverse=True):  # from the end: lines move
        english = example_comment_id(block)
        told = i18n.gettext(locale, english)
        if told == english:
            continue  # as written, wrapped by hand
        wrapped = textwrap.wrap(told, width=98, break_long_words=False, break_on_hyphens=False)
        lines[start - 1 : start - 1 + len(block)] = [f"# {line}" for line in wrapped]
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


@config_app.command("example")
def config_example() -> None:
    """Print the example settings file, every setting explained: rallybot config example > .env"""
    try:  # the settings' language, but a broken .env must not stop the example of a good one
        settings, _ = load_settings(_env_file)
        words = _words(settings)
    except InvalidSettings:
        words = _early_words()
    typer.echo(example_settings(words), nl=False)


@config_app.command("check")
def config_check(
    show: Annotated[
        bool, typer.Option("--show", help="List every setting, its value and where it comes from.")
    ] = False,
    format: Annotated[
        Format, typer.Option(help="table, or json: every setting with its value and source.")
    ] = Format.table,
) -> None:
    """Check the settings as rallybot run does, without starting anything: exit 0 when they are
    valid, 2 with one line per problem. Secrets are never shown."""
    settings = _settings()
    words = _words(settings)
    problems = path_problems(settings)
    # rallybot run refuses to start without its campaigns folder: not "valid" here either
    if (none := campaigns_problem(settings.campaigns_dir, setting=True)) is not None:
        problems.append(none)
    if problems:
        _echo_problems(problems, words)
        raise typer.Exit(2)
    sources = setting_sources(_env_file)
    rows = [
        (names[0], shown_value(getattr(settings, name)), sources[name])
        for name, names in ((n, _setting_names(n)) for n in type(settings).model_fields)
    ]
    if format is Format.json:
        listed = {variable: {"value": value, "source": source} for variable, value, source in rows}
        typer.echo(json.dumps({"valid": True, "settings": listed}, ensure_ascii=False, indent=2))
        return
    # Where a value comes from: the three kinds of source that are words; a file's name or a
    # NAME_FILE variable stays as it is.
    source_words = {
        # Translators: where a setting's value comes from (rallybot config check).
        "environment": i18n.pgettext(words, "setting source", "environment"),
        "secrets folder": i18n.pgettext(words, "setting source", "secrets folder"),
        "default": i18n.pgettext(words, "setting source", "default"),
    }
    if show:
        table = Table(
            # Translators: column headers of rallybot config check --show.
            i18n.pgettext(words, "config check column", "Variable"),
            i18n.pgettext(words, "config check column", "Value"),
            i18n.pgettext(words, "config check column", "Source"),
        )
        for variable, value, source in rows:
            table.add_row(variable, value, source_words.get(source, source))
        out.print(table)
    counts: dict[str, int] = {}
    for _, _, source in rows:
        counts[source] = counts.get(source, 0) + 1
    # Translators: how many settings come from a source ("12 from environment").
    from_source = i18n.gettext(words, "{n} from {source}")
    where = ", ".join(
        from_source.format(n=formats.number(words, n), source=source_words.get(source, source))
        for source, n in sorted(counts.items())
    )
    valid = i18n.gettext(words, "Settings are valid: {sources}.")
    out.print(valid.format(sources=where), markup=False, soft_wrap=True)


def _setting_names(field_name: str) -> list[str]:
    """The environment variables of a setting (the first is the one to write)."""
    alias = Settings.model_fields[field_name].validation_alias
    choices = getattr(alias, "choices", None) or [field_name.upper()]
    return [str(choice) for choice in choices]


@examples_app.command("copy")
def examples_copy(
    folder: Annotated[Path, typer.Argument(help="Where to copy them (created if needed).")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite files already there.")] = False,
) -> None:
    """Copy the example campaigns (en, fr) and their editor schemas into a folder of yours."""
    from rallybot.campaigns.editor_schema import EXAMPLES

    sources = sorted(p for p in EXAMPLES.rglob("*") if p.is_file() and p.suffix != ".pyc")
    sources = [p for p in sources if "__pycache__" not in p.parts]
    clashes = [folder / p.relative_to(EXAMPLES) for p in sources]
    clashes = [p for p in clashes if p.exists()]
    words = _early_words()  # no settings needed to copy files
    if clashes and not force:
        clash = i18n.ngettext(
            words,
            "{n} file already in {folder} (first: {first}): pass --force to overwrite it.",
            "{n} files already in {folder} (first: {first}): pass --force to overwrite them.",
            len(clashes),
        )
        err.print(
            escape(clash.format(n=len(clashes), folder=folder, first=clashes[0])),
            style="red",
            soft_wrap=True,
        )
        raise typer.Exit(1)
    for source in sources:
        target = folder / source.relative_to(EXAMPLES)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
    done = i18n.ngettext(
        words,
        "Copied {n} file into {folder}. Next: rallybot validate {next}",
        "Copied {n} files into {folder}. Next: rallybot validate {next}",
        len(sources),
    )
    # The examples in the reader's language when there are some (fr_CA reads fr), else English.
    language = words.replace("-", "_").split("_")[0].lower()
    shown = language if (EXAMPLES / language).is_dir() else "en"
    out.print(
        escape(done.format(n=len(sources), folder=folder, next=folder / shown)), soft_wrap=True
    )


class SchemaKind(StrEnum):
    """File kinds with a JSON Schema."""

    campaign = "campaign"
    quiz = "quiz"
    faq = "faq"
    rules = "rules"
    community = "community"


@app.command()
def schema(
    kind: Annotated[SchemaKind, typer.Argument(help="campaign, quiz, faq or rules.")],
) -> None:
    """Print the JSON Schema of a file kind, for editors (yaml-language-server, VS Code)."""
    from rallybot.campaigns.editor_schema import schema_text

    typer.echo(schema_text(kind.value), nl=False)


async def _wait_for_db(settings: Settings) -> None:
    """Wait up to RALLYBOT_DB_WAIT_SECONDS for the database; else one line and exit 2."""
    from rallybot.storage.database import DatabaseUnreachable, wait_for_database

    try:
        await wait_for_database(settings.database_url, within=settings.db_wait_seconds)
    except DatabaseUnreachable as exc:
        typer.echo(file_words.render(database_problem(exc), _words(settings)), err=True)
        raise typer.Exit(2) from None
    except ValueError as exc:  # an in-memory SQLite URL: valid for embedding, not for a command
        shown = hide_password(settings.database_url)
        # Translators: DATABASE_URL and the URL stay as they are; the problem is in English.
        invalid = i18n.gettext(_words(settings), 'Invalid setting DATABASE_URL="{url}": {problem}.')
        typer.echo(invalid.format(url=shown, problem=exc), err=True)
        raise typer.Exit(2) from None


async def _with_db(settings: Settings) -> Database:
    """The database, migrated to head first (under the migration lock): for commands that
    write. Exits with a message when the schema cannot be used."""
    from rallybot.storage.database import create_database
    from rallybot.storage.migrate import SchemaError, ensure_schema

    await _wait_for_db(settings)
    try:
        await ensure_schema(settings.database_url)
    except SchemaError as exc:
        err.print(f"[red]{exc}[/red]", soft_wrap=True)
        raise typer.Exit(2) from None
    return create_database(settings.database_url)


def _check_schema(settings: Settings) -> None:
    """For read-only commands: never migrate; exit 1 with an explanation when the schema is
    not the one this version expects."""
    from rallybot.storage.migrate import schema_status

    try:
        status = schema_status(settings.database_url)
    except Exception as exc:
        if missing_extra(exc) is not None:
            raise  # no driver, not an unreachable database: main() names the extra
        unreachable = i18n.gettext(_words(settings), "Database unreachable: {problem}")
        problem = f"{type(exc).__name__}: {exc}"
        err.print(unreachable.format(problem=problem), style="red", markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    if not status.at_head:
        err.print(
            _schema_problem(status, _words(settings)), style="red", markup=False, soft_wrap=True
        )
        raise typer.Exit(1)


def _schema_problem(status: SchemaStatus, words: str | None) -> str:
    """Why a read-only command cannot use the database's schema, and what to do, in the
    CLI's language (:meth:`SchemaStatus.explain` is the logs' English)."""
    if status.empty:
        # Translators: the commands stay as they are.
        return i18n.gettext(
            words,
            "The database has no schema yet: run `rallybot db upgrade` (or start the bot, "
            "which migrates it).",
        )
    if status.ahead:
        ahead = i18n.gettext(
            words,
            "The database schema is at revision {current}, which this version of Rallybot "
            "does not know (it expects {head}): a newer version migrated it.",
        )
        return ahead.format(current=status.current, head=status.head)
    behind = i18n.gettext(
        words,
        "The database schema is behind: revision {current}, this version of Rallybot needs "
        "{head}. Run `rallybot db upgrade` (or start the bot, which migrates it).",
    )
    return behind.format(current=status.current, head=status.head)


async def _read_db(settings: Settings) -> Database:
    """The database for a read-only command, which never migrates it."""
    from rallybot.storage.database import create_database

    return create_database(settings.database_url)


@campaign_app.command("list")
def campaign_list(
    format: Annotated[
        Format, typer.Option(help="table, or json: one object per campaign, counts by step.")
    ] = Format.table,
) -> None:
    """The campaigns the database knows, their state and their deliveries."""
    from rallybot.bot.reloads import load_absences
    from rallybot.handlers.admin.service import state_word
    from rallybot.storage.outbox import counts_by_step
    from rallybot.storage.repositories import list_states

    settings = _settings()
    words = _words(settings)
    _check_schema(settings)

    async def main() -> None:
        db = await _read_db(settings)
        try:
            states = await list_states(db)
            counts = await counts_by_step(db)
            absences = await load_absences(db)
        finally:
            await db.dispose()
        if format is Format.json:
            typer.echo(json.dumps(_campaigns_json(states, counts), ensure_ascii=False, indent=2))
            return
        if not states:
            text = i18n.gettext(
                words, "No campaign yet: start the bot once (rallybot run) to load the files."
            )
            out.print(text, markup=False)
            return
        table = Table()
        for column in (
            i18n.gettext(words, "Campaign"),
            # Translators: column headers of rallybot campaign list.
            i18n.pgettext(words, "campaign list", "Title"),
            i18n.pgettext(words, "campaign list", "State"),
            i18n.pgettext(words, "campaign list", "Sent"),
            i18n.pgettext(words, "campaign list", "Pending"),
            i18n.pgettext(words, "campaign list", "Skipped"),
            i18n.pgettext(words, "campaign list", "Source"),
        ):
            table.add_column(column)
        for s in states:
            mine = [c for c in counts if c[0] == s.id]
            total = {
                st: sum(n for _, _, x, n in mine if x == st)
                for st in ("sent", "pending", "skipped")
            }
            since = absences.get(s.id)
            state = state_word(words, s.status)
            if since is not None:
                missing = i18n.gettext(words, "{state}: file missing since {when} UTC")
                state = missing.format(state=state, when=formats.moment(words, since, "MMMd"))
            table.add_row(
                s.id,
                s.title,
                state,
                *(formats.number(words, total[x]) for x in ("sent", "pending", "skipped")),
                s.source,
            )
        out.print(table)

    asyncio.run(main())


def _campaigns_json(
    states: Sequence[CampaignState], counts: Iterable[tuple[str, str, str, int]]
) -> list[dict[str, object]]:
    """``campaign list --format json``: each campaign with its deliveries by status, in all
    and step by step."""
    rows: list[dict[str, object]] = []
    for state in states:
        totals: dict[str, int] = {}
        steps: dict[str, dict[str, int]] = {}
        for campaign_id, step, status, n in counts:
            if campaign_id == state.id:
                totals[status] = totals.get(status, 0) + n
                steps.setdefault(step, {})[status] = n
        rows.append(
            {
                "id": state.id,
                "title": state.title,
                "status": str(state.status),
                "source": state.source,
                "deliveries": dict(sorted(totals.items())),
                "steps": steps,
            }
        )
    return rows


def _set_status(campaign_id: str, paused: bool) -> None:
    from rallybot.bot.clock import utcnow
    from rallybot.handlers.admin.service import state_word
    from rallybot.storage.models import CampaignStatus
    from rallybot.storage.repositories import set_campaign_status

    settings = _settings()
    words = _words(settings)
    status = CampaignStatus.paused if paused else CampaignStatus.active

    async def main() -> bool:
        db = await _with_db(settings)
        try:
            return await set_campaign_status(db, campaign_id, status, utcnow())
        finally:
            await db.dispose()

    if not asyncio.run(main()):
        unknown = i18n.gettext(
            words, 'Unknown campaign "{campaign}" (see: rallybot campaign list).'
        )
        err.print(unknown.format(campaign=campaign_id), markup=False)
        raise typer.Exit(1)
    done = i18n.gettext(words, 'Campaign "{campaign}" is now {state}.')
    out.print(
        done.format(campaign=campaign_id, state=state_word(words, status.value)), markup=False
    )


@campaign_app.command("pause")
def campaign_pause(campaign_id: Annotated[str, typer.Argument(help="Campaign id.")]) -> None:
    """Stop sending a campaign's messages (running bots see it at once)."""
    _set_status(campaign_id, paused=True)


@campaign_app.command("resume")
def campaign_resume(campaign_id: Annotated[str, typer.Argument(help="Campaign id.")]) -> None:
    """Send a paused campaign's messages again (those past their grace window are skipped)."""
    _set_status(campaign_id, paused=False)


async def _match_roster(
    settings: Settings,
    db: Database,
    platform: str,
    file: Path,
    entries: list[RosterEntry],
    *,
    quiet: bool = False,
    words: str | None = None,
) -> list[RosterEntry] | None:
    """Rows matched to platform accounts by email or by their ``discord`` cell (unmatched
    ones listed with the reason); None if impossible. ``quiet``: nothing on stdout."""
    import contextlib

    from rallybot.bot.adapters.base import PlatformStartError, create_adapter
    from rallybot.bot.clock import SystemClock
    from rallybot.bot.events import Event
    from rallybot.handlers.onboarding.service import match_roster

    kwargs: dict[str, object] = {}
    if platform in {"slack", "discord"}:
        kwargs = {"settings": settings, "db": db, "clock": SystemClock(), "http_port": None}
    if platform == "discord":
        kwargs["sync_commands"] = False  # only the member list is needed
    adapter = create_adapter(platform, **kwargs)

    async def ignore(event: Event) -> None:
        """Events arriving while the roster is matched are not for this command."""

    try:
        if hasattr(adapter, "lookup_member") and any(e.discord and not e.id for e in entries):
            await adapter.start(ignore)  # names are looked up in the server's member list
        result = await match_roster(adapter, entries)
    except PlatformStartError as exc:
        err.print(f"[red]{exc}[/red]")
        return None
    except TypeError:
        text = i18n.gettext(
            words,
            'The "{platform}" platform cannot look members up by email: import without '
            "--match, with an id column.",
        )
        err.print(text.format(platform=platform), style="red", markup=False, soft_wrap=True)
        return None
    finally:
        with contextlib.suppress(Exception):
            await adapter.stop()
    for line in result.report(str(file), words):
        err.print(line, markup=False, highlight=False, soft_wrap=True)
    if result.unmatched:
        left_out = i18n.ngettext(
            words,
            "{n} row matched no account on {platform}: left out (import it again once they "
            "have joined).",
            "{n} rows matched no account on {platform}: left out (import them again once "
            "they have joined).",
            len(result.unmatched),
        )
        text = left_out.format(n=formats.number(words, len(result.unmatched)), platform=platform)
        err.print(text, style="yellow", markup=False, soft_wrap=True)
    matched = i18n.ngettext(
        words,
        "{n} row matched to a {platform} account.",
        "{n} rows matched to {platform} accounts.",
        len(result.entries),
    )
    (err if quiet else out).print(
        matched.format(n=formats.number(words, len(result.entries)), platform=platform),
        markup=False,
        soft_wrap=True,
    )
    return result.entries


@roster_app.command("import")
def roster_import(
    file: Annotated[Path, typer.Argument(help="Roster CSV: id, email, name, team, start_date...")],
    platform: Annotated[
        str, typer.Option(help="Platform whose user ids the id column holds.")
    ] = "console",
    timezone: Annotated[
        str | None, typer.Option(help="Zone of rows without one (default: settings).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the file and count, import nothing.")
    ] = False,
    date_format: Annotated[
        str | None,
        typer.Option(
            help="How dates like 02/03/2027 read: auto (from the roster itself), day-first "
            "or month-first (default: the community file's date_format, else auto)."
        ),
    ] = None,
    match_emails: Annotated[
        bool,
        typer.Option(
            "--match",
            "--match-emails",
            help="Find each row's platform account by its email, or on Discord by its discord "
            "cell (rows with an id keep it); rows without an account are listed and left out. "
            "Automatic with --platform discord when rows have a discord cell and no id.",
        ),
    ] = False,
    format: Annotated[
        Output, typer.Option(help="text, or json: one object with the counts (or problems).")
    ] = Output.text,
    remove_missing: Annotated[
        bool,
        typer.Option(
            "--remove-missing",
            help="Deactivate the members of this platform absent from the roster (no more "
            "messages; community managers and bots are kept); they are erased "
            "RALLYBOT_ERASE_REMOVED_AFTER_DAYS later. Members back in the roster are active "
            "again.",
        ),
    ] = False,
) -> None:
    """Create or update members from a roster, all rows or none (errors listed row by row)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from rallybot.campaigns.community import roster_date_format
    from rallybot.campaigns.roster import (
        RosterLoadError,
        member_fields,
        read_roster,
        summarize_errors,
    )
    from rallybot.storage.repositories import RosterSource, import_members, roster_file_source

    settings = _settings()
    words = _words(settings)
    as_json = format is Output.json
    say = err if as_json else out  # with --format json, stdout holds the JSON alone
    result: dict[str, object] = {"file": str(file), "platform": platform, "dry_run": dry_run}
    # Kept with the import (before reading: a file changed meanwhile is imported again at the
    # next start that imports it). This command itself imports whenever asked.
    source: RosterSource | None = None
    with contextlib.suppress(OSError):  # read_roster says why the file cannot be read
        source = roster_file_source(file)
    try:
        roster = read_roster(
            file,
            default_timezone=timezone or settings.timezone,
            date_format=date_format or roster_date_format([settings.campaigns_dir]),
        )
    except ValueError as exc:  # the default zone or the date format itself is wrong
        # The message itself, not str(exc): a marked one is told in the CLI's language.
        problem = file_words.render(exc.args[0] if exc.args else str(exc), words)
        err.print(problem, style="red", markup=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except RosterLoadError as exc:
        lines = summarize_errors(exc.errors, locale=words)
        for line in lines:
            err.print(line, markup=False, highlight=False, soft_wrap=True)
        nothing = i18n.ngettext(
            words,
            "{n} problem: nothing imported.",
            "{n} problems: nothing imported.",
            len(exc.errors),
        )
        err.print(nothing.format(n=formats.number(words, len(exc.errors))), style="red")
        if as_json:
            # JSON is for machines: its problems stay in English whatever the locale.
            english = summarize_errors(exc.errors)
            result |= {"imported": False, "problems": [str(line) for line in english]}
            typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        raise typer.Exit(1) from None
    entries = roster.entries
    result["members"] = len(entries)
    say.print(f"{file}: {roster.info.describe(words)}.", markup=False, soft_wrap=True)
    if dry_run:
        if as_json:
            typer.echo(json.dumps(result | {"imported": False}, ensure_ascii=False, indent=2))
            return
        checked = i18n.ngettext(
            words,
            "{file}: {n} member, no problem found (dry run: nothing stored).",
            "{file}: {n} members, no problem found (dry run: nothing stored).",
            len(entries),
        )
        out.print(
            checked.format(file=file, n=formats.number(words, len(entries))),
            markup=False,
            soft_wrap=True,
        )
        return
    rows = [member_fields(entry) for entry in entries]

    async def main() -> None:
        from rallybot.bot.clock import utcnow

        db = await _with_db(settings)
        columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn())
        nonlocal rows
        by_discord = platform == "discord" and any(e.discord and not e.id for e in entries)
        if match_emails or by_discord:
            matched = await _match_roster(
                settings, db, platform, file, entries, quiet=as_json, words=words
            )
            if matched is None:
                await db.dispose()
                raise typer.Exit(2)
            rows = [member_fields(entry) for entry in matched]
            result["matched"] = len(matched)
        try:
            with Progress(*columns, TimeElapsedColumn(), console=err, transient=True) as bar:
                importing = i18n.gettext(words, "Importing members")
                task = bar.add_task(importing, total=len(rows))
                counts = await import_members(
                    db,
                    platform,
                    rows,
                    utcnow(),
                    progress=lambda n: bar.advance(task, n),
                    secret_key=settings.secret_key,
                    source=source,
                )
            removed = back = 0
            if remove_missing:
                from rallybot.handlers.privacy.service import deactivate_missing

                present = {uid for uid, _ in rows} | {
                    str(f["email"]) for _, f in rows if f.get("email")
                }
                managers = {a.split(":", 1)[-1] for a in settings.admins}
                removed, back = await deactivate_missing(
                    db, platform, present, utcnow(), keep=managers
                )
        finally:
            await db.dispose()
        if as_json:
            result.update(
                imported=True,
                created=counts.created,
                updated=counts.updated,
                unchanged=counts.unchanged,
                erased=counts.erased,
            )
            if remove_missing:
                result.update(deactivated=removed, reactivated=back)
            typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
            return
        created = i18n.ngettext(
            words, "{n} member created", "{n} members created", counts.created
        ).format(n=formats.number(words, counts.created))
        # Each count agrees with its own number ("1 inchangé", "0 mis à jour").
        # Translators: {n} members of the roster were updated.
        updated = i18n.ngettext(words, "{n} updated", "{n} updated", counts.updated)
        # Translators: {n} members of the roster were already as the file says.
        unchanged = i18n.ngettext(words, "{n} unchanged", "{n} unchanged", counts.unchanged)
        # Translators: {created} is "3 members created", {updated} "2 updated", {unchanged}
        # "5 unchanged".
        done = i18n.gettext(words, "{file}: {created}, {updated}, {unchanged}.")
        text = done.format(
            file=file,
            created=created,
            updated=updated.format(n=formats.number(words, counts.updated)),
            unchanged=unchanged.format(n=formats.number(words, counts.unchanged)),
        )
        out.print(text, markup=False, soft_wrap=True)
        if counts.erased:
            skipped = i18n.ngettext(
                words,
                "{n} person erased on request was not imported again.",
                "{n} people erased on request were not imported again.",
                counts.erased,
            )
            out.print(
                skipped.format(n=formats.number(words, counts.erased)), markup=False, soft_wrap=True
            )
        if remove_missing:
            days = settings.erase_removed_after_days
            gone = i18n.ngettext(
                words,
                "{n} member absent from the roster deactivated",
                "{n} members absent from the roster deactivated",
                removed,
            ).format(n=formats.number(words, removed))
            erased = i18n.ngettext(
                words,
                "erased in {days} day unless they come back",
                "erased in {days} days unless they come back",
                days,
            ).format(days=formats.number(words, days))
            again = i18n.ngettext(
                words,
                "{n} back in the roster reactivated",
                "{n} back in the roster reactivated",
                back,
            ).format(n=formats.number(words, back))
            # Translators: "2 members absent from the roster deactivated (erased in 30 days
            # unless they come back), 1 back in the roster reactivated."
            line = i18n.gettext(words, "{deactivated} ({erased}), {reactivated}.")
            out.print(
                line.format(deactivated=gone, erased=erased, reactivated=again),
                markup=False,
                soft_wrap=True,
            )

    asyncio.run(main())


@teams_app.command("sync")
def teams_sync(
    platform: Annotated[
        str, typer.Option(help="Platform whose groups are read: slack or discord.")
    ] = "slack",
    format: Annotated[
        Output, typer.Option(help="text, or json: one object with the counts.")
    ] = Output.text,
) -> None:
    """Give members the team of their platform group now (a running bot also does it at
    start and every 15 minutes); roster teams are kept."""
    import contextlib

    from rallybot.bot.adapters.base import AdapterError, PlatformStartError, create_adapter
    from rallybot.bot.clock import SystemClock, utcnow
    from rallybot.bot.teams import sync_teams

    settings = _settings()
    words = _words(settings)
    if not settings.team_groups:
        text = i18n.gettext(
            words,
            "RALLYBOT_TEAM_GROUPS is not set: teams come from the roster only (set it to the "
            'groups that are teams, e.g. "sales,marketing").',
        )
        err.print(text, style="red", markup=False)
        raise typer.Exit(1)

    async def main() -> int:
        db = await _with_db(settings)
        try:
            kwargs: dict[str, object] = {}
            if platform in {"slack", "discord"}:
                kwargs = {"settings": settings, "db": db, "clock": SystemClock(), "http_port": None}
            try:
                adapter = create_adapter(platform, **kwargs)
            except (ValueError, PlatformStartError) as exc:
                err.print(f"[red]{exc}[/red]")
                return 2
            try:
                result = await sync_teams(db, adapter, platform, settings.team_groups, utcnow())
            except (AdapterError, PlatformStartError) as exc:
                text = i18n.gettext(words, "Could not read the groups: {problem}. Nothing changed.")
                err.print(text.format(problem=exc), style="red", markup=False)
                return 1
            finally:
                with contextlib.suppress(Exception):
                    await adapter.stop()
        finally:
            await db.dispose()
        if result is None:
            text = i18n.gettext(
                words, 'The "{platform}" platform has no groups to read teams from.'
            )
            err.print(text.format(platform=platform), style="red", markup=False)
            return 1
        if format is Output.json:
            counts = {
                "platform": platform,
                "teamed": result.teamed,
                "changed": result.changed,
                "cleared": result.cleared,
                "kept": result.kept,
            }
            typer.echo(json.dumps(counts, ensure_ascii=False, indent=2))
            return 0
        teamed = i18n.ngettext(
            words,
            "{n} member got a team from {platform} groups",
            "{n} members got a team from {platform} groups",
            result.teamed,
        ).format(n=formats.number(words, result.teamed), platform=platform)
        kept = i18n.ngettext(
            words, "{n} roster team kept", "{n} roster teams kept", result.kept
        ).format(n=formats.number(words, result.kept))
        # Translators: {teamed} and {kept} are whole phrases ("2 members got a team from slack
        # groups", "1 roster team kept"); {changed} and {cleared} count members.
        text = i18n.gettext(words, "{teamed}: {changed} changed, {cleared} cleared, {kept}.")
        text = text.format(
            teamed=teamed,
            changed=formats.number(words, result.changed),
            cleared=formats.number(words, result.cleared),
            kept=kept,
        )
        out.print(text, soft_wrap=True, markup=False)
        return 0

    code = asyncio.run(main())
    if code:
        raise typer.Exit(code)


@app.command()
def reload() -> None:
    """Ask every running bot on this database to re-read its campaign files."""
    from rallybot.bot.app import RELOAD_FLAG
    from rallybot.bot.clock import utcnow
    from rallybot.storage.repositories import set_flag

    settings = _settings()

    async def main() -> None:
        db = await _with_db(settings)
        try:
            await set_flag(db, RELOAD_FLAG, "requested", utcnow())
        finally:
            await db.dispose()

    asyncio.run(main())
    text = i18n.gettext(
        _words(settings),
        "Reload requested: running bots re-read their files at their next planning pass.",
    )
    out.print(text, markup=False)


def _outbox_status(words: str | None, status: str) -> str:
    """An outbox status (``pending``, ``sent``...) as ``rallybot health`` shows it."""
    names = {
        # Translators: outbox statuses, as rallybot health lists them ("sent 12, failed 1").
        "pending": i18n.pgettext(words, "outbox status", "pending"),
        "claimed": i18n.pgettext(words, "outbox status", "being sent"),
        "sent": i18n.pgettext(words, "outbox status", "sent"),
        "skipped": i18n.pgettext(words, "outbox status", "skipped"),
        "cancelled": i18n.pgettext(words, "outbox status", "cancelled"),
        "failed": i18n.pgettext(words, "outbox status", "failed"),
    }
    return names.get(status, status)


@app.command()
def health(
    format: Annotated[Format, typer.Option(help="table or json.")] = Format.table,
    max_lag: Annotated[
        float, typer.Option(help="Warn when the oldest due message waits longer (seconds).")
    ] = 300.0,
) -> None:
    """Check the database, its schema and the outbox without changing anything.

    Exit codes: 0 healthy (warnings, such as failed deliveries, are printed but do not fail
    it), 1 the database does not answer or its schema is not this version's, 2 bad settings.
    """
    from rallybot.bot.budget import STALE_BEATS
    from rallybot.bot.clock import utcnow
    from rallybot.bot.community import assume_found, community_of, overlay
    from rallybot.bot.health import gather_health
    from rallybot.bot.rota import staffing_warnings

    settings = _settings()
    # JSON is for machines: its texts stay in English whatever the language of the table.
    words = None if format is Format.json else _words(settings)
    report = asyncio.run(
        gather_health(
            settings.database_url,
            utcnow(),
            stale_after=STALE_BEATS * settings.heartbeat_seconds,
            max_lag=max_lag,
            locale=words,
        )
    )
    # Who the bot would tell is named in the settings and in the community file: both count.
    community = community_of(settings)
    staffed = settings if community is None else overlay(settings, assume_found(community))
    report.warnings.extend(
        staffing_warnings(
            staffed.admins,
            staffed.managers_channel,
            staffed.help_channel,
            staffed.rota,
            locale=words,
        )
    )
    if format is Format.json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        raise typer.Exit(report.exit_code)
    database = report.database
    state = (
        i18n.gettext(words, "revision {revision} (this version: {head})").format(
            revision=database["revision"] or i18n.gettext(words, "none"), head=database["head"]
        )
        if database["reachable"]
        else i18n.gettext(words, "not reachable")
    )
    line = i18n.gettext(words, "Database {url}: {state}").format(url=database["url"], state=state)
    out.print(line, soft_wrap=True, markup=False)
    if report.outbox:
        by_status = report.outbox["by_status"]
        # Translators: an outbox status and how many messages have it ("sent 12").
        count = i18n.gettext(words, "{status} {n}")
        counts = ", ".join(
            count.format(status=_outbox_status(words, k), n=formats.number(words, v))
            for k, v in sorted(by_status.items())
        )
        outbox = i18n.gettext(words, "Outbox: {counts}").format(
            counts=counts or i18n.gettext(words, "empty")
        )
        out.print(outbox, markup=False)
        lag = report.outbox["lag_seconds"]
        # Translators: {lag} is a number of seconds, then "s" (keep it as a unit).
        due = i18n.gettext(words, "Due now: {due}, oldest waits {lag}s")
        out.print(due.format(due=report.outbox["due"], lag=lag), markup=False)
        bots_on = i18n.gettext(words, "{count} on {platform}")
        running = ", ".join(
            bots_on.format(count=n, platform=p) for p, n in sorted(report.replicas.items())
        )
        bots = i18n.gettext(words, "Running bots: {bots}")
        out.print(bots.format(bots=running or i18n.gettext(words, "none")), markup=False)
    warning_word = i18n.gettext(words, "Warning:")
    for warning in report.warnings:
        out.print(f"[yellow]{warning_word}[/yellow] {warning}", soft_wrap=True)
    error_word = i18n.gettext(words, "Error:")
    for error in report.errors:
        err.print(f"[red]{error_word}[/red] {error}", soft_wrap=True)
    status = {
        "ok": i18n.pgettext(words, "health status", "OK"),
        "warning": i18n.pgettext(words, "health status", "WARNING"),
        "error": i18n.pgettext(words, "health status", "ERROR"),
    }.get(report.status, report.status.upper())
    checked = i18n.gettext(words, "{status} at {time} UTC.")
    out.print(checked.format(status=status, time=f"{report.checked_at:%Y-%m-%d %H:%M:%S}"))
    raise typer.Exit(report.exit_code)


@discord_app.command("invite-url")
def discord_invite_url(
    application_id: Annotated[
        str | None,
        typer.Option(help="Application id (default: DISCORD_APPLICATION_ID)."),
    ] = None,
    guild_id: Annotated[
        int | None, typer.Option(help="Pre-select this server (its numeric id).")
    ] = None,
) -> None:
    """Print the OAuth2 link that adds the bot with exactly the permissions it needs."""
    from rallybot.bot.adapters.discord.invite import INTENTS_HELP, invite_url

    settings = None if application_id else _settings()
    words = _words(settings) if settings is not None else _early_words()
    app_id = application_id or (settings.discord_application_id if settings else None)
    if not app_id:
        # Translators: the portal's menu names stay in English (the portal is in English).
        missing = i18n.gettext(
            words,
            "No Discord application id: set DISCORD_APPLICATION_ID or pass --application-id "
            "(developer portal → General Information → Application ID).",
        )
        err.print(missing, style="red", markup=False, soft_wrap=True)
        raise typer.Exit(2)
    try:
        url = invite_url(app_id, guild_id)
    except ValueError as exc:
        err.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from None
    typer.echo(url)
    err.print(i18n.gettext(words, INTENTS_HELP), markup=False)


class SlackMode(StrEnum):
    """How Slack reaches the bot."""

    socket = "socket"
    http = "http"


@slack_app.command("manifest")
def slack_manifest(
    mode: Annotated[
        SlackMode, typer.Option(help="socket (Socket Mode, no public URL) or http.")
    ] = SlackMode.socket,
    request_url: Annotated[
        str | None,
        typer.Option(help="HTTP mode: the bot's public https:// address (/slack/events added)."),
    ] = None,
    name: Annotated[str, typer.Option(help="The app's name in Slack.")] = "Rallybot",
) -> None:
    """Print the Slack app manifest (YAML) with exactly the scopes and events the bot needs."""
    from rallybot.bot.adapters.slack.manifest import manifest_yaml

    if mode is SlackMode.http and not request_url:
        needs = i18n.gettext(
            _early_words(),
            "HTTP mode needs --request-url: the bot's public https:// address, where Slack "
            "posts events, button clicks and slash commands (or use --mode socket, which "
            "needs no public address).",
        )
        err.print(needs, style="red", markup=False, soft_wrap=True)
        raise typer.Exit(2)
    try:
        text = manifest_yaml(mode=mode.value, request_url=request_url, name=name)
    except ValueError as exc:
        err.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from None
    typer.echo(text, nl=False)


class ReportFormat(StrEnum):
    """Output formats of ``report``."""

    table = "table"
    csv = "csv"
    html = "html"
    json = "json"


class CsvHeaders(StrEnum):
    """The column names of ``report --format csv``."""

    words = "words"
    ids = "ids"


def _report_day(
    text: str | None, zone_name: str, *, end: bool, locale: str | None = None
) -> datetime | None:
    """A ``YYYY-MM-DD`` day at midnight in the bot's zone (``end``: the next midnight)."""
    from datetime import date, time, timedelta
    from zoneinfo import ZoneInfo

    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        # Translators: YYYY-MM-DD is the date format to type, as it is.
        problem = i18n.gettext(locale, '"{text}" is not a date (use YYYY-MM-DD, like 2026-09-01).')
        err.print(problem.format(text=text), style="red", markup=False)
        raise typer.Exit(2) from None
    if end:
        day += timedelta(days=1)
    return datetime.combine(day, time(), ZoneInfo(zone_name))


@app.command()
def report(
    campaign: Annotated[
        str | None, typer.Option(help="Only this campaign's posts, quizzes, surveys and points.")
    ] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="First day (YYYY-MM-DD, bot's time zone).")
    ] = None,
    to: Annotated[str | None, typer.Option(help="Last day, included (YYYY-MM-DD).")] = None,
    cohort: Annotated[str | None, typer.Option(help="Only members of this cohort.")] = None,
    team: Annotated[str | None, typer.Option(help="Only members of this team.")] = None,
    format: Annotated[
        ReportFormat,
        typer.Option(
            help="table (terminal), csv (CSV files and PNG charts), html (one page) or json "
            "(a summary on stdout)."
        ),
    ] = ReportFormat.table,
    out_dir: Annotated[
        Path,
        typer.Option("--out", help="Folder for the csv and html formats (created if needed)."),
    ] = Path("report"),
    locale: Annotated[
        str | None,
        typer.Option(
            "--locale",
            callback=_check_locale,
            help="The report's language (fr, en, es, de...); default: RALLYBOT_LOCALE. The "
            "JSON stays as it is.",
        ),
    ] = None,
    csv_headers: Annotated[
        CsvHeaders,
        typer.Option(
            "--csv-headers",
            help="words: column names and words in the report's language, times in the "
            "community's time zone (RALLYBOT_TIMEZONE, named in the column); ids: English ids "
            "and raw values that never change (times in UTC as ISO 8601, True/False), for "
            "scripts.",
        ),
    ] = CsvHeaders.words,
) -> None:
    """Indicators: adoption funnel, weekly actives, reach, quizzes, satisfaction, help, points."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from rallybot.bot.clock import utcnow
    from rallybot.bot.community import roster_settings
    from rallybot.handlers.console.service import load_campaigns
    from rallybot.handlers.reporting.service import (
        STEPS,
        Scope,
        chart_pngs,
        compute,
        managers_left_out,
        render_html,
        render_tables,
        summary_json,
        titles_of,
        write_csv,
        write_pngs,
    )

    settings = _settings()
    words = locale or _words(settings)
    start = _report_day(from_, settings.timezone, end=False, locale=words)
    end = _report_day(to, settings.timezone, end=True, locale=words)
    if start is not None and end is not None and end <= start:
        err.print(i18n.gettext(words, "--to must not come before --from"), style="red")
        raise typer.Exit(2)
    _check_schema(settings)

    async def main() -> object:
        db = await _read_db(settings)
        # the community file's managers too, found as the console finds them: the same people
        # are left out here and on the console's indicators page
        managers = (await roster_settings(settings, db)).admins
        scope = Scope(
            cohort=cohort,
            team=team,
            start=start,
            end=end,
            campaign_id=campaign,
            exclude=managers_left_out(managers, settings.count_managers),
        )
        columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn())
        try:
            with Progress(*columns, TimeElapsedColumn(), console=err, transient=True) as bar:
                computing = i18n.gettext(words, "Computing indicators")
                task = bar.add_task(computing, total=len(STEPS))
                # Translators: a progress line; {step} names the indicators just computed.
                computed = i18n.gettext(words, "Computed {step}")

                def step(name: str) -> None:
                    bar.update(task, advance=1, description=computed.format(step=name))

                return await compute(db, scope, utcnow(), on_step=step)
        finally:
            await db.dispose()

    data = asyncio.run(main())
    from rallybot.handlers.reporting.service import ReportData

    assert isinstance(data, ReportData)
    # the campaign files give the challenges, surveys and posts the titles the report shows
    folder = settings.campaigns_dir
    titles = titles_of(load_campaigns([folder], settings) if folder.is_dir() else {})
    if format is ReportFormat.table:
        render_tables(data, out, words, settings.timezone, titles)
        return
    if format is ReportFormat.json:
        typer.echo(json.dumps(summary_json(data), ensure_ascii=False, indent=2))
        return
    charts = chart_pngs(data, words)
    written = write_pngs(charts, out_dir)
    if format is ReportFormat.csv:
        # words: the reader's language and the community's zone; ids: raw values, for scripts
        columns = words if csv_headers is CsvHeaders.words else None
        written = write_csv(data, out_dir, columns, titles, settings.timezone) + written
    else:
        page = out_dir / "report.html"
        html_page = render_html(data, charts, words, settings.timezone, titles)
        page.write_text(html_page, encoding="utf-8")
        written.insert(0, page)
    wrote = i18n.gettext(words, "wrote {path}")
    for path in written:
        out.print(wrote.format(path=path), soft_wrap=True, markup=False)


def main() -> None:
    """Console-script entry point."""
    global _locale
    _locale = None  # an earlier run in this process (tests) leaves its --locale behind
    try:
        app()
    except (ImportError, MissingExtraError) as exc:
        # An optional part (Slack, Discord, PostgreSQL, charts) that is not installed: one
        # line naming the extra, no traceback.
        missing = missing_extra(exc)
        if missing is None:
            raise
        shown = file_words.render(missing.message, _early_words())
        err.print(shown, style="red", markup=False, soft_wrap=True)  # [extra] is no tag
        raise SystemExit(2) from None


member_app = typer.Typer(help="Members: erase someone who left.", no_args_is_help=True)
app.add_typer(member_app, name="member")
privacy_app = typer.Typer(help="Privacy: the record of processing.", no_args_is_help=True)
app.add_typer(privacy_app, name="privacy")


@member_app.command("forget")
def member_forget(
    who: Annotated[list[str], typer.Argument(help="E-mail addresses or platform user ids.")],
    platform: Annotated[
        str | None, typer.Option(help="Only members of this platform (default: any).")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for a confirmation.")] = False,
) -> None:
    """Erase members as "forget me" does (for people who left): their rows move to an
    anonymous row, so the indicators stay the same. Audited: who ran it and when, not whom."""
    import getpass

    import sqlalchemy as sa

    from rallybot.bot.clock import utcnow
    from rallybot.handlers.privacy.service import erase_member
    from rallybot.storage.models import Member, table_of

    settings = _settings()
    words = _words(settings)
    question = i18n.ngettext(
        words,
        "Erase {n} member? This cannot be undone.",
        "Erase {n} members? This cannot be undone.",
        len(who),
    )
    if not yes and not typer.confirm(question.format(n=len(who)), default=False):
        raise typer.Exit(1)

    async def main() -> int:
        db = await _with_db(settings)
        table = table_of(Member)
        missing = 0
        erased = 0
        try:
            for ref in who:
                found = sa.or_(
                    table.c.platform_user_id == ref, sa.func.lower(table.c.email) == ref.lower()
                )
                query = sa.select(table.c.id).where(found, table.c.forgotten.is_(False))
                if platform:
                    query = query.where(table.c.platform == platform)
                async with db.session() as session:
                    ids = (await session.execute(query)).scalars().all()
                if not ids:
                    # Translators: {who} is the e-mail address or user id that was typed.
                    unknown = i18n.gettext(words, "No member {who}.")
                    err.print(unknown.format(who=repr(ref)), markup=False)
                    missing += 1
                    continue
                for member_id in ids:
                    by = f"cli:{getpass.getuser()}"
                    if await erase_member(
                        db,
                        int(member_id),
                        utcnow(),
                        requested_by=by,
                        via="cli",
                        is_manager=settings.is_admin,
                        secret_key=settings.secret_key,
                    ):
                        erased += 1
        finally:
            await db.dispose()
        done = i18n.ngettext(words, "{n} member erased.", "{n} members erased.", erased)
        out.print(done.format(n=formats.number(words, erased)), markup=False)
        return 1 if missing else 0

    raise typer.Exit(asyncio.run(main()))


@privacy_app.command("record")
def privacy_record(
    output: Annotated[
        Path | None, typer.Option(help="Write it to this file (default: print it).")
    ] = None,
) -> None:
    """The record of processing (every personal field stored, why, for how long), generated
    from the privacy registry and the schema, as Markdown (the docs' record-of-processing
    page)."""
    from rallybot.handlers.privacy.service import record_of_processing

    text = record_of_processing()
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    wrote = i18n.gettext(_early_words(), "Wrote {path}.")
    out.print(wrote.format(path=output), markup=False, soft_wrap=True)


console_app = typer.Typer(
    help="The web console for community managers: serve it, or print a one-time sign-in link.",
    invoke_without_command=True,
)
app.add_typer(console_app, name="console")


@console_app.callback()
def console_serve(
    ctx: typer.Context,
    host: Annotated[
        str | None,
        typer.Option(
            help="Interface to listen on (default: RALLYBOT_CONSOLE_HOST, else _HTTP_HOST)."
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            min=1, max=65535, help="Port (default: RALLYBOT_CONSOLE_PORT, else _HTTP_PORT)."
        ),
    ] = None,
) -> None:
    """Serve the console alone, on the bot's database, under /console (Ctrl-C stops it)."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from rallybot.bot.clock import SystemClock
    from rallybot.bot.http import bind, bind_problem
    from rallybot.bot.logs import configure_logging
    from rallybot.handlers.console.service import (
        PREFIX,
        create_app,
        roster_state,
        standalone_app,
    )

    settings = _settings()
    bind_host = host or settings.console_host or settings.http_host
    bind_port = port or settings.console_port or settings.http_port
    # without RALLYBOT_CONSOLE_URL, pages link and redirect by path: whatever address people
    # use reaches it; the line below says the address really bound (0.0.0.0: every interface)
    bound = f"[{bind_host}]" if ":" in bind_host else bind_host
    shown_url = settings.console_url or f"http://{bound}:{bind_port}{PREFIX}"
    _check_schema(settings)
    configure_logging(settings.log_level, settings.log_format, [])

    try:  # before the database: a console that cannot listen says why, and stops
        sock = bind(bind_host, bind_port)
    except OSError as exc:
        # Translators: {problem}: why the port cannot be opened ("port 8080 on 127.0.0.1 is
        # already taken by another program").
        taken = i18n.gettext(
            _words(settings),
            "The console cannot start: {problem}. Choose a free port with --port or "
            "RALLYBOT_CONSOLE_PORT.",
        )
        problem = file_words.render(bind_problem(bind_host, bind_port, exc), _words(settings))
        err.print(taken.format(problem=problem), style="red", markup=False, soft_wrap=True)
        raise typer.Exit(2) from None

    async def main() -> None:
        db = await _read_db(settings)
        try:
            # managers named by e-mail sign in when a roster lists them, as in the bot
            console = create_app(await roster_state(settings, db, SystemClock()))
            config = uvicorn.Config(
                standalone_app(console),
                host=bind_host,
                port=bind_port,
                lifespan="off",
                access_log=False,  # sign-in links carry their token in the path
                log_config=None,
                server_header=False,
                forwarded_allow_ips=settings.forwarded_allow_ips,
            )
            serving = i18n.gettext(_words(settings), "Console on {url}/ (Ctrl-C stops it)")
            out.print(serving.format(url=shown_url), markup=False, soft_wrap=True)
            await uvicorn.Server(config).serve(sockets=[sock])
        finally:
            await db.dispose()
            sock.close()

    asyncio.run(main())


@console_app.command("link")
def console_link(
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="The port the console is served on, in the URL."),
    ] = None,
    manager: Annotated[
        str | None,
        typer.Option(
            "--manager",
            "--person",
            help="Who signs in (platform:id): a community manager, or a helper for the help "
            "desk; default: the only manager.",
        ),
    ] = None,
) -> None:
    """Print a one-time sign-in URL for a manager or a helper (valid a few minutes, once)."""
    from rallybot.bot.clock import SystemClock
    from rallybot.handlers.console.service import LinkRefused, make_link
    from rallybot.storage.migrate import schema_status

    settings = _settings()
    words = _words(settings)
    # A database without Rallybot's tables is not the one the bot runs on (DATABASE_URL unset or
    # another directory's file): migrating it would print a link the console refuses.
    try:
        empty = schema_status(settings.database_url).empty  # reads only: creates no file
    except Exception:
        empty = False  # unreachable or invalid: _with_db below waits for it and says why
    if empty:
        # Translators: DATABASE_URL stays as it is; {url} is the database's address.
        text = i18n.gettext(
            words,
            "No link: the database {url} has no Rallybot tables, so it is not the bot's. Set "
            "DATABASE_URL to the database the bot runs on.",
        )
        shown = text.format(url=hide_password(settings.database_url))
        err.print(shown, style="red", soft_wrap=True, markup=False)
        raise typer.Exit(1)

    async def main() -> str:
        db = await _with_db(settings)
        try:
            return await make_link(settings, db, SystemClock(), manager, port)
        finally:
            await db.dispose()

    try:
        url = asyncio.run(main())
    except LinkRefused as exc:
        refused = i18n.gettext(words, "No link: {problem}")
        shown = refused.format(problem=exc.text(words))
        err.print(shown, style="red", soft_wrap=True, markup=False)
        raise typer.Exit(1) from None
    minutes = settings.console_link_minutes
    valid = i18n.ngettext(
        words,
        "One-time sign-in link, valid {n} minute:",
        "One-time sign-in link, valid {n} minutes:",
        # Whole minutes choose the plural form; the number keeps its decimals (1.5).
        int(minutes) if minutes == int(minutes) else 2,
    )
    err.print(
        valid.format(n=formats.number(words, minutes, digits=2)), soft_wrap=True, markup=False
    )
    typer.echo(url)
