"""Challenges: progress from the neutral events, points once, winners announced at the end.

A campaign file's ``challenges:`` (see :mod:`campaigns.engagement`) set goals for members or
teams between a start and an end. Each counted action is a row with a unique reference
(:mod:`storage.challenge_models`), so a duplicated event never counts twice; the member or
team that reaches the goal gets the points through :func:`handlers.points.grant` (action
``challenge_done``, one idempotency key per challenge and member) exactly once. Onboarding
completions and quiz answers are read from their own tables by the tick. When a challenge
ends, the tick announces its winners once (an outbox row, so it survives a crash).

Commands: ``/rallybot challenges`` (mine, with progress), ``/rallybot challenge submit ID
text...`` (evidence for a manager to approve or reject with a button) and ``/rallybot invite
@colleague`` (counts for invite challenges when the colleague joins).

Evidence can also be a file: a message with a file attached is a submission when its text
starts with an evidence challenge's id (in a channel or a direct message to the bot), or when
it is a direct message to the bot while exactly one evidence challenge is running. The file is
never downloaded: the submission keeps the platform's link, which the managers open.

The same evidence from the same member for the same challenge (the same text, or the same
files' links: :func:`evidence_key`) is one submission, whatever event brings it again: the
managers are asked once, and the member is answered as the first time or told the decision.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from rallybot.bot import formats, i18n, notices
from rallybot.bot.context import locale_for, member_for, preferred_locale
from rallybot.bot.events import (
    ButtonClicked,
    CommandInvoked,
    FileRef,
    MemberJoined,
    MessagePosted,
    ReactionAdded,
    UserRef,
)
from rallybot.bot.feature import Feature, Subscription, Tick
from rallybot.bot.messages import Button, Message, plain
from rallybot.bot.messages import member as member_text
from rallybot.campaigns.engagement import Challenge, challenge_words, challenges_of
from rallybot.campaigns.quiz import sanitize_answer
from rallybot.campaigns.schema import pick_locale
from rallybot.handlers.challenges.commands import COMMAND_SPECS
from rallybot.handlers.points.service import find_member, grant
from rallybot.storage import outbox
from rallybot.storage.challenge_models import (
    ChallengeClosed,
    ChallengeDone,
    ChallengeInvite,
    ChallengeProgress,
    ChallengeSubmission,
    SubmissionState,
)
from rallybot.storage.database import Database
from rallybot.storage.inserts import insert_for
from rallybot.storage.models import Member, table_of
from rallybot.storage.onboarding_models import JourneyState
from rallybot.storage.quiz_models import QuizAnswer, QuizRun
from rallybot.storage.repositories import (
    get_member,
    get_members,
    get_or_create_member,
)

if TYPE_CHECKING:
    from rallybot.bot.context import BotContext

__all__ = [
    "APPROVE_ACTION",
    "COMMANDS",
    "REJECT_ACTION",
    "SIDE_SUFFIX",
    "ChallengesFeature",
    "Decision",
    "active_challenges",
    "decide_submission",
    "decide_submission_alone",
    "evidence_key",
    "evidence_links",
    "next_event_time",
    "on_button_clicked",
    "on_command",
    "on_member_joined",
    "on_message_posted",
    "on_reaction_added",
    "progress_of",
    "record",
    "summary",
    "tick",
    "title_of",
]

log = logging.getLogger("rallybot.challenges")

COMMANDS = frozenset({"challenges", "challenge", "invite"})
"""The ``/rallybot`` commands this module answers."""
APPROVE_ACTION = "challenge-approve"
REJECT_ACTION = "challenge-reject"
SIDE_SUFFIX = ".challenges"
"""Campaign id suffix of the winners' announcements in the outbox (a reload leaves them be)."""
QUEUED_EVIDENCE_GRACE = timedelta(days=7)
"""How long queued evidence may wait for a platform that is down: a decision can wait, it must
not be lost."""
EVIDENCE_GRACE = timedelta(days=3)
"""How long after its end an evidence challenge waits for pending submissions to be judged."""
MAX_FILES = 3
"""Files of one message kept as evidence (the others are left out)."""
_LINK = re.compile(r"https://[^\s<>|`*\"]{1,600}")

P = table_of(ChallengeProgress).c
DN = table_of(ChallengeDone).c
CL = table_of(ChallengeClosed).c
INV = table_of(ChallengeInvite).c
SUB = table_of(ChallengeSubmission).c
J = table_of(JourneyState).c
QA = table_of(QuizAnswer).c
QR = table_of(QuizRun).c
M = table_of(Member).c


def _locale(ctx: BotContext, challenge: Challenge | None, member: Member | None) -> str:
    """The language to write to ``member`` about ``challenge`` in (theirs, else the
    challenge's campaign's, else the bot's)."""
    campaign = _campaigns(ctx).get(challenge.campaign_id) if challenge is not None else None
    return locale_for(ctx, member, campaign)


def _campaigns(ctx: BotContext) -> dict[str, Any]:
    return dict(ctx.campaigns)


def active_challenges(ctx: BotContext) -> list[Challenge]:
    """Every challenge of the loaded campaign files (running, future or past)."""
    return [c for campaign in _campaigns(ctx).values() for c in challenges_of(campaign)]


def _title(ctx: BotContext, challenge: Challenge, locale: str | None) -> str:
    campaign = _campaigns(ctx).get(challenge.campaign_id)
    default = campaign.spec.locale if campaign is not None else "fr"
    return pick_locale(challenge.title, locale, default)[1]


def title_of(campaigns: Mapping[str, Any], key: str, locale: str | None) -> str:
    """The title of the challenge ``key`` (a submission's ``challenge``) in ``locale``, from
    ``campaigns``; its words and its campaign's title when none of them has it any more
    (:func:`challenge_words`)."""
    for campaign in campaigns.values():
        for challenge in challenges_of(campaign):
            if key in (challenge.key, challenge.id):
                return pick_locale(challenge.title, locale, campaign.spec.locale)[1]
    owner = campaigns.get(key.rpartition("/")[0])
    return challenge_words(key, getattr(getattr(owner, "spec", None), "title", None), locale)


