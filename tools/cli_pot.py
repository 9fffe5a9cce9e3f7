"""``make catalogs``: the help texts of the ``rallybot`` command line into the bot's ``.pot``.

Typer takes a command's help from its docstring and an option's from ``help=``; neither is a
gettext call that ``pybabel extract`` finds, so this reads them from the command tree itself
(:func:`rallybot.bot.cli.help_texts`, which also translates them at run time) and adds them to
the template ``pybabel extract`` wrote, each with the command line it belongs to as a note for
translators. So are the arguments' placeholders in the usage line (``PATHS``, from the
arguments' names: :func:`rallybot.bot.cli_typer.argument_names`), and the comments of the
example settings file that ``rallybot config example`` prints (:func:`example_comments`).
Usage: ``python tools/cli_pot.py rallybot.pot`` (rewrites the file).
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from rallybot.bot.cli import app, example_comment_id, example_comments, help_texts
from rallybot.bot.cli_typer import argument_names

ROOT = Path(__file__).resolve().parents[1]
WHERE = "bot/cli.py"


def _line(source: list[str], text: str) -> int:
    """The line of bot/cli.py where ``text`` starts (its first words), else 1."""
    start = text.split("\n", 1)[0][:40]
    return next((n for n, line in enumerate(source, start=1) if start in line), 1)


def cli_catalog() -> Catalog:
    """Every help text of the command line, once, noted with where each is shown."""
    source = (ROOT / WHERE).read_text(encoding="utf-8").splitlines()
    catalog = Catalog(project="Rallybot", domain="rallybot", fuzzy=False)
    for path, _, text in help_texts(typer.main.get_command(app)):
        known = catalog.get(text)
        if known is not None:
            known.auto_comments.append(f"Help of: {path}")
            continue
        where = [(WHERE, _line(source, text))]
        catalog.add(text, None, where, auto_comments=[f"Help of: {path}"])
    placeholder = "An argument's placeholder in the usage line (rallybot validate PATHS...)"
    for name in argument_names(typer.main.get_command(app)):
        if catalog.get(name) is None:
            catalog.add(name, None, [(WHERE, 1)], auto_comments=[placeholder])
    note = "A comment of `rallybot config example` (the settings' names stay as they are)"
    for line, block in example_comments():
        catalog.add(
            example_comment_id(block),
            None,
            [("bot/config.example.env", line)],
            auto_comments=[note],
        )
    return catalog


def main(pot: str) -> None:
    """Add the command line's help texts to the template ``pot``."""
    with open(pot, "rb") as file:
        template = read_po(file)
    for message in cli_catalog():
        if not message.id:
            continue
        known = template.get(message.id)
        if known is None:
            template.add(message.id, None, message.locations, auto_comments=message.auto_comments)
        else:  # the same words said by the code too: one message, both notes
            known.auto_comments.extend(message.auto_comments)
            known.locations.extend(message.locations)
    with open(pot, "wb") as file:
        write_po(file, template, width=0, sort_by_file=True)


if __name__ == "__main__":
    main(sys.argv[1])
