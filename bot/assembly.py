"""The composition root: the kernel with every feature of :mod:`handlers`.

The one module of the kernel's package that names the features (with the CLI): the kernel
(:mod:`bot.app`) takes its features as an argument. Import :class:`Rallybot` to run the bot
as it ships.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rallybot.bot.adapters.base import Adapter
from rallybot.bot.app import Kernel
from rallybot.bot.clock import Clock
from rallybot.bot.commands import CommandSpec, catalogue
from rallybot.bot.config import Settings
from rallybot.bot.feature import Feature
from rallybot.bot.ratelimit import RateLimiter
from rallybot.handlers import COMMAND_ORDER
from rallybot.handlers import features as installed_features
from rallybot.storage.database import Database

__all__ = ["Rallybot", "commands"]


def commands(features: Sequence[Feature] | None = None) -> tuple[CommandSpec, ...]:
    """The ``/rallybot`` subcommands of ``features`` (default: every feature), in the order
    the help and Discord list them: the catalogue a :class:`Rallybot` holds, without a bot."""
    return catalogue(installed_features() if features is None else features, COMMAND_ORDER)


class Rallybot(Kernel):
    """The bot as it ships: the kernel with every feature of :data:`handlers.FEATURES`
    (or ``features``, for a bot with fewer)."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        adapter: Adapter,
        clock: Clock,
        *,
        features: Sequence[Feature] | None = None,
        campaign_paths: Sequence[Path] | None = None,
        worker_id: str | None = None,
        limiter: RateLimiter | None = None,
        local_admins: Sequence[str] = (),
    ) -> None:
        super().__init__(
            settings,
            db,
            adapter,
            clock,
            features=installed_features() if features is None else features,
            command_order=COMMAND_ORDER,
            campaign_paths=campaign_paths,
            worker_id=worker_id,
            limiter=limiter,
            local_admins=local_admins,
        )
