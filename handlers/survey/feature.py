"""Surveys: campaign steps whose questions are asked one by one in direct messages.

The step's message (a channel post or a direct message, sent by the outbox like any other)
carries an "Answer the survey" button. A click starts a draft (:class:`SurveyDraft`) and asks
the first question in the member's direct messages: buttons for ratings, NPS and choices,
toggles and "Done" for multiple choices, and for free text a form (a modal) where the platform
has one, else the answer typed in the conversation. Each step of the draft is a
compare-and-set on its current question, so a double click counts once.

When the last question is answered, a named survey writes the answers, the responder record
and deletes the draft in one transaction: a second answer from the same member is refused by
the responder's primary key. An anonymous survey writes only the responder record and marks
the draft finished; the answers are written later, by :func:`release`, in a transaction of
their own, shuffled with at least :data:`MIN_GROUP` other responses (a remainder smaller
than that at the round's close is deleted, not counted), with no member id and group
attributes only for groups of at least that size (see ``docs/explanation/privacy.md``).

What follows an answer, the next question or the thanks, is an outbox row written in the
transaction that records the answer (:func:`_notice`): a crash or a refused send after it
delivers it once, later, and a click handled again finds it queued. An anonymous survey's row
names no member in its key and holds no time finer than the day (see
``docs/explanation/privacy.md``). The first question (the start) stays direct: lost, it comes
again with the next click on the survey's button.

Only the audience answers: the buttons carry a key made with the server secret
(:func:`server_secret`), and a start is checked against the step's deliveries (a direct
message sent to the member, or a post in a channel the member is in) and the round's close.
A recurring step (``every:``) has one survey row per round.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from babel.numbers import format_decimal
from sqlalchemy.exc import IntegrityError

from rallybot.bot import formats, i18n, notices
from rallybot.bot.context import locale_for, member_for
from rallybot.bot.events import ButtonClicked, CommandInvoked, FormSubmitted, MessagePosted, UserRef
from rallybot.bot.feature import Feature, Subscription, Tick
from rallybot.bot.messages import Button, Form, FormField, Message
from rallybot.bot.messages import member as member_text
from rallybot.campaigns.loader import LoadError
from rallybot.campaigns.quiz import sanitize_answer
from rallybot.campaigns.schema import Campaign, Step, pick_locale
from rallybot.campaigns.survey import (
    definition,
    keyed_survey_key,
    localized,
    step_survey_id,
    survey_id,
)
from rallybot.campaigns.survey import start_label as survey_start_label
from rallybot.campaigns.timeexpr import parse_duration
from rallybot.handlers.survey.commands import COMMAND_SPECS
from rallybot.storage import outbox as outbox_store
from rallybot.storage.anonymity import Raced, clear_sqlite_log, release_waiting, too_few
from rallybot.storage.database import Database
from rallybot.storage.models import ChannelMember, Delivery, DeliveryStatus, Member, table_of
from rallybot.storage.repositories import get_member_by_platform_id
from rallybot.storage.secret import cached_secret, server_secret
from rallybot.storage.survey_models import (
    MIN_GROUP,
    ONCE,
    Survey,
    SurveyAnswer,
    SurveyDraft,
    SurveyResponder,
)

if TYPE_CHECKING:
    from rallybot.bot.context import BotContext

__all__ = [
    "COMMANDS",
    "QuestionResult",
    "SurveyFeature",
    "SurveyResults",
    "find_survey",
    "is_anonymous_click",
    "on_button",
    "on_command",
    "on_form",
    "on_message",
    "release",
    "results_text",
    "server_secret",
    "sign_invitation",
    "survey_results",
    "survey_trend",
    "sync_surveys",
    "tick",
    "trend_text",
]

log = logging.getLogger("rallybot.survey")

COMMANDS = frozenset({"survey"})
MAX_TEXT = 2000
OUTBOX_CAMPAIGN = ".survey"
"""The outbox's campaign id of what follows a survey answer: the next question, the thanks."""

_S = table_of(Survey)
_A = table_of(SurveyAnswer)
_D = table_of(SurveyDraft)
_R = table_of(SurveyResponder)
_M = table_of(Member)
_DL = table_of(Delivery)
_CM = table_of(ChannelMember)


def _title(locale: str) -> str:
    # Translators: the title of a survey whose campaign gives it none.
    return i18n.pgettext(locale, "survey title", "Survey")


def _already(locale: str) -> str:
    return i18n.gettext(locale, "You have already answered this survey: thank you!")


def _closed(locale: str) -> str:
    return i18n.gettext(
        locale,
        "This survey round is closed: answers are no longer taken. Nothing was recorded.",
    )


def _unknown(locale: str) -> str:
    return i18n.gettext(locale, "This survey is no longer open.")


# ---------------------------------------------------------------------------- definitions