def _channel_id(ctx: BotContext, challenge: Challenge, logical: str) -> str:
    campaign = _campaigns(ctx).get(challenge.campaign_id)
    channels: dict[str, str] = dict(campaign.spec.channels) if campaign is not None else {}
    channels.update(ctx.settings.channel_map)
    return channels.get(logical, logical)


def _subject(challenge: Challenge, member: Member) -> str | None:
    if challenge.by == "team":
        return f"team:{member.team}" if member.team else None
    return f"member:{member.id}"


async def _insert_once(ctx: BotContext, model: type[Any], **values: Any) -> bool:
    """Insert a row unless its unique key exists; True when this call inserted it."""
    async with ctx.db.session() as session:
        result = await session.execute(
            insert_for(session, model).values(**values).on_conflict_do_nothing()
        )
        return outbox.affected(result) > 0


# ---------------------------------------------------------------------------- progress


async def record(
    ctx: BotContext, challenge: Challenge, member: Member, ref: str, at: datetime
) -> bool:
    """Count one action of ``member`` for ``challenge`` (once per ``ref``); completes the
    challenge when the goal is reached. False when it did not count."""
    if member.id is None or member.is_bot or not challenge.active(at):
        return False
    subject = _subject(challenge, member)
    if subject is None:
        return False
    counted = await _insert_once(
        ctx,
        ChallengeProgress,
        challenge=challenge.key,
        subject=subject,
        member_id=member.id,
        ref=ref[:200],
        at=at,
    )
    if counted:
        await _check_done(ctx, challenge, subject, at)
    return counted


async def progress_of(ctx: BotContext, challenge: Challenge, subject: str) -> int:
    """How many counted actions ``subject`` (``member:ID`` or ``team:NAME``) has."""
    async with ctx.db.session() as session:
        count = await session.scalar(
            sa.select(sa.func.count())
            .select_from(table_of(ChallengeProgress))
            .where(P.challenge == challenge.key, P.subject == subject)
        )
    return int(count or 0)


async def _check_done(ctx: BotContext, challenge: Challenge, subject: str, at: datetime) -> None:
    if await progress_of(ctx, challenge, subject) < challenge.count:
        return
    kind, _, name = subject.partition(":")
    if not await _insert_once(
        ctx,
        ChallengeDone,
        challenge=challenge.key,
        subject=subject,
        member_id=int(name) if kind == "member" else None,
        completed_at=at,
    ):
        return  # done before, by this process or another
    log.info("challenge %s done by %s", challenge.key, subject)
    await _award(ctx, challenge, subject, at, tell=True)


async def _team_members(ctx: BotContext, team: str) -> list[Member]:
    async with ctx.db.session() as session:
        rows = await session.execute(
            sa.select(Member).where(M.team == team, M.is_bot.is_(False)).order_by(M.id)
        )
        return list(rows.scalars())


async def _award(
    ctx: BotContext, challenge: Challenge, subject: str, at: datetime, *, tell: bool
) -> None:
    """Grant the challenge's points to the member, or to every member of the team (a key per
    challenge and member: granting again awards nothing)."""
    kind, _, name = subject.partition(":")
    if kind == "member":
        member = await get_member(ctx.db, int(name))
        members = [member] if member is not None else []
        prefix = f"challenge:{challenge.key}:"
    else:
        members = await _team_members(ctx, name)
        prefix = f"challenge:{challenge.key}:team:{name}:"
    for member in members:
        assert member.id is not None
        title = _title(ctx, challenge, member.locale)
        granted = await grant(
            ctx,
            member_id=member.id,
            action="challenge_done",
            key=f"{prefix}{member.id}",
            at=at,
            campaign_id=challenge.campaign_id,
            reason=f"challenge done: {title}"[:500],
            amount=challenge.points,
        )
        if tell and kind == "member":
            locale = _locale(ctx, challenge, member)
            if granted:
                text = i18n.ngettext(
                    locale,
                    "🏆 Challenge done: {title}! +{points} point.",
                    "🏆 Challenge done: {title}! +{points} points.",
                    granted,
                ).format(title=title, points=formats.number(locale, granted))
            else:
                text = i18n.gettext(locale, "🏆 Challenge done: {title}!").format(title=title)
            await _queue_note(ctx, challenge, member, "done", Message(text=text))


async def _queue_note(
    ctx: BotContext,
    challenge: Challenge,
    member: Member,
    what: str,
    message: Message,
    *,
    service: bool = False,
) -> None:
    """A note to a member through the outbox: retried if the platform fails, and held like
    every direct message until the member's wave opens (see bot/waves.py), unless it is a
    ``service`` message (it answers something the member did)."""
    assert member.id is not None
    row = notices.direct_row(
        challenge.campaign_id + SIDE_SUFFIX,
        f"challenge-{challenge.id}-{what}",
        member.id,
        message,
        ctx.clock.now(),
        grace=QUEUED_EVIDENCE_GRACE,
        service=service,
    )
    async with ctx.db.session() as session:
        await notices.queue(session, [row])


def _running(ctx: BotContext, kind: str, at: datetime) -> list[Challenge]:
    return [c for c in active_challenges(ctx) if c.kind == kind and c.active(at)]


# ---------------------------------------------------------------------------- events


async def on_message_posted(event: MessagePosted, ctx: BotContext) -> None:
    """A message in a channel counts for the running ``post_in_channel`` challenges; a message
    with files may be evidence (see the module's documentation)."""
    if event.user.is_bot:
        return
    if event.files:
        await _submit_files(event, ctx)
    if event.channel.is_direct:
        return
    running = _running(ctx, "post_in_channel", event.occurred_at)
    if not running:
        return
    member = await member_for(ctx, event.user)
    for challenge in running:
        if challenge.channel and _channel_id(ctx, challenge, challenge.channel) not in {
            event.channel.id,
            event.channel.name,
        }:
            continue
        ref = f"post:{event.platform}:{event.channel.id}:{event.message_id}"
        await record(ctx, challenge, member, ref, event.occurred_at)


