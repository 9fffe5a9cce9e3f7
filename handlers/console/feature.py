"""The console as a feature: the runner starts what features serve, and names none of them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rallybot.bot.feature import Feature

if TYPE_CHECKING:
    from rallybot.bot.context import BotContext
    from rallybot.bot.http import HttpServer

__all__ = ["ConsoleFeature"]


class ConsoleFeature(Feature):
    """The web console (:mod:`.serve`), served once the bot runs when ``RALLYBOT_CONSOLE`` is
    on: on the bot's HTTP server, or on a port of its own."""

    name = "console"
    personal_data = ("console_session", "console_sign_in", "console_login_attempt")

    async def serve(self, ctx: BotContext, server: HttpServer | None) -> HttpServer | None:
        """Serve the console of this bot when it is turned on; see :func:`.serve.attach_to_bot`."""
        if not ctx.settings.console:
            return None
        # Loaded only when turned on: FastAPI and every page.
        from rallybot.handlers.console.serve import attach_to_bot  # noqa: PLC0415

        return await attach_to_bot(ctx.settings, server, ctx, ctx.clock)
