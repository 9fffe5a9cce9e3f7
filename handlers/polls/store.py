"""The polls' queries: definitions from the campaigns, votes, anonymous ballots, counts.

Named polls keep one :class:`PollVote` row per member and choice. Anonymous polls keep who
voted (:class:`PollVoter`) apart from what was chosen (:class:`PollBallot`): a cast ballot
waits in the member's draft until at least :data:`MIN_GROUP` wait (or the poll closes), then
:func:`release` writes them shuffled, with random ids and no time, in one transaction that
also deletes the drafts (the survey's approach, see ``docs/explanation/privacy.md``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from rallybot.campaigns.schema import Campaign, pick_locale
from rallybot.campaigns.sections import section_of
from rallybot.campaigns.survey import keyed_survey_key
from rallybot.handlers.polls.spec import POLL, PollSpec, closes_at
from rallybot.storage.anonymity import Raced, clear_sqlite_log, release_waiting, too_few
from rallybot.storage.database import Database
from rallybot.storage.models import ChannelMember, Delivery, DeliveryStatus, table_of
from rallybot.storage.poll_models import Poll, PollBallot, PollDraft, PollVote, PollVoter
from rallybot.storage.secret import server_secret

if TYPE_CHECKING:
    from rallybot.bot.context import BotContext

__all__ = [
    "Counts",
    "cast_anonymous",
    "counts",
    "find_poll",
    "poll_by_key",
    "poll_key",
    "release",
    "sync_polls",
    "toggle_draft",
    "vote_named",
]

log = logging.getLogger("rallybot.polls")

_P = table_of(Poll)
_V = table_of(PollVote)
_W = table_of(PollVoter)
_D = table_of(PollDraft)
_B = table_of(PollBallot)
_DL = table_of(Delivery)
_CM = table_of(ChannelMember)


def poll_key(secret: bytes, poll_id: str) -> str:
    """The poll's button key: the server secret's HMAC of ``poll:<id>`` (16 hex characters),
    so nobody without the secret can make a button that counts."""
    return keyed_survey_key(secret, f"poll:{poll_id}")


def _as_map(value: str | dict[str, str], default: str) -> dict[str, str]:
    return {default: value} if isinstance(value, str) else dict(value)


def campaign_polls(
    campaigns: Sequence[Campaign], secret: bytes, channel_ids: dict[str, dict[str, str]]
) -> list[dict[str, Any]]:
    """The poll steps of ``campaigns`` as ``poll`` rows (``channel_ids``: each campaign's
    logical channel -> platform channel)."""
    rows: list[dict[str, Any]] = []
    for campaign in campaigns:
        default = campaign.spec.locale
        for step in campaign.steps:
            spec = section_of(step.spec, POLL, PollSpec)
            if spec is None or step.spec.post is None:
                continue
            pid = f"{campaign.id}/{step.spec.renamed_from or step.id}"
            text = step.spec.message_text
            rows.append(
                {
                    "id": pid,
                    "key": poll_key(secret, pid),
                    "campaign_id": campaign.id,
                    "step_id": step.id,
                    "question": _as_map(text, default),
                    "choices": [_as_map(c, default) for c in spec.choices],
                    "multiple": spec.multiple,
                    "anonymous": spec.anonymous,
                    "locale": default,
                    "channel_id": channel_ids.get(campaign.id, {}).get(step.spec.post),
                    "closes_at": closes_at(spec, campaign.zone, campaign.milestones),
                }
            )
    return rows


async def sync_polls(ctx: BotContext) -> int:
    """Write the poll steps of the loaded campaigns to the ``poll`` table (new or edited);
    how many were written. Once a poll has votes its anonymity and its number of choices
    stay (an edit would reveal voters or shift their votes): such an edit is logged and
    the rest of it applied."""
    secret = await server_secret(ctx.db, ctx.settings.secret_key)
    campaigns = list(ctx.campaigns.values())
    channels = {c.id: ctx.channel_ids(c) for c in campaigns}
    now = ctx.clock.now()
    written = 0
    for row in campaign_polls(campaigns, secret, channels):
        try:
            async with ctx.db.session() as session:
                existing = await session.get(Poll, row["id"])
                if existing is None:
                    session.add(Poll(**row, created_at=now))
                    written += 1
                    continue
                if all(getattr(existing, k) == v for k, v in row.items()):
                    continue
                voted = await _has_votes(session, row["id"])
                if voted and (
                    existing.anonymous != row["anonymous"]
                    or len(existing.choices) != len(row["choices"])
                ):
                    log.error(
                        "poll %s: people have voted; its anonymity and number of choices stay",
                        row["id"],
                    )
                    row["anonymous"] = existing.anonymous
                    row["choices"] = existing.choices
                await session.execute(sa.update(_P).where(_P.c.id == row["id"]).values(**row))
                written += 1
        except IntegrityError:  # another replica wrote it first
            continue
    return written


async def _has_votes(session: Any, poll_id: str) -> bool:
    for table in (_V, _W, _D, _B):
        found = await session.scalar(sa.select(sa.func.count()).where(table.c.poll_id == poll_id))
        if found:
            return True
    return False


async def poll_by_key(db: Database, key: str) -> Poll | None:
    """The poll whose button key is ``key``."""
    async with db.session() as session:
        return (await session.execute(sa.select(Poll).where(_P.c.key == key))).scalar_one_or_none()


async def find_poll(db: Database, ref: str) -> Poll | None:
    """The poll named by its id (``campaign/step``, ``now/abc123``), or by the part after the
    slash when only one poll has it."""
    async with db.session() as session:
        found = await session.get(Poll, ref)
        if found is not None:
            return found
        matches = (
            (await session.execute(sa.select(Poll).where(_P.c.step_id == ref))).scalars().all()
        )
    return matches[0] if len(matches) == 1 else None


async def may_vote(db: Database, poll: Poll, member_id: int) -> bool:
    """Whether the member is in the poll's audience: the members of its channel (everyone
    who can see it when the bot does not know the channel's members). A campaign poll counts
    only once its post went out, in the channel it went to."""
    channels: set[str] = set()
    if poll.campaign_id:
        async with db.session() as session:
            sent = (
                await session.execute(
                    sa.select(_DL.c.platform_channel_id).where(
                        _DL.c.campaign_id == poll.campaign_id,
                        _DL.c.step_id == poll.step_id,
                        _DL.c.status == DeliveryStatus.sent.value,
                        _DL.c.recipient.startswith("channel:"),
                    )
                )
            ).scalars()
            channels = {str(c) for c in sent if c}
    elif poll.channel_id:
        channels = {poll.channel_id}
    if not channels:
        return False
    async with db.session() as session:
        known = (
            await session.execute(
                sa.select(_CM.c.channel_id, _CM.c.member_id).where(_CM.c.channel_id.in_(channels))
            )
        ).all()
    if any(mid == member_id for _, mid in known):
        return True
    return bool(channels - {channel for channel, _ in known})


async def vote_named(db: Database, poll: Poll, member_id: int, choice: int) -> list[int]:
    """Record a click in a named poll: single choice replaces the member's vote, multiple
    choice toggles ``choice``. Returns the member's choices afterwards."""
    mine = sa.and_(_V.c.poll_id == poll.id, _V.c.member_id == member_id)
    async with db.session() as session:
        current = {
            int(c) for c in (await session.execute(sa.select(_V.c.choice).where(mine))).scalars()
        }
        if poll.multiple:
            if choice in current:
                await session.execute(sa.delete(_V).where(mine, _V.c.choice == choice))
                current.discard(choice)
            else:
                await session.execute(
                    sa.insert(_V).values(poll_id=poll.id, member_id=member_id, choice=choice)
                )
                current.add(choice)
        elif current != {choice}:
            await session.execute(sa.delete(_V).where(mine))
            await session.execute(
                sa.insert(_V).values(poll_id=poll.id, member_id=member_id, choice=choice)
            )
            current = {choice}
    return sorted(current)