async def on_reaction_added(event: ReactionAdded, ctx: BotContext) -> None:
    """A reaction counts for the running ``react`` challenges (once per message and member;
    never on one's own message)."""
    if event.user.is_bot or (event.author is not None and event.author.id == event.user.id):
        return
    running = _running(ctx, "react", event.occurred_at)
    if not running:
        return
    member = await member_for(ctx, event.user)
    for challenge in running:
        if challenge.channel and _channel_id(ctx, challenge, challenge.channel) != (
            event.channel.id
        ):
            continue
        ref = f"react:{event.platform}:{event.channel.id}:{event.message_id}:{member.id}"
        await record(ctx, challenge, member, ref, event.occurred_at)


async def on_member_joined(event: MemberJoined, ctx: BotContext) -> None:
    """An invited colleague joined: their (first) inviter progresses, once."""
    async with ctx.db.session() as session:
        result = await session.execute(
            sa.update(ChallengeInvite)
            .where(
                INV.platform == event.platform,
                INV.invitee_user_id == event.user.id,
                INV.joined_at.is_(None),
            )
            .values(joined_at=event.occurred_at)
            .returning(INV.inviter_id)
        )
        inviter_id = result.scalar_one_or_none()
    if inviter_id is None:
        return
    inviter = await get_member(ctx.db, inviter_id)
    if inviter is None:
        return
    for challenge in _running(ctx, "invite", event.occurred_at):
        ref = f"invite:{event.platform}:{event.user.id}"
        await record(ctx, challenge, inviter, ref, event.occurred_at)


async def on_button_clicked(event: ButtonClicked, ctx: BotContext) -> None:
    """Approve or Reject on a submission: community managers only; decided once."""
    if event.action_id not in {APPROVE_ACTION, REJECT_ACTION}:
        return
    locale = locale_for(ctx, await member_for(ctx, event.user))
    if not ctx.is_admin(event.user):
        text = i18n.gettext(locale, "Only community managers can judge challenge evidence.")
        await _tell(ctx, event.user, text)
        return
    if not event.value.isdigit():
        return
    approve = event.action_id == APPROVE_ACTION
    # The decision, the member's notice and this confirmation in one transaction.
    async with ctx.db.shared():
        decision = await decide_submission(
            ctx, int(event.value), approve=approve, by=event.user.key
        )
        if decision is None:
            return
        approved = decision.state == SubmissionState.approved.value
        if not decision.decided:
            if decision.by == event.user.key and approved == approve:
                return  # the same click again (or replayed): its confirmation is on its way
            if approved:
                text = i18n.gettext(locale, "Submission #{submission} was already approved.")
            else:
                text = i18n.gettext(locale, "Submission #{submission} was already rejected.")
            # Changes nothing: said directly (after the transaction), not through the outbox.
        else:
            if approved:
                text = i18n.gettext(locale, "Submission #{submission} approved.")
            else:
                text = i18n.gettext(locale, "Submission #{submission} rejected.")
            judge = await member_for(ctx, event.user)
            assert judge.id is not None
            row = notices.direct_row(
                _decision_campaign(decision.challenge),
                f"challenge-decision-{event.value}-judge",
                judge.id,
                Message(text=text.format(submission=event.value)),
                ctx.clock.now(),
                grace=QUEUED_EVIDENCE_GRACE,
            )
            async with ctx.db.session() as session:
                await notices.queue(session, [row])
            return
    await _tell(ctx, event.user, text.format(submission=event.value))


@dataclass(frozen=True)
class Decision:
    """What judging a submission did: ``decided`` False when it was judged before (``state``
    is then the earlier decision)."""

    decided: bool
    state: str
    by: str | None = None  # who decided it
    challenge: str = ""  # the challenge's key


def _decision_campaign(challenge_key: str) -> str:
    """The outbox campaign id of a decision's notices (the challenge's campaign's side id)."""
    return challenge_key.partition("/")[0] + SIDE_SUFFIX


def _decision_row(
    campaigns: Mapping[str, Any],
    submission: ChallengeSubmission,
    member: Member,
    locale: str,
    reason: str | None,
    now: datetime,
) -> dict[str, Any]:
    """The member's notice of a decision: once per submission, whoever writes it."""
    assert member.id is not None
    return notices.direct_row(
        _decision_campaign(submission.challenge),
        f"challenge-decision-{submission.id}",
        member.id,
        Message(text=_decision_text(campaigns, submission, locale, reason)),
        now,
        grace=QUEUED_EVIDENCE_GRACE,
    )


async def _decide_row(
    db: Database, now: datetime, submission_id: int, approve: bool, by: str, reason: str | None
) -> tuple[bool, ChallengeSubmission | None]:
    """Decide a pending submission once: (decided now, the submission or None)."""
    state = SubmissionState.approved if approve else SubmissionState.rejected
    async with db.session() as session:
        result = await session.execute(
            sa.update(ChallengeSubmission)
            .where(SUB.id == submission_id, SUB.state == SubmissionState.pending.value)
            .values(state=state.value, decided_at=now, decided_by=by, reason=reason)
        )
        decided = outbox.affected(result) > 0
        submission = await session.get(ChallengeSubmission, submission_id)
    if submission is not None and decided:
        log.info("submission %s %s by %s", submission.id, state.value, by)
    return decided, submission


