"""The seven findings of issue 12, tried as a hostile member would, end to end where it can be.

Each test failed on the code before the fix: the escalation pinged the channel, a help
question carried a hidden link, survey results echoed mentions, report cells started
formulas, an anchored string expanded to gigabytes, a malformed timestamp or signed body
got a 500, and ``/as slack:U0ADMIN`` on the console was an admin.
"""

from __future__ import annotations

import csv
import gc
import html
import json
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import sqlalchemy as sa
from rich.console import Console

from rallybot.bot.adapters.discord.render import render_message as render_discord
from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.adapters.slack.render import render_message as render_slack
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings, identity_matches
from rallybot.bot.events import UserRef
from rallybot.bot.messages import Message
from rallybot.bot.rota import parse_rota
from rallybot.campaigns.loader import CampaignLoadError, load_campaign_text
from rallybot.handlers.helpdesk.feature import HelpdeskFeature
from rallybot.handlers.quiz.feature import QuizFeature
from rallybot.handlers.reporting.indicators import Scope
from rallybot.handlers.reporting.report import (
    compute,
    csv_cell,
    render_html,
    render_tables,
    write_csv,
)
from rallybot.handlers.survey.feature import QuestionResult, SurveyResults, results_text
from rallybot.storage.database import Database
from rallybot.storage.models import Member
from rallybot.storage.repositories import upsert_member
from tests.helpdesk import helpers as helpdesk
from tests.onboarding.support import local, make_bot, write_campaign
from tests.platform_slack import payloads as p
from tests.platform_slack.fake_slack import FakeSlack
from tests.platform_slack.harness import SIGNING_SECRET, Sink, slack_adapter, slack_settings
from tests.platform_slack.signing import sign
from tests.report.seed import END, START, seed
from tests.security.checks import discord_problems, slack_problems
from tests.security.corpus import HOSTILE

DB_URL = "sqlite:///unused-by-these-tests.db"  # the tests pass their own database


def _raw(message: Message | None) -> Message:
    assert message is not None
    return message


# ---------------------------------------------------------------------------- 1. escalation


