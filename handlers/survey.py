"""Surveys: campaign steps whose questions are asked one by one in direct messages.

The step's message (a channel post or a direct message, sent by the outbox like any other)
carries an "Answer the survey" button. A click starts a draft (:class:`SurveyDraft`) and asks
the first question in the member's direct messages: buttons for ratings, NPS and choices,
toggles and "Done" for multiple choices, and for free text a form (a modal) where the platform
has one, else the answer typed in the conversation. Each step of the draft is a
compare-and-set on its current question, so a double click counts once.

When the last question is answered, one transaction writes the answers, the responder record
and deletes the draft: a second answer from the same member is refused by the responder's
primary key. In an anonymous survey the answers carry no member id (see
:mod:`storage.survey_models` for what makes them impossible to join back).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from rallybot.bot.events import ButtonClicked, CommandInvoked, FormSubmitted, MessagePosted, UserRef
from rallybot.bot.messages import Button, Form, FormField, Message
from rallybot.campaigns.quiz import sanitize_answer
from rallybot.campaigns.schema import Campaign, pick_locale
from rallybot.campaigns.survey import definition, localized, survey_id, survey_key
from rallybot.storage.database import Database
from rallybot.storage.models import ChannelMember, Delivery, DeliveryStatus, Member, table_of
from rallybot.storage.repositories import get_member_by_platform_id, upsert_member
from rallybot.storage.survey_models import (
    MIN_GROUP,
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
    "SurveyResults",
    "find_survey",
    "on_button",
    "on_command",
    "on_form",
    "on_message",
    "register",
    "results_text",
    "survey_results",
    "sync_surveys",
]

log = logging.getLogger("rallybot.survey")

COMMANDS = frozenset({"survey"})
MAX_TEXT = 2000

_S = table_of(Survey)
_A = table_of(SurveyAnswer)
_D = table_of(SurveyDraft)
_R = table_of(SurveyResponder)
_M = table_of(Member)
_DL = table_of(Delivery)
_CM = table_of(ChannelMember)

_WORDS: dict[str, dict[str, str]] = {
    "title": {"en": "Survey", "fr": "Sondage"},
    "progress": {"en": "Question {n} of {total}", "fr": "Question {n} sur {total}"},
    "already": {
        "en": "You have already answered this survey: thank you!",
        "fr": "Vous avez déjà répondu à ce sondage : merci !",
    },
    "unknown": {
        "en": "This survey is no longer open.",
        "fr": "Ce sondage n'est plus ouvert.",
    },
    "stale": {
        "en": "That question is behind you: answer the last one I sent.",
        "fr": "Cette question est derrière vous : répondez à la dernière envoyée.",
    },
    "not_started": {
        "en": 'Press "Answer the survey" first.',
        "fr": "Appuyez d'abord sur « Répondre au sondage ».",
    },
    "thanks": {
        "en": "Thank you, your answers are recorded.",
        "fr": "Merci, vos réponses sont enregistrées.",
    },
    "thanks_anonymous": {
        "en": "Thank you, your answers are recorded, anonymously: they carry no name.",
        "fr": "Merci, vos réponses sont enregistrées anonymement : elles ne portent aucun nom.",
    },
    "anonymous_note": {
        "en": "Anonymous: your answers will be stored without your name.",
        "fr": "Anonyme : vos réponses seront enregistrées sans votre nom.",
    },
    "nps_scale": {
        "en": "0 = not at all likely, 10 = extremely likely",
        "fr": "0 = pas du tout probable, 10 = très probable",
    },
    "rating_scale": {"en": "1 = poor, 5 = excellent", "fr": "1 = mauvais, 5 = excellent"},
    "multiple_hint": {
        "en": "Pick every answer that applies, then press Done.",
        "fr": "Choisissez toutes les réponses qui conviennent, puis Terminé.",
    },
    "selected": {"en": "Selected: {choices}", "fr": "Choisi : {choices}"},
    "nothing": {"en": "nothing yet", "fr": "rien pour l'instant"},
    "pick_one": {
        "en": "Pick at least one answer first.",
        "fr": "Choisissez d'abord au moins une réponse.",
    },
    "text_hint": {
        "en": "Or type your answer here, in this conversation.",
        "fr": "Ou tapez votre réponse ici, dans cette conversation.",
    },
    "type_here": {
        "en": "Type your answer here, in this conversation.",
        "fr": "Tapez votre réponse ici, dans cette conversation.",
    },
    "write": {"en": "Write my answer", "fr": "Écrire ma réponse"},
    "done": {"en": "Done", "fr": "Terminé"},
    "skip": {"en": "Skip", "fr": "Passer"},
    "send": {"en": "Send", "fr": "Envoyer"},
    "answer_label": {"en": "Your answer", "fr": "Votre réponse"},
    "empty": {"en": "The answer is empty.", "fr": "La réponse est vide."},
}


def _t(locale: str | None, key: str, **values: object) -> str:
    words = _WORDS[key]
    language = (locale or "en").split("-")[0].split("_")[0].lower()
    return words.get(language, words["en"]).format(**values)


# ---------------------------------------------------------------------------- definitions


def _survey_steps(campaigns: Sequence[Campaign]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for campaign in campaigns:
        for step in campaign.steps:
            spec = step.spec.survey
            if spec is None:
                continue
            sid = survey_id(campaign.id, step.id)
            default = campaign.spec.locale
            title = pick_locale(spec.title, None, default)[1] if spec.title is not None else ""
            if not title:
                title = campaign.spec.title
            rows.append(
                {
                    "id": sid,
                    "key": survey_key(sid),
                    "campaign_id": campaign.id,
                    "step_id": step.id,
                    "title": title[:300],
                    "anonymous": spec.anonymous,
                    "locale": default,
                    "questions": definition(spec, default),
                }
            )
    return rows


async def sync_surveys(ctx: object) -> int:
    """Write the survey steps of the loaded campaigns to the ``survey`` table (new or edited);
    the number of surveys written. Answers already given are kept.

    A survey's anonymity never changes once it has answers: an edit that would reveal who
    answered, or pretend earlier named answers are anonymous, is refused (logged).
    """
    campaigns = getattr(ctx, "campaigns", {})
    db: Database = getattr(ctx, "db")  # noqa: B009
    now: datetime = getattr(ctx, "clock").now()  # noqa: B009
    written = 0
    for row in _survey_steps(list(campaigns.values())):
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
            (await session.execute(sa.select(Survey).where(_S.c.step_id == ref))).scalars().all()
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
        context.append(_t(locale, "rating_scale"))
    elif kind == "nps":
        buttons = [
            Button(label=str(n), action_id="survey", value=f"{value}:{n}") for n in range(11)
        ]
        context.append(_t(locale, "nps_scale"))
    elif kind in {"single", "multiple"}:
        labels = _choice_labels(survey, index, locale)
        buttons = [
            Button(label=label[:75], action_id="survey", value=f"{value}:{n}")
            for n, label in enumerate(labels)
        ]
        if kind == "multiple":
            buttons.append(
                Button(
                    label=_t(locale, "done"),
                    action_id="survey",
                    value=f"{value}:done",
                    style="primary",
                )
            )
            context.append(_t(locale, "multiple_hint"))
    else:
        buttons = [
            Button(
                label=_t(locale, "write"),
                action_id="survey",
                value=f"{value}:write",
                style="primary",
                opens_form=True,
            )
        ]
        context.append(_t(locale, "text_hint"))
    if question.get("optional"):
        buttons.append(Button(label=_t(locale, "skip"), action_id="survey", value=f"{value}:skip"))
    title = survey.title or _t(locale, "title")
    progress = _t(locale, "progress", n=index + 1, total=len(survey.questions))
    if index == 0 and survey.anonymous:
        context.append(_t(locale, "anonymous_note"))
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


async def _member(ctx: BotContext, user: UserRef) -> Member:
    member = await get_member_by_platform_id(ctx.db, user.platform, user.id)
    if member is None:
        member = await upsert_member(
            ctx.db, user.platform, user.id, ctx.clock.now(), display_name=user.name or user.id
        )
    return member


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


async def start(ctx: BotContext, user: UserRef, survey: Survey) -> None:
    """Start (or resume) ``user``'s answers to ``survey`` in their direct messages."""
    member = await _member(ctx, user)
    assert member.id is not None
    locale = member.locale or survey.locale
    if await _responded(ctx.db, survey.id, member.id):
        await _note(ctx, user.id, _t(locale, "already"))
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
    if draft.current >= len(survey.questions):  # answered all, not recorded (or questions cut)
        done = await _complete(ctx, survey, member, draft.answers)
        await _note(ctx, user.id, _t(draft.locale, "thanks" if done else "already"))
        return
    await _ask(ctx, user.id, survey, draft.current, draft.locale)