def _decision_text(
    campaigns: Mapping[str, Any],
    submission: ChallengeSubmission,
    locale: str,
    reason: str | None,
) -> str:
    # A challenge removed from its file since: the member is still told, under its key.
    title = title_of(campaigns, submission.challenge, locale)
    if submission.state == SubmissionState.approved.value:
        text = i18n.gettext(locale, "✅ Your evidence for “{title}” was approved.")
    else:
        text = i18n.gettext(locale, "Your evidence for “{title}” was not accepted this time.")
    text = text.format(title=title)
    if reason:
        # Translators: {reason} is what the community manager wrote when judging the evidence.
        text += "\n" + i18n.gettext(locale, "The community manager's word: {reason}").format(
            reason=member_text(reason, 500)
        )
    return text


async def decide_submission(
    ctx: BotContext, submission_id: int, *, approve: bool, by: str, reason: str | None = None
) -> Decision | None:
    """Approve or reject a pending submission once (``by``: the manager's key), count it when
    approved and tell the member, with ``reason`` when given. None: no such submission.

    The decision, the count and the member's notice (an outbox row) are written in one
    transaction: a crash loses none of them, a repeated decision writes none again."""
    reason = sanitize_answer(reason, 500) if reason else None
    now = ctx.clock.now()
    async with ctx.db.shared():
        decided, submission = await _decide_row(ctx.db, now, submission_id, approve, by, reason)
        if submission is None:
            return None
        if not decided:
            return Decision(False, submission.state, submission.decided_by, submission.challenge)
        done = Decision(True, submission.state, by, submission.challenge)
        challenge = _find(ctx, submission.challenge)
        member = await get_member(ctx.db, submission.member_id)
        if member is None:
            return done
        locale = _locale(ctx, challenge, member)
        row = _decision_row(_campaigns(ctx), submission, member, locale, reason, now)
        async with ctx.db.session() as session:  # first: the member reads it before "done"
            await notices.queue(session, [row])
        if approve and challenge is not None:
            at = submission.submitted_at
            await record(ctx, challenge, member, f"evidence:{submission.id}", at)
    return done


async def decide_submission_alone(
    db: Database,
    campaigns: Mapping[str, Any],
    now: datetime,
    submission_id: int,
    *,
    approve: bool,
    by: str,
    reason: str | None = None,
    default_locale: str = "en",
) -> Decision | None:
    """:func:`decide_submission` for a console running without the bot, on its database: the
    decision is stored once and the member's notice written into the outbox (the bot sends
    it); the bot's tick counts an approved submission. None: no such submission."""
    reason = sanitize_answer(reason, 500) if reason else None
    decided, submission = await _decide_row(db, now, submission_id, approve, by, reason)
    if submission is None:
        return None
    if not decided:
        return Decision(False, submission.state, submission.decided_by, submission.challenge)
    done = Decision(True, submission.state, by, submission.challenge)
    member = await get_member(db, submission.member_id)
    if member is None or member.id is None:
        return done
    campaign_id = submission.challenge.partition("/")[0]
    locale = preferred_locale(member, campaigns.get(campaign_id), default_locale)
    row = _decision_row(campaigns, submission, member, locale, reason, now)
    async with db.session() as session:
        await notices.queue(session, [row])
    return done


async def _tell(ctx: BotContext, user: UserRef, text: str) -> None:
    try:
        await ctx.adapter.send_direct(user.id, Message(text=text))
    except Exception:
        log.exception("could not answer %s", user.key)


def _find(ctx: BotContext, key: str) -> Challenge | None:
    for challenge in active_challenges(ctx):
        if key in (challenge.key, challenge.id):
            return challenge
    return None


# ---------------------------------------------------------------------------- tables read


async def _sync(ctx: BotContext, challenge: Challenge, now: datetime) -> None:
    """Count onboarding completions, quiz answers and evidence approved (kept in their own
    tables; evidence approved from a console running without the bot is counted here)."""
    until = min(now + timedelta(seconds=1), challenge.end)
    async with ctx.db.session() as session:
        if challenge.kind == "submit_evidence":
            query = sa.select(SUB.member_id, SUB.submitted_at, SUB.id).where(
                SUB.challenge == challenge.key,
                SUB.state == SubmissionState.approved.value,
                SUB.submitted_at >= challenge.start,
                SUB.submitted_at < until,
            )
            prefix = "evidence:"
        elif challenge.kind == "complete_onboarding":
            query = sa.select(J.member_id, J.completed_at, J.member_id.label("ref")).where(
                J.campaign_id == challenge.campaign_id,
                J.completed_at >= challenge.start,
                J.completed_at < until,
            )
            prefix = "onboarding:"
        else:
            query = (
                sa.select(QA.member_id, QA.answered_at, QA.id)
                .join_from(table_of(QuizAnswer), table_of(QuizRun), QR.id == QA.run_id)
                .where(QA.final.is_(True), QA.answered_at >= challenge.start)
                .where(QA.answered_at < until)
            )
            if challenge.quiz:
                query = query.where(QR.bank_id == challenge.quiz)
            prefix = "quiz:"
        rows = (await session.execute(query)).all()
        seen = set(
            (
                await session.execute(
                    sa.select(P.ref).where(P.challenge == challenge.key, P.ref.startswith(prefix))
                )
            ).scalars()
        )
    wanted = [(int(m), at, f"{prefix}{ref}") for m, at, ref in rows if f"{prefix}{ref}" not in seen]
    if not wanted:
        return
    members = await get_members(ctx.db, sorted({m for m, _, _ in wanted}))
    for member_id, at, ref in sorted(wanted, key=lambda w: (w[1], w[2])):
        member = members.get(member_id)
        if member is not None:
            await record(ctx, challenge, member, ref, at)


# ---------------------------------------------------------------------------- the end


async def _closed(ctx: BotContext) -> set[str]:
    async with ctx.db.session() as session:
        return set((await session.execute(sa.select(CL.challenge))).scalars())


async def _pending_evidence(ctx: BotContext, challenge: Challenge) -> bool:
    async with ctx.db.session() as session:
        found = await session.scalar(
            sa.select(SUB.id)
            .where(SUB.challenge == challenge.key, SUB.state == SubmissionState.pending.value)
            .limit(1)
        )
    return found is not None


