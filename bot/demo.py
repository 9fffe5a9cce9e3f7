"""``rallybot demo``: the example launch campaign, played on the console on a simulated clock."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

import sqlalchemy as sa
from babel.dates import format_datetime
from rich.console import Console
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from rallybot.bot import formats, i18n
from rallybot.bot.adapters.base import SentMessage
from rallybot.bot.adapters.console import ConsoleAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import ChannelRef, MemberJoined, ReactionAdded, UserRef
from rallybot.bot.step_words import step_label
from rallybot.campaigns.community import roster_date_format
from rallybot.campaigns.faq import is_faq_file
from rallybot.campaigns.loader import is_community_file, load_campaign, yaml_files
from rallybot.campaigns.planner import MemberView
from rallybot.campaigns.quiz import validate_all
from rallybot.campaigns.roster import RosterEntry, RosterLoadError, load_roster
from rallybot.campaigns.schema import Campaign
from rallybot.campaigns.timeexpr import TimeExprError, localize, parse_time_expr
from rallybot.campaigns.timeline import default_window
from rallybot.storage.database import Database, create_database
from rallybot.storage.migrate import upgrade_async
from rallybot.storage.models import Delivery, table_of
from rallybot.storage.outbox import counts_by_step
from rallybot.storage.repositories import upsert_member

__all__ = ["EXAMPLES", "run_demo", "run_try"]

EXAMPLES = Path(__file__).resolve().parent.parent / "campaigns" / "examples"


@dataclass
class _Tally:
    sends: int = 0
    keys: set[str] | None = None

    def __post_init__(self) -> None:
        self.keys = set()

    def __call__(self, row: Delivery, sent: SentMessage | None) -> None:
        assert self.keys is not None
        self.sends += 1
        self.keys.add(row.key)


def _when(locale: str | None, moment: datetime, pattern: str) -> str:
    """A date or time for the narration, with the reader's month and day names."""
    return format_datetime(moment, pattern, locale=formats.babel_locale(locale))


async def run_demo(
    *,
    lang: str = "fr",
    console: Console | None = None,
    workdir: Path | None = None,
    locale: str | None = None,
) -> int:
    """Play J-35 to J+14 of the shipped campaign in ``lang``, narrated in ``locale``'s
    language; returns the exit code."""

    console = console or Console(highlight=False)
    folder = EXAMPLES / lang

    campaign_file = next(
        p for p in sorted(folder.glob("*.yaml")) if not is_faq_file(p) and not is_community_file(p)
    )
    campaign = load_campaign(campaign_file)
    assert campaign.roster_path is not None
    with tempfile.TemporaryDirectory(prefix="rallybot-demo-") as tmp:
        base = workdir or Path(tmp)
        url = f"sqlite:///{base / 'demo.db'}"
        settings = Settings(
            database_url=url, timezone=campaign.spec.timezone, locale=campaign.spec.locale
        )
        await upgrade_async(url)
        db = create_database(url)
        launch = campaign.milestones["launch"]
        start = localize(
            datetime.combine((launch - timedelta(days=35)).date(), datetime.min.time()),
            campaign.zone,
        )
        end = localize(launch + timedelta(days=14), campaign.zone)
        clock = SimulatedClock(start)
        zone = campaign.zone
        adapter = ConsoleAdapter(
            console=console,
            interactive=False,
            show_time=lambda: clock.now().astimezone(zone),
            locale=locale,
        )
        tally = _Tally()
        bot = Rallybot(
            settings, db, adapter, clock, campaign_paths=[campaign_file], worker_id="demo"
        )
        bot.dispatcher.on_sent = tally
        try:
            title = i18n.gettext(locale, "Rallybot demo — {title}")
            console.print(Rule(title.format(title=campaign.spec.title)), markup=False)
            # Translators: J-35 and J+14 are 35 days before and 14 days after the launch.
            clock_line = i18n.gettext(
                locale,
                "Simulated clock from {start} (J-35) to {end} (J+14), console platform, SQLite.",
            )
            shown = clock_line.format(
                start=_when(locale, start.astimezone(campaign.zone), "dd/MM/yyyy"),
                end=_when(locale, end.astimezone(campaign.zone), "dd/MM/yyyy"),
            )
            console.print(shown + "\n", markup=False)
            await bot.reload()
            await bot.start_adapter()
            entries = load_roster(
                folder / campaign.roster_path, default_timezone=campaign.spec.timezone
            )
            await bot.import_roster(entries, "console")
            console.print(
                _imported(locale, len(entries), campaign.roster_path) + "\n", markup=False
            )
            scripted = _script(
                campaign.zone,
                launch,
                "pilote" if lang == "fr" else "pilot",
                console,
                locale,
                _CASTS[lang],
                adapter,
            )
            for when, action in scripted:
                await bot.advance_to(when)
                await action(bot)
            await bot.advance_to(end)
            counts = await counts_by_step(db)
            firsts = await _first_sends(db)
        finally:
            await bot.shutdown()
            await db.dispose()
    return _summary(console, [campaign], start, counts, tally, locale, firsts)