async def _advance(
    ctx: BotContext,
    user: UserRef,
    survey: Survey,
    member: Member,
    draft: SurveyDraft,
    answer: dict[str, Any],
) -> None:
    """Record ``answer`` to the draft's current question, then ask the next or finish."""
    assert member.id is not None
    index = draft.current
    question = survey.questions[index]
    answers = {**draft.answers, question["id"]: answer}
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
        return  # a concurrent click moved it on
    if index + 1 < len(survey.questions):
        await _ask(ctx, user.id, survey, index + 1, draft.locale)
        return
    if await _complete(ctx, survey, member, answers):
        key = "thanks_anonymous" if survey.anonymous else "thanks"
        await _note(ctx, user.id, _t(draft.locale, key))
    else:
        await _note(ctx, user.id, _t(draft.locale, "already"))


async def _complete(
    ctx: BotContext, survey: Survey, member: Member, answers: dict[str, Any]
) -> bool:
    """Write the answers and the responder record, delete the draft: one transaction.
    False when the member had already answered (the responder's key refuses a second)."""
    assert member.id is not None
    response = uuid.uuid4().hex
    today = ctx.clock.now().date()
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
                "cohort": member.cohort,
                "team": member.team,
                "answered_on": today,
                "member_id": None if survey.anonymous else member.id,
            }
        )
    try:
        async with ctx.db.session() as session:
            await session.execute(sa.insert(_R).values(survey_id=survey.id, member_id=member.id))
            await session.execute(sa.insert(_A), rows)
            await session.execute(
                sa.delete(_D).where(_D.c.survey_id == survey.id, _D.c.member_id == member.id)
            )
    except IntegrityError:
        async with ctx.db.session() as session:
            await session.execute(
                sa.delete(_D).where(_D.c.survey_id == survey.id, _D.c.member_id == member.id)
            )
        return False
    return True