def _closes_at(challenge: Challenge) -> datetime:
    """When the winners are announced at the latest."""
    if challenge.kind == "submit_evidence":
        return challenge.end + EVIDENCE_GRACE
    return challenge.end


async def _winners(ctx: BotContext, challenge: Challenge) -> list[tuple[str, datetime]]:
    async with ctx.db.session() as session:
        rows = await session.execute(
            sa.select(DN.subject, DN.completed_at)
            .where(DN.challenge == challenge.key)
            .order_by(DN.completed_at, DN.subject)
        )
        return [(str(s), at) for s, at in rows.all()]


async def _names(ctx: BotContext, subjects: Sequence[str]) -> list[str]:
    ids = [int(s.split(":", 1)[1]) for s in subjects if s.startswith("member:")]
    members = await get_members(ctx.db, ids)
    names: list[str] = []
    for subject in subjects:
        kind, _, name = subject.partition(":")
        if kind == "team":
            names.append(member_text(name, 80))
            continue
        member = members.get(int(name))
        if member is not None:
            names.append(
                member_text(member.display_name or member.first_name or member.platform_user_id, 80)
            )
    return names


async def _close(ctx: BotContext, challenge: Challenge, now: datetime) -> bool:
    winners = await _winners(ctx, challenge)
    if not await _insert_once(
        ctx, ChallengeClosed, challenge=challenge.key, closed_at=now, winners=len(winners)
    ):
        return False
    for subject, at in winners:  # again, in case a crash came between completion and award
        await _award(ctx, challenge, subject, at, tell=False)
    campaign = _campaigns(ctx).get(challenge.campaign_id)
    where = challenge.announce or challenge.channel
    log.info("challenge %s closed; winners: %d", challenge.key, len(winners))
    if campaign is None or where is None:
        return True
    locale = campaign.spec.locale
    title = _title(ctx, challenge, locale)
    names = await _names(ctx, [s for s, _ in winners])
    if names:
        shown = ", ".join(names[:30]) + (f" (+{len(names) - 30})" if len(names) > 30 else "")
        # Translators: posted in a channel when a challenge ends; {winners} is a list of names.
        text = i18n.gettext(
            locale, "🏁 The challenge “{title}” is over. Done by: {winners}. Congratulations!"
        ).format(title=title, winners=shown)
    else:
        text = i18n.gettext(
            locale, "🏁 The challenge “{title}” is over. Nobody reached the goal this time."
        ).format(title=title)
    channel = _channel_id(ctx, challenge, where)
    message = Message(text=text, metadata={"campaign": campaign.id, "step": "challenge-results"})
    row = notices.channel_row(
        campaign.id + SIDE_SUFFIX,
        f"challenge-{challenge.id}-results",
        channel,
        message,
        now,
        grace=campaign.grace or ctx.settings.grace,
        service=False,
    )
    async with ctx.db.session() as session:
        await notices.queue(session, [row])
    return True


async def tick(ctx: BotContext) -> int:
    """Count onboarding completions and quiz answers; close the challenges that ended
    (announcing their winners once). Returns the challenges closed."""
    challenges = active_challenges(ctx)
    if not challenges:
        return 0
    now = ctx.clock.now()
    closed = await _closed(ctx)
    count = 0
    for challenge in challenges:
        if challenge.key in closed or now < challenge.start:
            continue
        if challenge.kind in {"complete_onboarding", "answer_quiz", "submit_evidence"}:
            await _sync(ctx, challenge, now)
        if now < challenge.end:
            continue
        if (
            challenge.kind == "submit_evidence"
            and now < _closes_at(challenge)
            and await _pending_evidence(ctx, challenge)
        ):
            continue
        if await _close(ctx, challenge, now):
            count += 1
    return count


async def next_event_time(ctx: BotContext, horizon: datetime) -> datetime | None:
    """The next challenge end still to announce (simulated clocks jump there)."""
    challenges = active_challenges(ctx)
    if not challenges:
        return None
    closed = await _closed(ctx)
    now = ctx.clock.now()
    due: list[datetime] = []
    for challenge in challenges:
        if challenge.key in closed:
            continue
        if challenge.end > now:
            due.append(challenge.end)
        elif challenge.kind == "submit_evidence" and _closes_at(challenge) > now:
            due.append(_closes_at(challenge))
    due = [d for d in due if d <= horizon]
    return min(due) if due else None


# ---------------------------------------------------------------------------- commands


def _goal_text(challenge: Challenge, locale: str) -> str:
    """What the challenge asks, as the end of "you must..." ("post 3 messages in #general")."""
    n = challenge.count
    if challenge.kind == "post_in_channel" and challenge.channel:
        text = i18n.ngettext(
            locale, "post {count} message in #{channel}", "post {count} messages in #{channel}", n
        )
    elif challenge.kind == "post_in_channel":
        text = i18n.ngettext(locale, "post {count} message", "post {count} messages", n)
    elif challenge.kind == "react" and challenge.channel:
        text = i18n.ngettext(
            locale, "react {count} time in #{channel}", "react {count} times in #{channel}", n
        )
    elif challenge.kind == "react":
        text = i18n.ngettext(locale, "react {count} time", "react {count} times", n)
    elif challenge.kind == "complete_onboarding":
        text = i18n.gettext(locale, "complete your onboarding")
    elif challenge.kind == "answer_quiz":
        text = i18n.ngettext(
            locale, "answer {count} quiz question", "answer {count} quiz questions", n
        )
    elif challenge.kind == "invite":
        text = i18n.ngettext(
            locale, "invite {count} colleague who joins", "invite {count} colleagues who join", n
        )
    else:
        # Translators: {id} is the challenge's id, to be typed as it is.
        text = i18n.ngettext(
            locale,
            "have {count} submission approved (/rallybot challenge submit {id} ..., "
            "or send the bot a file)",
            "have {count} submissions approved (/rallybot challenge submit {id} ..., "
            "or send the bot a file)",
            n,
        )
    return text.format(count=formats.number(locale, n), channel=challenge.channel, id=challenge.id)


