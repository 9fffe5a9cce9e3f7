"""``/rallybot`` on Discord: every subcommand of the catalogue, and its options as handler args."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import re

import pytest

from rallybot.bot.adapters.discord.adapter import DiscordAdapter
from rallybot.bot.assembly import commands as shipped_commands
from rallybot.bot.commands import CommandSpec, ParamSpec, args_from_options
from rallybot.bot.events import CommandInvoked
from rallybot.handlers.admin import feature as admin

from .adapter_support import (
    ALICE,
    BOB,
    GUILD,
    PEOPLE,
    Recorder,
    close_adapter,
    start_adapter,
)
from .adapter_support import command as invoke
from .fake_discord import FakeDiscord


def _handled_commands() -> set[str]:
    """Every ``COMMANDS`` set of every module of :mod:`handlers` (new features included)."""
    import rallybot.handlers

    names = {"help"} | set(admin.ADMIN_COMMANDS)
    for info in pkgutil.iter_modules(rallybot.handlers.__path__):
        # a feature is a package: its handlers are in its feature module
        package = f"rallybot.handlers.{info.name}"
        found = [package, f"{package}.feature"] if info.ispkg else [package]
        for name in found:
            if importlib.util.find_spec(name) is None:  # a package with no feature module
                continue
            commands = getattr(importlib.import_module(name), "COMMANDS", None)
            if isinstance(commands, frozenset | set):
                names |= {str(c) for c in commands}
    return names


COMMANDS = shipped_commands()
"""The catalogue of the shipped features, as a bot holds it."""


def command(name: str) -> CommandSpec:
    """The shipped catalogue's entry called ``name``."""
    return next(spec for spec in COMMANDS if spec.name == name)


def test_the_catalogue_has_every_command_a_handler_answers() -> None:
    answered = _handled_commands()
    assert {"points", "kudos", "quiz", "helpdesk", "onboarding", "survey", "forget"} <= answered
    in_help = set(re.findall(r"/rallybot (\w+)", admin.help_text(COMMANDS)))
    names = [spec.name for spec in COMMANDS]
    assert answered | in_help <= set(names)
    assert len(names) == len(set(names))
    # Discord's limit: 25 children under /rallybot (subcommands and groups), 25 in a group
    top = [s.name for s in COMMANDS if s.group is None] + sorted(
        {s.group for s in COMMANDS if s.group is not None}
    )
    assert len(top) <= 25
    for group in {s.group for s in COMMANDS if s.group is not None}:
        assert len([s for s in COMMANDS if s.group == group]) <= 25
    for spec in COMMANDS:
        assert len(spec.params) <= 25
        assert 1 <= len(spec.description) <= 100
        assert all(p.description and len(p.description) <= 100 for p in spec.params)
        assert len({p.name for p in spec.params}) == len(spec.params)


def test_options_become_the_words_a_slack_user_would_type() -> None:
    help_spec = command("help")
    points_spec = command("points")
    stats_spec = command("stats")
    assert args_from_options(help_spec, {"question": " Where is  the wifi? ", "private": True}) == (
        "--private",
        "Where",
        "is",
        "the",
        "wifi?",
    )
    assert args_from_options(help_spec, {"question": "Hi", "private": False}) == ("Hi",)
    assert args_from_options(
        points_spec, {"reason": "great talk", "amount": "10", "member": "<@7>", "action": "add"}
    ) == ("add", "<@7>", "10", "great", "talk")
    assert args_from_options(points_spec, {"action": "revert", "amount": "12"}) == ("revert", "12")
    assert args_from_options(points_spec, {}) == ()
    assert args_from_options(stats_spec, {"weeks": "8", "team": "Sales"}) == ("8", "team=Sales")


async def test_the_synced_tree_has_every_catalogue_command(
    fake: FakeDiscord, running: tuple[DiscordAdapter, Recorder]
) -> None:
    # The catalogue of the features, /rallybot poll (the polls feature's) included.
    assert "poll" in {spec.name for spec in COMMANDS}
    commands = fake.commands[(fake.application_id, GUILD)]
    assert [c["name"] for c in commands] == ["rallybot"]
    top = {o["name"]: o for o in commands[0]["options"]}
    expected: list[str] = []
    for spec in COMMANDS:
        name = spec.group or spec.name
        if name not in expected:
            expected.append(name)
    assert list(top) == expected
    synced = {o["name"]: o for o in commands[0]["options"] if o["type"] == 1}
    for option in commands[0]["options"]:
        if option["type"] == 2:  # a group of subcommands: /rallybot manage send ...
            synced |= {o["name"]: o for o in option["options"]}
    assert sorted(synced) == sorted(spec.name for spec in COMMANDS)
    for spec in COMMANDS:
        sub = synced[spec.name]
        assert sub["type"] == 1  # a subcommand
        assert sub["description"] == spec.description
        options = {o["name"]: o for o in sub.get("options", [])}
        assert set(options) == {p.name for p in spec.params}
        for param in spec.params:
            option = options[param.name]
            assert option["type"] == {"text": 3, "member": 6, "flag": 5}[param.kind]
            assert option["required"] is param.required
            assert option["description"] == param.description
            assert [c["value"] for c in option.get("choices", [])] == list(param.choices)
        # Discord wants the required options first
        flags = [o["required"] for o in sub.get("options", [])]
        assert flags == sorted(flags, reverse=True)
    for name in ("pause", "resume"):
        (param,) = synced[name]["options"]
        assert param["autocomplete"] is True  # campaign ids suggested while typing
    # Discord's limit: 8,000 characters of names, descriptions and values in one command
    sizes = 0
    stack = [commands[0]]
    while stack:
        item = stack.pop()
        sizes += len(item["name"]) + len(item.get("description", ""))
        sizes += sum(len(c["name"]) + len(str(c["value"])) for c in item.get("choices", []))
        stack.extend(item.get("options", []))
    assert sizes <= 8000


