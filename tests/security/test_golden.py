"""Golden tests per platform: every kind of message the bot sends, built with each string of the
hostile corpus as the member text, rendered for Slack, Discord, the console and the memory
platform; nothing may mention everyone, link where the author did not, or let markup escape,
and the mentions the bot means (the helper on duty, the buddy) still work.

The kinds are built with the handlers' own templates and helpers, so a template that changes
is tested as it is; the whole flows (a member's question reposted, an escalation, kudos, a
survey's results) run end to end in ``test_findings.py``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace

import pytest
from rich.console import Console

from rallybot.bot import i18n
from rallybot.bot.adapters.console import render_message as render_console
from rallybot.bot.adapters.discord.render import render_message as render_discord
from rallybot.bot.adapters.memory import shown
from rallybot.bot.adapters.slack.render import render_message as render_slack
from rallybot.bot.messages import Button, Image, Message, Sender, member
from rallybot.handlers.quiz import feature as quiz
from rallybot.handlers.survey import feature as survey
from rallybot.handlers.survey.feature import QuestionResult, SurveyResults
from tests.security.checks import discord_problems, slack_problems
from tests.security.corpus import CORPUS, HOSTILE

HELPER = "U0HELPER"  # Slack-style id in Slack checks
HELPER_DISCORD = "123456789"  # the same helper's Discord id
BENIGN = "Member One"


def _results(text: str) -> str:
    results = SurveyResults(
        survey_id="pulse",
        title="Pulse",
        campaign_id="launch",
        anonymous=True,
        audience=10,
        responses=3,
        questions=[
            QuestionResult(id="q1", kind="rating", text="How was it?", answered=3),
            QuestionResult(id="q2", kind="text", text="Anything else?", texts=[text, text]),
        ],
    )
    return survey.results_text(results)


def _kinds(mention: str) -> dict[str, Callable[[str], Message]]:
    """Each kind of message, as a function of the member text in it; ``mention`` is the
    platform mention of the helper on duty or buddy the message means to reach."""
    return {
        "escalation": lambda t: Message(
            text=i18n.ngettext(
                "en",
                "{name} joined {days} day ago and has not finished onboarding ({campaign}). "
                "Still to do: {tasks}.",
                "{name} joined {days} days ago and has not finished onboarding ({campaign}). "
                "Still to do: {tasks}.",
                1,
            ).format(
                name=f"{member(t)} ({mention})",
                days=1,
                campaign="Connect launch",
                tasks="Fill in your profile, Say hello",
            )
        ),
        "buddy intro": lambda t: Message(
            text=i18n.gettext(
                "en",
                "You are the buddy of {name}, who just arrived. "
                "A short hello makes all the difference!",
            ).format(name=mention)
            + f" {member(t)}"
        ),
        "help question repost": lambda t: Message(
            text=f"❓ {mention}: {member(t, 500)}",
            buttons=(Button("Take", action_id="help-take", value="1"),),
            context=f"Helper on duty: {mention}",
        ),
        "leaderboard": lambda t: Message(
            text="Leaderboard, all time:\n"
            + "\n".join(f"{n}. {member(t, 80)} — {10 - n} points" for n in range(1, 4)),
        ),
        "badge announcement": lambda t: Message(
            text=f"🏅 {member(t, 80)} earned the badge **First steps**!"
        ),
        "challenge results": lambda t: Message(
            text=i18n.gettext(
                "en", "🏁 The challenge “{title}” is over. Done by: {winners}. Congratulations!"
            ).format(title="Show us", winners=", ".join([member(t, 80)] * 3))
        ),
        "evidence to managers": lambda t: Message(
            text=i18n.gettext(
                "en", "📎 {name} submitted evidence for the challenge “{title}”:\n{text}"
            ).format(name=member(t, 80), title="Show us", text=member(t, 1000))
            + f"\n📎 {member(t, 100)} https://files.example.test/F1/shot.png",
            buttons=(
                Button("Approve", action_id="challenge-approve", value="1", style="primary"),
                Button("Reject", action_id="challenge-reject", value="1", style="danger"),
            ),
        ),
        "survey results": lambda t: Message(text=_results(t)),
        "announcement": lambda t: Message(
            title=f"Welcome {member(t, 80)}",
            text=f"**Connect** is open, {member(t)}: [read more](https://intranet.example/c).",
            context=f"Sent for {member(t, 80)}",
            images=(Image("https://intranet.example/p.png", alt=f"Photo of {member(t, 80)}"),),
            sender=Sender("The CEO"),
        ),
        "line start": lambda t: Message(text=f"{member(t)}\n{member(t)} — {mention}"),
        "long": lambda t: Message(
            text="\n\n".join([f"Paragraph {n}: {member(t, 1000)}" for n in range(12)])
        ),
        "command answer": lambda t: Message(text=f"I don't know {member(t, 80)}."),
        "quiz summary": lambda t: Message(
            title="Quiz: Connect",
            text=f"Your score: 1/4.\n\n✗ 1. Where? (your answer: {quiz.shown(t)})",
        ),
        "quiz leaderboard": lambda t: Message(
            text="\n".join(f"{n}. {quiz.safe_name(t)} — {5 - n}/4" for n in range(1, 4))
        ),
    }


KINDS = sorted(_kinds("<@U1>"))


@pytest.mark.parametrize("kind", KINDS)
def test_slack_renders_every_hostile_string_safely(kind: str) -> None:
    mention = f"<@{HELPER}>"
    build = _kinds(mention)[kind]
    benign = render_slack(build(BENIGN))
    wanted = (
        [HELPER]
        if mention in build(BENIGN).text or mention in (build(BENIGN).context or "")
        else []
    )
    failures = {}
    for entry in CORPUS:
        problems = slack_problems(render_slack(build(entry.text)), benign, mentions=wanted)
        if problems:
            failures[entry.text[:60]] = problems
    assert failures == {}


@pytest.mark.parametrize("kind", KINDS)
def test_discord_renders_every_hostile_string_safely(kind: str) -> None:
    mention = f"<@{HELPER_DISCORD}>"
    build = _kinds(mention)[kind]
    benign = render_discord(build(BENIGN))
    wanted = [HELPER_DISCORD] if mention in build(BENIGN).text else []
    failures = {}
    for entry in CORPUS:
        problems = discord_problems(render_discord(build(entry.text)), benign, mentions=wanted)
        if problems:
            failures[entry.text[:60]] = problems
    assert failures == {}


@pytest.mark.parametrize("kind", KINDS)
def test_console_and_memory_show_member_text_as_plain_text(kind: str) -> None:
    build = _kinds("<@U1>")[kind]
    for text in HOSTILE:
        message = build(text)
        out = io.StringIO()
        renderable, _ = render_console(message, where="#general")
        Console(file=out, width=100, color_system=None).print(renderable)
        for shown_text in (out.getvalue(), shown(message).text, message.plain_text()):
            assert "\ue010" not in shown_text and "\ue011" not in shown_text
            assert "\u202e" not in shown_text and "\x1b" not in shown_text


def test_the_wanted_mentions_survive_and_are_the_only_ones_allowed() -> None:
    for text in HOSTILE:
        message = Message(text=f"{member(text)} asked for help, <@{HELPER_DISCORD}> is on duty")
        rendered = render_discord(message)
        assert rendered.allowed_mentions.to_dict() == {"parse": [], "users": [int(HELPER_DISCORD)]}
        assert f"<@{HELPER_DISCORD}>" in rendered.content
        assert (
            f"<@{HELPER}>"
            in render_slack(replace(message, text=message.text.replace(HELPER_DISCORD, HELPER)))[
                "blocks"
            ][0]["text"]["text"]
        )


def test_the_corpus_is_documented_and_covers_every_family() -> None:
    assert len(CORPUS) >= 60
    assert all(entry.why for entry in CORPUS)
    families = {entry.category for entry in CORPUS}
    assert families >= {
        "mention-slack",
        "mention-discord",
        "link",
        "markdown",
        "html",
        "formula",
        "unicode",
        "long",
        "emoji",
    }
    assert any("\u202e" in t for t in HOSTILE) and any("\u200b" in t for t in HOSTILE)
    assert any(len(t) >= 5000 for t in HOSTILE)