async def _mine(event: CommandInvoked, ctx: BotContext) -> None:
    member = await member_for(ctx, event.user)
    await ctx.answer(event, "\n".join(await summary(ctx, member)))


async def summary(ctx: BotContext, member: Member) -> list[str]:
    """The challenges of this week and the next and where the member stands in each, as text
    lines (``/rallybot challenges``, ``/rallybot me``)."""
    now = ctx.clock.now()
    week = timedelta(days=7)
    shown = [c for c in active_challenges(ctx) if c.start - now < week and now - c.end < week]
    locale = locale_for(ctx, member)
    if not shown:
        return [i18n.gettext(locale, "No challenges right now.")]
    for challenge in shown:  # quiz answers and onboardings since the last tick
        if challenge.kind in {"complete_onboarding", "answer_quiz"} and challenge.start <= now:
            await _sync(ctx, challenge, now)
    async with ctx.db.session() as session:
        done = set(
            (
                await session.execute(
                    sa.select(DN.challenge, DN.subject).where(
                        DN.challenge.in_([c.key for c in shown])
                    )
                )
            ).all()
        )
    lines = [i18n.gettext(locale, "Challenges:")]
    for challenge in sorted(shown, key=lambda c: (c.end, c.key)):
        locale = _locale(ctx, challenge, member)
        title = _title(ctx, challenge, locale)
        subject = _subject(challenge, member)
        team = ""
        if challenge.by == "team" and member.team:
            # Translators: after a team challenge's title: the member's team.
            team = i18n.gettext(locale, " (team {team})").format(team=member_text(member.team, 80))
        if now < challenge.start:
            # Translators: {when} is a date and time in UTC.
            state = i18n.gettext(locale, "starts {when} UTC").format(
                when=formats.moment(locale, challenge.start)
            )
        elif subject is None:
            state = i18n.gettext(locale, "for teams: you have no team")
        elif (challenge.key, subject) in done:
            # Translators: the state of a challenge the member (or their team) has completed.
            state = i18n.pgettext(locale, "challenge state", "done ✅")
        else:
            have = min(await progress_of(ctx, challenge, subject), challenge.count)
            state = f"{have}/{challenge.count}"
            if now >= challenge.end:
                state += i18n.pgettext(locale, "challenge state", " (ended)")
            else:
                # Translators: after a challenge's progress ("2/5"); {when} is in UTC.
                state += i18n.gettext(locale, ", until {when} UTC").format(
                    when=formats.moment(locale, challenge.end)
                )
        points = ""
        if challenge.points:
            # Translators: the points a challenge gives, abbreviated ("7 pts").
            points = ", " + i18n.ngettext(locale, "{total} pt", "{total} pts", challenge.points)
            points = points.format(total=formats.number(locale, challenge.points))
        goal = _goal_text(challenge, locale)
        lines.append(f"• {title} [{challenge.id}]{team}: {goal}{points} — {state}")
    return lines


def evidence_links(text: str) -> list[str]:
    """The plain ``https`` links a submission's text holds (files are kept as their links),
    for a manager to open."""
    return list(dict.fromkeys(_LINK.findall(text)))


def _file_line(file: FileRef) -> str:
    """A file as the managers see it: its (neutralised) name and its link, when it is a plain
    ``https`` link."""
    name = member_text(file.name, 100)
    return f"📎 {name} {file.url}" if _LINK.fullmatch(file.url) else f"📎 {name}"


async def _submit_files(event: MessagePosted, ctx: BotContext) -> None:
    """A message with files as evidence: for the challenge whose id starts its text, or in a
    direct message for the only evidence challenge running. Other messages are left alone."""
    now = event.occurred_at
    first, _, rest = event.text.strip().partition(" ")
    named = _find(ctx, first.lstrip("#")) if first else None
    if named is not None and named.kind == "submit_evidence":
        challenge, caption = named, rest
    elif not event.channel.is_direct:
        return  # in a channel, only a message naming the challenge is evidence
    else:
        running = _running(ctx, "submit_evidence", now)
        if not running:
            return
        if len(running) > 1:
            ids = ", ".join(sorted(c.id for c in running))
            locale = locale_for(ctx, await member_for(ctx, event.user))
            text = i18n.gettext(
                locale,
                "Several evidence challenges are running ({ids}): send the file again "
                "with the challenge id first in your message.",
            )
            await _tell(ctx, event.user, text.format(ids=ids))
            return
        challenge, caption = running[0], event.text
    member = await member_for(ctx, event.user)
    locale = _locale(ctx, challenge, member)
    if not challenge.active(now):
        await _tell(ctx, event.user, i18n.gettext(locale, "This challenge is not running."))
        return
    if member.id is None or member.is_bot:
        return
    if _subject(challenge, member) is None:
        text = i18n.gettext(locale, "This challenge is for teams, and you have no team.")
        await _tell(ctx, event.user, text)
        return
    files = event.files[:MAX_FILES]
    lines = [plain(_file_line(f)) for f in files]  # stored: shown later as member text
    room = 1000 - sum(len(line) + 1 for line in lines)
    text = " ".join([sanitize_answer(caption, max(room, 1)), *lines]).strip()[:1000]
    # The submission, its evidence for the managers and the submitter's receipt together.
    key = evidence_key(files=files)
    again: str | None = None
    async with ctx.db.shared():
        stored = await _store_submission(ctx, challenge, member, text, key, now)
        submission_id = stored.id
        if stored.new:
            sent_to = await _send_to_managers(
                ctx, challenge, member, submission_id, sanitize_answer(caption, 1000), files
            )
            if sent_to:
                await _queue_receipt(ctx, challenge, member, submission_id, files, locale)
            else:
                again = _no_manager(locale, submission_id)
        else:
            # The same files again (a replayed message, or posted twice): the managers have
            # them already and the receipt is in the outbox (said once); a judged one is
            # recalled, and "nobody to judge it" is said again, as the first time.
            again = _already_judged(locale, stored)
            if again is None and not _judges(ctx, member):
                again = _no_manager(locale, submission_id)
    if again is not None:
        await _tell(ctx, event.user, again)


