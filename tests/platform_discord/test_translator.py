"""Discord's command descriptions in each client's language, from the catalogs."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from rallybot.bot import i18n
from rallybot.bot.adapters.discord.adapter import CatalogTranslator, DiscordAdapter

from .adapter_support import GUILD, Recorder
from .fake_discord import FakeDiscord

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


async def test_option_descriptions_come_from_the_catalogs_too() -> None:
    option = Where.parameter_description
    assert await _translate("Who to thank", discord.Locale.german, option) == "Wem danken"
    assert await _translate("What for", discord.Locale.french, option) == "Pour quoi"
    poll = await _translate(
        '"Question?" "A" "B"... [--multiple] [--anonymous] [closes=2h]; results NAME; list',
        discord.Locale.spain_spanish,
        option,
    )
    assert (
        poll
        == '"¿Pregunta?" "A" "B"... [--multiple] [--anonymous] [closes=2h]; results NOMBRE; list'
    )


async def test_the_synced_commands_carry_every_description_in_german(
    fake: FakeDiscord, running: tuple[DiscordAdapter, Recorder]
) -> None:
    """What discord.py sends when it syncs ``/rallybot``: the group, each subcommand and each
    option with its German description, as a German client shows them."""
    [top] = fake.commands[(fake.application_id, GUILD)]
    described: list[dict[str, Any]] = []
    stack = [top]
    while stack:
        item = stack.pop()
        if "description" in item:
            described.append(item)
        stack.extend(item.get("options", []))
    assert len(described) > 60  # the group, its subcommands and their options
    missing = [
        item["name"]
        for item in described
        if item.get("description_localizations", {}).get("de")
        != i18n.gettext("de", item["description"])[:100]
    ]
    assert missing == []
    by_name = {o["name"]: o for o in top["options"]}
    kudos = {o["name"]: o for o in by_name["kudos"]["options"]}
    assert kudos["member"]["description_localizations"]["de"] == "Wem danken"
    assert kudos["reason"]["description_localizations"]["fr"] == "Pour quoi"