ONE_OFF_CLOSE = timedelta(days=14)
"""How long a one-off survey with an absolute time takes answers when the file does not say."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def _secret_of(ctx: BotContext) -> bytes:
    return await server_secret(ctx.db, ctx.settings.secret_key)


def sign_invitation(db: Database, message: Message, occurrence: str) -> Message:
    """``message`` with its "Answer the survey" button keyed with the server secret and the
    round (``occurrence``); unchanged when it has none. The secret is loaded by
    :func:`sync_surveys`, which every reload runs before planning."""
    secret = cached_secret(db)
    if secret is None or not any(b.action_id == "survey-start" for b in message.buttons):
        return message
    sid = message.metadata.get("survey") or survey_id(
        str(message.metadata.get("campaign")), str(message.metadata.get("step"))
    )
    value = keyed_survey_key(secret, sid)
    if occurrence != ONCE:
        value = f"{value}.{occurrence}"
    buttons = tuple(
        dataclasses.replace(b, value=value) if b.action_id == "survey-start" else b
        for b in message.buttons
    )
    return dataclasses.replace(message, buttons=buttons)


def _closes_after(step: Step) -> timedelta | None:
    spec = step.spec.survey
    if spec is None or spec.closes_after is None:
        return None
    days, seconds = parse_duration(spec.closes_after)
    return timedelta(days=days, seconds=seconds)


def _one_off_window(campaign: Campaign, step: Step) -> tuple[datetime | None, datetime | None]:
    """When a one-off survey opens and closes; (None, None) for a join-relative time."""
    if step.at is None or step.at.per_member:
        return None, None
    opens = step.at.resolve(campaign.zone, campaign.milestones)
    return opens, opens + (_closes_after(step) or ONE_OFF_CLOSE)


def _round_window(campaign: Campaign, step: Step, day: date) -> tuple[datetime, datetime]:
    """When the round of a recurring step on local ``day`` opens and closes (by default at the
    next occurrence)."""
    assert step.every is not None
    zone = campaign.zone
    opens = datetime.combine(day, step.every.at, zone)
    after = _closes_after(step)
    if after is not None:
        return opens, opens + after
    following = step.every.occurrences(day + timedelta(days=1), day + timedelta(days=400))
    if not following:
        return opens, opens + timedelta(days=7)
    return opens, datetime.combine(following[0], step.every.at, zone)


def _survey_steps(campaigns: Sequence[Campaign], secret: bytes) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for campaign in campaigns:
        for step in campaign.steps:
            spec = step.spec.survey
            if spec is None:
                continue
            sid = step_survey_id(campaign.id, step.id, step.spec.renamed_from)
            opens, closes = _one_off_window(campaign, step) if step.every is None else (None, None)
            default = campaign.spec.locale
            title = pick_locale(spec.title, None, default)[1] if spec.title is not None else ""
            if not title:
                title = campaign.spec.title
            rows.append(
                {
                    "id": sid,
                    "key": keyed_survey_key(secret, sid),
                    "campaign_id": campaign.id,
                    "step_id": step.id,
                    "title": title[:300],
                    "anonymous": spec.anonymous,
                    "locale": default,
                    "questions": definition(spec, default),
                    "opens_at": opens,
                    "closes_at": closes,
                }
            )
    return rows


async def sync_surveys(ctx: BotContext) -> int:
    """Write the survey steps of the loaded campaigns to the ``survey`` table (new or edited);
    the number of surveys written. Answers already given are kept.

    A survey's anonymity never changes once it has answers: an edit that would reveal who
    answered, or pretend earlier named answers are anonymous, is refused (logged).
    """
    campaigns = ctx.campaigns
    db = ctx.db
    now = ctx.clock.now()
    secret = await _secret_of(ctx)
    written = 0
    for row in _survey_steps(list(campaigns.values()), secret):
        try:
            async with db.session() as session:
                existing = (
                    await session.execute(sa.select(Survey).where(_S.c.id == row["id"]))
                ).scalar_one_or_none()
                if existing is None:
                    session.add(Survey(**row, created_at=now, updated_at=now))
                    written += 1
                    continue
                same = all(getattr(existing, k) == v for k, v in row.items())
                if same:
                    continue
                if existing.anonymous != row["anonymous"]:
                    answered = await session.scalar(
                        sa.select(sa.func.count()).where(_R.c.survey_id == row["id"])
                    )
                    if answered:
                        log.error(
                            "survey %s: anonymous cannot change once people have answered; "
                            "keeping anonymous=%s",
                            row["id"],
                            existing.anonymous,
                        )
                        row["anonymous"] = existing.anonymous
                await session.execute(
                    sa.update(_S).where(_S.c.id == row["id"]).values(**row, updated_at=now)
                )
                rounds = sa.and_(
                    _S.c.campaign_id == row["campaign_id"],
                    _S.c.id.startswith(row["id"] + "@", autoescape=True),
                    _S.c.round != "",
                )
                # A renamed step (renamed_from) keeps its survey: every round follows its id.
                await session.execute(
                    sa.update(_S).where(rounds).values(step_id=row["step_id"], updated_at=now)
                )
                # The open rounds of a recurring step follow its edited words.
                await session.execute(
                    sa.update(_S)
                    .where(rounds, _S.c.closed_at.is_(None))
                    .values(
                        title=row["title"],
                        locale=row["locale"],
                        questions=row["questions"],
                        updated_at=now,
                    )
                )
                written += 1
        except IntegrityError:  # another replica wrote it first
            continue
    return written


async def find_survey(db: Database, ref: str) -> Survey | None:
    """The survey named by its id (``campaign/step``), its key, or a step id used once."""
    async with db.session() as session:
        found = (
            await session.execute(sa.select(Survey).where(sa.or_(_S.c.id == ref, _S.c.key == ref)))
        ).scalar_one_or_none()
        if found is not None:
            return found
        matches = (
            (await session.execute(sa.select(Survey).where(_S.c.step_id == ref, _S.c.round == "")))
            .scalars()
            .all()
        )
    return matches[0] if len(matches) == 1 else None


async def _by_key(ctx: BotContext, key: str) -> Survey | None:
    async with ctx.db.session() as session:
        found = (
            await session.execute(sa.select(Survey).where(_S.c.key == key))
        ).scalar_one_or_none()
    if found is None:  # a step loaded before this process wrote its survey
        await sync_surveys(ctx)
        async with ctx.db.session() as session:
            found = (
                await session.execute(sa.select(Survey).where(_S.c.key == key))
            ).scalar_one_or_none()
    return found


# ---------------------------------------------------------------------------- asking


def _question_text(survey: Survey, index: int, locale: str) -> str:
    return localized(survey.questions[index]["text"], locale, survey.locale)


def _choice_labels(survey: Survey, index: int, locale: str) -> list[str]:
    return [localized(c, locale, survey.locale) for c in survey.questions[index]["choices"]]


def _form_id(survey: Survey, index: int) -> str:
    return f"survey:{survey.key}:{index}"


def question_message(survey: Survey, index: int, locale: str) -> Message:
    """The message asking question ``index`` of ``survey`` in ``locale``."""
    question = survey.questions[index]
    kind = question["kind"]
    value = f"{survey.key}:{index}"
    buttons: list[Button] = []
    context: list[str] = []
    if kind == "rating":
        buttons = [
            Button(label=str(n), action_id="survey", value=f"{value}:{n}") for n in range(1, 6)
        ]
        # Translators: the meaning of the rating buttons 1 to 5.
        context.append(i18n.gettext(locale, "1 = poor, 5 = excellent"))
    elif kind == "nps":
        buttons = [
            Button(label=str(n), action_id="survey", value=f"{value}:{n}") for n in range(11)
        ]
        # Translators: the meaning of the buttons 0 to 10 of a "would you recommend" question.
        context.append(i18n.gettext(locale, "0 = not at all likely, 10 = extremely likely"))
    elif kind in {"single", "multiple"}:
        labels = _choice_labels(survey, index, locale)
        buttons = [
            Button(label=label[:75], action_id="survey", value=f"{value}:{n}")
            for n, label in enumerate(labels)
        ]
        if kind == "multiple":
            buttons.append(
                Button(
                    label=_done(locale),
                    action_id="survey",
                    value=f"{value}:done",
                    style="primary",
                )
            )
            context.append(i18n.gettext(locale, "Pick every answer that applies, then press Done."))
    else:
        buttons = [
            Button(
                label=i18n.gettext(locale, "Write my answer"),
                action_id="survey",
                value=f"{value}:write",
                style="primary",
                opens_form=True,
            )
        ]
        context.append(i18n.gettext(locale, "Or type your answer here, in this conversation."))
    if question.get("optional"):
        # Translators: a button: leave an optional question unanswered.
        skip = i18n.pgettext(locale, "survey button", "Skip")
        buttons.append(Button(label=skip, action_id="survey", value=f"{value}:skip"))
    title = survey.title or _title(locale)
    progress = i18n.gettext(locale, "Question {n} of {total}").format(
        n=index + 1, total=len(survey.questions)
    )
    if index == 0 and survey.anonymous:
        context.append(
            i18n.gettext(locale, "Anonymous: your answers will be stored without your name.")
        )
        # Translators: {k} is the smallest group an answer is mixed into (5).
        how = i18n.gettext(
            locale,
            "What is kept: your answers, without your name, mixed with at least {k} other "
            "responses before they are stored (if fewer than {k} are left when the survey closes, "
            "they are deleted without being counted); your team and cohort "
            "only if at least {k} respondents share them; and, apart, the fact that you answered. "
            "Until then your answers wait in a draft that is deleted when they are stored.",
        )
        context.append(how.format(k=MIN_GROUP))
    return Message(
        text=_question_text(survey, index, locale),
        title=f"{title} — {progress}",
        buttons=tuple(buttons),
        context="\n".join(context) or None,
        metadata={"survey": survey.key, "question": str(index)},
    )


async def _note(ctx: BotContext, user_id: str, text: str) -> None:
    try:
        await ctx.adapter.send_direct(user_id, Message(text=text))
    except Exception:
        log.exception("could not send a survey note")


async def _ask(ctx: BotContext, user_id: str, survey: Survey, index: int, locale: str) -> None:
    try:
        await ctx.adapter.send_direct(user_id, question_message(survey, index, locale))
    except Exception:
        log.exception("could not ask survey %s question %d", survey.id, index)


async def _responded(db: Database, sid: str, member_id: int) -> bool:
    async with db.session() as session:
        found = await session.scalar(
            sa.select(sa.func.count()).where(_R.c.survey_id == sid, _R.c.member_id == member_id)
        )
    return bool(found)


async def _draft(db: Database, sid: str, member_id: int) -> SurveyDraft | None:
    async with db.session() as session:
        return (
            await session.execute(
                sa.select(SurveyDraft).where(_D.c.survey_id == sid, _D.c.member_id == member_id)
            )
        ).scalar_one_or_none()


async def is_anonymous_click(db: Database, action_id: str | None, value: str) -> bool:
    """Whether a button press belongs to an anonymous survey (no activity row is kept)."""
    if action_id == "survey-start":
        key = value.partition(".")[0]
    elif action_id == "survey":
        key = value.partition(":")[0]
    else:
        return False
    async with db.session() as session:
        anonymous = await session.scalar(sa.select(_S.c.anonymous).where(_S.c.key == key))
    return bool(anonymous)


def _is_closed(survey: Survey, now: datetime) -> bool:
    return survey.closed_at is not None or (
        survey.closes_at is not None and now >= survey.closes_at
    )


async def _may_answer(db: Database, survey: Survey, member: Member) -> bool:
    """Whether ``member`` is in the audience of ``survey``'s round: the step's direct message
    was sent to them, or its post went to a channel they are in (any channel whose members
    the bot does not know lets everyone who can see it answer)."""
    occurrence = survey.round or ONCE
    async with db.session() as session:
        sent = (
            await session.execute(
                sa.select(_DL.c.recipient, _DL.c.platform_channel_id).where(
                    _DL.c.campaign_id == survey.campaign_id,
                    _DL.c.step_id == survey.step_id,
                    _DL.c.occurrence == occurrence,
                    _DL.c.status == DeliveryStatus.sent.value,
                )
            )
        ).all()
        if any(recipient == f"member:{member.id}" for recipient, _ in sent):
            return True
        channels = {c for r, c in sent if r.startswith("channel:") and c}
        if not channels:
            return False
        known = (
            await session.execute(
                sa.select(_CM.c.channel_id, _CM.c.member_id).where(_CM.c.channel_id.in_(channels))
            )
        ).all()
    if any(member_id == member.id for _, member_id in known):
        return True
    return bool(channels - {channel for channel, _ in known})


def _round_id(base: str, round_: str) -> str:
    rid = f"{base}@{round_}"
    return rid if len(rid) <= 201 else f"{base[: 200 - len(round_)]}@{round_}"


async def _round(ctx: BotContext, base: Survey, round_: str) -> Survey | None:
    """The survey row of round ``round_`` (a local date) of a recurring step, created at its
    first click; None when the step is not recurring or the date is not one of its
    occurrences."""
    campaign = ctx.campaigns.get(base.campaign_id)
    step = campaign.step(base.step_id) if campaign is not None else None
    if campaign is None or step is None or step.every is None:
        return None
    try:
        day = date.fromisoformat(round_)
    except ValueError:
        return None
    if step.every.occurrences(day, day) != [day]:
        return None
    rid = _round_id(base.id, round_)
    async with ctx.db.session() as session:
        found = await session.get(Survey, rid)
    if found is not None:
        return found
    opens, closes = _round_window(campaign, step, day)
    now = ctx.clock.now()
    secret = await _secret_of(ctx)
    try:
        async with ctx.db.session() as session:
            session.add(
                Survey(
                    id=rid,
                    key=keyed_survey_key(secret, rid),
                    campaign_id=base.campaign_id,
                    step_id=base.step_id,
                    title=base.title,
                    anonymous=base.anonymous,
                    locale=base.locale,
                    questions=base.questions,
                    round=round_,
                    opens_at=opens,
                    closes_at=closes,
                    created_at=now,
                    updated_at=now,
                )
            )
    except IntegrityError:
        pass  # a concurrent click made it
    async with ctx.db.session() as session:
        return await session.get(Survey, rid)


async def start(ctx: BotContext, user: UserRef, survey: Survey) -> None:
    """Start (or resume) ``user``'s answers to ``survey`` in their direct messages, after the
    checks: the round is open, the member has not answered it and is in its audience."""
    member = await member_for(ctx, user)
    assert member.id is not None
    locale = member.locale or survey.locale
    if await _responded(ctx.db, survey.id, member.id):
        await _note(ctx, user.id, _already(locale))
        return
    if _is_closed(survey, ctx.clock.now()):
        await _note(ctx, user.id, _closed(locale))
        return
    if not await _may_answer(ctx.db, survey, member):
        log.info("survey %s: a start from outside its audience was refused", survey.id)
        not_yours = i18n.gettext(
            locale,
            "This survey is not addressed to you, so your answer cannot be taken. "
            "Nothing was recorded.",
        )
        await _note(ctx, user.id, not_yours)
        return
    draft = await _draft(ctx.db, survey.id, member.id)
    if draft is None:
        try:
            async with ctx.db.session() as session:
                session.add(
                    SurveyDraft(
                        survey_id=survey.id,
                        member_id=member.id,
                        locale=locale,
                        updated_at=ctx.clock.now(),
                    )
                )
        except IntegrityError:
            pass  # a concurrent click created it
        draft = await _draft(ctx.db, survey.id, member.id)
        if draft is None:
            return
    if draft.finished:
        await _note(ctx, user.id, _already(locale))
        return
    if draft.current >= len(survey.questions):  # answered all, not recorded (questions cut)
        if not await _complete(ctx, survey, member, draft.answers, draft.locale):
            await _note(ctx, user.id, _already(draft.locale))
        return
    await _ask(ctx, user.id, survey, draft.current, draft.locale)


def _thanks(locale: str) -> str:
    return i18n.gettext(locale, "Thank you, your answers are recorded.")


def _thanks_message(survey: Survey, locale: str) -> Message:
    if survey.anonymous:
        text = i18n.gettext(
            locale,
            "Thank you, your answers are recorded, anonymously: they carry no name. They are "
            "counted in a batch of at least {k} responses; if fewer than {k} are still waiting "
            "for a batch when the survey closes, they are deleted without being counted.",
        ).format(k=MIN_GROUP)
    else:
        text = _thanks(locale)
    return Message(text=text)


def _done(locale: str) -> str:
    # Translators: a button: the member has picked all the answers of a multiple choice.
    return i18n.pgettext(locale, "survey button", "Done")


def _step_key(survey_id: str, part: str) -> str:
    """A named survey's outbox step id: the survey (round) and the part, within 100 characters."""
    step = f"{survey_id}#{part}"
    if len(step) <= 100:
        return step
    digest = hashlib.sha256(survey_id.encode()).hexdigest()[:16]
    return f"{survey_id[: 100 - len(part) - 18]}~{digest}#{part}"