async def _queue_receipt(
    ctx: BotContext,
    challenge: Challenge,
    member: Member,
    submission_id: int,
    files: Sequence[FileRef],
    locale: str,
) -> None:
    """The submitter's receipt for files sent as evidence (an outbox row, once)."""
    names = ", ".join(member_text(f.name, 60) for f in files)
    # Translators: {files} is the list of the file names sent as evidence.
    receipt = i18n.gettext(
        locale,
        "Thanks! Submission #{submission} ({files}) was sent to the community managers.",
    ).format(submission=submission_id, files=names)
    await _queue_note(
        ctx, challenge, member, f"receipt-{submission_id}", Message(text=receipt), service=True
    )


def _no_manager(locale: str, submission_id: int) -> str:
    return i18n.gettext(
        locale,
        "Submission #{submission} is recorded, but no community manager is set up to judge it "
        "yet: please tell a community manager.",
    ).format(submission=submission_id)


def evidence_key(text: str = "", files: Sequence[FileRef] = ()) -> str:
    """What names a piece of evidence: its files' links when it has files (the caption only
    goes with them), else its text with its spaces made even. The same evidence from the same
    member for the same challenge is one submission."""
    if files:
        names = "\n".join(sorted({file.url for file in files}))
        return "files:" + hashlib.sha256(names.encode()).hexdigest()
    words = sanitize_answer(text, len(text) + 1)
    return "text:" + hashlib.sha256(words.encode()).hexdigest()


@dataclass(frozen=True)
class _Stored:
    """A submission as storing it left it: ``new`` False when the same evidence was there."""

    id: int
    state: str
    new: bool


async def _store_submission(
    ctx: BotContext, challenge: Challenge, member: Member, text: str, key: str, at: datetime
) -> _Stored:
    """Store the submission once per evidence: a replay (or the same evidence again) finds the
    first one, whose id and state it gets back."""
    assert member.id is not None
    first = sa.select(SUB.id, SUB.state).where(
        SUB.challenge == challenge.key, SUB.member_id == member.id, SUB.evidence_key == key
    )
    async with ctx.db.session() as session:
        # Looked up first: a PostgreSQL insert that conflicts still uses up an id, and the
        # numbers members and managers read should not jump.
        found = (await session.execute(first)).first()
        if found is not None:
            return _Stored(int(found.id), str(found.state), new=False)
        result = await session.execute(
            insert_for(session, ChallengeSubmission)
            .values(
                challenge=challenge.key,
                member_id=member.id,
                text=text,
                state=SubmissionState.pending.value,
                submitted_at=at,
                evidence_key=key,
            )
            .on_conflict_do_nothing()
        )
        new = outbox.affected(result) > 0  # False: the same evidence, stored meanwhile
        row = (await session.execute(first)).one()
    return _Stored(int(row.id), str(row.state), new)


def _already_judged(locale: str, stored: _Stored) -> str | None:
    """What a member who sends judged evidence again is told (None: it is still pending)."""
    if stored.state == SubmissionState.approved.value:
        text = i18n.gettext(locale, "Submission #{submission} was already approved.")
    elif stored.state == SubmissionState.rejected.value:
        text = i18n.gettext(locale, "Submission #{submission} was already rejected.")
    else:
        return None
    return text.format(submission=stored.id)


def _judges(ctx: BotContext, member: Member) -> list[str]:
    """The platform user ids of the community managers who judge ``member``'s evidence (those
    of the member's platform: only a named manager can approve it)."""
    judges = []
    for admin in ctx.settings.admins:
        platform, _, user_id = admin.rpartition(":")
        if not platform or platform == member.platform:
            judges.append(user_id)
    return judges


async def _submit(event: CommandInvoked, ctx: BotContext, args: list[str]) -> None:
    member = await member_for(ctx, event.user)
    assert member.id is not None
    locale = locale_for(ctx, member)
    if len(args) < 3 or args[0].lower() != "submit":
        # Translators: CHALLENGE_ID is a placeholder the member replaces by a challenge's id.
        usage = i18n.gettext(locale, "Usage: /rallybot challenge submit CHALLENGE_ID text or link")
        await ctx.answer(event, usage)
        return
    challenge = _find(ctx, args[1])
    now = event.occurred_at
    if challenge is None or challenge.kind != "submit_evidence":
        text = i18n.gettext(locale, "No evidence challenge named {name}.")
        await ctx.answer(event, text.format(name=member_text(args[1], 40)))
        return
    locale = _locale(ctx, challenge, member)
    if not challenge.active(now):
        await ctx.answer(event, i18n.gettext(locale, "This challenge is not running."))
        return
    if _subject(challenge, member) is None:
        text = i18n.gettext(locale, "This challenge is for teams, and you have no team.")
        await ctx.answer(event, text)
        return
    words = " ".join(args[2:])
    text = sanitize_answer(words, 1000)
    async with ctx.db.shared():  # the submission and its evidence for the managers together
        stored = await _store_submission(ctx, challenge, member, text, evidence_key(words), now)
        submission_id = stored.id
        if stored.new:
            sent_to = await _send_to_managers(ctx, challenge, member, submission_id, text)
        else:
            # The same evidence again (a replayed command, or sent twice): the managers have
            # it already; the member gets the first answer again, or the decision since.
            sent_to = len(_judges(ctx, member))
    judged = None if stored.new else _already_judged(locale, stored)
    if judged is not None:
        await ctx.answer(event, judged)
        return
    # The command's own reply (private, where the platform has them): said directly.
    if sent_to:
        thanks = i18n.gettext(
            locale, "Thanks! Submission #{submission} was sent to the community managers."
        )
        await ctx.answer(event, thanks.format(submission=submission_id))
    else:
        await ctx.answer(event, _no_manager(locale, submission_id))


