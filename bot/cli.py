"""The ``rallybot`` command line."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.config import Settings

__all__ = ["app", "main"]

app = typer.Typer(
    name="rallybot",
    help="Run the launch and daily life of an internal community on Slack, Discord or the console.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema: upgrade and inspect migrations.", no_args_is_help=True)
campaign_app = typer.Typer(help="List, pause and resume campaigns.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(campaign_app, name="campaign")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


class Format(StrEnum):
    """Output formats of ``plan``."""

    table = "table"
    json = "json"


class ClockKind(StrEnum):
    """Which clock ``run`` uses."""

    system = "system"
    simulated = "simulated"


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:  # pydantic ValidationError: show it without a traceback
        err.print(f"[red]Invalid settings:[/red] {exc}")
        raise typer.Exit(2) from None


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Campaign files or folders of them.")],
) -> None:
    """Check campaign files and print every error (file:line:column: field: message)."""
    from campaigns.loader import validate_paths

    missing = [p for p in paths if not p.exists()]
    for path in missing:
        typer.echo(f"{path}: no such file or folder")
    campaigns, errors = validate_paths([p for p in paths if p.exists()])
    for error in errors:
        typer.echo(str(error))
    files_with_errors = len({e.file for e in errors})
    if errors or missing:
        total, files = len(errors) + len(missing), files_with_errors + len(missing)
        out.print(f"✗ {total} error(s) in {files} file(s); {len(campaigns)} campaign(s) valid.")
        raise typer.Exit(1)
    out.print(f"✓ {len(campaigns)} campaign(s) valid.")


def _parse_when(text: str | None, campaign: object) -> datetime | None:
    from campaigns.schema import Campaign
    from campaigns.timeexpr import TimeExprError, parse_time_expr

    if text is None:
        return None
    assert isinstance(campaign, Campaign)
    try:
        expr = parse_time_expr(text, allow_join=False)
        if expr.anchor not in {"absolute", *campaign.milestones}:
            raise TimeExprError(f'unknown milestone "{expr.anchor}"')
        return expr.resolve(campaign.zone, campaign.milestones)
    except TimeExprError as exc:
        err.print(f"[red]{text}:[/red] {exc}")
        raise typer.Exit(2) from None


@app.command()
def plan(
    path: Annotated[Path, typer.Argument(help="A campaign file.")],
    roster: Annotated[
        Path | None, typer.Option(help="Roster CSV of members (default: the file's roster:).")
    ] = None,
    from_: Annotated[
        str | None,
        typer.Option("--from", help='Start: a date, "2026-09-01 08:00" or "launch - 7d".'),
    ] = None,
    to: Annotated[str | None, typer.Option(help="End (same forms as --from).")] = None,
    format: Annotated[Format, typer.Option(help="table or json.")] = Format.table,
) -> None:
    """Show the timeline: what goes to whom, when (campaign time and UTC)."""
    from campaigns.loader import CampaignLoadError, load_campaign
    from campaigns.planner import MemberView
    from campaigns.roster import RosterLoadError, load_roster
    from campaigns.timeline import default_window, timeline

    settings = _settings()
    try:
        campaign = load_campaign(path, default_quiet_hours=settings.quiet)
    except CampaignLoadError as exc:
        for error in exc.errors:
            typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    roster_path = roster
    if roster_path is None and campaign.roster_path:
        roster_path = path.parent / campaign.roster_path
    members: list[MemberView] = []
    if roster_path is not None:
        try:
            entries = load_roster(roster_path, default_timezone=campaign.spec.timezone)
        except RosterLoadError as exc:
            for error in exc.errors:
                typer.echo(str(error), err=True)
            raise typer.Exit(1) from None
        except OSError as exc:
            err.print(f"{roster_path}: {exc.strerror or exc}")
            raise typer.Exit(1) from None
        members = [
            MemberView(
                key=e.id or e.email or f"row{i}",
                name=e.name,
                first_name=e.first_name,
                locale=e.locale,
                timezone=e.timezone,
                joined_at=e.start_date,
                team=e.team,
                cohort=e.cohort,
                groups=frozenset(e.groups),
            )
            for i, e in enumerate(entries, start=2)
        ]
    start, end = default_window(campaign, members)
    start = _parse_when(from_, campaign) or start
    end = _parse_when(to, campaign) or end
    if end <= start:
        err.print("[red]--to must come after --from[/red]")
        raise typer.Exit(2)
    rows = timeline(campaign, members, start, end, default_timezone=settings.timezone)
    if format is Format.json:
        typer.echo(json.dumps([r.to_json() for r in rows], ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{campaign.spec.title} — {campaign.spec.timezone}", show_lines=False)
    for column in ("When", "UTC", "Step", "To", "#", "Preview"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(
            f"{r.due_local:%a %Y-%m-%d %H:%M}",
            f"{r.due_utc:%m-%d %H:%M}",
            r.step,
            r.target if r.kind == "post" else f"✉ {r.target}",
            str(r.count),
            r.preview,
        )
    out.print(table)
    total = sum(r.count for r in rows)
    out.print(f"{total} message(s) in {len(rows)} send(s), {len(members)} member(s) in the roster.")


@app.command()
def run(
    platform: Annotated[
        str, typer.Option(help="Chat platform: console (a terminal), slack or discord.")
    ] = "console",
    campaigns: Annotated[
        list[Path] | None, typer.Option(help="Campaign files or folders (default: settings).")
    ] = None,
    roster: Annotated[Path | None, typer.Option(help="Import this roster CSV at start.")] = None,
    clock: Annotated[ClockKind, typer.Option(help="system or simulated.")] = ClockKind.system,
    start: Annotated[
        str | None, typer.Option(help='Simulated clock start, e.g. "2026-08-10 08:00" (UTC).')
    ] = None,
    speed: Annotated[float, typer.Option(help="Simulated seconds per real second.")] = 1.0,
    watch: Annotated[bool, typer.Option(help="Reload campaign files when they change.")] = True,
    interactive: Annotated[
        bool, typer.Option(help="Console only: read commands from the keyboard.")
    ] = True,
    worker_id: Annotated[str | None, typer.Option(help="Name of this replica in logs.")] = None,
    http: Annotated[
        bool,
        typer.Option("--http", help="Slack only: receive events over HTTP instead of Socket Mode."),
    ] = False,
    port: Annotated[
        int, typer.Option(help="Slack HTTP mode: port of the /slack/events endpoint.")
    ] = 3000,
) -> None:
    """Run the bot until interrupted (Ctrl-C or SIGTERM finish the sends under way)."""
    from bot.adapters.base import ADAPTERS
    from bot.runner import run_bot

    if platform not in ADAPTERS:
        known = ", ".join(sorted(ADAPTERS))
        err.print(f'[red]Unknown platform "{platform}"[/red] (available: {known}).')
        raise typer.Exit(2)
    settings = _settings()
    code = asyncio.run(
        run_bot(
            settings,
            platform=platform,
            campaign_paths=campaigns or [settings.campaigns_dir],
            roster=roster,
            simulated=clock is ClockKind.simulated,
            start=start,
            speed=speed,
            watch=watch,
            interactive=interactive,
            worker_id=worker_id,
            console=out,
            http_port=port if http else None,
        )
    )
    raise typer.Exit(code)


@app.command()
def demo(
    lang: Annotated[str, typer.Option(help="fr or en: which example campaign to play.")] = "fr",
) -> None:
    """Play the example launch campaign on the console, J-35 to J+14, on a simulated clock."""
    from bot.demo import run_demo

    if lang not in {"fr", "en"}:
        err.print('[red]--lang is "fr" or "en"[/red]')
        raise typer.Exit(2)
    raise typer.Exit(asyncio.run(run_demo(lang=lang, console=out)))


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Create or migrate the database schema."""
    from storage.database import create_database
    from storage.migrate import current_revision, upgrade

    settings = _settings()
    safe = create_database(settings.database_url).safe_url
    upgrade(settings.database_url, revision)
    out.print(f"Database {safe} is at revision {current_revision(settings.database_url)}.")


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database."""
    from storage.migrate import current_revision

    settings = _settings()
    out.print(current_revision(settings.database_url) or "empty (run: rallybot db upgrade)")


async def _with_db(settings: Settings):  # type: ignore[no-untyped-def]
    from storage.database import create_database
    from storage.migrate import upgrade_async

    await upgrade_async(settings.database_url)
    return create_database(settings.database_url)


@campaign_app.command("list")
def campaign_list() -> None:
    """The campaigns the database knows, their state and their deliveries."""
    from storage.outbox import counts_by_step
    from storage.repositories import list_states

    settings = _settings()

    async def main() -> None:
        db = await _with_db(settings)
        try:
            states = await list_states(db)
            counts = await counts_by_step(db)
        finally:
            await db.dispose()
        if not states:
            out.print("No campaign yet: start the bot once (rallybot run) to load the files.")
            return
        table = Table()
        for column in ("Campaign", "Title", "State", "Sent", "Pending", "Skipped", "Source"):
            table.add_column(column)
        for s in states:
            mine = [c for c in counts if c[0] == s.id]
            total = {
                st: sum(n for _, _, x, n in mine if x == st)
                for st in ("sent", "pending", "skipped")
            }
            table.add_row(
                s.id,
                s.title,
                s.status,
                str(total["sent"]),
                str(total["pending"]),
                str(total["skipped"]),
                s.source,
            )
        out.print(table)

    asyncio.run(main())


def _set_status(campaign_id: str, paused: bool) -> None:
    from bot.clock import utcnow
    from storage.models import CampaignStatus
    from storage.repositories import set_campaign_status

    settings = _settings()

    async def main() -> bool:
        db = await _with_db(settings)
        try:
            status = CampaignStatus.paused if paused else CampaignStatus.active
            return await set_campaign_status(db, campaign_id, status, utcnow())
        finally:
            await db.dispose()

    if not asyncio.run(main()):
        err.print(f'Unknown campaign "{campaign_id}" (see: rallybot campaign list).')
        raise typer.Exit(1)
    out.print(f'Campaign "{campaign_id}" is now {"paused" if paused else "active"}.')


@campaign_app.command("pause")
def campaign_pause(campaign_id: Annotated[str, typer.Argument(help="Campaign id.")]) -> None:
    """Stop sending a campaign's messages (running bots see it at once)."""
    _set_status(campaign_id, paused=True)