async def _notice(
    ctx: BotContext, survey: Survey, member: Member, part: str, message: Message
) -> dict[str, Any]:
    """The outbox row of what follows an answer (``part``: ``q<index>`` for the next question,
    ``thanks``), keyed by the survey round, the member and the part, so that a click handled
    again queues it once.

    An anonymous survey's row names the member only by a keyed hash and is dated to the day
    (:func:`bot.notices.anonymous_row`): written with the answer, a row at the second of it
    would give every member's time on each question, which can tell an answer (a long text
    takes long to type). It holds only the question, which never depends on the answers given
    (questions come in their file's order, without branching): a question chosen by an answer
    would name that answer next to the member, and would have to stay out of the outbox."""
    assert member.id is not None
    now = ctx.clock.now()
    if not survey.anonymous:
        step = _step_key(survey.id, part)
        return notices.direct_row(OUTBOX_CAMPAIGN, step, member.id, message, now)
    secret = await _secret_of(ctx)
    digest = hmac.new(secret, f"{survey.id}\n{member.id}\n{part}".encode(), hashlib.sha256)
    return notices.anonymous_row(OUTBOX_CAMPAIGN, digest.hexdigest()[:40], member.id, message, now)


async def _advance(
    ctx: BotContext,
    user: UserRef,
    survey: Survey,
    member: Member,
    draft: SurveyDraft,
    answer: dict[str, Any],
) -> None:
    """Record ``answer`` to the draft's current question, with the next question (or, after the
    last, the response and the thanks) queued in the outbox in the same transaction."""
    assert member.id is not None
    index = draft.current
    question = survey.questions[index]
    answers = {**draft.answers, question["id"]: answer}
    if index + 1 >= len(survey.questions):
        done = await _complete(ctx, survey, member, answers, draft.locale, moved_from=index)
        if done is False:
            await _note(ctx, user.id, _already(draft.locale))
        return
    following = question_message(survey, index + 1, draft.locale)
    row = await _notice(ctx, survey, member, f"q{index + 1}", following)
    async with ctx.db.session() as session:
        result = await session.execute(
            sa.update(_D)
            .where(
                _D.c.survey_id == survey.id,
                _D.c.member_id == member.id,
                _D.c.current == index,
            )
            .values(current=index + 1, answers=answers, selection=[], updated_at=ctx.clock.now())
        )
        if getattr(result, "rowcount", 0) != 1:
            return  # a concurrent click moved it on (its own row asks the next question)
        await notices.queue(session, [row])