@dataclass
class _Click:
    survey: Survey
    member: Member
    draft: SurveyDraft
    index: int
    choice: str


async def _resolve(ctx: BotContext, user: UserRef, key: str, index: int) -> _Click | None:
    """The survey, member and draft of an answer click or form, after the checks (and a note
    to the member when the click cannot count)."""
    survey = await _by_key(ctx, key)
    if survey is None:
        await _note(ctx, user.id, _t(None, "unknown"))
        return None
    member = await _member(ctx, user)
    assert member.id is not None
    locale = member.locale or survey.locale
    draft = await _draft(ctx.db, survey.id, member.id)
    if draft is None:
        done = await _responded(ctx.db, survey.id, member.id)
        await _note(ctx, user.id, _t(locale, "already" if done else "not_started"))
        return None
    if index != draft.current or index >= len(survey.questions):
        await _note(ctx, user.id, _t(draft.locale, "stale"))
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
        survey = await _by_key(ctx, event.value)
        if survey is None:
            await _note(ctx, event.user.id, _t(None, "unknown"))
            return
        await start(ctx, event.user, survey)
        return
    if event.action_id != "survey":
        return
    parsed = _parse(event.value)
    if parsed is None:
        return
    key, index, choice = parsed
    click = await _resolve(ctx, event.user, key, index)
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
            await _note(ctx, user.id, _t(draft.locale, "pick_one"))
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
    chosen = ", ".join(labels[i] for i in selection) or _t(draft.locale, "nothing")
    await _note(ctx, user.id, _t(draft.locale, "selected", choices=chosen))


async def _open_form(
    ctx: BotContext, event: ButtonClicked, survey: Survey, index: int, locale: str
) -> None:
    """Show the free-text form; where the platform has no forms, ask for the answer typed."""
    question = survey.questions[index]
    form = Form(
        id=_form_id(survey, index),
        title=(survey.title or _t(locale, "title"))[:45],
        fields=(
            FormField(
                id="answer",
                label=_question_text(survey, index, locale)[:45],
                placeholder=_question_text(survey, index, locale)[:150],
                required=not question.get("optional", False),
                max_length=MAX_TEXT,
            ),
        ),
        submit=_t(locale, "send"),
    )
    open_form = getattr(ctx.adapter, "open_form", None)
    shown = False
    if open_form is not None:
        try:
            shown = bool(await open_form(event, form))
        except Exception:
            log.exception("could not open the survey form")
    if not shown:
        await _note(ctx, event.user.id, _t(locale, "type_here"))