@campaign_app.command("resume")
def campaign_resume(campaign_id: Annotated[str, typer.Argument(help="Campaign id.")]) -> None:
    """Send a paused campaign's messages again (those past their grace window are skipped)."""
    _set_status(campaign_id, paused=False)


@app.command()
def reload() -> None:
    """Ask every running bot on this database to re-read its campaign files."""
    from bot.app import RELOAD_FLAG
    from bot.clock import utcnow
    from storage.repositories import set_flag

    settings = _settings()

    async def main() -> None:
        db = await _with_db(settings)
        try:
            await set_flag(db, RELOAD_FLAG, "requested", utcnow())
        finally:
            await db.dispose()

    asyncio.run(main())
    out.print("Reload requested: running bots re-read their files at their next planning pass.")


@app.command()
def health() -> None:
    """Check the database and show the outbox: exits 1 when something needs attention."""
    from bot.clock import utcnow
    from storage.migrate import current_revision
    from storage.outbox import counts_by_step

    settings = _settings()

    async def main() -> list[tuple[str, str, str, int]]:
        db = await _with_db(settings)
        try:
            return await counts_by_step(db)
        finally:
            await db.dispose()

    try:
        counts = asyncio.run(main())
    except Exception as exc:
        err.print(f"[red]Database unreachable:[/red] {type(exc).__name__}: {exc}")
        raise typer.Exit(1) from None
    by_status: dict[str, int] = {}
    for _, _, status, n in counts:
        by_status[status] = by_status.get(status, 0) + n
    out.print(f"Database revision: {current_revision(settings.database_url)}")
    out.print("Outbox: " + (", ".join(f"{k} {v}" for k, v in sorted(by_status.items())) or "empty"))
    out.print(f"Checked at {utcnow():%Y-%m-%d %H:%M:%S} UTC.")
    if by_status.get("failed"):
        out.print(f"[yellow]{by_status['failed']} delivery(ies) failed: see the logs.[/yellow]")
        raise typer.Exit(1)


def main() -> None:
    """Console-script entry point."""
    app()