def _answer_rows(
    survey: Survey,
    answers: dict[str, Any],
    group: tuple[str | None, str | None],
    day: date,
    member_id: int | None,
) -> list[dict[str, Any]]:
    response = uuid.uuid4().hex
    rows: list[dict[str, Any]] = []
    for question in survey.questions:
        given = answers.get(question["id"], {"skipped": True})
        rows.append(
            {
                "id": uuid.uuid4().hex,
                "survey_id": survey.id,
                "response_id": response,
                "question_id": question["id"],
                "kind": question["kind"],
                "value": given.get("value"),
                "choices": given.get("choices"),
                "text": given.get("text"),
                "skipped": bool(given.get("skipped", False)),
                "cohort": group[0],
                "team": group[1],
                "answered_on": day,
                "member_id": member_id,
            }
        )
    return rows


async def _complete(
    ctx: BotContext,
    survey: Survey,
    member: Member,
    answers: dict[str, Any],
    locale: str,
    *,
    moved_from: int | None = None,
) -> bool | None:
    """Record a finished response with its thanks queued in the outbox; False when the member
    had already answered (the responder's key refuses a second), None when ``moved_from`` (the
    question just answered) is no longer the draft's current one (a concurrent click).

    Named survey: the answers, the responder record, the draft's deletion and the thanks, one
    transaction. Anonymous survey: the responder record, the draft marked finished and the
    thanks; the answers are written by :func:`release` with others, in a transaction of
    their own."""
    assert member.id is not None
    now = ctx.clock.now()
    thanks = await _notice(ctx, survey, member, "thanks", _thanks_message(survey, locale))
    mine = sa.and_(_D.c.survey_id == survey.id, _D.c.member_id == member.id)
    try:
        async with ctx.db.session() as session:
            if moved_from is not None:
                moved = await session.execute(
                    sa.update(_D)
                    .where(mine, _D.c.current == moved_from, _D.c.finished.is_(False))
                    .values(current=len(survey.questions), answers=answers, selection=[])
                )
                if getattr(moved, "rowcount", 0) != 1:
                    return None
            await session.execute(sa.insert(_R).values(survey_id=survey.id, member_id=member.id))
            if survey.anonymous:
                await session.execute(
                    sa.update(_D)
                    .where(mine)
                    .values(
                        finished=True,
                        answers=answers,
                        current=len(survey.questions),
                        selection=[],
                        updated_at=now,
                    )
                )
            else:
                rows = _answer_rows(
                    survey, answers, (member.cohort, member.team), now.date(), member.id
                )
                await session.execute(sa.insert(_A), rows)
                await session.execute(sa.delete(_D).where(mine))
            await notices.queue(session, [thanks])
    except IntegrityError:
        async with ctx.db.session() as session:
            await session.execute(sa.delete(_D).where(mine))
        return False
    if survey.anonymous:
        await release(ctx.db, survey.id, now)
    return True


def _group_tags(
    groups: Sequence[tuple[str | None, str | None]],
) -> tuple[bool, bool]:
    """Whether a batch keeps (cohort, team): only when every group of the batch, by both or by
    one attribute, has at least :data:`MIN_GROUP` responses (a smaller group, or the responses
    whose attribute was dropped, would stand out)."""

    def fine(keys: Sequence[object]) -> bool:
        counts: dict[object, int] = {}
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
        return not any(too_few(n) for n in counts.values())

    if fine(list(groups)):
        return True, True
    if fine([c for c, _ in groups]):
        return True, False
    if fine([t for _, t in groups]):
        return False, True
    return False, False