def _imported(locale: str | None, n: int, roster: str) -> str:
    imported = i18n.ngettext(
        locale, "{n} person imported from {roster}.", "{n} people imported from {roster}.", n
    )
    return imported.format(n=formats.number(locale, n), roster=roster)


@dataclass(frozen=True)
class _Cast:
    """The people of a demo's script: who reacts, who completes their profile (from the
    example's roster), and the newcomer who joins later, with the language their platform
    profile would give (every message to them is in it)."""

    reacts: tuple[str, str]  # roster id, name
    completes: str  # roster id
    newcomer: tuple[str, str, str, str]  # id, display name, first name, locale


_CASTS = {
    "fr": _Cast(("amelie", "Amélie"), "bastien", ("gaelle", "Gaëlle Petit", "Gaëlle", "fr")),
    "en": _Cast(("alice", "Alice"), "ben", ("grace", "Grace Hill", "Grace", "en")),
}


def _script(
    zone: tzinfo,
    launch: datetime,
    cohort: str,
    console: Console,
    locale: str | None = None,
    cast: _Cast = _CASTS["fr"],
    adapter: ConsoleAdapter | None = None,
) -> list[tuple[datetime, Callable[[Rallybot], Awaitable[None]]]]:
    """A few things members do during the demo: react, complete a profile, join late."""
    channel = ChannelRef("console", "general", "general")

    def say(bot: Rallybot, text: str, name: str) -> None:
        when = _when(locale, bot.clock.now().astimezone(zone), "EEE dd MMM HH:mm")
        line = i18n.gettext(locale, text).format(name=name)
        console.print(f"— {when} · {line}", style="dim", markup=False)

    # The narration's lines are translated when said (say); N_ marks them for the catalogs.
    async def react(bot: Rallybot) -> None:
        user_id, name = cast.reacts
        # Translators: {name} is a member of the demo (their id on the console).
        say(bot, i18n.N_("{name} reacts :tada: to the announcement"), user_id)
        # The announcement: the post the bot pinned (its number differs with the language).
        shown = adapter.delivered if adapter is not None else []
        announcement = next((d.sent.message_id for d in shown if d.message.pin), None)
        if announcement is None:
            return
        await bot.handle(
            ReactionAdded(
                event_id="demo-react-1",
                platform="console",
                occurred_at=bot.clock.now(),
                user=UserRef("console", user_id, name),
                channel=channel,
                message_id=announcement,
                emoji="tada",
            )
        )

    async def complete_profile(bot: Rallybot) -> None:
        say(
            bot,
            # Translators: {name} is a member of the demo (their id on the console).
            i18n.N_("{name} completes their profile: their profile reminder will be skipped"),
            cast.completes,
        )
        await upsert_member(
            bot.db, "console", cast.completes, bot.clock.now(), profile_complete=True
        )

    async def newcomer(bot: Rallybot) -> None:
        user_id, display, first, language = cast.newcomer
        say(
            bot,
            # Translators: {name} is a member of the demo (their id on the console).
            i18n.N_("{name} joins the workspace and the pilot: their own welcome journey starts"),
            user_id,
        )
        await bot.handle(
            MemberJoined(
                event_id="demo-join-1",
                platform="console",
                occurred_at=bot.clock.now(),
                user=UserRef("console", user_id, display),
            )
        )
        # What Slack or Discord would tell of a newcomer: their cohort, name and language.
        await upsert_member(
            bot.db,
            "console",
            user_id,
            bot.clock.now(),
            cohort=cohort,
            first_name=first,
            locale=language,
        )
        bot.request_plan()

    return [
        (localize(launch + timedelta(hours=1), zone), react),
        (localize(launch + timedelta(days=1, hours=3), zone), complete_profile),
        (localize(launch + timedelta(days=3, hours=5), zone), newcomer),
    ]


