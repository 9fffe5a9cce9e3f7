"""The Act page names each step as a manager recognises it (a journey's reminders by their
task, in the reader's language), says when it is due and its state with the counts that
matter; the date fields of the filters read and write days in the page's language."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from rallybot.bot import i18n
from rallybot.handlers.console.act_kit import StateView
from rallybot.handlers.console.act_services import StepRow, step_rows
from rallybot.handlers.console.timeline import TimelineSource
from rallybot.handlers.console.words import day_pattern, day_text, gettext, parse_day
from rallybot.storage import outbox
from rallybot.storage.models import CampaignState, CampaignStatus, Member
from tests.console.conftest import NOW, ConsoleClient, ConsoleEnv, console_settings

CAMPAIGN = "connect-launch"


def _row(step: str, n: int, status: str, due: datetime) -> dict[str, object]:
    return {
        "campaign_id": CAMPAIGN,
        "step_id": step,
        "recipient": f"member:{900 + n}",
        "occurrence": "once",
        "due_at": due,
        "grace_until": due + timedelta(hours=1),
        "status": status,
        "payload": {},
        "content_hash": "",
    }


async def _outbox(console: ConsoleEnv) -> datetime:
    """Two sent, one waiting and one failed message of the profile reminder; returns the
    waiting one's time."""
    waiting = NOW + timedelta(days=1, hours=2)
    rows = [
        _row("profile-nudge", 1, "sent", NOW - timedelta(days=2)),
        _row("profile-nudge", 2, "sent", NOW - timedelta(days=1)),
        _row("profile-nudge", 3, "pending", waiting),
        _row("profile-nudge", 4, "failed", NOW - timedelta(hours=3)),
    ]
    async with console.db.session() as session:
        await outbox.insert_deliveries(session, rows)
    return waiting


async def _rows(console: ConsoleEnv, locale: str) -> dict[str, StepRow]:
    ctx = StateView(console.state)
    source = TimelineSource(console.db, ctx.campaigns, default_timezone="Europe/London")
    planned = await source.planned(NOW)
    return {r.step: r for r in await step_rows(ctx, locale, planned=planned, now=NOW)}


async def test_each_step_by_its_words_when_and_state(console: ConsoleEnv) -> None:
    waiting = await _outbox(console)
    rows = await _rows(console, "fr")
    nudge = rows["profile-nudge"]
    # a journey's reminder by its task's label, in French (the campaign writes both)
    assert nudge.title == i18n.gettext("fr", "Onboarding: {task}").format(
        task="Compléter votre profil (photo et fonction)"
    )
    assert nudge.title != "Onboarding: Compléter votre profil (photo et fonction)"
    assert nudge.extract.startswith("Votre profil est presque prêt, [prénom] :")  # a marker
    assert nudge.detail == ""  # its task's only reminder
    # when it is sent, in French words; the file's syntax kept apart (for the API)
    assert nudge.schedule == "2 jours après l'arrivée, à 10:00"
    assert nudge.campaign_title and nudge.schedule_file == "at: join + 2d at 10:00"
    # sent ones counted from the hourly totals less the other states
    assert (nudge.state, nudge.sent, nudge.pending, nudge.failed) == ("partly-sent", 2, 1, 1)
    assert nudge.due == waiting and nudge.due_next
    welcome = rows["welcome"]
    french = i18n.gettext("fr", "Onboarding: welcome message")  # the kernel's step words
    assert welcome.title == french and french != "Onboarding: welcome message"
    assert welcome.extract.startswith("Bienvenue sur Connect")
    # a one-off post two weeks ahead: planned by the files, at its own time
    ceo = rows["ceo-announcement"]
    campaign = console.state.campaigns()[CAMPAIGN]
    launch = campaign.step("ceo-announcement")
    assert launch is not None and launch.at is not None
    assert (ceo.state, ceo.planned, ceo.sent) == ("planned", 1, 0)
    assert ceo.due == launch.at.resolve(campaign.zone, campaign.milestones) and ceo.due_next
    # a teaser whose time went by before the bot ran: nothing sent, said so, with its time
    teaser = rows["teaser-1"]
    assert teaser.state == "passed" and teaser.due is not None and teaser.due < NOW
    assert not teaser.due_next
    # in English, the same rows in English
    english = await _rows(console, "en")
    assert english["profile-nudge"].title.endswith("Complete your profile (photo and job title)")
    assert english["welcome"].extract.startswith("Welcome to Connect")