async def release(db: Database, sid: str, now: datetime, *, closing: bool = False) -> int:
    """Write the anonymous answers waiting in finished drafts of survey ``sid`` once at least
    :data:`MIN_GROUP` responses wait: one transaction, rows in shuffled order with random ids
    and the day of the batch, the drafts deleted; the number of responses written.

    When ``closing``, a remainder smaller than :data:`MIN_GROUP` is not written at all: its
    drafts are deleted. Written alone, or with the earlier answers written again, it would
    be told apart by a diff of two backups, or of the results before and after the close."""
    try:
        async with db.session() as session:
            survey = await session.get(Survey, sid)
            if survey is None or not survey.anonymous:
                return 0
            waiting = (
                await session.execute(
                    sa.select(_D.c.member_id, _D.c.answers).where(
                        _D.c.survey_id == sid, _D.c.finished.is_(True)
                    )
                )
            ).all()
            ids = [int(member_id) for member_id, _ in waiting]
            drafts = sa.delete(_D).where(
                _D.c.survey_id == sid, _D.c.finished.is_(True), _D.c.member_id.in_(ids)
            )

            async def answer_rows() -> list[dict[str, Any]]:
                found = {
                    int(r[0]): (r[1], r[2])
                    for r in (
                        await session.execute(
                            sa.select(_M.c.id, _M.c.cohort, _M.c.team).where(_M.c.id.in_(ids))
                        )
                    ).all()
                }
                groups = [found.get(i, (None, None)) for i in ids]
                keep_cohort, keep_team = _group_tags(groups)
                rows: list[dict[str, Any]] = []
                for (_, answers), (cohort, team) in zip(waiting, groups, strict=True):
                    tags = (cohort if keep_cohort else None, team if keep_team else None)
                    rows += _answer_rows(survey, dict(answers or {}), tags, now.date(), None)
                return rows

            written = await release_waiting(
                session, _A, drafts, len(ids), answer_rows, closing=closing
            )
            if written is None:
                return 0
    except Raced:
        return 0
    await _clear_sqlite_log(db)
    return written


async def _clear_sqlite_log(db: Database) -> None:
    await clear_sqlite_log(db)


async def close_round(db: Database, sid: str, now: datetime) -> int:
    """Close survey (round) ``sid``: write the anonymous answers still waiting if they make a
    batch (else delete them, not counted), delete the unfinished drafts, mark it closed; the
    number of responses written."""
    written = await release(db, sid, now, closing=True)
    async with db.session() as session:
        await session.execute(sa.delete(_D).where(_D.c.survey_id == sid, _D.c.finished.is_(False)))
        await session.execute(
            sa.update(_S).where(_S.c.id == sid, _S.c.closed_at.is_(None)).values(closed_at=now)
        )
    await _clear_sqlite_log(db)
    return written


async def tick(ctx: BotContext) -> None:
    """Close the rounds whose time is up, write any batch left waiting, and empty the
    anonymous surveys' outbox rows a stopped process or an expired grace left unscrubbed."""
    now = ctx.clock.now()
    await outbox_store.scrub_left(ctx.db, outbox_store.ANONYMOUS)
    async with ctx.db.session() as session:
        due = (
            (
                await session.execute(
                    sa.select(_S.c.id).where(_S.c.closed_at.is_(None), _S.c.closes_at <= now)
                )
            )
            .scalars()
            .all()
        )
        full = (
            (
                await session.execute(
                    sa.select(_D.c.survey_id)
                    .where(_D.c.finished.is_(True))
                    .group_by(_D.c.survey_id)
                    .having(sa.func.count() >= MIN_GROUP)
                )
            )
            .scalars()
            .all()
        )
    for sid in due:
        await close_round(ctx.db, sid, now)
        # No count: the responses written at the close, against the responders, would say
        # how many answers were left out, and when.
        log.info("survey %s closed", sid)
    for sid in set(full) - set(due):
        await release(ctx.db, sid, now)


@dataclass
class _Click:
    survey: Survey
    member: Member
    draft: SurveyDraft
    index: int
    choice: str


_ANY = "any"


def _given(question: Mapping[str, Any], choice: str, text: str | None) -> dict[str, Any] | None:
    """The answer a click (``choice``) or a form (``text``) gives to ``question`` as recorded in
    the draft; None for a click that answers nothing (a toggle, "Write my answer"). "Done"
    gives ``choices`` whatever they were (the selection is emptied once recorded)."""
    if text is not None:
        cleaned = sanitize_answer(text, MAX_TEXT)
        return {"text": cleaned} if cleaned else {"skipped": True}
    if choice == "skip":
        return {"skipped": True}
    if question["kind"] == "multiple":
        return {"choices": _ANY} if choice == "done" else None
    if question["kind"] == "text" or not choice.isdigit():
        return None
    return {"value": int(choice)}


def _repeats(recorded: Mapping[str, Any] | None, given: Mapping[str, Any] | None) -> bool:
    if recorded is None or given is None:
        return False
    if given.get("choices") == _ANY:
        return "choices" in recorded
    return dict(recorded) == dict(given)


async def _recorded_again(
    db: Database,
    survey: Survey,
    member_id: int,
    draft: SurveyDraft | None,
    given: Mapping[str, Any] | None,
) -> bool:
    """Whether ``given``, an answer to the last question of a response already recorded, is the
    one recorded: from the finished draft of an anonymous response waiting for its batch, or a
    named survey's answer row. An anonymous response once written keeps nothing to compare
    with (it names nobody): then False, and the member is told they already answered."""
    question = survey.questions[-1]
    if given is None:
        return False
    if draft is not None:
        return _repeats(draft.answers.get(question["id"]), given)
    if survey.anonymous:
        return False
    async with db.session() as session:
        found = (
            await session.execute(
                sa.select(_A.c.value, _A.c.choices, _A.c.text, _A.c.skipped).where(
                    _A.c.survey_id == survey.id,
                    _A.c.member_id == member_id,
                    _A.c.question_id == question["id"],
                )
            )
        ).first()
    if found is None:
        return False
    value, choices, text, skipped = found
    if skipped:
        recorded: dict[str, Any] = {"skipped": True}
    elif choices is not None:
        recorded = {"choices": list(choices)}
    elif text is not None:
        recorded = {"text": text}
    else:
        recorded = {"value": value}
    return _repeats(recorded, given)