async def _text_answer(ctx: BotContext, click: _Click, user: UserRef, text: str) -> None:
    question = click.survey.questions[click.index]
    if question["kind"] != "text":
        return
    cleaned = sanitize_answer(text, MAX_TEXT)
    if not cleaned:
        if question.get("optional"):
            await _advance(ctx, user, click.survey, click.member, click.draft, {"skipped": True})
        else:
            await _note(ctx, user.id, _t(click.draft.locale, "empty"))
        return
    await _advance(ctx, user, click.survey, click.member, click.draft, {"text": cleaned})


async def on_form(event: FormSubmitted, ctx: BotContext) -> None:
    """A free-text answer submitted in a form."""
    parts = event.form_id.split(":")
    if len(parts) != 3 or parts[0] != "survey" or not parts[2].isdigit():
        return
    click = await _resolve(ctx, event.user, parts[1], int(parts[2]))
    if click is not None:
        await _text_answer(ctx, click, event.user, event.values.get("answer", ""))


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
                name: sum(v) / len(v) for name, v in cohorts.items() if len(v) >= MIN_GROUP
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
    )


def results_text(results: SurveyResults) -> str:
    """A plain-text rendering of :func:`survey_results` for chat."""
    rate = results.response_rate
    lines = [
        f"Survey {results.survey_id} — {results.title}"
        + (" (anonymous)" if results.anonymous else ""),
        f"Responses: {results.responses} of {results.audience}"
        + (f" ({rate:.0%})" if rate is not None else ""),
    ]
    for q in results.questions:
        lines.append("")
        lines.append(f"{q.id} [{q.kind}] {q.text} — {q.answered} answer(s), {q.skipped} skipped")
        if q.kind in {"rating", "nps"}:
            scale = range(1, 6) if q.kind == "rating" else range(11)
            lines.append("  " + "  ".join(f"{n}: {q.counts.get(n, 0)}" for n in scale))
            if q.mean is not None:
                lines.append(f"  mean {q.mean:.2f}")
            if q.nps is not None:
                lines.append(f"  NPS {q.nps:+.0f}")
        elif q.kind in {"single", "multiple"}:
            for index, label in enumerate(q.choices):
                lines.append(f"  {label}: {q.counts.get(index, 0)}")
        else:
            lines.extend(f"  • {sanitize_answer(t, 300)}" for t in q.texts[:20])
            if len(q.texts) > 20:
                lines.append(f"  … and {len(q.texts) - 20} more")
    return "\n".join(lines)


async def on_command(event: CommandInvoked, ctx: BotContext) -> None:
    """``/rallybot survey list`` and ``/rallybot survey results ID`` (community managers)."""
    if event.name.lower() != "survey":
        return
    if not ctx.is_admin(event.user):
        await ctx.answer(event, '"/rallybot survey" is for community managers only.')
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
            await ctx.answer(event, "No survey in the loaded campaigns.")
            return
        lines = [
            f"• {s.id} — {s.title}{' (anonymous)' if s.anonymous else ''} — "
            f"{counts.get(s.id, 0)} response(s)"
            for s in surveys
        ]
        await ctx.answer(
            event, "Surveys:\n" + "\n".join(lines) + "\nDetails: /rallybot survey results ID"
        )
        return
    if args[0].lower() == "results" and len(args) == 2:
        try:
            results = await survey_results(ctx.db, args[1])
        except KeyError:
            await ctx.answer(event, f'Unknown survey "{args[1]}". Try /rallybot survey list.')
            return
        await ctx.answer(event, results_text(results))
        return
    await ctx.answer(event, "Usage: /rallybot survey list | /rallybot survey results ID")


def register(router: object) -> None:
    """Attach this module's handlers."""
    from rallybot.bot.router import Router

    assert isinstance(router, Router)
    router.add(ButtonClicked, on_button)
    router.add(FormSubmitted, on_form)
    router.add(MessagePosted, on_message)
    router.add(CommandInvoked, on_command)
