"""Optional parts of Rallybot and the extra that installs each one.

The core (console, SQLite, campaign files) installs alone; Slack, Discord, PostgreSQL and the
report charts are extras (``pip install 'rallybot[slack]'``). A feature whose extra is missing
says so in one line instead of an ``ImportError`` traceback.
"""

from __future__ import annotations

import importlib.util

from rallybot.campaigns.words import N_

__all__ = ["EXTRA_OF_MODULE", "PLATFORM_EXTRAS", "MissingExtraError", "missing_extra", "require"]

# Top-level import name -> (what needs it, the extra that installs it).
EXTRA_OF_MODULE: dict[str, tuple[str, str]] = {
    "slack_bolt": ("Slack", "slack"),
    "slack_sdk": ("Slack", "slack"),
    "aiohttp": ("Slack", "slack"),  # bolt's async app; discord.py brings its own
    "discord": ("Discord", "discord"),
    "asyncpg": ("PostgreSQL", "postgres"),
    # Translators: what needs the charts extra, in "... needs the charts extra" (or "for ...").
    "matplotlib": (N_("Report charts"), "charts"),
}


class MissingExtraError(RuntimeError):
    """A feature was asked for whose optional dependencies are not installed."""

    def __init__(self, feature: str, extra: str) -> None:
        # a message object: the CLI shows it in the reader's language; the command stays
        self.message = N_(
            "{feature} needs the {extra} extra: pip install 'rallybot[{extra}]'",
            feature=feature,
            extra=extra,
        )
        super().__init__(self.message)
        self.feature = feature
        self.extra = extra


def require(module: str) -> None:
    """Raise :class:`MissingExtraError` if the optional ``module`` cannot be imported."""
    feature, extra = EXTRA_OF_MODULE[module]
    if importlib.util.find_spec(module) is None:
        raise MissingExtraError(feature, extra)


#: The extra of each chat platform: an import error while loading its adapter means this one
#: (aiohttp, say, is needed by both Slack and Discord).
PLATFORM_EXTRAS: dict[str, tuple[str, str]] = {
    "slack": ("Slack", "slack"),
    "discord": ("Discord", "discord"),
}


def missing_extra(exc: BaseException, platform: str | None = None) -> MissingExtraError | None:
    """The :class:`MissingExtraError` an ``ImportError`` of an optional module stands for
    (while loading ``platform``'s adapter, that platform's extra)."""
    if isinstance(exc, MissingExtraError):
        return exc
    name = exc.name if isinstance(exc, ModuleNotFoundError) and exc.name else ""
    module = name.partition(".")[0]
    if module not in EXTRA_OF_MODULE:
        return None
    if platform in PLATFORM_EXTRAS:
        return MissingExtraError(*PLATFORM_EXTRAS[platform])
    return MissingExtraError(*EXTRA_OF_MODULE[module])