async def _resolve(
    ctx: BotContext,
    user: UserRef,
    key: str,
    index: int,
    choice: str = "",
    text: str | None = None,
) -> _Click | None:
    """The survey, member and draft of an answer click or form, after the checks (and a note
    to the member when the click cannot count).

    A click that repeats the answer just recorded (the same button again, or the event handled
    again after a crash) says nothing: what it led to, the next question or the thanks, is
    already in the outbox. So does the same answer to the last question once the response is
    recorded, while there is something to compare it with (:func:`_recorded_again`)."""
    survey = await _by_key(ctx, key)
    member = await member_for(ctx, user)
    if survey is None:
        await _note(ctx, user.id, _unknown(locale_for(ctx, member)))
        return None
    assert member.id is not None
    locale = member.locale or survey.locale
    draft = await _draft(ctx.db, survey.id, member.id)
    questions = survey.questions
    given = _given(questions[index], choice, text) if index < len(questions) else None
    if draft is None or draft.finished:
        if await _responded(ctx.db, survey.id, member.id):
            if index == len(questions) - 1 and await _recorded_again(
                ctx.db, survey, member.id, draft, given
            ):
                return None
            await _note(ctx, user.id, _already(locale))
        else:
            # Translators: the label of the survey invitation's button, in quotes.
            first = i18n.gettext(locale, 'Press "{start}" first.')
            await _note(ctx, user.id, first.format(start=survey_start_label(locale)))
        return None
    if _is_closed(survey, ctx.clock.now()):
        await _note(ctx, user.id, _closed(locale))
        return None
    if index == draft.current - 1 and _repeats(draft.answers.get(questions[index]["id"]), given):
        return None
    if index != draft.current or index >= len(survey.questions):
        stale = i18n.gettext(
            draft.locale, "That question is behind you: answer the last one I sent."
        )
        await _note(ctx, user.id, stale)
        return None
    return _Click(survey, member, draft, index, "")


def _parse(value: str) -> tuple[str, int, str] | None:
    parts = value.split(":")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1]), parts[2]


async def on_button(event: ButtonClicked, ctx: BotContext) -> None:
    """A click on "Answer the survey" or on an answer button."""
    if event.user.is_bot:
        return
    if event.action_id == "survey-start":
        key, _, round_ = event.value.partition(".")
        survey = await _by_key(ctx, key)
        if survey is not None and round_:
            survey = await _round(ctx, survey, round_)
        if survey is None:
            member = await member_for(ctx, event.user)
            await _note(ctx, event.user.id, _unknown(locale_for(ctx, member)))
            return
        await start(ctx, event.user, survey)
        return
    if event.action_id != "survey":
        return
    parsed = _parse(event.value)
    if parsed is None:
        return
    key, index, choice = parsed
    click = await _resolve(ctx, event.user, key, index, choice)
    if click is None:
        return
    survey, member, draft = click.survey, click.member, click.draft
    question = survey.questions[index]
    kind = question["kind"]
    if choice == "skip":
        if question.get("optional"):
            await _advance(ctx, event.user, survey, member, draft, {"skipped": True})
        return
    if kind == "text":
        if choice == "write":
            await _open_form(ctx, event, survey, index, draft.locale)
        return
    if kind == "multiple":
        await _toggle(ctx, event.user, survey, member, draft, choice)
        return
    if not choice.isdigit():
        return
    number = int(choice)
    if kind == "rating" and not 1 <= number <= 5:
        return
    if kind == "nps" and not 0 <= number <= 10:
        return
    if kind == "single" and number >= len(question["choices"]):
        return
    await _advance(ctx, event.user, survey, member, draft, {"value": number})


async def _toggle(
    ctx: BotContext,
    user: UserRef,
    survey: Survey,
    member: Member,
    draft: SurveyDraft,
    choice: str,
) -> None:
    labels = _choice_labels(survey, draft.current, draft.locale)
    if choice == "done":
        if not draft.selection:
            await _note(ctx, user.id, i18n.gettext(draft.locale, "Pick at least one answer first."))
            return
        await _advance(ctx, user, survey, member, draft, {"choices": sorted(draft.selection)})
        return
    if not choice.isdigit() or int(choice) >= len(labels):
        return
    number = int(choice)
    selection = sorted(set(draft.selection) ^ {number})
    async with ctx.db.session() as session:
        await session.execute(
            sa.update(_D)
            .where(
                _D.c.survey_id == survey.id,
                _D.c.member_id == member.id,
                _D.c.current == draft.current,
            )
            .values(selection=selection, updated_at=ctx.clock.now())
        )
    # Translators: what a member has picked so far, when that is nothing.
    chosen = ", ".join(labels[i] for i in selection) or i18n.gettext(draft.locale, "nothing yet")
    selected = i18n.gettext(draft.locale, "Selected: {choices}").format(choices=chosen)
    await _note(ctx, user.id, selected)


async def _open_form(
    ctx: BotContext, event: ButtonClicked, survey: Survey, index: int, locale: str
) -> None:
    """Show the free-text form; where the platform has no forms, ask for the answer typed."""
    question = survey.questions[index]
    form = Form(
        id=_form_id(survey, index),
        title=(survey.title or _title(locale))[:45],
        fields=(
            FormField(
                id="answer",
                label=_question_text(survey, index, locale)[:45],
                placeholder=_question_text(survey, index, locale)[:150],
                required=not question.get("optional", False),
                max_length=MAX_TEXT,
            ),
        ),
        # Translators: the button of the form a member types a survey answer in.
        submit=i18n.pgettext(locale, "survey form", "Send"),
    )
    open_form = getattr(ctx.adapter, "open_form", None)
    shown = False
    if open_form is not None:
        try:
            shown = bool(await open_form(event, form))
        except Exception:
            log.exception("could not open the survey form")
    if not shown:
        await _note(
            ctx, event.user.id, i18n.gettext(locale, "Type your answer here, in this conversation.")
        )


async def _text_answer(ctx: BotContext, click: _Click, user: UserRef, text: str) -> None:
    question = click.survey.questions[click.index]
    if question["kind"] != "text":
        return
    cleaned = sanitize_answer(text, MAX_TEXT)
    if not cleaned:
        if question.get("optional"):
            await _advance(ctx, user, click.survey, click.member, click.draft, {"skipped": True})
        else:
            await _note(ctx, user.id, i18n.gettext(click.draft.locale, "The answer is empty."))
        return
    await _advance(ctx, user, click.survey, click.member, click.draft, {"text": cleaned})


async def on_form(event: FormSubmitted, ctx: BotContext) -> None:
    """A free-text answer submitted in a form."""
    parts = event.form_id.split(":")
    if len(parts) != 3 or parts[0] != "survey" or not parts[2].isdigit():
        return
    text = event.values.get("answer", "")
    click = await _resolve(ctx, event.user, parts[1], int(parts[2]), text=text)
    if click is not None:
        await _text_answer(ctx, click, event.user, text)


async def on_message(event: MessagePosted, ctx: BotContext) -> None:
    """A free-text answer typed in the direct conversation (platforms without forms)."""
    if event.user.is_bot or not event.channel.is_direct or not event.text.strip():
        return
    member = await get_member_by_platform_id(ctx.db, event.platform, event.user.id)
    if member is None or member.id is None:
        return
    async with ctx.db.session() as session:
        drafts = (
            (
                await session.execute(
                    sa.select(SurveyDraft)
                    .where(_D.c.member_id == member.id)
                    .order_by(_D.c.updated_at.desc())
                )
            )
            .scalars()
            .all()
        )
        surveys = {
            s.id: s
            for s in (
                await session.execute(
                    sa.select(Survey).where(_S.c.id.in_([d.survey_id for d in drafts]))
                )
            ).scalars()
        }
    for draft in drafts:
        survey = surveys.get(draft.survey_id)
        if survey is None or draft.current >= len(survey.questions):
            continue
        if survey.questions[draft.current]["kind"] == "text":
            click = _Click(survey, member, draft, draft.current, "")
            await _text_answer(ctx, click, event.user, event.text)
            return