async def _send_to_managers(
    ctx: BotContext,
    challenge: Challenge,
    member: Member,
    submission_id: int,
    text: str,
    files: Sequence[FileRef] = (),
) -> int:
    """Queue the evidence for the community managers; how many will receive it (0: none is
    configured, and the submitter must be told)."""
    name = member_text(member.display_name or member.platform_user_id, 80)
    value = str(submission_id)

    def message(locale: str) -> Message:
        """The evidence as a manager reads it, in their language."""
        # Translators: sent to community managers; {text} is what the member submitted.
        body = i18n.gettext(
            locale, "📎 {name} submitted evidence for the challenge “{title}”:\n{text}"
        ).format(
            name=name,
            title=_title(ctx, challenge, locale),
            text=member_text(text, 1000) if text or not files else "",
        )
        body = body.rstrip() + "".join("\n" + _file_line(file) for file in files)
        # Translators: buttons under a challenge submission, to accept it or not.
        approve = i18n.pgettext(locale, "evidence button", "Approve")
        reject = i18n.pgettext(locale, "evidence button", "Reject")
        return Message(
            text=body,
            buttons=(
                Button(label=approve, action_id=APPROVE_ACTION, value=value, style="primary"),
                Button(label=reject, action_id=REJECT_ACTION, value=value, style="danger"),
            ),
            metadata={"challenge": challenge.key, "submission": value},
        )

    return await _queue_evidence(ctx, challenge, member, submission_id, message)


async def _queue_evidence(
    ctx: BotContext,
    challenge: Challenge,
    member: Member,
    submission_id: int,
    message: Callable[[str], Message],
) -> int:
    """Write the evidence into the outbox, one direct message per community manager on the
    submitter's platform, in the manager's language (``message``: locale -> message): the
    dispatcher sends it, retries it and records it, so a failed send is never lost. How many
    recipients."""
    now = ctx.clock.now()
    step = f"challenge-{challenge.id}-evidence-{submission_id}"
    rows: list[dict[str, Any]] = []
    for user_id in _judges(ctx, member):
        # The outbox sends direct messages to members: a manager the bot never saw gets a row.
        manager = await get_or_create_member(ctx.db, member.platform, user_id, now)
        assert manager.id is not None
        # A service message: work for a manager, never held by a closed wave (bot/waves.py).
        words = message(_locale(ctx, challenge, manager))
        campaign = challenge.campaign_id + SIDE_SUFFIX
        rows.append(
            notices.direct_row(campaign, step, manager.id, words, now, grace=QUEUED_EVIDENCE_GRACE)
        )
    if not rows:  # only a named manager can approve it: a channel would not do
        log.warning(
            "challenge evidence #%s has nobody to judge it: no community manager on %s in "
            "RALLYBOT_ADMINS",
            submission_id,
            member.platform,
        )
        return 0
    async with ctx.db.session() as session:
        await notices.queue(session, rows)
    return len(rows)


async def _invite(event: CommandInvoked, ctx: BotContext) -> None:
    inviter = await member_for(ctx, event.user)
    assert inviter.id is not None
    locale = locale_for(ctx, inviter)
    # Translators: "@colleague" stands for a mention of the person to invite.
    usage = i18n.gettext(locale, "Usage: /rallybot invite @colleague")
    if not event.args:
        await ctx.answer(event, usage)
        return
    target = event.args[0].strip()
    known = await find_member(ctx, event.platform, target)
    user_id = known.platform_user_id if known is not None else target.strip("<>@!")
    user_id = user_id.split("|", 1)[0]
    if not user_id or len(user_id) > 64:
        await ctx.answer(event, usage)
        return
    if user_id == event.user.id:
        await ctx.answer(event, i18n.gettext(locale, "You cannot invite yourself."))
        return
    if known is not None and known.joined_at is not None:
        text = i18n.gettext(locale, "{name} has already joined.")
        await ctx.answer(event, text.format(name=member_text(known.display_name or user_id, 80)))
        return
    created = await _insert_once(
        ctx,
        ChallengeInvite,
        platform=event.platform,
        invitee_user_id=user_id,
        inviter_id=inviter.id,
        invited_at=ctx.clock.now(),
    )
    if created:
        text = i18n.gettext(locale, "Invitation noted: it counts when your colleague joins.")
    else:
        text = i18n.gettext(locale, "Someone already invited this colleague.")
    await ctx.answer(event, text)


async def on_command(event: CommandInvoked, ctx: BotContext) -> None:
    """Answer ``challenges``, ``challenge submit`` and ``invite``."""
    name = event.name.lower()
    if name not in COMMANDS:
        return
    if name == "challenges":
        await _mine(event, ctx)
    elif name == "challenge":
        await _submit(event, ctx, list(event.args))
    else:
        await _invite(event, ctx)


class ChallengesFeature(Feature):
    """Challenges: progress, evidence, invitations and winners."""

    name = "challenges"
    after = ("members", "quiz", "onboarding")
    commands = COMMAND_SPECS
    personal_data = (
        "challenge_progress",
        "challenge_done",
        "challenge_invite",
        "challenge_submission",
    )

    def ticks(self) -> Sequence[Tick]:
        """Count quiz answers and onboardings; announce the winners."""
        return (tick,)

    async def next_event_time(self, ctx: BotContext, horizon: datetime) -> datetime | None:
        """The next challenge to close."""
        return await next_event_time(ctx, horizon)

    def subscriptions(self) -> Sequence[Subscription]:
        """Attach this module's handlers (after members: a join is recorded first)."""
        return (
            Subscription(MessagePosted, on_message_posted),
            Subscription(ReactionAdded, on_reaction_added, transactional=True),
            Subscription(MemberJoined, on_member_joined),
            Subscription(ButtonClicked, on_button_clicked),
            Subscription(CommandInvoked, on_command),
        )
