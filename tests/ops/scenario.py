"""One small campaign played on a platform (console, fake Slack, fake Discord) with the bot's
HTTP server beside it, as ``rallybot run`` wires them: sends that go, fail, are skipped and
cancelled; inbound events, one of them twice. The tests scrape ``/metrics`` and read the logs.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from discord.http import Route
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console

from rallybot.bot.adapters.base import Adapter
from rallybot.bot.adapters.console import ConsoleAdapter
from rallybot.bot.adapters.discord.adapter import DiscordAdapter
from rallybot.bot.adapters.slack.adapter import SlackAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import ChannelRef, ReactionAdded, UserRef
from rallybot.bot.http import HttpServer, Readiness, add_probes
from rallybot.bot.metrics import METRICS
from rallybot.storage.database import Database
from rallybot.storage.models import Delivery, InboundEvent, Member
from rallybot.storage.repositories import upsert_member
from tests.platform_discord import payloads as discord_payloads
from tests.platform_discord.adapter_support import CHANNEL as DISCORD_CHANNEL
from tests.platform_discord.adapter_support import GUILD, build_world, ready_client
from tests.platform_discord.adapter_support import tasks_settle as discord_settle
from tests.platform_discord.fake_discord import FakeDiscord
from tests.platform_slack import payloads as slack_payloads
from tests.platform_slack.fake_slack import FakeSlack
from tests.platform_slack.harness import SIGNING_SECRET
from tests.platform_slack.payloads import SlackEventPoster

LAUNCH = datetime(2026, 11, 3, 8, 30, tzinfo=UTC)  # 09:30 in Paris
# Texts that must never reach the logs: what the campaign says and what a member writes.
SECRET_TEXTS = ("ZEBRA-TEASER-41", "ZEBRA-WELCOME-42", "ZEBRA-LATER-43", "ZEBRA-MEMBER-44")

CAMPAIGN = """\
id: ops-check
title: Ops check
timezone: Europe/Paris
milestones:
  launch: 2026-11-03 09:30
channels:
  annonces: general
audiences:
  pilote: { cohort: pilote }
steps:
  - id: teaser
    at: launch - 1d at 09:00
    post: annonces
    text: "Bientôt : ZEBRA-TEASER-41"
  - id: welcome
    for: pilote
    at: launch at 10:00
    dm: "Bienvenue {first_name} ! ZEBRA-WELCOME-42"
"""
LATER_STEP = """\
  - id: later
    for: pilote
    at: launch + 3d at 10:00
    dm: "Plus tard : ZEBRA-LATER-43"