# ---------------------------------------------------------------------------- results


@dataclass
class QuestionResult:
    """The answers to one question.

    ``counts``: per score (rating 1-5, NPS 0-10) or per choice index; ``mean`` for ratings and
    NPS scores; ``nps``: % promoters (9-10) - % detractors (0-6); ``texts``: free answers.
    """

    id: str
    kind: str
    text: str
    answered: int = 0
    skipped: int = 0
    counts: dict[int, int] = field(default_factory=dict)
    choices: list[str] = field(default_factory=list)
    mean: float | None = None
    nps: float | None = None
    texts: list[str] = field(default_factory=list)
    by_cohort: dict[str, float] = field(default_factory=dict)  # mean, groups >= MIN_GROUP


@dataclass
class SurveyResults:
    """A survey's results: who was asked, how many answered, and the answers per question."""

    survey_id: str
    title: str
    campaign_id: str
    anonymous: bool
    audience: int
    responses: int
    questions: list[QuestionResult]
    too_few: bool = False  # anonymous, fewer than MIN_GROUP responses: no answer shown
    not_counted: int = 0  # anonymous, closed: the responses left out (fewer than MIN_GROUP)

    @property
    def response_rate(self) -> float | None:
        """responses / audience, None when nobody was asked."""
        return self.responses / self.audience if self.audience else None

    @property
    def mean_rating(self) -> float | None:
        """The mean of every rating answer (1-5) of the survey."""
        total = count = 0
        for q in self.questions:
            if q.kind == "rating":
                total += sum(score * n for score, n in q.counts.items())
                count += sum(q.counts.values())
        return total / count if count else None

    @property
    def nps(self) -> float | None:
        """The NPS of the survey's first NPS question."""
        return next((q.nps for q in self.questions if q.kind == "nps"), None)


async def _audience(db: Database, survey: Survey) -> int:
    """Who was asked: the members the step's message was sent to, or the members of the
    channel it was posted in (every member but bots when the channel's members are unknown)."""
    async with db.session() as session:
        sent = (
            await session.execute(
                sa.select(_DL.c.recipient, _DL.c.platform_channel_id).where(
                    _DL.c.campaign_id == survey.campaign_id,
                    _DL.c.step_id == survey.step_id,
                    _DL.c.occurrence == (survey.round or ONCE),
                    _DL.c.status == DeliveryStatus.sent.value,
                )
            )
        ).all()
        members = {r for r, _ in sent if r.startswith("member:")}
        if members:
            return len(members)
        channels = {c for r, c in sent if r.startswith("channel:") and c}
        if not channels:
            return 0
        in_channels = await session.scalar(
            sa.select(sa.func.count(sa.distinct(_CM.c.member_id))).where(
                _CM.c.channel_id.in_(channels)
            )
        )
        if in_channels:
            return int(in_channels)
        everyone = await session.scalar(sa.select(sa.func.count()).where(_M.c.is_bot.is_(False)))
        return int(everyone or 0)


async def survey_results(db: Database, survey_ref: str) -> SurveyResults:
    """The results of a survey (by id ``campaign/step``, key or step id); KeyError if unknown."""
    survey = await find_survey(db, survey_ref)
    if survey is None:
        raise KeyError(survey_ref)
    async with db.session() as session:
        responses = int(
            await session.scalar(sa.select(sa.func.count()).where(_R.c.survey_id == survey.id)) or 0
        )
        answers = (
            await session.execute(
                sa.select(
                    _A.c.question_id,
                    _A.c.value,
                    _A.c.choices,
                    _A.c.text,
                    _A.c.skipped,
                    _A.c.cohort,
                ).where(_A.c.survey_id == survey.id)
            )
        ).all()
        written = int(
            await session.scalar(
                sa.select(sa.func.count(sa.distinct(_A.c.response_id))).where(
                    _A.c.survey_id == survey.id
                )
            )
            or 0
        )
    # Anonymous answers are shown only over MIN_GROUP responses (a round that closed with
    # fewer): below that, counts, means and texts would be each person's answer.
    hidden = survey.anonymous and too_few(written)
    # A closed anonymous round's responders whose answers were never written: the remainder
    # under MIN_GROUP left waiting at the close (see release).
    left_out = responses - written if survey.anonymous and survey.closed_at is not None else 0
    if hidden:
        answers = []
    audience = max(await _audience(db, survey), responses)
    results: list[QuestionResult] = []
    for question in survey.questions:
        kind = question["kind"]
        result = QuestionResult(
            id=question["id"],
            kind=kind,
            text=localized(question["text"], survey.locale, survey.locale),
            choices=[localized(c, survey.locale, survey.locale) for c in question["choices"]],
        )
        scores: list[int] = []
        cohorts: dict[str, list[int]] = {}
        for qid, value, choices, text, skipped, cohort in answers:
            if qid != question["id"]:
                continue
            if skipped:
                result.skipped += 1
                continue
            result.answered += 1
            if kind in {"rating", "nps", "single"} and value is not None:
                result.counts[value] = result.counts.get(value, 0) + 1
                if kind != "single":
                    scores.append(value)
                    cohorts.setdefault(cohort or "", []).append(value)
            elif kind == "multiple":
                for index in choices or []:
                    result.counts[index] = result.counts.get(index, 0) + 1
            elif kind == "text" and text:
                result.texts.append(text)
        if scores:
            result.mean = sum(scores) / len(scores)
            result.by_cohort = {
                name: sum(v) / len(v) for name, v in cohorts.items() if not too_few(len(v))
            }
            if kind == "nps":
                promoters = sum(1 for s in scores if s >= 9)
                detractors = sum(1 for s in scores if s <= 6)
                result.nps = 100.0 * (promoters - detractors) / len(scores)
        result.texts.sort()  # no order that would follow the order of answering
        results.append(result)
    return SurveyResults(
        survey_id=survey.id,
        title=survey.title,
        campaign_id=survey.campaign_id,
        anonymous=survey.anonymous,
        audience=audience,
        responses=responses,
        questions=results,
        too_few=hidden,
        not_counted=max(left_out, 0),
    )


async def survey_trend(db: Database, survey_ref: str) -> list[tuple[str, SurveyResults]]:
    """The results of each round of a recurring survey step, oldest first: (round, results);
    empty for a one-off survey. KeyError if unknown."""
    base = await find_survey(db, survey_ref)
    if base is None:
        raise KeyError(survey_ref)
    async with db.session() as session:
        rounds = (
            await session.execute(
                sa.select(_S.c.id, _S.c.round)
                .where(
                    _S.c.campaign_id == base.campaign_id,
                    _S.c.step_id == base.step_id,
                    _S.c.round != "",
                )
                .order_by(_S.c.round)
            )
        ).all()
    return [(str(r), await survey_results(db, str(sid))) for sid, r in rounds]


def _two_decimals(locale: str, value: float) -> str:
    """A mean with two decimals, the locale's way ("3.00", "3,00")."""
    return format_decimal(value, format="#,##0.00", locale=formats.babel_locale(locale))