async def has_voted(db: Database, poll: Poll, member_id: int) -> bool:
    """Whether the member cast a ballot in anonymous ``poll``."""
    async with db.session() as session:
        found = await session.scalar(
            sa.select(sa.func.count()).where(_W.c.poll_id == poll.id, _W.c.member_id == member_id)
        )
    return bool(found)


async def toggle_draft(db: Database, poll: Poll, member_id: int, choice: int) -> list[int] | None:
    """Toggle ``choice`` in the member's uncast ballot of an anonymous multiple-choice poll;
    the choices afterwards, or None when the member has already voted."""
    if await has_voted(db, poll, member_id):
        return None
    mine = sa.and_(_D.c.poll_id == poll.id, _D.c.member_id == member_id)
    async with db.session() as session:
        draft = (await session.execute(sa.select(_D.c.choices, _D.c.cast).where(mine))).first()
        if draft is None:
            chosen = [choice]
            await session.execute(
                sa.insert(_D).values(poll_id=poll.id, member_id=member_id, choices=chosen)
            )
            return chosen
        if draft[1]:
            return None
        chosen = sorted(set(draft[0] or []) ^ {choice})
        await session.execute(sa.update(_D).where(mine).values(choices=chosen))
    return chosen


async def cast_anonymous(
    db: Database, poll: Poll, member_id: int, choices: Sequence[int] | None, now: datetime
) -> list[int] | None:
    """Cast the member's anonymous ballot: ``choices`` (single choice), or the uncast draft
    (multiple choice, ``choices`` None). Writes who voted and the ballot waiting for its batch
    in one transaction; returns the choices cast, None when the member had voted already,
    [] when a multiple-choice draft is empty (nothing cast)."""
    mine = sa.and_(_D.c.poll_id == poll.id, _D.c.member_id == member_id)
    if await has_voted(db, poll, member_id):
        return None
    try:
        async with db.session() as session:
            if choices is None:
                draft = (
                    await session.execute(sa.select(_D.c.choices, _D.c.cast).where(mine))
                ).first()
                if draft is not None and draft[1]:
                    return None
                chosen = sorted(set(draft[0] or [])) if draft is not None else []
                if not chosen:
                    return []
                await session.execute(sa.update(_D).where(mine).values(cast=True))
            else:
                chosen = sorted(set(choices))
                await session.execute(
                    sa.insert(_D).values(
                        poll_id=poll.id, member_id=member_id, choices=chosen, cast=True
                    )
                )
            await session.execute(sa.insert(_W).values(poll_id=poll.id, member_id=member_id))
    except IntegrityError:  # the voter's (or the draft's) key: a second vote
        return None
    await release(db, poll.id, now)
    return chosen