async def test_1_an_escalation_does_not_ping_the_channel(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(local(0, 9, 0))
    bot, adapter = make_bot(
        db,
        write_campaign(tmp_path / "c.yaml"),
        clock,
        database_url=DB_URL,
        onboarding_escalate_after_days=1,
        onboarding_escalation_channel="general",
    )
    await bot.reload()
    joined = local(0, 9, 30)
    await upsert_member(
        db,
        "memory",
        "late",
        joined,
        display_name="<!channel> @everyone \u202e[Claim](https://evil.example/n)",
        locale="en",
        timezone="Europe/Paris",
        cohort="new",
        joined_at=joined,
    )
    await bot.advance_to(local(3, 9, 0))
    [alert] = [d for d in adapter.posts if d.target == "C-GEN" and "(<@late>)" in d.message.text]
    raw = _raw(alert.raw)
    assert slack_problems(render_slack(raw), mentions=["late"]) == []
    assert discord_problems(render_discord(raw)) == []
    discord = render_discord(raw)
    assert "\\@everyone" in discord.content and "\u202e" not in discord.content
    assert discord.allowed_mentions.to_dict()["parse"] == []


# ---------------------------------------------------------------------------- 2. hidden links


async def test_2_a_help_question_reposted_carries_no_hidden_link(
    db: Database, tmp_path: Path
) -> None:
    clock = SimulatedClock(helpdesk.T0)
    _bot, adapter = await helpdesk.make_bot(db, tmp_path / "files", clock, database_url=DB_URL)
    await adapter.push(
        helpdesk.command("mallory", "[Claim your bonus](https://evil.example/n) ?", clock)
    )
    [repost] = [d for d in adapter.posts if d.message.text.startswith("❓")]
    raw = _raw(repost.raw)
    slack = render_slack(raw)
    assert "<https://evil.example/n|" not in json.dumps(slack)
    assert slack_problems(slack, mentions=["mallory"]) == []
    assert discord_problems(render_discord(raw)) == []
    assert "\\[Claim your bonus\\]\\(https\\://evil\\.example/n\\)" in render_discord(raw).content


# ---------------------------------------------------------------------------- 3. survey results


def test_3_survey_results_do_not_echo_mentions_or_links() -> None:
    answer = (
        "<!channel> <!everyone> <!here> @everyone <@U999> <https://evil.example/a|Click me> "
        "||spoiler||"
    )
    results = SurveyResults(
        survey_id="pulse",
        title="Pulse",
        campaign_id="launch",
        anonymous=True,
        audience=3,
        responses=1,
        questions=[QuestionResult(id="q1", kind="text", text="Anything else?", texts=[answer])],
    )
    message = Message(text=results_text(results))
    slack = render_slack(message)
    assert slack_problems(slack) == []
    assert "&lt;!channel&gt;" in slack["blocks"][0]["text"]["text"]
    discord = render_discord(message)
    assert discord_problems(discord) == []
    assert "\\|\\|spoiler\\|\\|" in discord.content


# ---------------------------------------------------------------------------- 4. formulas


FORMULAS = [
    '=HYPERLINK("http://evil.example/c","pilot")',
    "@SUM(9+9)",
    "+cmd|' /C calc'!A0",
    "\r=2+2",
]


async def test_4_report_csv_cells_cannot_start_a_formula(db: Database, tmp_path: Path) -> None:
    await seed(db)
    async with db.session() as session:
        for index, cohort in enumerate(("pilot", "wave2")):
            await session.execute(
                sa.update(Member).where(Member.cohort == cohort).values(cohort=FORMULAS[index])
            )
        await session.execute(
            sa.update(Member).where(Member.id == 7).values(cohort=FORMULAS[2] + FORMULAS[3])
        )
        await session.commit()
    data = await compute(db, Scope(start=START, end=END), END)
    write_csv(data, tmp_path)
    seen = set()
    for name in ("funnel.csv", "weekly_active.csv", "kudos_by_cohort.csv"):
        with (tmp_path / name).open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    seen.add(cell)
                    assert not cell.startswith(("=", "+", "@", "\t", "\r")), (name, cell)
    assert "'" + FORMULAS[0] in seen and "'" + FORMULAS[1] in seen


HTML_COHORTS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']


async def test_4_cohort_names_are_escaped_in_every_report_format(
    db: Database, tmp_path: Path
) -> None:
    await seed(db)
    async with db.session() as session:
        for cohort, name in zip(("pilot", "wave2"), HTML_COHORTS, strict=True):
            await session.execute(
                sa.update(Member).where(Member.cohort == cohort).values(cohort=name)
            )
        await session.commit()
    data = await compute(db, Scope(start=START, end=END), END)
    page = render_html(data, {})
    console = Console(record=True, width=200, color_system=None)
    render_tables(data, console)
    tables = console.export_text()
    write_csv(data, tmp_path)
    funnel = (tmp_path / "funnel.csv").read_text(encoding="utf-8")
    for name in HTML_COHORTS:
        assert name not in page and html.escape(name) in page
        assert name in tables and name in funnel  # text formats show it as it is


def test_4_every_corpus_string_is_neutralised_for_spreadsheets() -> None:
    for text in HOSTILE:
        cell = csv_cell(text)
        assert isinstance(cell, str)
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠"))
    assert csv_cell("-12.5") == "-12.5" and csv_cell(-3) == -3  # numbers stay numbers


# ---------------------------------------------------------------------------- 5. alias bombs


def _bomb(reused: int = 1999, size: int = 700_000) -> str:
    lines = [
        "id: bomb",
        "title: Bomb",
        "timezone: UTC",
        "milestones:",
        "  launch: 2026-09-15 09:30",
        "channels:",
        "  a: general",
        "steps:",
        f'  - id: s0\n    at: launch\n    post: a\n    text: &big "{"A" * size}"',
    ]
    lines.extend(
        f"  - id: s{i}\n    at: launch\n    post: a\n    text: *big" for i in range(1, reused + 1)
    )
    return "\n".join(lines) + "\n"


def test_5_an_alias_bomb_is_refused_at_once_with_its_position() -> None:
    text = _bomb()
    assert 700_000 < len(text.encode()) < 1024 * 1024  # under the file size limit
    # This thread's CPU time, not wall time: a loaded machine (parallel test runs) stretched the
    # wall clock of this 0.3 s refusal past 4 s, while the expansion it guards against costs
    # 21.7 s of CPU. Not the process's either: threads other tests left running (a server
    # winding down) once added 3.5 s to it in a full run.
    # Frozen garbage collector: in a full run the heap holds what 2,500 tests left, and each full
    # collection the parse triggers walks all of it (3.4 s once), which says nothing of the loader.
    gc.collect()
    gc.freeze()
    try:
        started = time.thread_time()
        with pytest.raises(CampaignLoadError) as caught:
            load_campaign_text(text, "bomb.yaml")
        spent = time.thread_time() - started
    finally:
        gc.unfreeze()
    assert spent < 3.0  # 21.7 s and 2.8 GB before
    [error] = caught.value.errors
    assert str(error).startswith("bomb.yaml:12:11:") and "characters of text" in str(error)


def test_5_a_step_text_has_a_length_limit() -> None:
    text = _bomb(reused=0, size=30_000)
    with pytest.raises(CampaignLoadError) as caught:
        load_campaign_text(text, "long.yaml")
    assert any(
        str(e).startswith("long.yaml:12:") and "at most 20,000" in str(e)
        for e in caught.value.errors
    )


async def test_5_a_running_bot_keeps_the_last_good_version(db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "campaigns"
    folder.mkdir()
    good = _bomb(reused=2, size=10)
    (folder / "bomb.yaml").write_text(good, encoding="utf-8")
    settings = Settings(database_url=DB_URL, admins=["memory:cm"], timezone="UTC")
    bot = Rallybot(settings, db, MemoryAdapter(), SimulatedClock(START), campaign_paths=[folder])
    first = await bot.reload()
    assert first.errors == [] and set(bot.campaigns) == {"bomb"}
    (folder / "bomb.yaml").write_text(_bomb(), encoding="utf-8")
    second = await bot.reload()
    assert second.kept == ["bomb"] and len(bot.campaigns["bomb"].steps) == 3
    assert "characters of text" in str(second.errors[0])


# ---------------------------------------------------------------------------- 6. the endpoint


def _form(payload: object) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


_CLICK = {"type": "block_actions", "user": {"id": "U1"}, "trigger_id": "t"}
MALFORMED: dict[str, tuple[bytes, str]] = {
    "payload not JSON": (b"payload=not-json", "form"),
    "payload an array": (_form([1, 2]), "form"),
    "payload null": (_form(None), "form"),
    "payload empty": (b"payload=", "form"),
    "truncated JSON": (b'{"type": "event_callback", "event": {"type": "mess', "json"),
    "invalid UTF-8": (b'{"type": "event_callback", "x": "\xff\xfe"}', "json"),
    "actions not a list": (_form({**_CLICK, "actions": "click"}), "form"),
    "actions [null]": (_form({**_CLICK, "actions": [None]}), "form"),
    "view_submission null state": (
        _form(
            {
                "type": "view_submission",
                "user": {"id": "U1"},
                "view": {"id": "V1", "callback_id": "rallybot-form:x", "state": None},
            }
        ),
        "form",
    ),
    "event null": (json.dumps({"type": "event_callback", "event": None}).encode(), "json"),
    "reaction item a string": (
        json.dumps(
            {
                "type": "event_callback",
                "event_id": "Ev1",
                "event": {"type": "reaction_added", "user": "U1", "reaction": "x", "item": "C1"},
            }
        ).encode(),
        "json",
    ),
    "body an array": (b"[1]", "json"),
    "body null": (b"null", "json"),
    "body empty": (b"", "json"),
}
_TYPES = {"json": "application/json", "form": "application/x-www-form-urlencoded"}


@pytest.fixture
async def endpoint(db: Database) -> object:
    async with FakeSlack(scale=50) as fake:
        settings = slack_settings(fake, database_url=DB_URL)
        async with slack_adapter(fake, db, http_port=0, settings=settings) as adapter:
            sink = Sink()
            await adapter.start(sink)
            async with httpx.AsyncClient() as client:
                yield client, f"http://127.0.0.1:{adapter.port}/slack/events", sink


async def test_6_bad_headers_get_401_and_signed_malformed_bodies_400(
    endpoint: tuple[httpx.AsyncClient, str, Sink], caplog: pytest.LogCaptureFixture
) -> None:
    client, url, sink = endpoint
    body = json.dumps(p.url_verification("c")).encode()
    for stamp in ("abc", "", "1e9", "-12", "9" * 40):
        headers = {
            **sign(SIGNING_SECRET, body, int(time.time())),
            "X-Slack-Request-Timestamp": stamp,
        }
        response = await client.post(url, content=body, headers=headers)
        assert response.status_code == 401, stamp
    for name, (raw, kind) in MALFORMED.items():
        headers = {**sign(SIGNING_SECRET, raw, int(time.time())), "Content-Type": _TYPES[kind]}
        response = await client.post(url, content=raw, headers=headers)
        assert response.status_code == 400, name
    assert "Traceback" not in caplog.text and sink.events == []


async def test_6_unsubscribed_events_are_acknowledged(
    endpoint: tuple[httpx.AsyncClient, str, Sink],
) -> None:
    client, url, sink = endpoint
    for event in ({"type": "channel_rename", "channel": {"id": "C1"}}, {"type": "emoji_changed"}):
        raw = json.dumps(
            p.event_callback(event, event_id="Ev9", event_time=int(time.time()))
        ).encode()
        headers = {
            **sign(SIGNING_SECRET, raw, int(time.time())),
            "Content-Type": "application/json",
        }
        response = await client.post(url, content=raw, headers=headers)
        assert response.status_code == 200
    assert sink.events == []


# ---------------------------------------------------------------------------- 7. identity


async def test_7_a_platform_prefix_typed_on_the_console_is_not_an_admin(db: Database) -> None:
    settings = Settings(database_url=DB_URL, admins=["slack:U0ADMIN", "U0BARE"])
    bot = Rallybot(settings, db, MemoryAdapter(), SimulatedClock(START), campaign_paths=[])
    assert bot.is_admin(UserRef("slack", "U0ADMIN"))
    assert bot.is_admin(UserRef("slack", "U0BARE"))
    for user in (
        UserRef("console", "slack:U0ADMIN"),
        UserRef("console", "U0BARE"),
        UserRef("discord", "U0ADMIN"),
        UserRef("memory", "slack:U0ADMIN"),
        UserRef("slack", "slack:U0ADMIN"),
    ):
        assert not bot.is_admin(user), user
    rota = parse_rota("mon-sun 00:00-23:59 slack:U0HELP")
    assert rota.is_helper("U0HELP", "slack:U0HELP")
    assert not rota.is_helper("slack:U0HELP", "console:slack:U0HELP")
    assert not identity_matches("console:slack:U0HELP", ["slack:U0HELP"])


EXAMPLES_EN = Path(__file__).resolve().parents[2] / "campaigns" / "examples" / "en"


def _with_bomb(text: str, size: int = 700_000, reused: int = 1999) -> str:
    """``text`` (a YAML mapping) with an anchored huge string reused by many keys."""
    anchor = f'x-big: &big "{"A" * size}"\n'
    refs = "".join(f"x-ref{i}: *big\n" for i in range(reused))
    return text + anchor + refs


@pytest.mark.parametrize("kind", ["faq", "bank"])
async def test_5_a_hostile_faq_or_quiz_bank_keeps_the_last_good_version(
    db: Database, tmp_path: Path, kind: str
) -> None:
    source = EXAMPLES_EN / ("faq.yaml" if kind == "faq" else "quiz-connect.yaml")
    folder = tmp_path / "campaigns"
    folder.mkdir()
    target = folder / source.name
    target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    settings = Settings(database_url=DB_URL, admins=["memory:cm"], timezone="UTC")
    bot = Rallybot(settings, db, MemoryAdapter(), SimulatedClock(START), campaign_paths=[folder])
    assert (await bot.reload()).errors == []
    before = (
        bot.feature(HelpdeskFeature).faq_index if kind == "faq" else bot.feature(QuizFeature).banks
    )
    target.write_text(_with_bomb(source.read_text(encoding="utf-8")), encoding="utf-8")
    started = time.perf_counter()
    report = await bot.reload()
    assert time.perf_counter() - started < 10.0
    assert report.errors and "characters of text" in str(report.errors[0])
    if kind == "faq":  # the last good FAQ still answers
        assert len(bot.feature(HelpdeskFeature).faq_index) == len(before) > 0
        assert bot.feature(HelpdeskFeature).faq_index.search("I can't sign in")
    else:
        assert set(bot.feature(QuizFeature).banks) == set(before) == {"connect-quiz"}