def trend_text(trend: Sequence[tuple[str, SurveyResults]], locale: str = "en") -> str:
    """One line per round: responses, rate, mean rating and NPS."""
    lines = [i18n.gettext(locale, "Rounds:")]
    for round_, r in trend:
        # Translators: a survey round's responses out of its audience ("5 of 6").
        line = i18n.gettext(locale, "{responses} of {audience}").format(
            responses=r.responses, audience=r.audience
        )
        if r.response_rate is not None:
            line += f" ({formats.percent(locale, r.response_rate)})"
        if r.mean_rating is not None:
            mean = _two_decimals(locale, r.mean_rating)
            line += i18n.gettext(locale, ", mean rating {mean}").format(mean=mean)
        if r.nps is not None:
            line += f", NPS {r.nps:+.0f}"
        lines.append(f"  {round_}: {line}")
    return "\n".join(lines)


def results_text(results: SurveyResults, locale: str = "en") -> str:
    """A plain-text rendering of :func:`survey_results` for chat, in ``locale``."""
    rate = results.response_rate
    title = f"{results.survey_id} — {results.title}"
    if results.anonymous:
        # Translators: the first line of a survey's results, for the community managers.
        head = i18n.gettext(locale, "Survey {title} (anonymous)")
    else:
        head = i18n.gettext(locale, "Survey {title}")
    responses = i18n.gettext(locale, "Responses: {responses} of {audience}").format(
        responses=results.responses, audience=results.audience
    )
    if rate is not None:
        responses += f" ({formats.percent(locale, rate)})"
    lines = [head.format(title=title), responses]
    if results.not_counted:
        lines.append(
            i18n.ngettext(
                locale,
                "{n} response could not be counted: fewer than {k} were still waiting when the "
                "survey closed, too few to stay anonymous.",
                "{n} responses could not be counted: fewer than {k} were still waiting when the "
                "survey closed, too few to stay anonymous.",
                results.not_counted,
            ).format(n=results.not_counted, k=MIN_GROUP)
        )
    if results.too_few:
        lines.append(
            i18n.gettext(
                locale,
                "Fewer than {k} anonymous responses: no answer is shown, so that none can be "
                "told apart.",
            ).format(k=MIN_GROUP)
        )
        return "\n".join(lines)
    for q in results.questions:
        lines.append("")
        # Translators: after a question's id, kind and text: how many answered and skipped it.
        counted = i18n.ngettext(
            locale,
            "{answered} answer, {skipped} skipped",
            "{answered} answers, {skipped} skipped",
            q.answered,
        ).format(answered=q.answered, skipped=q.skipped)
        lines.append(f"{q.id} [{q.kind}] {q.text} — {counted}")
        if q.kind in {"rating", "nps"}:
            scale = range(1, 6) if q.kind == "rating" else range(11)
            lines.append("  " + "  ".join(f"{n}: {q.counts.get(n, 0)}" for n in scale))
            if q.mean is not None:
                mean = _two_decimals(locale, q.mean)
                lines.append("  " + i18n.gettext(locale, "mean {mean}").format(mean=mean))
            if q.nps is not None:
                lines.append(f"  NPS {q.nps:+.0f}")
        elif q.kind in {"single", "multiple"}:
            for index, label in enumerate(q.choices):
                lines.append(f"  {label}: {q.counts.get(index, 0)}")
        else:
            lines.extend(f"  • {member_text(t, 300)}" for t in q.texts[:20])
            if len(q.texts) > 20:
                more = len(q.texts) - 20
                lines.append(
                    "  "
                    + i18n.ngettext(locale, "… and {n} more", "… and {n} more", more).format(n=more)
                )
    return "\n".join(lines)


async def on_command(event: CommandInvoked, ctx: BotContext) -> None:
    """``/rallybot survey list`` and ``/rallybot survey results ID`` (community managers)."""
    if event.name.lower() != "survey":
        return
    locale = locale_for(ctx, await member_for(ctx, event.user))
    if not ctx.is_admin(event.user):
        only = i18n.gettext(locale, '"/rallybot survey" is for community managers only.')
        await ctx.answer(event, only)
        return
    args = list(event.args)
    if not args or args[0].lower() == "list":
        async with ctx.db.session() as session:
            surveys = (await session.execute(sa.select(Survey).order_by(_S.c.id))).scalars().all()
            grouped = await session.execute(
                sa.select(_R.c.survey_id, sa.func.count()).group_by(_R.c.survey_id)
            )
            counts: dict[str, int] = {str(sid): int(n) for sid, n in grouped.all()}
        if not surveys:
            await ctx.answer(event, i18n.gettext(locale, "No survey in the loaded campaigns."))
            return
        lines = [i18n.gettext(locale, "Surveys:")]
        for s in surveys:
            anonymous = i18n.gettext(locale, " (anonymous)") if s.anonymous else ""
            n = counts.get(s.id, 0)
            many = i18n.ngettext(locale, "{n} response", "{n} responses", n).format(n=n)
            lines.append(f"• {s.id} — {s.title}{anonymous} — {many}")
        lines.append(i18n.gettext(locale, "Details: /rallybot survey results ID"))
        await ctx.answer(event, "\n".join(lines))
        return
    if args[0].lower() == "results" and len(args) == 2:
        try:
            results = await survey_results(ctx.db, args[1])
        except KeyError:
            unknown = i18n.gettext(locale, 'Unknown survey "{survey}". Try /rallybot survey list.')
            await ctx.answer(event, unknown.format(survey=member_text(args[1], 100)))
            return
        trend = await survey_trend(ctx.db, args[1]) if "@" not in results.survey_id else []
        if trend:  # a recurring step: each round, then the last round in full
            last = results_text(trend[-1][1], locale)
            await ctx.answer(event, trend_text(trend, locale) + "\n\n" + last)
            return
        await ctx.answer(event, results_text(results, locale))
        return
    usage = i18n.gettext(locale, "Usage: /rallybot survey list | /rallybot survey results ID")
    await ctx.answer(event, usage)


class SurveyFeature(Feature):
    """Surveys: rounds, answers (anonymous or not) and results."""

    name = "survey"
    commands = COMMAND_SPECS
    personal_data = ("survey_answer", "survey_responder", "survey_draft")

    async def reload(self, ctx: BotContext, files: Mapping[str, Sequence[Path]]) -> list[LoadError]:
        """The survey steps' questions, for answers and results."""
        await sync_surveys(ctx)
        return []

    def ticks(self) -> Sequence[Tick]:
        """Close survey rounds; write the waiting anonymous answers."""
        return (tick,)

    def prepare(self, ctx: BotContext, message: Message, occurrence: str) -> Message:
        """The survey button gets its key made with the server secret, and the round."""
        return sign_invitation(ctx.db, message, occurrence)

    def subscriptions(self) -> Sequence[Subscription]:
        """Attach this module's handlers."""
        return (
            Subscription(ButtonClicked, on_button),
            Subscription(FormSubmitted, on_form),
            Subscription(MessagePosted, on_message),
            Subscription(CommandInvoked, on_command),
        )