async def _first_sends(db: Database) -> dict[tuple[str, str], datetime]:
    """When each step (campaign, step) was first due: its words are filled in as then."""
    D = table_of(Delivery).c
    query = sa.select(D.campaign_id, D.step_id, sa.func.min(D.due_at)).group_by(
        D.campaign_id, D.step_id
    )
    async with db.read() as session:
        rows = (await session.execute(query)).all()
    firsts: dict[tuple[str, str], datetime] = {}
    for campaign_id, step_id, due in rows:
        key = (campaign_id.partition(".")[0], step_id)  # a journey's suffix, as below
        firsts[key] = min(firsts.get(key, due), due)
    return firsts


def _summary(
    console: Console,
    campaigns: Sequence[Campaign],
    at: datetime,
    counts: list[tuple[str, str, str, int]],
    tally: _Tally,
    locale: str | None = None,
    firsts: dict[tuple[str, str], datetime] | None = None,
) -> int:
    """The deliveries of each step, the steps named as the console names them (their title,
    else their message's first words, filled in as at the step's first send in ``firsts``,
    else at ``at``), and whether any was sent twice."""
    assert tally.keys is not None
    table = Table(title=i18n.gettext(locale, "Deliveries per step"))
    table.add_column(i18n.pgettext(locale, "demo column", "Step"), justify="left")
    for column in (
        # Translators: column headers of the demo's summary (numbers of deliveries).
        i18n.pgettext(locale, "demo column", "Sent"),
        i18n.pgettext(locale, "demo column", "Skipped"),
        i18n.pgettext(locale, "demo column", "Pending"),
        i18n.pgettext(locale, "demo column", "Cancelled"),
    ):
        table.add_column(column, justify="right")
    when = firsts or {}
    by_step: dict[tuple[str, str], dict[str, int]] = {}
    for campaign_id, step_id, status, n in counts:
        # a journey writes under its campaign's id and a suffix ("connect-launch.onboarding")
        c = by_step.setdefault((campaign_id.partition(".")[0], step_id), {})
        c[status] = c.get(status, 0) + n
    for campaign in campaigns:
        for step in campaign.steps:
            c = by_step.get((campaign.id, step.id), {})
            table.add_row(
                # "[first name]" is no markup
                Text(step_label(campaign, step, locale, when.get((campaign.id, step.id), at))),
                str(c.get("sent", 0)),
                str(c.get("skipped", 0)),
                str(c.get("pending", 0)),
                str(c.get("cancelled", 0)),
            )
    console.print()
    console.print(table)
    duplicates = tally.sends - len(tally.keys)
    sent = i18n.ngettext(locale, "{n} message sent", "{n} messages sent", tally.sends)
    distinct = i18n.ngettext(
        locale, "for {n} distinct delivery", "for {n} distinct deliveries", len(tally.keys)
    )
    twice = (
        i18n.gettext(locale, "nothing duplicated.")
        if duplicates == 0
        else i18n.ngettext(locale, "{n} DUPLICATED.", "{n} DUPLICATED.", duplicates).format(
            n=formats.number(locale, duplicates)
        )
    )
    # Translators: "12 messages sent" "for 12 distinct deliveries": "nothing duplicated."
    line = i18n.gettext(locale, "{sent} {distinct}: {duplicated}")
    console.print(
        line.format(
            sent=sent.format(n=formats.number(locale, tally.sends)),
            distinct=distinct.format(n=formats.number(locale, len(tally.keys))),
            duplicated=twice,
        ),
        markup=False,
    )
    return 0 if duplicates == 0 else 1


