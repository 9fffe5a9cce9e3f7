"""Discord's command descriptions in each client's language, from the catalogs."""

from __future__ import annotations

import discord
from discord import app_commands

from rallybot.bot.adapters.discord.adapter import CatalogTranslator

Where = app_commands.TranslationContextLocation


async def _translate(text: str, locale: discord.Locale, where: Where) -> str | None:
    context = app_commands.TranslationContext(location=where, data=None)
    return await CatalogTranslator().translate(app_commands.locale_str(text), locale, context)


async def test_descriptions_come_from_the_catalogs() -> None:
    described = Where.command_description
    assert await _translate("The leaderboard", discord.Locale.french, described) == "Le classement"
    assert await _translate("The leaderboard", discord.Locale.german, described) == "Die Rangliste"
    spain = discord.Locale.spain_spanish  # es-ES: the base language's catalog
    assert await _translate("The leaderboard", spain, described) == "La clasificación"
    group = await _translate(
        "Community managers: steer the campaigns", discord.Locale.german, Where.group_description
    )
    assert group == "Community-Manager: die Kampagnen steuern"


async def test_english_unknown_texts_and_names_are_left_to_discord() -> None:
    described = Where.command_description
    assert await _translate("The leaderboard", discord.Locale.american_english, described) is None
    assert await _translate("Not a message id", discord.Locale.french, described) is None
    assert await _translate("top", discord.Locale.french, Where.command_name) is None