async def release(db: Database, poll_id: str, now: datetime, *, closing: bool = False) -> int:
    """Write the cast ballots waiting in drafts of anonymous poll ``poll_id`` once at least
    :data:`MIN_GROUP` wait: shuffled, random ids, no time, the drafts deleted, one
    transaction; how many were written.

    When ``closing``, a remainder smaller than :data:`MIN_GROUP` is not written at all: its
    drafts are deleted (see :func:`storage.anonymity.batch_ready`)."""
    try:
        async with db.session() as session:
            waiting = (
                await session.execute(
                    sa.select(_D.c.member_id, _D.c.choices).where(
                        _D.c.poll_id == poll_id, _D.c.cast.is_(True)
                    )
                )
            ).all()
            ids = [int(member_id) for member_id, _ in waiting]
            drafts = sa.delete(_D).where(
                _D.c.poll_id == poll_id, _D.c.cast.is_(True), _D.c.member_id.in_(ids)
            )

            async def ballots() -> list[dict[str, Any]]:
                return [
                    {"id": uuid.uuid4().hex, "poll_id": poll_id, "choices": list(chosen or [])}
                    for _, chosen in waiting
                ]

            written = await release_waiting(session, _B, drafts, len(ids), ballots, closing=closing)
            if written is None:
                return 0
    except Raced:
        return 0
    await clear_sqlite_log(db)
    return written


@dataclass(frozen=True)
class Counts:
    """A poll's counts: ``per_choice`` (votes per choice index), ``voters`` (people who
    voted and are counted), ``waiting`` (anonymous ballots cast, not yet in a batch)."""

    per_choice: list[int]
    voters: int
    waiting: int = 0
    anonymous: bool = False
    not_counted: int = 0  # anonymous: ballots left waiting at the close, fewer than MIN_GROUP

    @property
    def hidden(self) -> bool:
        """Whether the counts are held back: an anonymous poll with fewer than
        :data:`MIN_GROUP` ballots counted (a small group's choices could be guessed)."""
        return self.anonymous and too_few(self.voters)


async def counts(db: Database, poll: Poll) -> Counts:
    """The poll's counts now: every vote of a named poll; the written ballots of an
    anonymous one (those waiting for their batch are only counted as waiting)."""
    per_choice = [0] * len(poll.choices)
    async with db.session() as session:
        if not poll.anonymous:
            rows = (
                await session.execute(
                    sa.select(_V.c.member_id, _V.c.choice).where(_V.c.poll_id == poll.id)
                )
            ).all()
            for _, choice in rows:
                if 0 <= int(choice) < len(per_choice):
                    per_choice[int(choice)] += 1
            return Counts(per_choice, len({int(m) for m, _ in rows}))
        ballots = (
            (await session.execute(sa.select(_B.c.choices).where(_B.c.poll_id == poll.id)))
            .scalars()
            .all()
        )
        waiting = int(
            await session.scalar(
                sa.select(sa.func.count()).where(_D.c.poll_id == poll.id, _D.c.cast.is_(True))
            )
            or 0
        )
        voted = int(
            await session.scalar(sa.select(sa.func.count()).where(_W.c.poll_id == poll.id)) or 0
        )
    for chosen in ballots:
        for choice in chosen or []:
            if 0 <= int(choice) < len(per_choice):
                per_choice[int(choice)] += 1
    # A voter is written with their draft: one not in a ballot nor waiting had theirs deleted
    # at the close (too few to write).
    left_out = max(voted - len(ballots) - waiting, 0)
    return Counts(per_choice, len(ballots), waiting, anonymous=True, not_counted=left_out)


def choice_label(poll: Poll, index: int, locale: str | None) -> str:
    """Choice ``index`` in ``locale`` (else the poll's language, else the first given)."""
    return pick_locale(poll.choices[index], locale, poll.locale)[1]


def question_text(poll: Poll, locale: str | None) -> str:
    """The question in ``locale`` (else the poll's language, else the first given)."""
    return pick_locale(poll.question, locale, poll.locale)[1]