async def run_try(
    paths: Sequence[Path],
    *,
    console: Console | None = None,
    start: str | None = None,
    end: str | None = None,
    speed: float = 0.0,
    locale: str | None = None,
) -> int:
    """Play a community manager's own files on the console, on a simulated clock, with a
    throwaway database and the rosters the campaigns name: from the first message to the last
    (or ``start``/``end``, time expressions in the first campaign's zone such as
    ``launch - 7d``). ``speed``: simulated hours per real second (0: as fast as possible).
    Narrated in ``locale``'s language. Returns the exit code: 1 when the files have errors, 0
    otherwise."""
    console = console or Console(highlight=False)
    listed = [p for p in yaml_files(paths) if not is_faq_file(p)]
    campaigns, _banks, errors = validate_all(listed)
    rosters: list[tuple[str, list[RosterEntry]]] = []
    for campaign in campaigns:
        if campaign.roster_path is None:
            continue
        roster_file = Path(campaign.source).parent / campaign.roster_path
        try:
            entries = load_roster(
                roster_file,
                default_timezone=campaign.spec.timezone,
                date_format=roster_date_format(paths),
            )
        except RosterLoadError as exc:
            errors.extend(exc.errors)
        else:
            rosters.append((campaign.roster_path, entries))
    if errors or not campaigns:
        for error in errors:
            console.print(error.text(locale), markup=False, highlight=False, soft_wrap=True)
        console.print(
            i18n.gettext(
                locale, "✗ nothing to play: fix these first (rallybot validate shows them all)."
            )
            if campaigns or errors
            else i18n.gettext(locale, "✗ no campaign file among these paths."),
            markup=False,
        )
        return 1

    first = campaigns[0]
    zone = first.zone
    members = [
        MemberView(
            key=e.id or e.email or f"row{e.line}",
            timezone=e.timezone,
            joined_at=e.start_date,
            cohort=e.cohort,
            team=e.team,
            groups=frozenset(e.groups),
            locale=e.locale,
        )
        for _, entries in rosters
        for e in entries
    ]
    windows = [default_window(c, members) for c in campaigns]
    begin, finish = min(w[0] for w in windows), max(w[1] for w in windows)
    for text, is_start in ((start, True), (end, False)):
        if text is None:
            continue
        try:
            expr = parse_time_expr(text, allow_join=False)
            if expr.anchor not in {"absolute", *first.milestones}:
                raise TimeExprError(f'unknown milestone "{expr.anchor}"')
            when = expr.resolve(zone, first.milestones)
        except TimeExprError as exc:
            console.print(f"✗ {text}: {exc}", markup=False)
            return 2
        begin, finish = (when, finish) if is_start else (begin, when)
    if finish <= begin:
        console.print(
            i18n.gettext(locale, "✗ the end comes before the start: nothing to play."),
            markup=False,
        )
        return 2

    with tempfile.TemporaryDirectory(prefix="rallybot-try-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'try.db'}"
        settings = Settings(
            database_url=url, timezone=first.spec.timezone, locale=first.spec.locale
        )
        await upgrade_async(url)
        db = create_database(url)
        clock = SimulatedClock(begin)
        adapter = ConsoleAdapter(
            console=console,
            interactive=False,
            show_time=lambda: clock.now().astimezone(zone),
            locale=locale,
        )
        tally = _Tally()
        bot = Rallybot(settings, db, adapter, clock, campaign_paths=list(paths), worker_id="try")
        bot.dispatcher.on_sent = tally
        try:
            titles = ", ".join(c.spec.title for c in campaigns)
            title = i18n.gettext(locale, "Rallybot try — {titles}")
            console.print(Rule(title.format(titles=titles)), markup=False)
            clock_line = i18n.gettext(
                locale,
                "Simulated clock from {start} to {end} ({zone}), console platform, a throwaway "
                "database: nothing is sent anywhere.",
            )
            shown = clock_line.format(
                start=_when(locale, begin.astimezone(zone), "EEE dd/MM/yyyy HH:mm"),
                end=_when(locale, finish.astimezone(zone), "EEE dd/MM/yyyy HH:mm"),
                zone=zone,
            )
            console.print(shown + "\n", markup=False)
            # The console's people all come from the rosters imported below: the community
            # file's people are looked for once they are in, as a console start does.
            bot.community_warnings = False
            await bot.reload()
            await bot.start_adapter()
            for roster_name, entries in rosters:
                await bot.import_roster(entries, "console")
                console.print(_imported(locale, len(entries), roster_name) + "\n", markup=False)
            bot.community_warnings = True
            await bot.resolve_community()
            if speed > 0:
                step = timedelta(hours=1)
                moment = begin
                while moment < finish:
                    moment = min(moment + step, finish)
                    await bot.advance_to(moment)
                    await asyncio.sleep(1 / speed)
            await bot.advance_to(finish)
            counts = await counts_by_step(db)
            firsts = await _first_sends(db)
        finally:
            await bot.shutdown()
            await db.dispose()
    return _summary(console, campaigns, begin, counts, tally, locale, firsts)
