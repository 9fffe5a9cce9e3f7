"""The feature contract (bot/feature.py): the order check, and a kernel that runs a feature it
has never heard of through its declaration alone."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pytest
import sqlalchemy as sa

import rallybot.bot.commands as commands_module
from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.app import Kernel
from rallybot.bot.assembly import Rallybot
from rallybot.bot.assembly import commands as shipped_commands
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.commands import CommandSpec, ParamSpec, catalogue
from rallybot.bot.config import Settings
from rallybot.bot.context import BotContext
from rallybot.bot.events import CommandInvoked, UserRef
from rallybot.bot.feature import (
    Feature,
    FeatureOrderError,
    FileKind,
    RetentionTick,
    Subscription,
    Tick,
    ordered,
)
from rallybot.campaigns.loader import LoadError
from rallybot.handlers import COMMAND_ORDER, FEATURES, features
from rallybot.handlers.admin.feature import help_text
from rallybot.handlers.privacy import personal_data as privacy
from rallybot.storage.database import Database
from rallybot.storage.journal_models import InboundJournal
from rallybot.storage.models import table_of
from rallybot.storage.repositories import get_flag, set_flag

NOW = datetime(2026, 11, 3, 8, 30, tzinfo=UTC)


def _named(name: str, after: tuple[str, ...] = ()) -> Feature:
    kind = type(f"F_{name}", (Feature,), {"name": name, "after": after})
    return kind()


def test_order_keeps_the_given_order_and_puts_dependencies_first() -> None:
    given = [_named("a", ("c",)), _named("b"), _named("c"), _named("d", ("b",))]
    assert [f.name for f in ordered(given)] == ["c", "a", "b", "d"]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ([("a", ("b",)), ("b", ("a",))], "features wait for each other: a -> b -> a"),
        ([("a", ("a",))], "a -> a"),
        ([("a", ("ghost",))], 'comes after "ghost", which is not installed'),
        ([("a", ()), ("a", ())], 'two features are called "a"'),
        ([("", ())], "has no name"),
    ],
)
def test_order_fails_clearly(given: list[tuple[str, tuple[str, ...]]], message: str) -> None:
    with pytest.raises(FeatureOrderError, match=message):
        ordered(_named(name, after) for name, after in given)


def test_the_shipped_features_declare_the_catalogue_and_the_personal_tables_once() -> None:
    shipped = features()
    assert [type(f) for f in shipped] == list(FEATURES)  # their order satisfies every "after"
    declared = [spec for f in shipped for spec in f.commands]
    assert sorted(declared, key=lambda s: s.name) == sorted(
        shipped_commands(), key=lambda s: s.name
    )
    assert len({spec.name for spec in declared}) == len(declared)
    tables = [table for f in shipped for table in f.personal_data]
    assert len(tables) == len(set(tables))
    assert set(tables) | set(privacy.KERNEL_TABLES) == set(privacy.REGISTRY)
    assert not set(tables) & set(privacy.KERNEL_TABLES)


def _declaring(name: str, *commands: str) -> Feature:
    specs = tuple(CommandSpec(c, f"The {c} command") for c in commands)
    kind = type(f"F_{name}", (Feature,), {"name": name, "commands": specs})
    return kind()


def test_the_catalogue_is_made_from_the_features_declarations() -> None:
    one, two = _declaring("one", "b", "a"), _declaring("two", "d", "c")
    assert [s.name for s in catalogue([one, two])] == ["b", "a", "d", "c"]  # feature order
    assert [s.name for s in catalogue([two, one])] == ["d", "c", "b", "a"]
    # An order first (names no feature declares are skipped), the others after, in feature order
    assert [s.name for s in catalogue([one, two], ("c", "ghost", "a"))] == ["c", "a", "b", "d"]
    assert catalogue([]) == ()
    with pytest.raises(ValueError, match='"a" is declared twice: by one and by three'):
        catalogue([one, _declaring("three", "a")])


def test_the_kernel_module_names_no_subcommand() -> None:
    # Each feature declares its subcommands in its own package; bot/commands.py has only the
    # types, the helpers and the catalogue made from the features (issue 11).
    for name, value in vars(commands_module).items():
        values = value if isinstance(value, tuple | list | dict) else (value,)
        for item in values.values() if isinstance(values, dict) else values:
            assert not isinstance(item, CommandSpec | ParamSpec), name
    shipped = {spec.name for spec in shipped_commands()}
    source = Path(commands_module.__file__ or "").read_text()
    quoted = set(re.findall(r'"(\w+)"', source))
    assert not quoted & shipped - {"text", "member", "flag"}, quoted & shipped


def test_the_shipped_catalogue_keeps_the_help_order() -> None:
    # The features run in another order: COMMAND_ORDER orders what members read.
    names = [spec.name for spec in shipped_commands()]
    assert (
        names
        == list(COMMAND_ORDER)
        == [
            *("help", "points", "top", "kudos", "quiz", "challenges", "challenge", "invite"),
            *("onboarding", "me", "stop", "start", "mydata", "forget", "helpdesk", "campaigns"),
            *("pause", "resume", "reload", "preview", "send", "skip", "pending", "timeline"),
            *("wave", "stats", "season", "survey", "poll"),
        ]
    )
    assert [s.name for s in catalogue(features())] != names  # the order is needed


async def test_a_bot_holds_its_features_catalogue_and_declares_it_to_the_platform(
    db: Database, tmp_path: Path
) -> None:
    class Declaring(MemoryAdapter):
        declared: tuple[CommandSpec, ...] = ()

        def declare_commands(self, commands: Sequence[CommandSpec]) -> None:
            self.declared = tuple(commands)

    settings = Settings(database_url=f"sqlite:///{tmp_path / 's.db'}", locale="en")
    adapter = Declaring()
    bot = Rallybot(settings, db, adapter, SimulatedClock(NOW), campaign_paths=[tmp_path])
    assert bot.commands == adapter.declared == shipped_commands()
    # A bot with another feature: its command is in the catalogue, the help and on Discord.
    adapter = Declaring()
    bot = Rallybot(
        settings,
        db,
        adapter,
        SimulatedClock(NOW),
        features=[*features(), Echo()],
        campaign_paths=[tmp_path],
    )
    assert adapter.declared == bot.commands == (*shipped_commands(), *Echo.commands)
    who = UserRef("memory", "u1", "Ann")
    await bot.handle(
        CommandInvoked(
            event_id="h1", platform="memory", user=who, occurred_at=NOW, name="help", args=()
        )
    )
    text = adapter.directs[-1].message.text
    assert text == help_text(bot.commands)
    assert "/rallybot echo" in text and "Say it back" in text


class Echo(Feature):
    """A feature the kernel was never told about: everything goes through its declaration."""

    name = "echo"
    commands = (CommandSpec("echo", "Say it back"),)
    file_kinds = (FileKind("echo file", lambda path: path.name.startswith("echo")),)
    calls: ClassVar[list[str]]

    def __init__(self) -> None:
        self.calls = []
        self.files: list[str] = []

    def subscriptions(self) -> Sequence[Subscription]:
        async def on_command(event: CommandInvoked, ctx: BotContext) -> None:
            if event.name == "echo":
                self.calls.append("command")
                assert ctx.feature(Echo) is self
                await ctx.answer(event, " ".join(event.args))

        return (Subscription(CommandInvoked, on_command),)

    async def reload(self, ctx: BotContext, files: Mapping[str, Sequence[Path]]) -> list[LoadError]:
        self.files = [p.name for p in files["echo file"]]
        return [LoadError("echo.yaml", 1, 1, "echo", "an echo error")]

    def ticks(self) -> Sequence[Tick]:
        async def tick(ctx: BotContext) -> None:
            self.calls.append("tick")

        async def failing(ctx: BotContext) -> None:
            raise RuntimeError("a broken tick")

        return (failing, tick)

    async def next_event_time(self, ctx: BotContext, horizon: datetime) -> datetime | None:
        return NOW + timedelta(hours=1)


async def test_the_kernel_runs_a_feature_through_its_declaration(
    db: Database, tmp_path: Path
) -> None:
    (tmp_path / "echo.yaml").write_text("echo: hello\n")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 's.db'}")
    adapter = MemoryAdapter()
    echo = Echo()
    bot = Kernel(
        settings, db, adapter, SimulatedClock(NOW), features=[echo], campaign_paths=[tmp_path]
    )
    assert bot.handles_command("echo") and not bot.handles_command("points")
    report = await bot.reload()
    assert echo.files == ["echo.yaml"]  # the feature's file, not read as a campaign
    assert [e.message for e in report.errors] == ["an echo error"]
    who = UserRef("memory", "u1", "Ann")
    command = CommandInvoked(
        event_id="c1", platform="memory", user=who, occurred_at=NOW, name="echo", args=("hi", "x")
    )
    await bot.handle(command)
    assert [d.message.text for d in adapter.directs] == ["hi x"]
    await bot.dispatch_tick()  # the failing tick is logged; the next one still runs
    assert echo.calls == ["command", "tick"]
    assert await bot.next_event_time(NOW + timedelta(days=1)) == NOW + timedelta(hours=1)
    with pytest.raises(LookupError, match="without the Feature feature"):
        bot.feature(Feature)


class Keeper(Feature):
    """A feature with data to delete past its retention period, and a broken retention task."""

    name = "keeper"

    def __init__(self) -> None:
        self.runs: list[datetime] = []

    def retention_ticks(self) -> Sequence[RetentionTick]:
        async def failing(ctx: BotContext) -> int:
            raise RuntimeError("a broken retention tick")

        async def purge(ctx: BotContext) -> int:
            self.runs.append(ctx.clock.now())
            return 2

        return (failing, purge)


async def test_the_retention_job_runs_the_features_retention_ticks(
    db: Database, tmp_path: Path
) -> None:
    keeper = Keeper()
    settings = Settings(database_url=f"sqlite:///{tmp_path / 's.db'}", retention_days=1)
    bot = Kernel(settings, db, MemoryAdapter(), SimulatedClock(NOW), features=[keeper, Echo()])
    # The failing task is logged; the next one still runs; the echo feature declares none.
    assert await bot.retention_tick() == 2
    assert keeper.runs == [NOW]
    await bot.dispatch_tick()  # retention is hourly, not with every dispatch
    assert keeper.runs == [NOW]


HANDLERS = Path(__file__).resolve().parents[2] / "handlers"


def _feature_of(path: Path) -> str:
    """The feature a file of handlers/ belongs to (a module, or a package's folder)."""
    relative = path.relative_to(HANDLERS)
    return relative.parts[0].removesuffix(".py")


def test_features_use_each_other_only_through_public_names() -> None:
    crossings: list[str] = []
    for path in sorted(HANDLERS.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        own = _feature_of(path)
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or not node.module:
                continue
            parts = node.module.split(".")
            if parts[:2] != ["rallybot", "handlers"] or len(parts) < 3 or parts[2] == own:
                continue
            crossings += [
                f"{path.name}: {node.module}.{alias.name}"
                for alias in node.names
                if alias.name.startswith("_")
            ]
    assert crossings == []


def test_features_reach_the_context_typed() -> None:
    untyped = [
        f"{path.name}:{number}"
        for path in sorted(HANDLERS.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\b(getattr|setattr|hasattr)\(ctx\s*,|\bctx\.\w+ = .*type: ignore", line)
    ]
    assert untyped == []


class Flags(Feature):
    """Two transactional handlers of one event, each setting a control flag; the second
    fails after its write while ``failing``."""

    name = "flags"

    def __init__(self) -> None:
        self.failing = True

    def subscriptions(self) -> Sequence[Subscription]:
        return (
            Subscription(CommandInvoked, self.good, transactional=True),
            Subscription(CommandInvoked, self.bad, transactional=True),
        )

    async def good(self, event: CommandInvoked, ctx: BotContext) -> None:
        await set_flag(ctx.db, f"good-{event.event_id}", "1", NOW)

    async def bad(self, event: CommandInvoked, ctx: BotContext) -> None:
        await set_flag(ctx.db, f"bad-{event.event_id}", "1", NOW)
        if self.failing:
            raise RuntimeError("a bug in this feature")


async def test_a_failing_handler_has_its_writes_undone_and_the_others_kept_with_the_close(
    db: Database, tmp_path: Path
) -> None:
    """The event's transaction fails (a feature's bug): it is handled again with a savepoint
    around each handler, so the working handler's write commits with the closing of the
    journal row and the failing one's is undone."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 's.db'}")
    bot = Kernel(
        settings, db, MemoryAdapter(), SimulatedClock(NOW), features=[Flags()], campaign_paths=[]
    )
    who = UserRef("memory", "u1", "Ann")
    command = CommandInvoked(
        event_id="c1", platform="memory", user=who, occurred_at=NOW, name="flags", args=()
    )
    await bot.handle(command)
    assert await get_flag(db, "good-c1") is not None
    assert await get_flag(db, "bad-c1") is None
    async with db.read() as session:
        closed = await session.execute(
            sa.select(table_of(InboundJournal).c.handled_at.is_not(None))
        )
        assert list(closed.scalars()) == [True]