async def _invoked(sink: Recorder, count: int) -> CommandInvoked:
    event = (await sink.wait_for(count))[count - 1]
    assert isinstance(event, CommandInvoked)
    return event


async def test_a_command_added_to_the_catalogue_is_in_the_help_and_on_discord(
    fake: FakeDiscord,
) -> None:
    # Discord's /rallybot is full (25 children): a new command goes in an existing group.
    wish = CommandSpec(
        "wish", "Make a wish", (ParamSpec("what", "The wish", True),), group="manage"
    )
    hush = CommandSpec("hush", "Quiet the bot", admin=True, group="manage")
    catalogue = (*COMMANDS, wish, hush)
    everyone, managers = admin.help_text(catalogue).split("Community managers:")
    assert "/rallybot wish WHAT" in everyone and "Make a wish" in everyone
    assert "/rallybot hush" in managers and "/rallybot hush" not in everyone
    adapter = await start_adapter(fake, Recorder(), commands=catalogue)
    try:
        synced = fake.commands[(fake.application_id, GUILD)][0]["options"]
    finally:
        await close_adapter(adapter)
    by_name = {o["name"]: o for o in next(o for o in synced if o["name"] == "manage")["options"]}
    assert by_name["wish"]["description"] == "Make a wish"
    assert [o["name"] for o in by_name["wish"]["options"]] == ["what"]
    assert "hush" in by_name


async def test_kudos_passes_the_picked_member_as_a_mention(
    fake: FakeDiscord, running: tuple[DiscordAdapter, Recorder]
) -> None:
    adapter, sink = running
    interaction_id = invoke(
        fake,
        adapter.client,
        "kudos",
        user_id=ALICE,
        options={"reason": "thanks for the   demo"},
        user_options={"member": (BOB, PEOPLE[BOB])},
    )
    event = await _invoked(sink, 1)
    assert event.event_id == str(interaction_id)
    assert (event.name, event.args) == ("kudos", (f"<@{BOB}>", "thanks", "for", "the", "demo"))
    assert event.user.id == str(ALICE)


async def test_help_with_a_private_question(
    fake: FakeDiscord, running: tuple[DiscordAdapter, Recorder]
) -> None:
    adapter, sink = running
    invoke(fake, adapter.client, "help", user_id=BOB)
    invoke(
        fake,
        adapter.client,
        "help",
        user_id=BOB,
        options={"question": "How do I reset my badge?", "private": True},
    )
    first = await _invoked(sink, 1)
    second = await _invoked(sink, 2)
    assert (first.name, first.args) == ("help", ())
    assert (second.name, second.args) == (
        "help",
        ("--private", "How", "do", "I", "reset", "my", "badge?"),
    )


async def test_points_add_from_its_options(
    fake: FakeDiscord, running: tuple[DiscordAdapter, Recorder]
) -> None:
    adapter, sink = running
    invoke(
        fake,
        adapter.client,
        "points",
        user_id=ALICE,
        options={"action": "add", "amount": "10", "reason": "ran the meetup"},
        user_options={"member": (BOB, PEOPLE[BOB])},
    )
    event = await _invoked(sink, 1)
    assert event.args == ("add", f"<@{BOB}>", "10", "ran", "the", "meetup")


@pytest.mark.parametrize("spec", [s for s in COMMANDS if not s.params], ids=lambda s: s.name)
async def test_every_command_without_options_is_invoked_by_name(
    fake: FakeDiscord, running: tuple[DiscordAdapter, Recorder], spec: CommandSpec
) -> None:
    adapter, sink = running
    invoke(fake, adapter.client, spec.name, user_id=ALICE, group=spec.group)
    event = await _invoked(sink, 1)
    assert (event.name, event.args) == (spec.name, ())
