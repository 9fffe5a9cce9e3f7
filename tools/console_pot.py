"""``make catalogs``: the console's words (gettext domain ``console``) into one ``.pot`` file.

The console's Python calls ``gettext(locale, message)`` like the bot (the locale first), while
its Jinja2 templates call ``_(message)``, ``ngettext(singular, plural, n)`` and
``pgettext(context, message)`` with no locale; one ``pybabel extract`` run cannot read both
(its keyword positions are global), so this extracts each with its own keywords through
Babel's API and writes them as one template. Usage: ``python tools/console_pot.py OUT.pot``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import write_po

ROOT = Path(__file__).resolve().parents[1]
CONSOLE = ROOT / "handlers" / "console"

#: The keywords of the console's Python code (rallybot.bot.i18n's: the locale first).
CODE_KEYWORDS = {"gettext": (2,), "ngettext": (2, 3), "pgettext": ((2, "c"), 3), "N_": None}
#: The keywords of its templates (rallybot.handlers.console.words.install).
TEMPLATE_KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}


def console_catalog() -> Catalog:
    """Every message of the console's code and templates, with translators' comments."""
    catalog = Catalog(project="Rallybot", domain="console", fuzzy=False)
    runs = (
        ([("**.py", "python")], CODE_KEYWORDS),
        ([("templates/**.html", "jinja2")], TEMPLATE_KEYWORDS),
    )
    for method_map, keywords in runs:
        found = extract_from_dir(
            CONSOLE,
            method_map=method_map,
            keywords=keywords,
            comment_tags=("Translators:",),
            strip_comment_tags=False,
        )
        for filename, lineno, message, comments, context in found:
            where = (CONSOLE.joinpath(filename).relative_to(ROOT).as_posix(), lineno)
            catalog.add(
                message,
                None,
                [where],
                auto_comments=comments,
                context=context,
                flags=("python-brace-format",) if _braced(message) else (),
            )
    return catalog


def _braced(message: str | tuple[str, ...]) -> bool:
    return any("{" in m for m in ((message,) if isinstance(message, str) else message))


def main(out: str) -> None:
    """Write the console's template catalog to ``out``."""
    with open(out, "wb") as pot:
        write_po(pot, console_catalog(), width=0, sort_by_file=True)


if __name__ == "__main__":
    main(sys.argv[1])
