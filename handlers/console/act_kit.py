"""What the acting pages (check a draft, act, approvals, members) share: the console's state
seen as the :class:`~.act_services.Console` the services read, and one-time form keys."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from rallybot.bot.app import outbox_row
from rallybot.bot.clock import Clock
from rallybot.bot.config import Settings
from rallybot.bot.context import BotContext
from rallybot.campaigns.planner import PlannedDelivery
from rallybot.campaigns.schema import Campaign
from rallybot.handlers.console.act_services import Console
from rallybot.handlers.console.kit import ConsoleState
from rallybot.handlers.steering.service import Steering
from rallybot.handlers.survey.service import sign_invitation
from rallybot.storage.database import Database

__all__ = ["StateView", "bot_of", "console_of", "form_key", "steering_of"]


class StateView:
    """The console alone (``rallybot console``) as a :class:`Console`: the bot that runs on
    the same database plans and sends what the pages write into the outbox."""

    def __init__(self, state: ConsoleState) -> None:
        self._state = state

    @property
    def db(self) -> Database:
        """The database."""
        return self._state.db

    @property
    def clock(self) -> Clock:
        """The clock."""
        return self._state.clock

    @property
    def settings(self) -> Settings:
        """The settings in force."""
        return self._state.settings

    @property
    def campaigns(self) -> dict[str, Campaign]:
        """The campaigns loaded, by id."""
        return self._state.campaigns()

    def request_plan(self) -> None:
        """Nothing to ask: the bot's next planning tick sees the outbox."""

    def delivery_row(self, delivery: PlannedDelivery, now: datetime) -> dict[str, Any]:
        """The outbox row of a planned delivery, as the bot's planner writes it."""
        message = sign_invitation(self.db, delivery.message(), delivery.occurrence)
        return outbox_row(delivery, now, self.settings, message)


def console_of(state: ConsoleState) -> Console:
    """The running bot when the console is served by it, else the console's own view."""
    return state.bot if state.bot is not None else StateView(state)


def steering_of(state: ConsoleState) -> Steering:
    """What sends a step now or skips it: the running bot, else the console's own view
    (the bot running on the same database sends what it writes)."""
    return state.bot if state.bot is not None else StateView(state)


def bot_of(state: ConsoleState) -> BotContext | None:
    """The running bot, for what only it can do (render a step's outbox rows, tell a member
    at once); None when the console runs alone."""
    return state.bot


def form_key() -> str:
    """A fresh key for a confirmation form: submitting the same form twice acts once."""
    return secrets.token_urlsafe(18)
