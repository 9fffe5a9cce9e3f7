"""Quizzes: live in a channel, self-paced in direct messages, and a question of the day.

Every run lives in the database (:class:`~storage.quiz_models.QuizRun`): the questions it
asks, the one being asked and when its answer window closes. :func:`tick` (called with the
bot's dispatch tick) closes the windows that are over and starts the channel quizzes that
campaign steps make due, so any process moves a quiz on and a restart resumes it where it
stopped. Each move is a compare-and-set on the run's current question: a question is asked
and closed once, whichever process gets there. Answers are unique per member and question;
points go through the ledger (:func:`handlers.points.grant`) with one key per award.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from rallybot.bot import i18n, notices
from rallybot.bot.context import locale_for, member_for
from rallybot.bot.events import ButtonClicked, CommandInvoked, MessagePosted, UserRef
from rallybot.bot.feature import Feature, FileKind, Subscription, Tick
from rallybot.bot.messages import Button, Image, Message
from rallybot.bot.messages import member as member_text
from rallybot.campaigns.loader import CampaignLoadError, LoadError
from rallybot.campaigns.planner import plan
from rallybot.campaigns.quiz import (
    Bank,
    Question,
    check_bank_references,
    is_bank_file,
    load_bank,
    parse_window,
    sanitize_answer,
)
from rallybot.campaigns.schema import Campaign, pick_locale
from rallybot.handlers.points.service import grant
from rallybot.handlers.quiz.commands import COMMAND_SPECS
from rallybot.storage.inserts import insert_for
from rallybot.storage.models import CampaignStatus, Delivery, DeliveryStatus, Member, table_of
from rallybot.storage.quiz_models import QuizAnswer, QuizMode, QuizRun, QuizState
from rallybot.storage.repositories import get_member_by_platform_id, list_states

if TYPE_CHECKING:
    from rallybot.bot.context import BotContext

__all__ = [
    "COMMANDS",
    "DEFAULT_WINDOW",
    "SPEED_BONUS_COUNT",
    "QuizFeature",
    "next_event_time",
    "on_button",
    "on_command",
    "on_message",
    "self_paced_leaderboard",
    "shown",
    "start_self_paced",
    "tick",
]

log = logging.getLogger("rallybot.quiz")

COMMANDS = frozenset({"quiz"})
DEFAULT_WINDOW = timedelta(seconds=30)
SPEED_BONUS_COUNT = 3
"""How many of the first correct answers of a live question earn the speed bonus."""
LEADERBOARD_SIZE = 10
MAX_ANSWER = 200
"""Longest free-text answer kept (longer ones are cut)."""
LETTERS = string.ascii_uppercase
OUTBOX_CAMPAIGN = ".quiz"
"""The outbox campaign id of a quiz's results, next questions and summaries: written with the
move of the run they report (nothing lost, nothing twice); no campaign file can take it."""

_R = table_of(QuizRun)
_A = table_of(QuizAnswer)
_D = table_of(Delivery).c

# ---------------------------------------------------------------------------- words


def _submit(locale: str) -> str:
    # Translators: the button that sends a multiple-choice answer (quoted in other messages).
    return i18n.pgettext(locale, "quiz button", "Submit")


def _already(locale: str) -> str:
    return i18n.gettext(
        locale, "You already answered this question: only your first answer counts."
    )


def _before_question(locale: str, number: int) -> str:
    # Translators: a member of a self-paced quiz wrote a message before the bot asked the
    # question numbered {number}: the message is not taken as its answer.
    text = i18n.gettext(
        locale,
        "Your message was written before question {number} was asked, so it does not count "
        "as its answer: reply to the question once you see it.",
    )
    return text.format(number=number)


def _board_line(locale: str, rank: int, name: str, right: int, total: int) -> str:
    # Translators: one line of a quiz leaderboard: rank, name, right answers out of the total.
    return i18n.ngettext(
        locale,
        "{rank}. {name}: {right}/{total} right",
        "{rank}. {name}: {right}/{total} right",
        right,
    ).format(rank=rank, name=name, right=right, total=total)


def _selection(locale: str, letters: str, submit: str) -> str:
    # Translators: {choices} are the letters picked so far; {submit} is the button's label.
    return i18n.gettext(
        locale, "Your selection: {choices}. Press “{submit}” when you are done."
    ).format(choices=letters, submit=submit)


def _board_title(locale: str, bank: Bank) -> str:
    return i18n.gettext(locale, "Quiz results: {title}").format(title=bank.title(locale))


def _no_bank(locale: str) -> str:
    return i18n.gettext(locale, "No quiz is loaded.")


def _unknown_bank(locale: str, bank: str, banks: str) -> str:
    # Translators: {banks} is a comma-separated list of quiz names.
    return i18n.gettext(locale, 'Unknown quiz "{bank}". Quizzes: {banks}.').format(
        bank=bank, banks=banks
    )


def _live_usage(locale: str) -> str:
    # Translators: BANK, QUESTIONS and WINDOW name the command's arguments; keep them short.
    return i18n.gettext(
        locale, "Usage, in a channel: /rallybot quiz live BANK [QUESTIONS] [WINDOW]"
    )


def _human_window(seconds: int, locale: str) -> str:
    if seconds % 3600 == 0:
        # Translators: a duration in hours, abbreviated ("2 h").
        return i18n.pgettext(locale, "duration", "{n} h").format(n=seconds // 3600)
    if seconds % 60 == 0:
        # Translators: a duration in minutes, abbreviated ("5 min").
        return i18n.pgettext(locale, "duration", "{n} min").format(n=seconds // 60)
    # Translators: a duration in seconds, abbreviated ("30 s").
    return i18n.pgettext(locale, "duration", "{n} s").format(n=seconds)


# ---------------------------------------------------------------------------- member text


def shown(text: str, limit: int = MAX_ANSWER) -> str:
    """A member's free-text answer as member text: the renderers escape it for their platform
    (no mention, link or markup), quoted so that it reads as what was typed."""
    return f"“{member_text(text, limit, empty='')}”"


def safe_name(name: str | None) -> str:
    """A display name as member text (the renderers escape it)."""
    return member_text(name or "?", 80)


# ---------------------------------------------------------------------------- banks


BANK_FILES = "quiz bank"
"""The file kind of quiz banks (files with a top-level ``bank:``)."""


def _banks(ctx: BotContext) -> dict[str, Bank]:
    return ctx.feature(QuizFeature).banks


# ---------------------------------------------------------------------------- storage helpers


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def _run(ctx: BotContext, run_id: int) -> QuizRun | None:
    async with ctx.db.session() as session:
        return await session.get(QuizRun, run_id)


async def _create_run(
    ctx: BotContext, *, bank: Bank, intro: Any = None, **values: Any
) -> QuizRun | None:
    """Insert a run unless its key exists; the new run, or None when another made it. Its
    first messages (a live quiz's introduction, ``intro`` its text, then the first question)
    are queued in the outbox in the same transaction."""
    async with ctx.db.session() as session:
        result = await session.execute(
            insert_for(session, _R)
            .values(messages={}, state=QuizState.asking.value, current=0, **values)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        if not _rowcount(result):
            return None
        run = (
            await session.execute(sa.select(QuizRun).where(_R.c.key == values["key"]))
        ).scalar_one()
        now = ctx.clock.now()
        rows = [_intro_row(run, bank, intro, now)] if run.mode == QuizMode.live else []
        rows.append(_question_row(run, bank, 0, now))
        await notices.queue(session, [row for row in rows if row is not None])
        return run


async def _move(
    ctx: BotContext,
    run: QuizRun,
    now: datetime,
    *,
    finished: bool,
    deadline: datetime | None,
    queue: Sequence[dict[str, Any] | None] = (),
) -> bool:
    """Compare-and-set: from question ``run.current`` to the next one (or to finished); the
    outbox rows of ``queue`` (what the move shows: results, the next question) are written in
    the same transaction, so a crash or a replayed event neither loses nor doubles them."""
    values: dict[str, Any] = {"asked_at": now, "deadline": deadline}
    if finished:
        values.update(state=QuizState.finished.value, finished_at=now, deadline=None)
    else:
        values["current"] = run.current + 1
    async with ctx.db.session() as session:
        result = await session.execute(
            sa.update(_R)
            .where(
                _R.c.id == run.id,
                _R.c.current == run.current,
                _R.c.state == QuizState.asking.value,
            )
            .values(**values)
        )
        if _rowcount(result) != 1:
            return False
        await notices.queue(session, [row for row in queue if row is not None])
        return True


async def _answers(
    ctx: BotContext, run_id: int, question_id: str | None = None
) -> list[QuizAnswer]:
    query = sa.select(QuizAnswer).where(_A.c.run_id == run_id)
    if question_id is not None:
        query = query.where(_A.c.question_id == question_id)
    async with ctx.db.session() as session:
        rows = (await session.execute(query.order_by(_A.c.answered_at, _A.c.id))).scalars()
        return list(rows)


async def _names(ctx: BotContext, member_ids: Sequence[int]) -> dict[int, str]:
    if not member_ids:
        return {}
    members = table_of(Member)
    async with ctx.db.session() as session:
        rows = await session.execute(
            sa.select(members.c.id, members.c.display_name, members.c.platform_user_id).where(
                members.c.id.in_(set(member_ids))
            )
        )
        return {row[0]: safe_name(row[1] or row[2]) for row in rows}


async def _grant(
    ctx: BotContext,
    *,
    member_id: int,
    action: str,
    key: str,
    at: datetime,
    run: QuizRun,
    question: Question,
) -> int:
    """Points through the ledger (idempotent by ``key``); 0 when nothing is granted.

    A question's ``points:`` replaces the rules' amount for a right answer; otherwise the
    points rules decide.
    """
    options: dict[str, Any] = {
        "member_id": member_id,
        "action": action,
        "key": key,
        "at": at,
        "campaign_id": run.campaign_id,
        "reason": f"quiz {run.bank_id}, question {question.id}",
    }
    override = question.spec.points
    if override is not None and action == "quiz_correct":
        options["amount"] = override
    try:
        return int(await grant(ctx, **options))
    except Exception:
        log.exception("could not grant %s points for %s", action, key)
        return 0


# ---------------------------------------------------------------------------- messages


@dataclass(frozen=True, slots=True)
class _Asked:
    run: QuizRun
    bank: Bank
    question: Question
    index: int


def _choice_label(question: Question, locale: str, index: int) -> str:
    return f"{LETTERS[index]}. {question.choices(locale)[index]}"


def question_message(asked: _Asked) -> Message:
    """The message asking a question, with one button per choice."""
    run, question, locale = asked.run, asked.question, asked.run.locale
    total = len(run.questions)
    buttons: list[Button] = []
    lines = [question.prompt(locale)]
    if question.kind == "text":
        lines.append(
            i18n.gettext(locale, "Type your answer here.")
            if run.mode == QuizMode.self_paced
            else i18n.gettext(locale, "Type your answer in this channel.")
        )
    else:
        for number, label in enumerate(question.choices(locale)):
            buttons.append(
                Button(label=label[:75], action_id="quiz", value=f"{run.id}:{asked.index}:{number}")
            )
        if question.kind == "multiple":
            submit = _submit(locale)
            lines.append(
                i18n.gettext(
                    locale, "Several answers may be right: pick them, then press “{submit}”."
                ).format(submit=submit)
            )
            buttons.append(
                Button(
                    label=submit,
                    action_id="quiz",
                    value=f"{run.id}:{asked.index}:ok",
                    style="primary",
                )
            )
    if run.mode == QuizMode.daily:
        title = i18n.gettext(locale, "Question of the day")
        hint = i18n.gettext(
            locale, "Answers are open until the next question · a wrong answer costs nothing"
        )
    else:
        # Translators: a quiz question's number out of the quiz's count ("Question 2/5").
        title = i18n.gettext(locale, "Question {n}/{total}").format(n=asked.index + 1, total=total)
        hint = (
            i18n.gettext(locale, "Answer at your own pace · a wrong answer costs nothing")
            if run.mode == QuizMode.self_paced
            else i18n.gettext(
                locale,
                "Answer within {window} · one answer per person · a wrong answer costs nothing",
            ).format(window=_human_window(run.window_seconds, locale))
        )
    image = question.spec.image
    images: tuple[Image, ...] = ()
    if image is not None:
        alt = pick_locale(image.alt, locale, question.default_locale)[1] if image.alt else ""
        images = (Image(url=image.url, alt=alt),)
    return Message(
        text="\n".join(lines),
        title=title,
        buttons=tuple(buttons),
        images=images,
        context=hint,
        metadata={"quiz_run": str(run.id), "question": question.id},
    )


def _correct_text(question: Question, locale: str) -> str:
    if question.kind == "text":
        return " / ".join(question.accepted(locale)[:3])
    return ", ".join(_choice_label(question, locale, i) for i in sorted(question.correct_choices))


def _given_text(question: Question, locale: str, answer: QuizAnswer | None) -> str:
    if answer is None:
        return i18n.gettext(locale, "no answer")
    if question.kind == "text":
        return shown(answer.answer)
    return ", ".join(LETTERS[i] for i in _chosen(answer.answer)) or i18n.gettext(
        locale, "no answer"
    )


def _chosen(answer: str) -> list[int]:
    return sorted({int(part) for part in answer.split(",") if part.isdigit()})


# ---------------------------------------------------------------------------- the tick


async def tick(ctx: BotContext) -> int:
    """Close the answer windows that are over and start the channel quizzes now due.

    Returns how many runs moved or started. Never raises: a failure is logged.
    """
    try:
        return await _tick(ctx)
    except Exception:
        log.exception("quiz tick failed")
        return 0


async def _tick(ctx: BotContext) -> int:
    now = ctx.clock.now()
    moved = 0
    if not _banks(ctx):
        return 0  # banks not loaded (yet): never close a question without its bank
    async with ctx.db.session() as session:
        due = list(
            (
                await session.execute(
                    sa.select(QuizRun)
                    .where(_R.c.state == QuizState.asking.value, _R.c.deadline <= now)
                    .order_by(_R.c.deadline, _R.c.id)
                )
            ).scalars()
        )
    for run in due:
        if await _close_and_move(ctx, run, now):
            moved += 1
    campaigns = ctx.campaigns
    if not campaigns:
        return moved
    paused = {s.id for s in await list_states(ctx.db) if s.status == CampaignStatus.paused.value}
    for campaign in list(campaigns.values()):
        if campaign.id in paused:
            continue
        steps = [s for s in campaign.steps if s.is_channel_quiz]
        if not steps:
            continue
        grace = ctx.settings.grace
        for delivery in plan(
            campaign,
            [],
            now - delivery_grace(campaign, grace),
            now + timedelta(microseconds=1),
            channel_ids=ctx.channel_ids(campaign),
            steps=steps,
            channel_quizzes=True,
        ):
            if await _start_channel_run(ctx, campaign, delivery.step.id, delivery, now):
                moved += 1
    return moved


def delivery_grace(campaign: Campaign, default: timedelta) -> timedelta:
    """How late a channel quiz may still start."""
    return campaign.grace or default


async def next_event_time(ctx: BotContext, horizon: datetime) -> datetime | None:
    """The next instant a quiz needs the tick: a window closing, a channel quiz starting."""
    if not _banks(ctx):
        return None  # nothing can be asked or closed without banks
    now = ctx.clock.now()
    candidates: list[datetime] = []
    async with ctx.db.session() as session:
        deadline = (
            await session.execute(
                sa.select(sa.func.min(_R.c.deadline)).where(
                    _R.c.state == QuizState.asking.value, _R.c.deadline.is_not(None)
                )
            )
        ).scalar_one_or_none()
    if deadline is not None:
        candidates.append(deadline)
    campaigns = ctx.campaigns
    paused = {s.id for s in await list_states(ctx.db) if s.status == CampaignStatus.paused.value}
    for campaign in campaigns.values():
        steps = [s for s in campaign.steps if s.is_channel_quiz]
        if not steps or campaign.id in paused:
            continue
        first = min(
            (
                d.due_at
                for d in plan(
                    campaign,
                    [],
                    now + timedelta(microseconds=1),
                    horizon,
                    steps=steps,
                    channel_quizzes=True,
                )
            ),
            default=None,
        )
        if first is not None:
            candidates.append(first)
    return min(candidates) if candidates else None


async def _start_channel_run(
    ctx: BotContext, campaign: Campaign, step_id: str, delivery: Any, now: datetime
) -> bool:
    step = campaign.step(step_id)
    if step is None or step.spec.quiz is None:
        return False
    bank = _banks(ctx).get(step.spec.quiz)
    if bank is None:
        return False
    spec = step.spec
    logical = delivery.recipient.split(":", 1)[1]
    channel_id = ctx.channel_ids(campaign).get(logical, logical)
    key = f"{campaign.id}/{spec.id}/{delivery.occurrence}"
    series = f"{campaign.id}/{spec.id}"
    if spec.quiz_mode == QuizMode.daily:
        async with ctx.db.session() as session:
            done = (
                await session.execute(
                    sa.select(sa.func.count()).select_from(_R).where(_R.c.series == series)
                )
            ).scalar_one()
        questions = [bank.questions[int(done) % len(bank.questions)].id]
        following = [
            d.due_at
            for d in plan(
                campaign,
                [],
                delivery.due_at + timedelta(seconds=1),
                delivery.due_at + timedelta(days=15),
                steps=[step],
                channel_quizzes=True,
            )
        ]
        deadline = min(following, default=delivery.due_at + timedelta(days=1))
        window = int((deadline - now).total_seconds())
    else:
        count = spec.questions or len(bank.questions)
        questions = [q.id for q in bank.questions[:count]]
        window = int((parse_window(spec.window) if spec.window else DEFAULT_WINDOW).total_seconds())
        deadline = now + timedelta(seconds=window)
    run = await _create_run(
        ctx,
        bank=bank,
        intro=spec.text,
        key=key,
        series=series,
        bank_id=bank.id,
        mode=str(spec.quiz_mode),
        platform=ctx.adapter.platform,
        channel_id=channel_id,
        campaign_id=campaign.id,
        locale=campaign.spec.locale,
        questions=questions,
        window_seconds=max(window, 1),
        asked_at=now,
        deadline=deadline,
        started_at=now,
    )
    if run is None:
        return False
    log.info("quiz %s started in %s (%s)", run.key, channel_id, run.mode)
    return True


def _intro_row(run: QuizRun, bank: Bank, text: Any, now: datetime) -> dict[str, Any] | None:
    """The outbox row of a live quiz's introduction (``text`` from the step, else ours)."""
    body = (
        pick_locale(text, run.locale, run.locale)[1]
        if text
        else i18n.ngettext(
            run.locale,
            "Quiz time: {count} question, {window}. Ready?",
            "Quiz time: {count} questions, {window} each. Ready?",
            len(run.questions),
        ).format(count=len(run.questions), window=_human_window(run.window_seconds, run.locale))
    )
    message = Message(
        text=body,
        title=bank.title(run.locale),
        metadata={"quiz_run": str(run.id), "intro": "1"},
    )
    return _outbox_row(run, message, "intro", now)


async def _post(ctx: BotContext, run: QuizRun, message: Message, part: str) -> str | None:
    """Send to the run's channel, or to its member; the platform message id, or None."""
    key = f"quiz/{run.id}/{part}"
    try:
        if run.mode == QuizMode.self_paced:
            user = await _user_id(ctx, run.member_id)
            if user is None:
                return None
            sent = await ctx.adapter.send_direct(user, message, idempotency_key=key)
        else:
            assert run.channel_id is not None
            sent = await ctx.adapter.post(run.channel_id, message, idempotency_key=key)
    except Exception:
        log.exception("could not send quiz message %s", key)
        return None
    return sent.message_id


async def _user_id(ctx: BotContext, member_id: int | None) -> str | None:
    if member_id is None:
        return None
    async with ctx.db.session() as session:
        member = await session.get(Member, member_id)
        return member.platform_user_id if member is not None else None


async def _resend(ctx: BotContext, run: QuizRun, bank: Bank) -> None:
    """The open question again, directly: a member who starts a quiz they are in the middle
    of is shown where they are (nothing changes, so nothing goes through the outbox)."""
    question = bank.question(run.questions[run.current])
    if question is None:
        log.error("quiz %s: question %s is no longer in the bank", run.key, run.current)
        return
    asked = _Asked(run, bank, question, run.current)
    await _post(ctx, run, question_message(asked), f"q{run.current}")


def _outbox_row(run: QuizRun, message: Message, part: str, now: datetime) -> dict[str, Any] | None:
    """The outbox row of one of the run's messages (``part``: r0, q1, end...): to its member
    (self-paced) or its channel; its key makes it once per run and part."""
    assert run.id is not None
    step = f"quiz-{run.id}-{part}"
    if run.mode == QuizMode.self_paced:
        if run.member_id is None:
            return None
        return notices.direct_row(OUTBOX_CAMPAIGN, step, run.member_id, message, now)
    assert run.channel_id is not None
    return notices.channel_row(OUTBOX_CAMPAIGN, step, run.channel_id, message, now)


def _question_row(
    run: QuizRun, bank: Bank, index: int, now: datetime, deadline: datetime | None = None
) -> dict[str, Any] | None:
    """The outbox row asking question ``index`` of ``run`` (``deadline``: its window's end
    when it is not the run's current question yet)."""
    question = bank.question(run.questions[index])
    if question is None:
        log.error("quiz %s: question %s is no longer in the bank", run.key, index)
        return None
    if index != run.current:
        run = run.model_copy(update={"current": index, "asked_at": now, "deadline": deadline})
    return _outbox_row(run, question_message(_Asked(run, bank, question, index)), f"q{index}", now)


# ---------------------------------------------------------------------------- closing


async def _award(ctx: BotContext, run: QuizRun, question: Question, now: datetime) -> list[int]:
    """Grant the points of one closed question; the member ids who got the speed bonus."""
    assert run.id is not None
    question_id = question.id
    answers = await _answers(ctx, run.id, question_id)
    right = [a for a in answers if a.correct]
    fast = right[:SPEED_BONUS_COUNT] if run.mode == QuizMode.live else []
    points: dict[int, int] = {}
    for answer in right:
        points[answer.member_id] = await _grant(
            ctx,
            member_id=answer.member_id,
            action="quiz_correct",
            key=f"quiz:{run.id}:{question_id}:{answer.member_id}",
            at=now,
            run=run,
            question=question,
        )
    for answer in fast:
        points[answer.member_id] += await _grant(
            ctx,
            member_id=answer.member_id,
            action="quiz_speed_bonus",
            key=f"quiz-speed:{run.id}:{question_id}:{answer.member_id}",
            at=now,
            run=run,
            question=question,
        )
    async with ctx.db.session() as session:
        await session.execute(
            sa.update(_A)
            .where(_A.c.run_id == run.id, _A.c.question_id == question_id)
            .values(final=True)
        )
        for member_id, amount in points.items():
            await session.execute(
                sa.update(_A)
                .where(
                    _A.c.run_id == run.id,
                    _A.c.question_id == question_id,
                    _A.c.member_id == member_id,
                )
                .values(points=amount)
            )
    return [a.member_id for a in fast]


async def _close_and_move(ctx: BotContext, run: QuizRun, now: datetime) -> bool:
    """Close the open question of a channel run, show its results, ask the next or finish."""
    bank = _banks(ctx).get(run.bank_id)
    question = bank.question(run.questions[run.current]) if bank is not None else None
    if bank is None or question is None:
        await _move(ctx, run, now, finished=True, deadline=None)
        return True
    fast = await _award(ctx, run, question, now)
    last = run.current + 1 >= len(run.questions)
    deadline = now + timedelta(seconds=run.window_seconds)
    results = await _results_message(ctx, run, question, fast)
    rows = [_outbox_row(run, results, f"r{run.current}", now)]
    if not last:
        rows.append(_question_row(run, bank, run.current + 1, now, deadline))
    elif run.mode == QuizMode.live:
        rows.append(_outbox_row(run, await _leaderboard(ctx, run, bank), "end", now))
    moved = await _move(
        ctx, run, now, finished=last, deadline=None if last else deadline, queue=rows
    )
    if not moved:
        return False  # another process closed it
    if not last:
        run.current += 1
        run.asked_at, run.deadline = now, deadline
    return True


async def _results_message(
    ctx: BotContext, run: QuizRun, question: Question, fast: list[int]
) -> Message:
    assert run.id is not None
    locale = run.locale
    answers = await _answers(ctx, run.id, question.id)
    names = await _names(ctx, [a.member_id for a in answers])
    lines = [
        i18n.gettext(locale, "The answer: {answer}").format(
            answer=f"**{_correct_text(question, locale)}**"
        )
    ]
    explanation = question.explanation(locale)
    if explanation:
        lines.append(explanation)
    lines.append("")
    if question.kind == "text":
        lines.append(
            i18n.ngettext(locale, "{count} answer", "{count} answers", len(answers)).format(
                count=len(answers)
            )
        )
    else:
        counts = [0] * len(question.spec.choices)
        for answer in answers:
            for index in _chosen(answer.answer):
                if index < len(counts):
                    counts[index] += 1
        # Translators: {counts} lists how many picked each choice ("A: 3 · B: 1").
        lines.append(
            i18n.gettext(locale, "Answers: {counts}").format(
                counts=" · ".join(f"{LETTERS[i]}: {n}" for i, n in enumerate(counts))
            )
        )
    right = [names.get(a.member_id, "?") for a in answers if a.correct]
    # Translators: followed by the names of the members who found the answer.
    found = i18n.gettext(locale, "Right: {names}").format(names=", ".join(right))
    lines.append(found if right else i18n.gettext(locale, "Nobody found it this time."))
    if fast:
        lines.append(
            i18n.gettext(locale, "Fastest (speed bonus): {names}").format(
                names=", ".join(names.get(m, "?") for m in fast)
            )
        )
    title = (
        i18n.gettext(locale, "Question of the day")
        if run.mode == QuizMode.daily
        else i18n.gettext(locale, "Answer to question {n}").format(n=run.current + 1)
    )
    return Message(
        text="\n".join(lines),
        title=title,
        metadata={"quiz_run": str(run.id), "question": question.id, "results": "1"},
    )


async def _leaderboard(ctx: BotContext, run: QuizRun, bank: Bank) -> Message:
    assert run.id is not None
    locale = run.locale
    answers = await _answers(ctx, run.id)
    scores: dict[int, list[int]] = {}
    first_seen: dict[int, datetime] = {}
    for answer in answers:
        score = scores.setdefault(answer.member_id, [0, 0])
        score[0] += int(answer.correct)
        score[1] += answer.points
        if answer.correct:
            first_seen.setdefault(answer.member_id, answer.answered_at)
    names = await _names(ctx, list(scores))
    far = datetime.max.replace(tzinfo=run.started_at.tzinfo)
    ranking = sorted(
        scores,
        key=lambda m: (-scores[m][0], -scores[m][1], first_seen.get(m, far), m),
    )
    lines: list[str] = []
    for rank, member_id in enumerate(ranking[:LEADERBOARD_SIZE], 1):
        right, points = scores[member_id]
        line = _board_line(locale, rank, names.get(member_id, "?"), right, len(run.questions))
        if points:
            # Translators: appended to a leaderboard line: the points won in this quiz.
            line += i18n.ngettext(locale, " ({points} pt)", " ({points} pts)", points).format(
                points=points
            )
        lines.append(line)
    if not lines:
        lines.append(i18n.gettext(locale, "Nobody played this time."))
    lines.append("")
    lines.append(
        i18n.gettext(locale, "Thank you all for playing: no one loses points for a wrong answer.")
    )
    return Message(
        text="\n".join(lines),
        title=_board_title(locale, bank),
        metadata={"quiz_run": str(run.id), "leaderboard": "1"},
    )


# ---------------------------------------------------------------------------- answers


def _repeated(answer: QuizAnswer | None, choice: str) -> bool:
    """Whether a click repeats the answer already recorded (the same button again, or the same
    event handled again after a crash): it changes nothing, so it says nothing either (the
    result or the next question it led to is already on its way, through the outbox)."""
    if answer is None or not answer.final:
        return False
    return choice in (answer.answer, "ok")


async def _note(ctx: BotContext, user: UserRef, text: str) -> None:
    """A private note to one member (a direct message). Notes change nothing (an answer
    already given, a question closed, a selection so far): they stay direct, not through
    the outbox; what an answer changes goes through it (see :func:`_move`)."""
    try:
        await ctx.adapter.send_direct(user.id, Message(text=text))
    except Exception:
        log.exception("could not send a quiz note")


def _parse_action(event: ButtonClicked) -> tuple[int, int, str] | None:
    """(run id, question index, choice) of an answer button: action ``quiz``, value
    ``<run>:<question>:<choice>`` (Discord action ids cannot hold ":"; Slack gives the
    buttons of one message distinct action ids itself). ``quiz:<run>:<q>:<c>`` is read too."""
    full = event.action_id if not event.value else f"{event.action_id}:{event.value}"
    parts = full.split(":")
    if len(parts) < 4 or parts[0] != "quiz" or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    return int(parts[1]), int(parts[2]), parts[3]


async def on_button(event: ButtonClicked, ctx: BotContext) -> None:
    """A click on an answer button, or on a self-paced quiz invitation."""
    if event.user.is_bot:
        return
    if event.action_id == "quiz-start":
        await start_self_paced(ctx, event.user, event.value or None)
        return
    parsed = _parse_action(event)
    if parsed is None:
        return
    run_id, index, choice = parsed
    run = await _run(ctx, run_id)
    if run is None:
        return
    bank = _banks(ctx).get(run.bank_id)
    if bank is None or index >= len(run.questions):
        return
    question = bank.question(run.questions[index])
    if question is None or question.kind == "text":
        return
    member = await member_for(ctx, event.user)
    assert member.id is not None
    locale = member.locale or run.locale
    if run.mode == QuizMode.self_paced and run.member_id != member.id:
        await _note(ctx, event.user, i18n.gettext(locale, "This quiz is someone else's."))
        return
    now = ctx.clock.now()
    late = i18n.gettext(locale, "Too late: this question is closed.")
    if run.state != QuizState.asking.value or run.current != index:
        existing = await _answer_of(ctx, run_id, question.id, member.id)
        if _repeated(existing, choice):
            return
        note = (
            _already(locale) if existing is not None and run.mode == QuizMode.self_paced else late
        )
        if run.state == QuizState.finished.value and run.mode == QuizMode.self_paced:
            over = i18n.gettext(locale, "This quiz is over.")
            note = _already(locale) if existing is not None else over
        await _note(ctx, event.user, note)
        return
    if run.deadline is not None and now >= run.deadline:
        await _note(ctx, event.user, late)
        return
    if choice != "ok" and (not choice.isdigit() or int(choice) >= len(question.spec.choices)):
        return
    done = await _record_choice(ctx, event.user, run, question, member.id, choice, now, locale)
    if done and run.mode == QuizMode.self_paced:
        await _self_paced_next(ctx, run, bank, question, member.id, now)


async def _answer_of(
    ctx: BotContext, run_id: int, question_id: str, member_id: int
) -> QuizAnswer | None:
    async with ctx.db.session() as session:
        return (
            await session.execute(
                sa.select(QuizAnswer).where(
                    _A.c.run_id == run_id,
                    _A.c.question_id == question_id,
                    _A.c.member_id == member_id,
                )
            )
        ).scalar_one_or_none()


async def _insert_answer(
    ctx: BotContext,
    run_id: int,
    question_id: str,
    member_id: int,
    answer: str,
    correct: bool,
    final: bool,
    now: datetime,
    message_ref: str | None = None,
) -> bool:
    """Record the first answer of a member to a question; False if there already is one, or
    if the message ``message_ref`` (a free-text answer's) already answered a question."""
    async with ctx.db.session() as session:
        result = await session.execute(
            insert_for(session, _A)
            .values(
                run_id=run_id,
                question_id=question_id,
                member_id=member_id,
                answer=answer,
                correct=correct,
                final=final,
                answered_at=now,
                points=0,
                message_ref=message_ref,
            )
            .on_conflict_do_nothing()  # either key: one answer per question, one per message
        )
        return _rowcount(result) == 1


def _message_ref(event: MessagePosted) -> str:
    """What names the message that gives a free-text answer: the platform's own message and
    when it was written, the same however often it is delivered or handled. (The time tells
    apart the console's message numbers, which start again at each run on a kept database.)"""
    at = event.occurred_at
    when = int((at if at.tzinfo is not None else at.replace(tzinfo=UTC)).timestamp())
    return f"{event.platform}:{event.channel.id}:{event.message_id}:{when}"[:200]


async def _asked_at(ctx: BotContext, run: QuizRun) -> datetime | None:
    """When the run's current question was put to its member or channel: when the send of its
    outbox row began (the platform dates the question after that); None while it is still to
    be sent. A question whose row did not go (failed, skipped: shown again directly when the
    member asks) or is gone dates from the run's own record."""
    step = f"quiz-{run.id}-q{run.current}"
    async with ctx.db.session() as session:
        row = (
            await session.execute(
                sa.select(_D.status, _D.attempted_at, _D.sent_at).where(
                    _D.campaign_id == OUTBOX_CAMPAIGN, _D.step_id == step
                )
            )
        ).first()
    if row is None:
        return run.asked_at
    status = str(row[0])
    attempted: datetime | None = row[1]
    sent: datetime | None = row[2]
    if status == DeliveryStatus.sent.value:
        return attempted or sent or run.asked_at
    if status == DeliveryStatus.pending.value:
        return None  # not sent yet, or to be sent again after a failed attempt
    if status == DeliveryStatus.claimed.value:
        return attempted  # being sent: the platform may show it before the send is recorded
    return run.asked_at


def _written_at(event: MessagePosted) -> datetime:
    """The message's own time, from the platform (a Slack ts, a Discord snowflake, the
    console's clock), in UTC."""
    at = event.occurred_at
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


async def _answered_by(ctx: BotContext, member_id: int, ref: str) -> bool:
    """Whether the message ``ref`` already gave one of the member's answers."""
    async with ctx.db.session() as session:
        found = await session.execute(
            sa.select(_A.c.id).where(_A.c.member_id == member_id, _A.c.message_ref == ref)
        )
        return found.first() is not None


async def _record_choice(
    ctx: BotContext,
    user: UserRef,
    run: QuizRun,
    question: Question,
    member_id: int,
    choice: str,
    now: datetime,
    locale: str,
) -> bool:
    """Record a click; True when the member's answer to the question is now complete. The
    notes are in ``locale`` (the member's); the button they quote is named as the quiz
    shows it."""
    assert run.id is not None
    if question.kind == "single":
        if choice == "ok":
            return False
        chosen = [int(choice)]
        if await _insert_answer(
            ctx,
            run.id,
            question.id,
            member_id,
            str(chosen[0]),
            question.is_correct_choices(chosen),
            True,
            now,
        ):
            return True
        if not _repeated(await _answer_of(ctx, run.id, question.id, member_id), choice):
            await _note(ctx, user, _already(locale))
        return False
    # Multiple choice: clicks toggle a draft selection until "submit" (or the window closes).
    submit = _submit(run.locale)
    if choice != "ok" and await _insert_answer(
        ctx,
        run.id,
        question.id,
        member_id,
        choice,
        question.is_correct_choices([int(choice)]),
        False,
        now,
    ):
        letters = LETTERS[int(choice)]
        await _note(ctx, user, _selection(locale, letters, submit))
        return False
    async with ctx.db.session() as session:
        answer = (
            await session.execute(
                sa.select(QuizAnswer)
                .where(
                    _A.c.run_id == run.id,
                    _A.c.question_id == question.id,
                    _A.c.member_id == member_id,
                )
                .with_for_update()
            )
        ).scalar_one_or_none()
        message: str | None
        if answer is None:  # "submit" before any choice
            message = i18n.gettext(locale, "Pick at least one answer first.")
            complete = False
        elif answer.final:
            message = None if _repeated(answer, choice) else _already(locale)
            complete = False
        elif choice == "ok":
            answer.final = True
            answer.answered_at = now
            message = None
            complete = True
        else:
            selected = set(_chosen(answer.answer)) ^ {int(choice)}
            answer.answer = ",".join(str(i) for i in sorted(selected))
            answer.correct = question.is_correct_choices(selected)
            letters = ", ".join(LETTERS[i] for i in sorted(selected)) or "—"
            message = _selection(locale, letters, submit)
            complete = False
    if message is not None:
        await _note(ctx, user, message)
    return complete


async def on_message(event: MessagePosted, ctx: BotContext) -> None:
    """A free-text answer: in a direct message (self-paced) or in a live quiz's channel."""
    if event.user.is_bot or not event.text.strip():
        return
    now = ctx.clock.now()
    member = await get_member_by_platform_id(ctx.db, event.platform, event.user.id)
    if event.channel.is_direct:
        if member is None or member.id is None:
            return
        async with ctx.db.session() as session:
            run = (
                await session.execute(
                    sa.select(QuizRun)
                    .where(
                        _R.c.member_id == member.id,
                        _R.c.mode == QuizMode.self_paced.value,
                        _R.c.state == QuizState.asking.value,
                    )
                    .order_by(_R.c.id.desc())
                    .limit(1)
                )
            ).scalar_one_or_none()
    else:
        async with ctx.db.session() as session:
            run = (
                await session.execute(
                    sa.select(QuizRun)
                    .where(
                        _R.c.channel_id == event.channel.id,
                        _R.c.platform == event.platform,
                        _R.c.state == QuizState.asking.value,
                    )
                    .order_by(_R.c.id.desc())
                    .limit(1)
                )
            ).scalar_one_or_none()
    if run is None or run.id is None:
        return
    bank = _banks(ctx).get(run.bank_id)
    question = bank.question(run.questions[run.current]) if bank is not None else None
    if bank is None or question is None or question.kind != "text":
        return
    if run.deadline is not None and now >= run.deadline:
        return
    if member is None:
        member = await member_for(ctx, event.user)
    assert member.id is not None
    ref = _message_ref(event)
    asked = await _asked_at(ctx, run)
    if asked is None or _written_at(event) < asked:
        # Written before the question was asked (typed while the previous one was still on
        # screen, or delivered late): it cannot be this question's answer. A replay of a
        # message that answered an earlier question says nothing; in a channel it is talk.
        if run.mode == QuizMode.self_paced and not await _answered_by(ctx, member.id, ref):
            text = _before_question(member.locale or run.locale, run.current + 1)
            await _note(ctx, event.user, text)
        return
    answer = sanitize_answer(event.text, MAX_ANSWER)
    inserted = await _insert_answer(
        ctx,
        run.id,
        question.id,
        member.id,
        answer,
        question.is_correct_text(answer),
        True,
        now,
        ref,
    )
    if not inserted:
        if await _answered_by(ctx, member.id, ref):
            # The same message again (a platform retry, a replay after a crash), maybe after
            # the quiz moved on: it answered its own question, it answers no other one.
            return
        if run.mode == QuizMode.self_paced:
            await _note(ctx, event.user, _already(member.locale or run.locale))
        return  # in a channel, later messages are just conversation
    if run.mode == QuizMode.self_paced:
        await _self_paced_next(ctx, run, bank, question, member.id, now)


# ---------------------------------------------------------------------------- self-paced


async def start_self_paced(ctx: BotContext, user: UserRef, bank_id: str | None) -> str:
    """Start (or resume) a self-paced quiz in ``user``'s direct messages; a note for them."""
    banks = _banks(ctx)
    member = await member_for(ctx, user)
    assert member.id is not None
    locale = member.locale
    said = locale_for(ctx, member)
    if not banks:
        return _no_bank(said)
    bank: Bank | None
    if bank_id is None:
        same = [b for b in banks.values() if b.spec.locale == (locale or "").split("-")[0]]
        bank = (same or sorted(banks.values(), key=lambda b: b.id))[0]
    else:
        bank = banks.get(bank_id)
        if bank is None:
            return _unknown_bank(said, bank_id[:64], ", ".join(sorted(banks)))
    async with ctx.db.session() as session:
        open_run = (
            await session.execute(
                sa.select(QuizRun).where(
                    _R.c.member_id == member.id,
                    _R.c.mode == QuizMode.self_paced.value,
                    _R.c.state == QuizState.asking.value,
                    _R.c.bank_id == bank.id,
                )
            )
        ).scalar_one_or_none()
        played = (
            await session.execute(
                sa.select(sa.func.count())
                .select_from(_R)
                .where(_R.c.member_id == member.id, _R.c.bank_id == bank.id)
            )
        ).scalar_one()
    now = ctx.clock.now()
    if open_run is not None:
        await _resend(ctx, open_run, bank)
        return i18n.gettext(said, "Your quiz is in your direct messages.")
    await _create_run(
        ctx,
        bank=bank,
        key=f"self:{member.id}:{bank.id}:{int(played) + 1}",
        series=f"self:{bank.id}",
        bank_id=bank.id,
        mode=QuizMode.self_paced.value,
        platform=user.platform,
        member_id=member.id,
        locale=locale or bank.spec.locale,
        questions=[q.id for q in bank.questions],
        window_seconds=0,
        asked_at=now,
        deadline=None,
        started_at=now,
    )
    # Two clicks at once (run None): the other one created it and queued its first question.
    return i18n.gettext(said, "Your quiz is in your direct messages.")


async def _self_paced_next(
    ctx: BotContext, run: QuizRun, bank: Bank, question: Question, member_id: int, now: datetime
) -> None:
    """After a complete answer: grant its points, then the next question or the summary."""
    answer = await _answer_of(ctx, run.id or 0, question.id, member_id)
    if answer is not None and answer.correct:
        points = await _grant(
            ctx,
            member_id=member_id,
            action="quiz_correct",
            key=f"quiz:{run.id}:{question.id}:{member_id}",
            at=now,
            run=run,
            question=question,
        )
        if points:
            async with ctx.db.session() as session:
                await session.execute(
                    sa.update(_A).where(_A.c.id == answer.id).values(points=points)
                )
    last = run.current + 1 >= len(run.questions)
    row = (
        _outbox_row(run, await _summary(ctx, run, bank, member_id), "end", now)
        if last
        else _question_row(run, bank, run.current + 1, now)
    )
    if await _move(ctx, run, now, finished=last, deadline=None, queue=[row]) and not last:
        run.current += 1


async def _summary(ctx: BotContext, run: QuizRun, bank: Bank, member_id: int) -> Message:
    """The end of a self-paced quiz: the score, then each answer with its explanation."""
    assert run.id is not None
    locale = run.locale
    answers = {a.question_id: a for a in await _answers(ctx, run.id) if a.member_id == member_id}
    right = sum(1 for a in answers.values() if a.correct)
    lines = [
        i18n.gettext(locale, "Your score: {right}/{total}. Thank you for playing!").format(
            right=right, total=len(run.questions)
        ),
        "",
    ]
    for number, question_id in enumerate(run.questions, 1):
        question = bank.question(question_id)
        if question is None:
            continue
        answer = answers.get(question_id)
        mark = "✓" if answer is not None and answer.correct else "✗"
        lines.append(f"{mark} {number}. {question.prompt(locale)}")
        correct = i18n.gettext(locale, "The answer: {answer}").format(
            answer=_correct_text(question, locale)
        )
        # Translators: after the right answer of a question, in brackets.
        given = i18n.gettext(locale, "your answer: {answer}").format(
            answer=_given_text(question, locale, answer)
        )
        lines.append(f"   {correct} ({given})")
        explanation = question.explanation(locale)
        if explanation:
            lines.append(f"   {explanation}")
    return Message(
        text="\n".join(lines),
        title=i18n.gettext(locale, "Quiz finished: {title}").format(title=bank.title(locale)),
        metadata={"quiz_run": str(run.id), "summary": "1"},
    )


# ---------------------------------------------------------------------------- commands


async def on_command(event: CommandInvoked, ctx: BotContext) -> None:
    """``/rallybot quiz [BANK]`` (self-paced, in DMs); ``/rallybot quiz live BANK`` (managers)."""
    if event.name.lower() != "quiz":
        return
    args = list(event.args)
    if args and args[0].lower() == "live":
        await _command_live(event, ctx, args[1:])
        return
    if args and args[0].lower() == "top":
        await ctx.answer(event, await self_paced_leaderboard(ctx, event.user, args[1:]))
        return
    note = await start_self_paced(ctx, event.user, args[0] if args else None)
    await ctx.answer(event, note)


async def self_paced_leaderboard(ctx: BotContext, user: UserRef, args: list[str]) -> str:
    """``/rallybot quiz top [BANK]``: the best self-paced score of each member, and my rank.

    Ties go to whoever finished first, then to the lower member id.
    """
    banks = _banks(ctx)
    member = await member_for(ctx, user)
    locale = locale_for(ctx, member)
    if not banks:
        return _no_bank(locale)
    if args:
        bank = banks.get(args[0])
        if bank is None:
            return _unknown_bank(locale, args[0][:64], ", ".join(sorted(banks)))
    else:
        wanted = (member.locale or "").split("-")[0]
        same = [b for b in banks.values() if b.spec.locale == wanted]
        bank = (same or sorted(banks.values(), key=lambda b: b.id))[0]
    right = sa.func.sum(sa.case((_A.c.correct.is_(True), 1), else_=0))
    async with ctx.db.session() as session:
        rows = (
            await session.execute(
                sa.select(_R.c.member_id, _R.c.finished_at, right)
                .select_from(_R.outerjoin(_A, _A.c.run_id == _R.c.id))
                .where(
                    _R.c.bank_id == bank.id,
                    _R.c.mode == QuizMode.self_paced.value,
                    _R.c.state == QuizState.finished.value,
                )
                .group_by(_R.c.id, _R.c.member_id, _R.c.finished_at)
            )
        ).all()
    best: dict[int, tuple[int, datetime]] = {}
    for member_id, finished_at, count in rows:
        score = int(count or 0)
        known = best.get(member_id)
        if known is None or (-score, finished_at) < (-known[0], known[1]):
            best[member_id] = (score, finished_at)
    ranking = sorted(best, key=lambda m: (-best[m][0], best[m][1], m))
    names = await _names(ctx, [*ranking[:LEADERBOARD_SIZE], member.id or 0])
    total = len(bank.questions)
    lines = [_board_title(locale, bank)]
    for rank, member_id in enumerate(ranking[:LEADERBOARD_SIZE], 1):
        name = names.get(member_id, "?")
        lines.append(_board_line(locale, rank, name, best[member_id][0], total))
    if not ranking:
        lines.append(i18n.gettext(locale, "Nobody played this time."))
    elif member.id in best and ranking.index(member.id) >= LEADERBOARD_SIZE:
        rank = ranking.index(member.id) + 1
        lines.append(
            "…\n" + _board_line(locale, rank, names.get(member.id, "?"), best[member.id][0], total)
        )
    return "\n".join(lines)


async def _command_live(event: CommandInvoked, ctx: BotContext, args: list[str]) -> None:
    member = await member_for(ctx, event.user)
    locale = locale_for(ctx, member)
    if not ctx.is_admin(event.user):
        await ctx.answer(event, i18n.gettext(locale, "Only community managers start a live quiz."))
        return
    banks = _banks(ctx)
    if not args or event.channel is None or event.channel.is_direct:
        await ctx.answer(event, _live_usage(locale))
        return
    bank = banks.get(args[0])
    if bank is None:
        await ctx.answer(
            event,
            _unknown_bank(locale, args[0][:64], ", ".join(sorted(banks)) or "-"),
        )
        return
    count = len(bank.questions)
    window = DEFAULT_WINDOW
    try:
        if len(args) > 1:
            count = max(1, min(int(args[1]), len(bank.questions)))
        if len(args) > 2:
            window = parse_window(args[2])
    except ValueError:
        await ctx.answer(event, _live_usage(locale))
        return
    now = ctx.clock.now()
    run = await _create_run(
        ctx,
        bank=bank,
        key=f"manual:{event.platform}:{event.event_id}"[:200],
        series=f"manual:{bank.id}",
        bank_id=bank.id,
        mode=QuizMode.live.value,
        platform=event.platform,
        channel_id=event.channel.id,
        locale=bank.spec.locale,
        questions=[q.id for q in bank.questions[:count]],
        window_seconds=int(window.total_seconds()),
        asked_at=now,
        deadline=now + window,
        started_at=now,
    )
    if run is None:
        return
    await ctx.answer(event, i18n.gettext(locale, "Live quiz started."))


class QuizFeature(Feature):
    """Quizzes: live, self-paced, of the day."""

    name = "quiz"
    commands = COMMAND_SPECS
    personal_data = ("quiz_run", "quiz_answer")
    file_kinds = (FileKind(BANK_FILES, is_bank_file),)

    def __init__(self) -> None:
        self.banks: dict[str, Bank] = {}  # quiz banks: files with a top-level "bank:"

    async def reload(self, ctx: BotContext, files: Mapping[str, Sequence[Path]]) -> list[LoadError]:
        """Load the bank files; check the campaigns' quiz steps against them."""
        return self.load_banks(files.get(BANK_FILES, ()), ctx.campaigns)

    def load_banks(
        self, paths: Sequence[Path], campaigns: Mapping[str, Campaign]
    ) -> list[LoadError]:
        """Load the bank files into :attr:`banks`; a broken file keeps its last good version."""
        previous = {bank.source: bank for bank in self.banks.values()}
        errors: list[LoadError] = []
        banks: dict[str, Bank] = {}
        for path in paths:
            try:
                bank = load_bank(path)
            except CampaignLoadError as exc:
                errors.extend(exc.errors)
                for error in exc.errors:
                    log.error("quiz bank error: %s", error)
                kept = previous.get(str(path))
                if kept is None:
                    continue
                bank = kept
            if bank.id in banks:
                errors.append(
                    LoadError(
                        str(path),
                        1,
                        1,
                        "bank",
                        f'bank id "{bank.id}" is also used by {banks[bank.id].source}',
                    )
                )
                continue
            banks[bank.id] = bank
        self.banks = banks
        for error in check_bank_references(list(campaigns.values()), banks):
            log.error("campaign quiz step: %s", error)
            errors.append(error)
        return errors

    def ticks(self) -> Sequence[Tick]:
        """Close answer windows, start the channel quizzes now due."""
        return (tick,)

    async def next_event_time(self, ctx: BotContext, horizon: datetime) -> datetime | None:
        """The next question or window to close."""
        return await next_event_time(ctx, horizon)

    def subscriptions(self) -> Sequence[Subscription]:
        """Attach this module's handlers."""
        return (
            Subscription(ButtonClicked, on_button),
            Subscription(MessagePosted, on_message),
            Subscription(CommandInvoked, on_command),
        )
