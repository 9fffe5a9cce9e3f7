"""The bot's own words, from gettext catalogs (one domain, ``rallybot``).

Catalogs are ``.po`` files shipped inside the package, one per language:
``locale/<lang>/LC_MESSAGES/rallybot.po`` next to this module. Adding a language is adding one
such file (``make catalogs`` extracts the strings and updates every catalog).

The ``.po`` files are compiled in memory with Babel on first use of a language and cached for
the life of the process. No ``.mo`` file is built: the same code path then works from a
source checkout, an editable install and a wheel, with no build step to forget and no
generated file to keep in step with its ``.po``; compiling one catalog takes milliseconds.

A locale falls back to its base language (``es_MX`` then ``es``), then to English, whose
texts are the message ids themselves. Calls take the locale first; their messages are found by
``pybabel extract`` with the keywords ``gettext:2``, ``ngettext:2,3`` and ``pgettext:2c,3``,
and ``N_`` for texts translated later (``nN_:1,2`` for the campaign language's plural ones,
:func:`rallybot.campaigns.words.nN_`; see the Makefile).

Tests may install a catalog of their own under a language tag (:func:`install_catalog`): the
pseudo-locale test wraps every message to catch the words that bypass the catalogs.
"""

from __future__ import annotations

import functools
import io
from importlib import resources

from babel.core import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from rallybot.campaigns import words

DOMAIN = "rallybot"
"""The gettext domain of the bot's words. Another part of the product may keep its words in a
domain of its own beside it (the web console's: ``console.po``), loaded the same way with the
``domain`` arguments below, so that its catalogs are extracted and merged apart."""

DEFAULT_LOCALE = "en"
"""The language of the message ids, and the last fallback."""


def N_(message: str) -> str:  # the gettext convention's name for this marker
    """``message`` itself: marks a text kept now (a command's description) and translated
    where it is shown, with :func:`gettext`, so that ``pybabel extract -k N_`` finds it."""
    return message


def _catalog_file(language: str, domain: str = DOMAIN) -> resources.abc.Traversable:
    return resources.files(__package__ or "rallybot.bot").joinpath(
        "locale", language, "LC_MESSAGES", f"{domain}.po"
    )


def available_languages(domain: str = DOMAIN) -> list[str]:
    """The languages that ship a catalog of ``domain``, sorted (``["de", "en", "es", "fr"]``)."""
    root = resources.files(__package__ or "rallybot.bot").joinpath("locale")
    return sorted(
        entry.name
        for entry in root.iterdir()
        if entry.joinpath("LC_MESSAGES", f"{domain}.po").is_file()
    )


@functools.cache
def _compiled(language: str, domain: str = DOMAIN) -> bytes | None:
    """One language's catalog of ``domain`` compiled in memory (``.mo`` bytes), or None when
    it ships no catalog."""
    source = _catalog_file(language, domain)
    if not source.is_file():
        return None
    with source.open("rb") as po:
        catalog = read_po(po, locale=language, domain=domain)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    return compiled.getvalue()


_INSTALLED: dict[tuple[str, str], bytes] = {}
"""Catalogs installed at run time (:func:`install_catalog`), compiled, by (language tag,
domain)."""


def install_catalog(language: str, catalog: Catalog, domain: str = DOMAIN) -> None:
    """Make ``catalog`` the catalog of ``language`` for the rest of the process, tried before
    any shipped one. A seam for tests: the pseudo-locale test installs a catalog that wraps
    every message (``⟦…⟧``) to find the words that bypass the catalogs. Nothing ships."""
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    _INSTALLED[_tag(language), domain] = compiled.getvalue()
    translations.cache_clear()


def uninstall_catalog(language: str, domain: str = DOMAIN) -> None:
    """Forget a catalog installed with :func:`install_catalog`."""
    _INSTALLED.pop((_tag(language), domain), None)
    translations.cache_clear()


def _load(language: str, domain: str) -> Translations | None:
    # A fresh object each time: add_fallback mutates it, and chains must not share links.
    compiled = _INSTALLED.get((language, domain)) or _compiled(language, domain)
    return None if compiled is None else Translations(io.BytesIO(compiled), domain=domain)


def _tag(locale: str | None) -> str:
    return (locale or DEFAULT_LOCALE).strip().replace("-", "_")


def _candidates(locale: str | None, domain: str = DOMAIN) -> list[str]:
    """The catalogs to try for ``locale``, most specific first, English last."""
    tag = _tag(locale)
    try:
        parsed = Locale.parse(tag)
    except (UnknownLocaleError, ValueError):
        parsed = None
    names: list[str] = [tag] if (tag, domain) in _INSTALLED else []
    if parsed is not None:
        names.append(str(parsed))
        if parsed.territory:
            names.append(f"{parsed.language}_{parsed.territory}")
        names.append(parsed.language)
    names.append(DEFAULT_LOCALE)
    return list(dict.fromkeys(names))


@functools.cache
def translations(locale: str | None, domain: str = DOMAIN) -> NullTranslations:
    """The translations of ``domain`` for ``locale`` with their fallback chain (base language,
    then English, then the message ids themselves). Unknown or empty locales give English."""
    loaded = (_load(name, domain) for name in _candidates(locale, domain))
    chain = [t for t in loaded if t is not None]
    first: NullTranslations = NullTranslations()
    if chain:
        first = chain[0]
        for fallback in chain[1:]:
            first.add_fallback(fallback)
    return first


def gettext(locale: str | None, message: str) -> str:
    """``message`` in ``locale``'s language."""
    return translations(locale).gettext(message)


def ngettext(locale: str | None, singular: str, plural: str, n: int) -> str:
    """The form of ``singular``/``plural`` that ``locale``'s language uses for ``n``."""
    return translations(locale).ngettext(singular, plural, n)


def pgettext(locale: str | None, context: str, message: str) -> str:
    """``message`` in ``locale``'s language, told apart from the same English words used
    elsewhere by ``context``."""
    # Babel types pgettext loosely (object); its value is the translated str.
    return str(translations(locale).pgettext(context, message))


# The campaign-file language builds a few messages with the bot's words in them (an
# invitation's button); it may not import the kernel, so the catalogs plug themselves in.
words.install(
    gettext,
    lambda: sorted(
        {*available_languages(), *(tag for tag, domain in _INSTALLED if domain == DOMAIN)}
    ),
    ngettext,
)