async def test_a_paused_campaign_s_steps_say_paused(console: ConsoleEnv) -> None:
    await _outbox(console)
    async with console.db.session() as session:
        await session.merge(
            CampaignState(id=CAMPAIGN, title="Connect", status=CampaignStatus.paused.value)
        )
    rows = await _rows(console, "en")
    assert {r.state for r in rows.values()} == {"paused"}
    assert rows["profile-nudge"].pending == 1  # its waiting message, held


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_act_page_in_french(console: ConsoleEnv, as_manager: ConsoleClient) -> None:
    await _outbox(console)
    console.state.settings_ = console_settings(locale="fr")
    async with console.db.session() as session:
        await session.execute(sa.update(Member).values(locale="fr"))
    page = (await as_manager.get("/act")).text
    row = re.search(r'<tr id="step-connect-launch-profile-nudge">(.*?)</tr>', page, re.S)
    assert row is not None, page
    shown = row.group(1)
    assert "Compléter votre profil (photo et fonction)" in shown
    assert "Votre profil est presque prêt" in shown
    # when, in French, in a <time> keeping the exact value; the state and its counts
    assert re.search(r'<time datetime="2026-09-02T[^"]+">2 sept\. 2026, \d\d:\d\d</time>', shown)
    assert gettext("fr", "partly sent") in shown and gettext("fr", "partly sent") != "partly sent"
    assert "journey" not in shown
    # the "When" column says when in French words, not in the campaign file's syntax
    when = re.search(r'<td class="step-when"[^>]*>(.*?)</td>', shown, re.S)
    assert when is not None
    assert "2 jours après l&#39;arrivée, à 10:00" in when.group(1)
    assert "at:" not in when.group(1)
    weekly = re.search(r'<tr id="step-connect-launch-digest">(.*?)</tr>', page, re.S)
    assert weekly is not None and "chaque lundi à 09:00" in weekly.group(1)
    assert "every:" not in weekly.group(1)
    steps = (await as_manager.get("/api/act/steps")).json()
    nudge = next(s for s in steps if s["step"] == "profile-nudge")
    assert (nudge["state"], nudge["sent"], nudge["pending"]) == ("partly-sent", 2, 1)
    # the confirmation names it too, and still says how many it reaches
    confirm = await as_manager.get(
        "/act/confirm", params={"campaign": CAMPAIGN, "step": "profile-nudge", "action": "send"}
    )
    question = re.search(r'<p class="question" id="act-question">(.*?)</p>', confirm.text, re.S)
    assert question is not None and "Compléter votre profil" in question.group(1)
    assert "profile-nudge" not in question.group(1)


@pytest.mark.parametrize(
    ("locale", "shown", "letters"),
    [
        ("fr", "05/09/2026", "jj/mm/aaaa"),
        ("es", "05/09/2026", "dd/mm/aaaa"),
        ("de", "05.09.2026", "TT.MM.JJJJ"),
        ("en", "09/05/2026", "mm/dd/yyyy"),
    ],
)
def test_a_date_field_in_the_page_s_language(locale: str, shown: str, letters: str) -> None:
    day = date(2026, 9, 5)
    assert day_text(day, locale) == shown
    assert day_pattern(locale) == letters
    assert parse_day(shown, locale) == day
    assert parse_day(" 2026-09-05 ", locale) == day  # the links between pages
    short = shown.replace("2026", "26").replace("0", "", 1)
    assert parse_day(short, locale) == day, short
    for bad in ("31/02/2026", "5/9", "abc", "05/09/2026/1", "１５/09/2026", "2026-13-01"):
        assert parse_day(bad, locale) is None, bad


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_timeline_s_days_as_a_french_page_writes_them(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    console.state.settings_ = console_settings(locale="fr")
    async with console.db.session() as session:
        await session.execute(sa.update(Member).values(locale="fr"))
    page = await as_manager.get("/timeline", params={"from": "15/09/2026", "to": "15/09/2026"})
    assert page.status_code == 200
    field = re.search(r'<input id="f-from" name="from" value="([^"]*)"[^>]*>', page.text)
    assert field is not None and field.group(1) == "15/09/2026"
    assert 'type="date"' not in page.text
    assert 'placeholder="jj/mm/aaaa"' in page.text
    assert '<span id="f-from-hint" class="muted day-hint"><time datetime="2026-09-15">' in (
        page.text
    )
    days = re.findall(r'<time datetime="(\d{4}-\d\d-\d\d)T', page.text)
    assert days and set(days) == {"2026-09-15"}, days
    # the calendar's links keep ISO days: read too
    assert (await as_manager.get("/timeline", params={"from": "2026-09-15"})).status_code == 200
    bad = await as_manager.get("/timeline", params={"from": "31/02/2026"})
    assert bad.status_code == 200 and 'lang="fr"' in bad.text  # said by its field
    assert "31/02/2026" in bad.text and "15/09/2026" in bad.text
    assert gettext("fr", '"{value}" is not a day: write it as {example}.') != (
        '"{value}" is not a day: write it as {example}.'
    )
    indicators = await as_manager.get("/indicators", params={"from": "01/09/2026"})
    assert indicators.status_code == 200 and 'value="01/09/2026"' in indicators.text