"""


@dataclass
class Roles:
    """Platform user ids: one member who gets everything, one who opts out after planning,
    one the platform does not know (sends to them fail for good, except on the console)."""

    ok: str
    opted_out: str
    unknown: str


@dataclass
class Played:
    """What a scenario left behind, for the assertions."""

    platform: str
    metrics_before: dict[tuple[str, tuple[tuple[str, str], ...]], float]
    metrics_after: dict[tuple[str, tuple[tuple[str, str], ...]], float]
    deliveries: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    inbound: Counter[tuple[str, str]] = field(default_factory=Counter)
    secrets: list[str] = field(default_factory=list)
    ready_while_running: int = 0
    ready_while_stopping: int = 0

    def delta(self, name: str, **labels: str) -> float:
        """How much the sample ``name`` with exactly ``labels`` grew during the scenario."""
        key = (name, tuple(sorted(labels.items())))
        return self.metrics_after.get(key, 0.0) - self.metrics_before.get(key, 0.0)


async def scrape(client: httpx.AsyncClient, url: str) -> dict[Any, float]:
    """``/metrics`` parsed by Prometheus' own text parser: (name, labels) -> value."""
    response = await client.get(url + "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[Any, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


Inject = Callable[[], Awaitable[None]]


def settings_for(base: dict[str, Any], **extra: Any) -> Settings:
    """Settings from ``base`` and ``extra`` only (no environment, no ``.env``)."""
    return Settings(_env_file=None, **{**base, **extra})  # type: ignore[call-arg]


@asynccontextmanager
async def _console(
    db: Database, base: dict[str, Any], server: HttpServer
) -> AsyncIterator[tuple[Adapter, Roles, Callable[[Rallybot], Inject], list[str]]]:
    adapter = ConsoleAdapter(console=Console(file=io.StringIO(), width=100), interactive=False)
    roles = Roles(ok="ok", opted_out="opted", unknown="nobody")

    def inject(bot: Rallybot) -> Inject:
        async def run() -> None:
            # The console hands typed input to Rallybot.handle; the same event twice is dropped.
            for n in (1, 2, 3, 3):
                await bot.handle(
                    ReactionAdded(
                        event_id=f"console-{n}",
                        platform="console",
                        user=UserRef("console", roles.ok),
                        occurred_at=LAUNCH,
                        channel=ChannelRef("console", "general"),
                        message_id=f"m{n}",
                        emoji="tada",
                    )
                )

        return run

    yield adapter, roles, inject, []


@asynccontextmanager
async def _slack(
    db: Database, base: dict[str, Any], server: HttpServer
) -> AsyncIterator[tuple[Adapter, Roles, Callable[[Rallybot], Inject], list[str]]]:
    async with FakeSlack(scale=50) as fake:
        fake.add_user("U0OK", "Member ok")
        fake.add_user("U0OPT", "Member opted out")
        fake.add_channel("C0GENERAL", "general", ["U0OK", "U0OPT"])
        slack = settings_for(
            base,
            slack_bot_token=fake.bot_token,
            slack_app_token=fake.app_token,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=fake.api_url,
            channel_map={"annonces": "C0GENERAL"},
        )
        adapter = SlackAdapter(
            settings=slack,
            db=db,
            clock=SimulatedClock(LAUNCH),
            http_port=0,
            server=server,  # HTTP mode: /slack/events on the bot's one server
            limiter_scale=fake.scale,
        )
        roles = Roles(ok="U0OK", opted_out="U0OPT", unknown="U0GHOST")

        def inject(bot: Rallybot) -> Inject:
            async def run() -> None:
                async with SlackEventPoster(SIGNING_SECRET) as poster:
                    for n in (1, 2, 3, 3):  # Slack sends an event again when unsure it arrived
                        event = slack_payloads.reaction_added_event(
                            user="U0OK",
                            reaction="tada",
                            channel="C0GENERAL",
                            ts=slack_payloads.ts_at(1_790_000_000),
                            event_ts=slack_payloads.ts_at(1_790_000_000, n),
                        )
                        body = slack_payloads.event_callback(
                            event, event_id=f"Ev0OPS{n}", event_time=1_790_000_000
                        )
                        answer = await poster.post_event(server.url + "/slack/events", body)
                        assert answer.status_code == 200, answer.text
                await adapter.idle()

            return run

        secrets = [fake.bot_token, fake.app_token, SIGNING_SECRET]
        try:
            yield adapter, roles, inject, secrets
        finally:
            await adapter.stop()


@asynccontextmanager
async def _discord(
    db: Database, base: dict[str, Any], server: HttpServer
) -> AsyncIterator[tuple[Adapter, Roles, Callable[[Rallybot], Inject], list[str]]]:
    route_base = Route.BASE  # the fake changes it: put it back for the next tests
    ok, opted = 334_000_000_000_000_101, 334_000_000_000_000_102
    try:
        async with FakeDiscord(scale=50.0) as fake:
            people = {ok: "Member ok", opted: "Member opted out"}
            build_world(fake, people)
            discord = settings_for(
                base,
                discord_token=fake.token,
                discord_guild_ids=[GUILD],
                discord_api_url=fake.base_url,
                channel_map={"annonces": str(DISCORD_CHANNEL)},
            )
            client = await ready_client(fake, people)
            client._ready.set()  # as the gateway's READY would: the adapter counts as connected
            adapter = DiscordAdapter(
                settings=discord, db=db, clock=SimulatedClock(LAUNCH), client=client
            )
            roles = Roles(ok=str(ok), opted_out=str(opted), unknown="334000000000000999")

            def inject(bot: Rallybot) -> Inject:
                async def run() -> None:
                    for n in (1, 2, 3, 3):  # the gateway may replay an event after a resume
                        discord_payloads.dispatch(
                            client,
                            "MESSAGE_REACTION_ADD",
                            discord_payloads.reaction_add(
                                user_id=ok,
                                channel_id=DISCORD_CHANNEL,
                                message_id=555_000_000_000_000_000 + n,
                                guild_id=GUILD,
                            ),
                        )
                        await discord_settle()

                return run

            try:
                yield adapter, roles, inject, [fake.token]
            finally:
                await adapter.stop()
                await client.close()
    finally:
        Route.BASE = route_base


PLATFORMS = {"console": _console, "slack": _slack, "discord": _discord}


async def play(platform: str, db: Database, db_url: str, folder: Path) -> Played:
    """Run the scenario on ``platform``; returns the metrics before and after, and what the
    database holds."""
    campaign = folder / "ops-check.yaml"
    campaign.write_text(CAMPAIGN + LATER_STEP, encoding="utf-8")
    base: dict[str, Any] = {
        "database_url": db_url,
        "quiet_hours": "off",
        "lookahead_seconds": 7 * 24 * 3600,  # the whole campaign is planned at the first pass
        "channel_map": {"annonces": "general"},
    }
    settings = settings_for(base)
    clock = SimulatedClock(LAUNCH - timedelta(days=2))
    server = HttpServer("127.0.0.1", 0)
    readiness = Readiness(db=db)
    add_probes(server, readiness, METRICS, now=clock.now)
    async with PLATFORMS[platform](db, base, server) as (adapter, roles, inject, secrets):
        bot = Rallybot(
            adapter.settings if hasattr(adapter, "settings") else settings,
            db,
            adapter,
            clock,
            campaign_paths=[campaign],
            worker_id="ops-test",
        )
        await server.start()
        async with httpx.AsyncClient(timeout=10) as client:
            try:
                before = await scrape(client, server.url)
                for user_id, cohort in (
                    (roles.ok, "pilote"),
                    (roles.opted_out, "pilote"),
                    (roles.unknown, "pilote"),
                ):
                    await upsert_member(
                        db,
                        platform,
                        user_id,
                        clock.now(),
                        display_name=f"Member {user_id}",
                        first_name="Member",
                        cohort=cohort,
                        joined_at=LAUNCH - timedelta(days=10),
                        timezone="Europe/Paris",
                    )
                report = await bot.reload()
                assert report.errors == []
                await bot.start_adapter()
                readiness.started = True
                readiness.platform_connected = lambda: bool(getattr(adapter, "connected", True))
                await bot.advance_to(LAUNCH - timedelta(hours=2))  # the teaser; all planned
                async with db.session() as session:  # a member opts out after planning
                    await session.execute(
                        sa.update(Member)
                        .where(sa.column("platform_user_id") == roles.opted_out)
                        .values(opted_out=True)
                    )
                await bot.advance_to(LAUNCH + timedelta(hours=2))  # welcome: sent, skipped...
                campaign.write_text(CAMPAIGN, encoding="utf-8")  # the "later" step goes
                report = await bot.reload()
                assert report.errors == []
                await inject(bot)()
                await bot.idle()
                ready = await client.get(server.url + "/readyz")
                after = await scrape(client, server.url)
                readiness.stopping = True
                stopping = await client.get(server.url + "/readyz")
            finally:
                await bot.shutdown()
                await server.stop()
    played = Played(platform, before, after, secrets=secrets)
    played.ready_while_running = ready.status_code
    played.ready_while_stopping = stopping.status_code
    async with db.session() as session:
        for row in (await session.execute(sa.select(Delivery))).scalars():
            played.deliveries[(row.campaign_id, row.step_id, row.status)] += 1
        for row in (await session.execute(sa.select(InboundEvent))).scalars():
            played.inbound[(row.platform, row.kind)] += 1
    return played
