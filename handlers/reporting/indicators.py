"""Indicators: how the launch is going, computed in the database from what the bot records.

Every function takes a :class:`Scope` (a cohort, a team, a campaign, a date range: all optional)
and returns plain dataclasses. Aggregation happens in SQL (``GROUP BY``, ``COUNT(DISTINCT)``),
so the cost grows with the rows read, never with a Python loop over them; the same queries run
on SQLite and PostgreSQL. Weeks start on Monday, 00:00 UTC.

Each indicator's definition is written once, in ``docs/reference/indicators.md``; the
docstrings below point to it. In short:

- **members in scope**: members who are not bots, not community managers (``Scope.exclude``,
  from ``RALLYBOT_ADMINS`` unless ``RALLYBOT_COUNT_MANAGERS`` is set), of the scope's cohort
  and team, known (``created_at``) before the end of the range. They are the funnel's
  "invited".
- **funnel** (up to the end of the range; the start is ignored), monotone by construction:
  invited → joined (``joined_at`` before the end, or any activity: someone who posted has
  joined, roster-only members have not) → profile complete → first post (a message or a
  thread reply in a channel, see :class:`storage.report_models.Activity`) → first quiz answer.
  Each stage counts the members who reached it *and every stage before it*.
- **active participant**: a member with at least one activity (post, reply, message to the bot,
  reaction, button, command) in the week.
- **reach** of a campaign post (a delivery sent to a channel): the distinct members who reacted
  to it or replied in its thread, out of its audience: the members of its channel when it was
  sent (kept with the delivery, :class:`storage.models.Audience`), together with everyone who
  reacted or replied (they could see it), else (a channel whose members were not known) every
  member in scope; at most 100 % by construction.
- **quiz**: final answers only; participation = participants / members in scope; mean score =
  the mean, over participants, of each one's share of correct answers.
- **satisfaction**: survey answers of kind ``rating`` (1-5: mean) and ``nps`` (0-10: NPS =
  % promoters (9-10) - % detractors (0-6)). Answers carry their cohort and team, anonymous
  ones too; a cohort or team with fewer than :data:`storage.survey_models.MIN_GROUP`
  responses is not shown.
- **points**: all-time totals (``point_total``), or the sum of the ledger entries of the range
  and campaign when one is given; members without points count as 0.
- **challenges**: for each challenge, the participants: the members who took part in the
  range (made progress, or sent evidence whatever its state); of those who sent evidence,
  how many have some approved, else some still waiting, else only rejected; and the members
  (and teams) who completed it in the range; completion = members who completed /
  participants. With a cohort, team completions are left out.
- **help**: median time from a help ticket's opening to its first response, and to its
  resolution (``solved_at``), for the tickets opened in the range.
- **kudos**: the ``kudos`` entries of the ledger that were not revoked (a kudos reaction taken
  back no longer counts), in the range. Each kudos counts for both: as *given* for the
  giver's cohort and team, as *received* for the receiver's; givers and receivers are
  distinct members. Kudos belong to no campaign: a campaign scope does not narrow them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

import sqlalchemy as sa

from rallybot.bot import formats, i18n
from rallybot.bot.messages import plain, readable
from rallybot.storage.anonymity import too_few, too_few_sql
from rallybot.storage.challenge_models import (
    ChallengeDone,
    ChallengeProgress,
    ChallengeSubmission,
    SubmissionState,
)
from rallybot.storage.database import Database
from rallybot.storage.helpdesk_models import HelpTicket
from rallybot.storage.models import (
    ALL_TIME,
    AudienceMember,
    Delivery,
    DeliveryStatus,
    Member,
    PointEntry,
    PointTotal,
    table_of,
)
from rallybot.storage.quiz_models import QuizAnswer, QuizRun
from rallybot.storage.report_models import POST_KINDS, Activity, ActivityKind, week_of
from rallybot.storage.search import fold
from rallybot.storage.survey_models import Survey, SurveyAnswer, SurveyResponder

__all__ = [
    "ChallengeStats",
    "Funnel",
    "FunnelStage",
    "HelpTimes",
    "KudosStats",
    "KudosWeek",
    "PointsDistribution",
    "PostReach",
    "QuizStats",
    "Satisfaction",
    "Scope",
    "WeekCount",
    "WeekValue",
    "challenges",
    "cohorts",
    "funnel",
    "funnel_by",
    "help_times",
    "kudos",
    "kudos_by",
    "not_counted",
    "points_distribution",
    "quiz_stats",
    "reach",
    "satisfaction",
    "spelled",
    "sum_funnels",
    "week_start",
    "weekly_active",
    "weekly_active_by",
]

MEMBER = table_of(Member)
ACTIVITY = table_of(Activity)
DELIVERY = table_of(Delivery)
AUDIENCE_MEMBER = table_of(AudienceMember)
QUIZ_ANSWER = table_of(QuizAnswer)
QUIZ_RUN = table_of(QuizRun)
HELP_TICKET = table_of(HelpTicket)
CHALLENGE_PROGRESS = table_of(ChallengeProgress)
CHALLENGE_DONE = table_of(ChallengeDone)
CHALLENGE_SUBMISSION = table_of(ChallengeSubmission)
M = MEMBER.c
A = ACTIVITY.c
D = DELIVERY.c
AM = AUDIENCE_MEMBER.c
QA = QUIZ_ANSWER.c
QR = QUIZ_RUN.c
SA = table_of(SurveyAnswer).c
SV = table_of(Survey).c
POINT_ENTRY = table_of(PointEntry)
PE = POINT_ENTRY.c
PT = table_of(PointTotal).c

_EPOCH_MONDAY = date(1970, 1, 5)
_WEEK = timedelta(days=7)
GroupBy = Literal["cohort", "team"]
NO_GROUP = "(none)"
"""The label of members without a cohort (or a team) in a breakdown."""


@dataclass(frozen=True, slots=True)
class Scope:
    """Which members and which period an indicator looks at (every field optional).

    ``start`` is inclusive, ``end`` exclusive (both aware datetimes); ``campaign_id`` narrows
    reach, quizzes, surveys and points to one campaign.
    """

    cohort: str | None = None
    team: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    campaign_id: str | None = None
    exclude: frozenset[str] = frozenset()
    """Platform user ids left out of the members in scope (the community managers); when
    given, the rows that replaced forgotten managers (``member.was_manager``) are left out
    too."""
    cohort_spellings: tuple[str, ...] = ()
    team_spellings: tuple[str, ...] = ()
    """How the cohort and the team are written in the database, when :func:`spelled` found
    them: "ventes" is the team "Ventes" (case and accents aside)."""

    def cohorts(self) -> tuple[str, ...]:
        """The cohort names that count as the scope's cohort (none: no cohort filter)."""
        if self.cohort is None:
            return ()
        return self.cohort_spellings or (self.cohort,)

    def teams(self) -> tuple[str, ...]:
        """The team names that count as the scope's team (none: no team filter)."""
        if self.team is None:
            return ()
        return self.team_spellings or (self.team,)

    def label(self) -> str:
        """A short description for files and JSON (English, ISO dates: it does not change
        with the language)."""
        parts = []
        if self.campaign_id:
            parts.append(f"campaign {self.campaign_id}")
        if self.cohort:
            parts.append(f"cohort {self.cohort}")
        if self.team:
            parts.append(f"team {self.team}")
        if self.start or self.end:
            start = f"{self.start:%Y-%m-%d}" if self.start else "…"
            end = f"{self.end - timedelta(microseconds=1):%Y-%m-%d}" if self.end else "…"
            parts.append(f"{start} → {end}")
        return ", ".join(parts) or "all members, all time"

    def title(self, locale: str | None = None) -> str:
        """:meth:`label` for people: in ``locale``, dates the locale's way."""
        parts = []
        if self.campaign_id:
            parts.append(i18n.gettext(locale, "campaign {id}").format(id=self.campaign_id))
        if self.cohort:
            parts.append(i18n.gettext(locale, "cohort {name}").format(name=self.cohort))
        if self.team:
            parts.append(i18n.gettext(locale, "team {name}").format(name=self.team))
        if self.start or self.end:
            start = formats.day(locale, self.start) if self.start else "…"
            end = formats.day(locale, self.end - timedelta(microseconds=1)) if self.end else "…"
            parts.append(f"{start} → {end}")
        return ", ".join(parts) or i18n.gettext(locale, "all members, all time")


# ---------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class FunnelStage:
    """One stage of the adoption funnel."""

    name: str
    count: int
    of_invited: float | None  # share of the invited (0-1)
    of_previous: float | None  # share of the previous stage (0-1)


@dataclass(frozen=True, slots=True)
class Funnel:
    """invited → joined → profile complete → first post → first quiz answer."""

    stages: list[FunnelStage]
    later: int = 0
    """Members in scope who have not arrived: their start date is after the end of the range
    (or after now), and they have done nothing yet. Not a stage: they are invited, not joined."""

    def count(self, name: str) -> int:
        """The count of the stage called ``name``."""
        return next(s.count for s in self.stages if s.name == name)


@dataclass(frozen=True, slots=True)
class WeekCount:
    """A count for the week starting on Monday ``week``."""

    week: date
    count: int


@dataclass(frozen=True, slots=True)
class WeekValue:
    """A mean for the week starting on Monday ``week`` (None: no data that week)."""

    week: date
    value: float | None
    n: int


@dataclass(frozen=True, slots=True)
class PostReach:
    """Who a campaign post reached."""

    campaign_id: str
    step_id: str
    occurrence: str
    sent_at: datetime | None
    channel_id: str | None
    reactors: int
    repliers: int
    reached: int
    audience: int
    audience_from_channel: bool
    # The post as it went out (its stored message, not the step re-rendered today): its title
    # and the first words of its text, empty when the message had none.
    sent_title: str = ""
    sent_text: str = ""
    # The channel by the campaign file's name for it ("announcements"), as the console shows it.
    channel_name: str = ""

    @property
    def rate(self) -> float | None:
        """reached / audience."""
        return _ratio(self.reached, self.audience)


@dataclass(frozen=True, slots=True)
class QuizStats:
    """Quiz participation and scores."""

    members: int
    participants: int
    answers: int
    correct: int
    points: int
    mean_score: float | None  # mean over participants of their share of correct answers (0-1)
    weekly: list[WeekCount] = field(default_factory=list)  # participants per week

    @property
    def participation(self) -> float | None:
        """participants / members in scope."""
        return _ratio(self.participants, self.members)

    @property
    def accuracy(self) -> float | None:
        """correct / answers."""
        return _ratio(self.correct, self.answers)


@dataclass(frozen=True, slots=True)
class Satisfaction:
    """Ratings (1-5) and NPS (0-10) from survey answers."""

    ratings: int
    mean_rating: float | None
    nps_answers: int
    promoters: int
    passives: int
    detractors: int
    responses: int
    hidden: bool = False  # a cohort or team with too few responses to show
    weekly_rating: list[WeekValue] = field(default_factory=list)
    weekly_nps: list[WeekValue] = field(default_factory=list)

    @property
    def nps(self) -> float | None:
        """% promoters - % detractors (-100 to 100)."""
        if not self.nps_answers:
            return None
        return 100.0 * (self.promoters - self.detractors) / self.nps_answers


@dataclass(frozen=True, slots=True)
class PointsBucket:
    """How many members have a total in ``[low, high]`` (``high`` None: no upper bound)."""

    label: str
    low: int | None
    high: int | None
    count: int


@dataclass(frozen=True, slots=True)
class PointsDistribution:
    """The members' points."""

    members: int
    with_points: int
    total: int
    mean: float | None
    median: float | None
    p90: float | None
    max: int | None
    buckets: list[PointsBucket]


@dataclass(frozen=True, slots=True)
class HelpTimes:
    """Help desk response times."""

    tickets: int
    answered: int
    solved: int
    median_first_response: timedelta | None
    median_resolution: timedelta | None
    weekly_first_response: list[WeekValue] = field(default_factory=list)  # hours


@dataclass(frozen=True, slots=True)
class ChallengeStats:
    """Who took part in a challenge and who completed it.

    ``participants``: the members who took part (made progress, or sent evidence whatever its
    state). Of those who sent evidence, each counts once, by their furthest evidence:
    ``approved`` (some approved), else ``waiting`` (some not judged yet), else ``rejected``.
    """

    challenge: str
    participants: int
    completed_members: int
    completed_teams: int
    approved: int = 0
    waiting: int = 0
    rejected: int = 0

    @property
    def completion(self) -> float | None:
        """Members who completed / members who took part."""
        return _ratio(self.completed_members, self.participants)


@dataclass(frozen=True, slots=True)
class KudosWeek:
    """Kudos of the week starting on Monday ``week``."""

    week: date
    given: int
    givers: int
    received: int
    receivers: int


@dataclass(frozen=True, slots=True)
class KudosStats:
    """Kudos given by the members in scope, and received by them (each kudos counts for both
    its giver and its receiver)."""

    given: int
    givers: int  # distinct members who gave
    received: int
    receivers: int  # distinct members who received
    weekly: list[KudosWeek] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SurveyRound:
    """One round of a recurring survey (a pulse): its responses, mean rating and NPS."""

    survey: str  # campaign/step
    round: str  # the occurrence's date
    responses: int
    mean_rating: float | None
    nps: float | None


# ---------------------------------------------------------------------------- helpers


def managers_left_out(admins: Iterable[str], count_managers: bool = False) -> frozenset[str]:
    """The platform user ids of the community managers (``RALLYBOT_ADMINS`` entries,
    ``platform:id`` or bare ids), for :attr:`Scope.exclude`; empty when they count."""
    if count_managers:
        return frozenset()
    return frozenset(entry.split(":", 1)[-1] for entry in admins)


def week_start(day: date | datetime) -> date:
    """The Monday of ``day``'s week (in UTC for a datetime)."""
    if isinstance(day, datetime):
        day = day.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def _week_number(db: Database, column: Any) -> sa.ColumnElement[int]:
    """Weeks since Monday 1970-01-05 (UTC): an integer, cheap to group by on both backends."""
    if db.dialect == "postgresql":
        seconds = sa.extract("epoch", column) - 4 * 86400
        return sa.cast(sa.func.floor(seconds / (7 * 86400)), sa.Integer)
    return sa.cast((sa.func.julianday(column) - 2440591.5) / 7, sa.Integer)


def _week_date(number: int) -> date:
    return _EPOCH_MONDAY + _WEEK * int(number)


def _fill_weeks(
    values: dict[date, int], start: datetime | None, end: datetime | None
) -> list[WeekCount]:
    """Every week of the range (or of the data), zeros included."""
    first = week_start(start) if start else min(values, default=None)
    last = week_start(end - timedelta(microseconds=1)) if end else max(values, default=None)
    if first is None or last is None:
        return []
    weeks: list[WeekCount] = []
    day = first
    while day <= last:
        weeks.append(WeekCount(day, values.get(day, 0)))
        day += _WEEK
    return weeks


def _member_conditions(scope: Scope) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = [M.is_bot.is_(False)]
    if scope.exclude:
        conditions.append(M.platform_user_id.not_in(sorted(scope.exclude)))
        conditions.append(M.was_manager.is_(False))  # a forgotten manager stays left out
    if scope.cohort is not None:
        conditions.append(M.cohort.in_(scope.cohorts()))
    if scope.team is not None:
        conditions.append(M.team.in_(scope.teams()))
    if scope.end is not None:
        conditions.append(M.created_at < scope.end)
    return conditions


async def spelled(db: Database, scope: Scope) -> Scope:
    """``scope`` with its cohort and team matched as the members search matches names:
    whatever the case and the accents ("ventes", "Ventes" and "VENTES" are one team). Team
    and cohort names are few, so they are read once and compared in Python."""
    if scope.cohort is None and scope.team is None:
        return scope
    found: dict[str, tuple[str, ...]] = {}
    for name, wanted, columns in (
        ("cohort", scope.cohort, (M.cohort, SA.cohort)),
        ("team", scope.team, (M.team, SA.team)),
    ):
        if wanted is None:
            continue
        names: set[str] = set()
        for column in columns:
            query = sa.select(column).where(column.is_not(None)).distinct()
            names.update(str(r[0]) for r in await _rows(db, query))
        key = fold(wanted.strip())
        found[name] = tuple(sorted(n for n in names if fold(n.strip()) == key))
    cohorts, teams = found.get("cohort", ()), found.get("team", ())
    return replace(
        scope,
        # one spelling: the figures' titles say it as the database does
        cohort=cohorts[0] if len(cohorts) == 1 else scope.cohort,
        team=teams[0] if len(teams) == 1 else scope.team,
        cohort_spellings=cohorts,
        team_spellings=teams,
    )


def _filters_members(scope: Scope) -> bool:
    return scope.cohort is not None or scope.team is not None


async def _left_out(db: Database, scope: Scope, *, bots: bool) -> list[int]:
    """Member ids of the community managers the scope leaves out (and of the bots): a short
    list, so the unfiltered queries stay on their indexes instead of joining ``member``."""
    conditions: list[sa.ColumnElement[bool]] = []
    if scope.exclude:
        conditions.append(M.platform_user_id.in_(sorted(scope.exclude)))
        conditions.append(M.was_manager.is_(True))
    if bots:
        conditions.append(M.is_bot.is_(True))
    if not conditions:
        return []
    return [int(r[0]) for r in await _rows(db, sa.select(M.id).where(sa.or_(*conditions)))]


def _range(
    column: Any, scope: Scope, *, start: bool = True, end: bool = True
) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if start and scope.start is not None:
        conditions.append(column >= scope.start)
    if end and scope.end is not None:
        conditions.append(column < scope.end)
    return conditions


def _group_column(by: GroupBy) -> Any:
    return M.cohort if by == "cohort" else M.team


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


async def _rows(db: Database, query: sa.Executable) -> list[tuple[Any, ...]]:
    async with db.session() as session:
        return [tuple(row) for row in (await session.execute(query)).all()]


async def cohorts(db: Database) -> list[str | None]:
    """The cohorts members belong to (None: members without one), in order."""
    rows = await _rows(db, sa.select(M.cohort).where(M.is_bot.is_(False)).distinct())
    values = [r[0] for r in rows]
    return sorted(v for v in values if v is not None) + ([None] if None in values else [])


async def not_counted(db: Database, scope: Scope) -> int:
    """How many community managers the scope leaves out (:attr:`Scope.exclude`, and the rows
    of forgotten managers), of its cohort and team: the figures say so, not to lose anyone
    silently. Bots are not people and are not in this count."""
    if not scope.exclude:
        return 0
    others = _member_conditions(replace(scope, exclude=frozenset()))
    manager = sa.or_(M.platform_user_id.in_(sorted(scope.exclude)), M.was_manager.is_(True))
    query = sa.select(sa.func.count()).select_from(MEMBER).where(*others, manager)
    async with db.session() as session:
        return int((await session.execute(query)).scalar_one())


async def members_in_scope(db: Database, scope: Scope) -> int:
    """How many members the scope covers; definition: docs/reference/indicators.md,
    "Members in scope"."""
    query = sa.select(sa.func.count()).select_from(MEMBER).where(*_member_conditions(scope))
    async with db.session() as session:
        return int((await session.execute(query)).scalar_one())


# ---------------------------------------------------------------------------- funnel

FUNNEL_STAGES = ("invited", "joined", "profile complete", "first post", "first quiz answer")


def _cutoff(scope: Scope, now: datetime | None) -> datetime | None:
    """When "joined" is judged: the end of the range, or now if it comes first (a start date
    still to come is no arrival)."""
    moments = [m for m in (scope.end, now) if m is not None]
    return min(moments) if moments else None


def _funnel_columns(scope: Scope, now: datetime | None = None) -> list[sa.ColumnElement[Any]]:
    def total(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    cutoff = _cutoff(scope, now)
    joined_at: sa.ColumnElement[bool] = M.joined_at.is_not(None)
    later: sa.ColumnElement[bool] = sa.false()
    if cutoff is not None:
        joined_at = sa.and_(joined_at, M.joined_at < cutoff)
        later = M.joined_at >= cutoff
    seen = sa.exists().where(A.member_id == M.id, *_range(A.occurred_at, scope, start=False))
    posted = sa.exists().where(
        A.member_id == M.id, A.kind.in_(POST_KINDS), *_range(A.occurred_at, scope, start=False)
    )
    quizzed = sa.exists().where(
        QA.member_id == M.id, QA.final.is_(True), *_range(QA.answered_at, scope, start=False)
    )
    # Monotone by construction: each stage is the one before it and one more condition.
    joined = sa.or_(joined_at, seen)
    profiled = sa.and_(joined, M.profile_complete.is_(True))
    first_post = sa.and_(profiled, posted)
    return [
        sa.func.count(),
        total(joined),
        total(profiled),
        total(first_post),
        total(sa.and_(first_post, quizzed)),
        total(sa.and_(later, sa.not_(seen))),
    ]


def _funnel_from(counts: Sequence[int]) -> Funnel:
    """The funnel of the counts of :func:`_funnel_columns` (its stages, then ``later``)."""
    stages: list[FunnelStage] = []
    invited = int(counts[0])
    previous: int | None = None
    for name, value in zip(FUNNEL_STAGES, counts[: len(FUNNEL_STAGES)], strict=True):
        count = int(value)
        stages.append(
            FunnelStage(
                name,
                count,
                _ratio(count, invited),
                None if previous is None else _ratio(count, previous),
            )
        )
        previous = count
    later = counts[len(FUNNEL_STAGES)] if len(counts) > len(FUNNEL_STAGES) else 0
    return Funnel(stages, int(later))


def sum_funnels(funnels: Iterable[Funnel]) -> Funnel:
    """The funnel of disjoint groups put together (every stage's counts added)."""
    totals = [0] * (len(FUNNEL_STAGES) + 1)
    for one in funnels:
        for index, stage in enumerate(one.stages):
            totals[index] += stage.count
        totals[-1] += one.later
    return _funnel_from(totals)


async def funnel(db: Database, scope: Scope = Scope(), now: datetime | None = None) -> Funnel:
    """The adoption funnel of the members in scope, up to the end of the range or ``now``,
    whichever comes first (monotone); definition: docs/reference/indicators.md, "Adoption
    funnel"."""
    query = sa.select(*_funnel_columns(scope, now)).select_from(MEMBER)
    query = query.where(*_member_conditions(scope))
    rows = await _rows(db, query)
    return _funnel_from(rows[0])


async def funnel_by(
    db: Database, scope: Scope, by: GroupBy = "cohort", now: datetime | None = None
) -> dict[str, Funnel]:
    """The funnel of each cohort (or team), in one query."""
    group = _group_column(by)
    query = (
        sa.select(group, *_funnel_columns(scope, now))
        .select_from(MEMBER)
        .where(*_member_conditions(scope))
        .group_by(group)
        .order_by(group)
    )
    return {row[0] or NO_GROUP: _funnel_from(row[1:]) for row in await _rows(db, query)}


# ---------------------------------------------------------------------------- activity


def _week_pairs(scope: Scope) -> Any:
    """The distinct (week, member) pairs of the range: read in order from the week index."""
    conditions = _range(A.occurred_at, scope)
    if scope.start is not None:
        conditions.append(A.week >= week_of(scope.start))
    if scope.end is not None:
        conditions.append(A.week <= week_of(scope.end - timedelta(microseconds=1)))
    return sa.select(A.week, A.member_id).where(*conditions).distinct().subquery("pairs")


async def weekly_active(db: Database, scope: Scope = Scope()) -> list[WeekCount]:
    """Distinct active members per week (every week of the range, zeros included);
    definition: docs/reference/indicators.md, "Active participants"."""
    pairs = _week_pairs(scope)
    query = sa.select(pairs.c.week, sa.func.count()).select_from(pairs)
    if _filters_members(scope):
        query = query.join(MEMBER, M.id == pairs.c.member_id).where(*_member_conditions(scope))
    elif scope.exclude:
        managers = await _left_out(db, scope, bots=False)
        if managers:
            query = query.where(pairs.c.member_id.not_in(managers))
    query = query.group_by(pairs.c.week)
    values = {_week_date(w): int(n) for w, n in await _rows(db, query)}
    return _fill_weeks(values, scope.start, scope.end)


async def weekly_active_by(
    db: Database, scope: Scope, by: GroupBy = "cohort"
) -> dict[str, list[WeekCount]]:
    """Distinct active members per week for each cohort (or team)."""
    group = _group_column(by)
    pairs = _week_pairs(scope)
    query = (
        sa.select(group, pairs.c.week, sa.func.count())
        .select_from(pairs)
        .join(MEMBER, M.id == pairs.c.member_id)
        .where(*_member_conditions(scope))
        .group_by(group, pairs.c.week)
    )
    found: dict[str, dict[date, int]] = {}
    for name, w, n in await _rows(db, query):
        found.setdefault(name or NO_GROUP, {})[_week_date(w)] = int(n)
    everything = {d for values in found.values() for d in values}
    start = scope.start or (datetime.combine(min(everything), time(), UTC) if everything else None)
    end = scope.end or (
        datetime.combine(max(everything) + _WEEK, time(), UTC) if everything else None
    )
    return {name: _fill_weeks(values, start, end) for name, values in sorted(found.items())}


async def active_members(db: Database, scope: Scope = Scope()) -> int:
    """Members in scope active at least once in the range (one index seek per member);
    definition: docs/reference/indicators.md, "Active participants"."""
    active = sa.exists().where(A.member_id == M.id, *_range(A.occurred_at, scope))
    query = sa.select(sa.func.count()).select_from(MEMBER).where(*_member_conditions(scope), active)
    rows = await _rows(db, query)
    return int(rows[0][0])


# ---------------------------------------------------------------------------- reach


NOT_PUBLICATIONS = (".helpdesk", ".steering", ".privacy", ".survey")
"""The outbox campaigns of the bot's own service messages in channels (the help desk's replies
in a question's thread, answers to commands, a survey's plumbing): no campaign publication, so
no reach. (The features' own names; the reporting layer imports no feature.)"""


async def reach(db: Database, scope: Scope = Scope()) -> list[PostReach]:
    """Reactors and repliers of every campaign post sent to a channel in the range, out of
    its audience (at most 100 %); definition: docs/reference/indicators.md, "Reach"."""
    kinds = (ActivityKind.reaction.value, ActivityKind.reply.value)
    # Only members in scope reach a post (a bot's reaction is no reach), as the audience counts.
    if _filters_members(scope):
        actions: Any = (
            sa.select(A.member_id, A.kind, A.target_message_id, A.channel_id)
            .join_from(ACTIVITY, MEMBER, M.id == A.member_id)
            .where(
                A.kind.in_(kinds),
                *_member_conditions(scope),
                *_range(A.occurred_at, scope, start=False),
            )
            .subquery("actions")
        )
        acts = actions.c
        join_on = sa.and_(
            acts.target_message_id == D.platform_message_id,
            acts.channel_id == D.platform_channel_id,
        )
    else:  # straight from the activity index; bots and managers left out by id
        actions = ACTIVITY
        acts = A
        left_out = await _left_out(db, scope, bots=True)
        join_on = sa.and_(
            A.target_message_id == D.platform_message_id,
            A.channel_id == D.platform_channel_id,
            A.kind.in_(kinds),
            *_range(A.occurred_at, scope, start=False),
            *([A.member_id.not_in(left_out)] if left_out else []),
        )
    reactors = sa.func.count(
        sa.distinct(sa.case((acts.kind == ActivityKind.reaction.value, acts.member_id)))
    )
    repliers = sa.func.count(
        sa.distinct(sa.case((acts.kind == ActivityKind.reply.value, acts.member_id)))
    )
    # Who reacted or replied could see the post: a member who joined the channel after it was
    # sent belongs to its audience too (reach is at most 100 % by construction).
    unlisted = sa.func.count(
        sa.distinct(
            sa.case(
                (
                    ~sa.exists().where(
                        AM.audience_id == D.audience_id, AM.member_id == acts.member_id
                    ),
                    acts.member_id,
                )
            )
        )
    )
    query = (
        sa.select(
            D.campaign_id,
            D.step_id,
            D.occurrence,
            D.sent_at,
            D.platform_channel_id,
            reactors,
            repliers,
            sa.func.count(sa.distinct(acts.member_id)),
            unlisted,
            D.audience_id,
            D.payload,  # one value per group: grouped by the delivery's key
            D.recipient,
        )
        .select_from(DELIVERY)
        .outerjoin(actions, join_on)
        .where(
            D.status == DeliveryStatus.sent.value,
            D.recipient.startswith("channel:"),
            D.platform_message_id.is_not(None),
            D.campaign_id.not_in(NOT_PUBLICATIONS),
            *_range(D.sent_at, scope),
        )
        .group_by(
            D.id,
            D.campaign_id,
            D.step_id,
            D.occurrence,
            D.sent_at,
            D.platform_channel_id,
            D.audience_id,
        )
        .order_by(D.sent_at, D.id)
    )
    if scope.campaign_id is not None:
        query = query.where(D.campaign_id == scope.campaign_id)
    rows = await _rows(db, query)
    # The members in scope of each audience kept with the posts (posts share one while their
    # channel's membership does not change: few audiences, each read once).
    kept = sorted({int(row[9]) for row in rows if row[9] is not None})
    audiences: dict[int, int] = {}
    for start in range(0, len(kept), 500):
        audience_query = (
            sa.select(AM.audience_id, sa.func.count())
            .join_from(AUDIENCE_MEMBER, MEMBER, M.id == AM.member_id)
            .where(AM.audience_id.in_(kept[start : start + 500]), *_member_conditions(scope))
            .group_by(AM.audience_id)
        )
        audiences.update({int(a): int(n) for a, n in await _rows(db, audience_query)})
    everyone = await members_in_scope(db, scope)
    result: list[PostReach] = []
    for row in rows:
        campaign_id, step_id, occurrence, sent_at, channel, reacted, replied, reached = row[:8]
        kept_with = row[9]
        known = None if kept_with is None else audiences.get(int(kept_with), 0) + int(row[8])
        sent_title, sent_text = sent_words(row[10])
        result.append(
            PostReach(
                campaign_id=campaign_id,
                step_id=step_id,
                occurrence=occurrence,
                sent_at=sent_at,
                channel_id=channel,
                reactors=int(reacted),
                repliers=int(replied),
                reached=int(reached),
                audience=known if known is not None else max(everyone, int(reached)),
                audience_from_channel=known is not None,
                sent_title=sent_title,
                sent_text=sent_text,
                channel_name=str(row[11]).removeprefix("channel:"),
            )
        )
    return result


SENT_EXTRACT = 70
"""How many characters of a post's text name it (the Act page's extract)."""


def sent_words(payload: object) -> tuple[str, str]:
    """(title, first words of the text) of a delivery's stored message, as it was sent, in
    plain words on one line; empty strings where the message has none."""
    message = payload.get("message") if isinstance(payload, dict) else None
    if not isinstance(message, dict):
        return "", ""
    title = " ".join(plain(str(message.get("title") or "")).split())
    text = " ".join(readable(str(message.get("text") or "")).split())
    if len(text) > SENT_EXTRACT:
        text = text[: SENT_EXTRACT - 1] + "…"
    return title, text


# ---------------------------------------------------------------------------- quizzes


async def quiz_stats(db: Database, scope: Scope = Scope()) -> QuizStats:
    """Quiz participation, answers, accuracy and mean score of the members in scope;
    definition: docs/reference/indicators.md, "Quizzes"."""
    base = (
        sa.select(
            QA.member_id.label("member_id"),
            QA.correct.label("correct"),
            QA.points.label("points"),
            QA.answered_at.label("answered_at"),
        )
        .join_from(QUIZ_ANSWER, MEMBER, M.id == QA.member_id)
        .where(QA.final.is_(True), *_member_conditions(scope), *_range(QA.answered_at, scope))
    )
    if scope.campaign_id is not None:
        base = base.join(QUIZ_RUN, QR.id == QA.run_id).where(QR.campaign_id == scope.campaign_id)
    answers = base.subquery("answers")
    c = answers.c
    is_correct = sa.case((c.correct.is_(True), 1), else_=0)
    per_member = (
        sa.select(
            c.member_id,
            sa.func.count().label("n"),
            sa.func.sum(is_correct).label("right"),
            sa.func.sum(c.points).label("points"),
        )
        .group_by(c.member_id)
        .subquery("per_member")
    )
    p = per_member.c
    totals = sa.select(
        sa.func.count(),
        sa.func.coalesce(sa.func.sum(p.n), 0),
        sa.func.coalesce(sa.func.sum(p.right), 0),
        sa.func.coalesce(sa.func.sum(p.points), 0),
        sa.func.avg(sa.cast(p.right, sa.Float) / p.n),
    )
    week = _week_number(db, c.answered_at).label("week")
    weekly = sa.select(week, sa.func.count(sa.distinct(c.member_id))).group_by(week)
    (participants, n, right, points, mean), *_ = await _rows(db, totals)
    weeks = {_week_date(w): int(k) for w, k in await _rows(db, weekly)}
    return QuizStats(
        members=await members_in_scope(db, scope),
        participants=int(participants),
        answers=int(n),
        correct=int(right),
        points=int(points),
        mean_score=None if mean is None else float(mean),
        weekly=_fill_weeks(weeks, scope.start, scope.end),
    )


# ---------------------------------------------------------------------------- satisfaction


def _day_range(scope: Scope) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if scope.start is not None:
        conditions.append(SA.answered_on >= scope.start.astimezone(UTC).date())
    if scope.end is not None:
        last = (scope.end - timedelta(microseconds=1)).astimezone(UTC).date()
        conditions.append(SA.answered_on <= last)
    return conditions


def _small_anonymous() -> sa.Select[Any]:
    """The surveys (rounds) whose anonymous answers come from fewer than
    :data:`MIN_GROUP` responses: those answers are in no figure (``member_id`` is NULL only
    in an anonymous survey's answers)."""
    return (
        sa.select(SA.survey_id)
        .where(SA.member_id.is_(None))
        .group_by(SA.survey_id)
        .having(too_few_sql(sa.func.count(sa.distinct(SA.response_id))))
    )


async def survey_rounds(db: Database, scope: Scope = Scope()) -> list[SurveyRound]:
    """The rounds of every recurring survey, oldest first, for the trend over rounds;
    definition: docs/reference/indicators.md, "Satisfaction". Empty for a cohort or team
    (anonymous answers keep a group only in batches where it is large enough)."""
    if _filters_members(scope):
        return []
    survey = table_of(Survey).c
    responder = table_of(SurveyResponder).c
    rounds = sa.select(survey.id, survey.campaign_id, survey.step_id, survey.round).where(
        survey.round != ""
    )
    if scope.campaign_id is not None:
        rounds = rounds.where(survey.campaign_id == scope.campaign_id)
    found = await _rows(db, rounds)
    if not found:
        return []
    ids = [r[0] for r in found]
    counts = dict(
        await _rows(
            db,
            sa.select(responder.survey_id, sa.func.count())
            .where(responder.survey_id.in_(ids))
            .group_by(responder.survey_id),
        )
    )
    too_small = {r[0] for r in await _rows(db, _small_anonymous().where(SA.survey_id.in_(ids)))}
    scores = await _rows(
        db,
        sa.select(SA.survey_id, SA.kind, SA.value).where(
            SA.survey_id.in_(ids), SA.kind.in_(("rating", "nps")), SA.value.is_not(None)
        ),
    )
    ratings: dict[str, list[int]] = {}
    nps: dict[str, list[int]] = {}
    for sid, kind, value in scores:
        if sid in too_small:  # anonymous answers are shown only over MIN_GROUP responses
            continue
        (ratings if kind == "rating" else nps).setdefault(sid, []).append(int(value))
    result: list[SurveyRound] = []
    for sid, campaign_id, step_id, round_ in found:
        r, n = ratings.get(sid, []), nps.get(sid, [])
        result.append(
            SurveyRound(
                survey=f"{campaign_id}/{step_id}",
                round=round_,
                responses=int(counts.get(sid, 0)),
                mean_rating=sum(r) / len(r) if r else None,
                nps=100.0 * (sum(v >= 9 for v in n) - sum(v <= 6 for v in n)) / len(n)
                if n
                else None,
            )
        )
    result.sort(key=lambda x: (x.survey, x.round))
    return result


async def satisfaction(db: Database, scope: Scope = Scope()) -> Satisfaction:
    """Mean rating and NPS from survey answers, with their weekly trend; definition:
    docs/reference/indicators.md, "Satisfaction"."""
    conditions: list[sa.ColumnElement[bool]] = [
        SA.skipped.is_(False),
        SA.value.is_not(None),
        SA.kind.in_(("rating", "nps")),
        *_day_range(scope),
        # An anonymous survey round with fewer than MIN_GROUP responses counts nowhere.
        sa.or_(SA.member_id.is_not(None), SA.survey_id.not_in(_small_anonymous())),
    ]
    if scope.cohort is not None:
        conditions.append(SA.cohort.in_(scope.cohorts()))
    if scope.team is not None:
        conditions.append(SA.team.in_(scope.teams()))
    if scope.campaign_id is not None:
        conditions.append(
            SA.survey_id.in_(sa.select(SV.id).where(SV.campaign_id == scope.campaign_id))
        )
    rating = SA.kind == "rating"
    nps = SA.kind == "nps"

    def count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    totals = sa.select(
        count(rating),
        sa.func.avg(sa.case((rating, SA.value))),
        count(nps),
        count(sa.and_(nps, SA.value >= 9)),
        count(sa.and_(nps, SA.value.between(7, 8))),
        count(sa.and_(nps, SA.value <= 6)),
        sa.func.count(sa.distinct(SA.response_id)),
    ).where(*conditions)
    (ratings, mean, nps_n, promoters, passives, detractors, responses), *_ = await _rows(db, totals)
    hidden = _filters_members(scope) and too_few(int(responses))
    if hidden:
        return Satisfaction(0, None, 0, 0, 0, 0, int(responses), hidden=True)
    week = _week_number(db, SA.answered_on).label("week")
    promoter = sa.case((SA.value >= 9, 100.0), (SA.value <= 6, -100.0), else_=0.0)
    weekly = (
        sa.select(
            week,
            count(rating),
            sa.func.avg(sa.case((rating, SA.value))),
            count(nps),
            sa.func.avg(sa.case((nps, promoter))),
        )
        .where(*conditions)
        .group_by(week)
        .order_by(week)
    )
    weekly_rating: list[WeekValue] = []
    weekly_nps: list[WeekValue] = []
    for w, n_rating, mean_rating, n_nps, mean_nps in await _rows(db, weekly):
        day = _week_date(w)
        weekly_rating.append(
            WeekValue(day, None if mean_rating is None else float(mean_rating), int(n_rating))
        )
        weekly_nps.append(WeekValue(day, None if mean_nps is None else float(mean_nps), int(n_nps)))
    return Satisfaction(
        ratings=int(ratings),
        mean_rating=None if mean is None else float(mean),
        nps_answers=int(nps_n),
        promoters=int(promoters),
        passives=int(passives),
        detractors=int(detractors),
        responses=int(responses),
        weekly_rating=weekly_rating,
        weekly_nps=weekly_nps,
    )


# ---------------------------------------------------------------------------- points

POINT_BUCKETS: tuple[tuple[str, int | None, int | None], ...] = (
    ("0", None, 0),
    ("1-9", 1, 9),
    ("10-49", 10, 49),
    ("50-99", 50, 99),
    ("100-249", 100, 249),
    ("250+", 250, None),
)
"""Buckets of the points distribution (a total of 0 or less falls in the first)."""


def _quantile(histogram: list[tuple[int, int]], q: float) -> float | None:
    """The ``q`` quantile (linear interpolation) of values given as sorted (value, count)."""
    n = sum(count for _, count in histogram)
    if n == 0:
        return None
    position = q * (n - 1)
    low_index, fraction = int(position), position - int(position)

    def nth(index: int) -> int:
        seen = 0
        for value, count in histogram:
            seen += count
            if index < seen:
                return value
        return histogram[-1][0]

    low = nth(low_index)
    if fraction == 0:
        return float(low)
    return low + (nth(low_index + 1) - low) * fraction


async def points_distribution(db: Database, scope: Scope = Scope()) -> PointsDistribution:
    """How points are spread over the members in scope (those without points count as 0);
    definition: docs/reference/indicators.md, "Points"."""
    if scope.start is None and scope.end is None and scope.campaign_id is None:
        totals: Any = (
            sa.select(PT.member_id.label("member_id"), PT.total.label("total"))
            .where(PT.season == ALL_TIME)
            .subquery("totals")
        )
    else:
        entries = sa.select(PE.member_id, sa.func.sum(PE.amount).label("total")).where(
            *_range(PE.created_at, scope)
        )
        if scope.campaign_id is not None:
            entries = entries.where(PE.campaign_id == scope.campaign_id)
        totals = entries.group_by(PE.member_id).subquery("totals")
    t = totals.c
    histogram_query = (
        sa.select(t.total, sa.func.count())
        .join_from(totals, MEMBER, M.id == t.member_id)
        .where(*_member_conditions(scope))
        .group_by(t.total)
        .order_by(t.total)
    )
    histogram = [(int(v), int(n)) for v, n in await _rows(db, histogram_query)]
    members = await members_in_scope(db, scope)
    zeros = members - sum(n for _, n in histogram)
    if zeros > 0:
        histogram = sorted([*histogram, (0, zeros)])
        merged: dict[int, int] = {}
        for value, n in histogram:
            merged[value] = merged.get(value, 0) + n
        histogram = sorted(merged.items())
    buckets = []
    for label, low, high in POINT_BUCKETS:
        count = sum(
            n
            for value, n in histogram
            if (low is None or value >= low) and (high is None or value <= high)
        )
        buckets.append(PointsBucket(label, low, high, count))
    total = sum(v * n for v, n in histogram)
    return PointsDistribution(
        members=members,
        with_points=sum(n for v, n in histogram if v > 0),
        total=total,
        mean=total / members if members else None,
        median=_quantile(histogram, 0.5),
        p90=_quantile(histogram, 0.9),
        max=histogram[-1][0] if histogram else None,
        buckets=buckets,
    )


# ---------------------------------------------------------------------------- help desk


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


async def help_times(db: Database, scope: Scope = Scope()) -> HelpTimes:
    """Median first-response and resolution times of help tickets opened in the range;
    definition: docs/reference/indicators.md, "Help desk".

    Tickets are few (thousands), so their durations are read and the medians taken here, the
    same way on both backends. With a cohort or team, only tickets whose asker is still known.
    """
    t = HELP_TICKET.c
    query = sa.select(t.opened_at, t.first_response_at, t.solved_at).where(
        *_range(t.opened_at, scope)
    )
    if _filters_members(scope):
        query = query.join(MEMBER, M.id == t.asker_id).where(*_member_conditions(scope))
    rows = await _rows(db, query)
    first: list[float] = []
    solved: list[float] = []
    weekly: dict[date, list[float]] = {}
    for opened, responded, closed in rows:
        if responded is not None:
            seconds = (responded - opened).total_seconds()
            first.append(seconds)
            weekly.setdefault(week_start(opened), []).append(seconds / 3600)
        if closed is not None:
            solved.append((closed - opened).total_seconds())
    first_median = _median(first)
    solved_median = _median(solved)
    return HelpTimes(
        tickets=len(rows),
        answered=len(first),
        solved=len(solved),
        median_first_response=None if first_median is None else timedelta(seconds=first_median),
        median_resolution=None if solved_median is None else timedelta(seconds=solved_median),
        weekly_first_response=[
            WeekValue(day, _median(values), len(values)) for day, values in sorted(weekly.items())
        ],
    )


# ---------------------------------------------------------------------------- challenges


async def challenges(db: Database, scope: Scope = Scope()) -> list[ChallengeStats]:
    """Participation and completion of every challenge (``campaign/challenge``), by name;
    definition: docs/reference/indicators.md, "Challenges"."""
    p = CHALLENGE_PROGRESS.c
    d = CHALLENGE_DONE.c
    s = CHALLENGE_SUBMISSION.c
    prefix = f"{scope.campaign_id}/" if scope.campaign_id is not None else None

    def of_campaign(column: Any) -> list[sa.ColumnElement[bool]]:
        return [] if prefix is None else [column.startswith(prefix, autoescape=True)]

    progressed = (
        sa.select(p.challenge.label("challenge"), p.member_id.label("member_id"))
        .join_from(CHALLENGE_PROGRESS, MEMBER, M.id == p.member_id)
        .where(*_member_conditions(scope), *_range(p.at, scope), *of_campaign(p.challenge))
    )
    # Evidence waiting for a manager, or rejected, made no progress: its sender took part all
    # the same, as a manager counts participants.
    submitted = (
        sa.select(s.challenge.label("challenge"), s.member_id.label("member_id"))
        .join_from(CHALLENGE_SUBMISSION, MEMBER, M.id == s.member_id)
        .where(
            *_member_conditions(scope), *_range(s.submitted_at, scope), *of_campaign(s.challenge)
        )
    )
    takers = sa.union(progressed, submitted).subquery("takers")  # UNION: each member once
    taking_part = sa.select(takers.c.challenge, sa.func.count()).group_by(takers.c.challenge)
    rank = sa.case(
        (s.state == SubmissionState.approved.value, 3),
        (s.state == SubmissionState.pending.value, 2),
        else_=1,
    )
    furthest = (
        submitted.add_columns(sa.func.max(rank).label("rank"))
        .group_by(s.challenge, s.member_id)
        .subquery("furthest")
    )
    f = furthest.c

    def members_at(value: int) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((f.rank == value, 1), else_=0)), 0)

    evidence = sa.select(f.challenge, members_at(3), members_at(2), members_at(1)).group_by(
        f.challenge
    )
    members = sa.select(sa.literal("member:") + sa.cast(M.id, sa.String)).where(
        *_member_conditions(scope)
    )
    by_member = sa.and_(d.subject.startswith("member:"), d.subject.in_(members))
    by_team = d.subject.startswith("team:")
    if scope.team is not None:
        by_team = d.subject.in_([f"team:{name}" for name in scope.teams()])
    if scope.cohort is not None:
        by_team = sa.false()
    done = (
        sa.select(
            d.challenge,
            sa.func.coalesce(sa.func.sum(sa.case((by_member, 1), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((by_team, 1), else_=0)), 0),
        )
        .where(*_range(d.completed_at, scope), *of_campaign(d.challenge))
        .group_by(d.challenge)
    )
    # participants, completed members, completed teams, approved, waiting, rejected
    found: dict[str, list[int]] = {}
    for name, n in await _rows(db, taking_part):
        found.setdefault(name, [0] * 6)[0] = int(n)
    for name, completed, teams in await _rows(db, done):
        entry = found.setdefault(name, [0] * 6)
        entry[1], entry[2] = int(completed), int(teams)
    for name, approved, waiting, rejected in await _rows(db, evidence):
        entry = found.setdefault(name, [0] * 6)
        entry[3:] = [int(approved), int(waiting), int(rejected)]
    return [ChallengeStats(name, *values) for name, values in sorted(found.items()) if any(values)]


# ---------------------------------------------------------------------------- kudos

KudosSide = Literal["giver", "receiver"]


def _kudos_entries(scope: Scope) -> Any:
    """The live kudos of the range: (giver, receiver, at)."""
    reversal = POINT_ENTRY.alias("kudos_reversal")
    return (
        sa.select(
            PE.actor_id.label("giver"), PE.member_id.label("receiver"), PE.created_at.label("at")
        )
        .where(
            PE.source == "kudos",
            PE.amount > 0,
            PE.reverts_id.is_(None),
            PE.actor_id.is_not(None),
            ~sa.exists().where(reversal.c.reverts_id == PE.id),
            *_range(PE.created_at, scope),
        )
        .subquery("kudos")
    )


async def _kudos_counts(
    db: Database, scope: Scope, side: KudosSide, key: Literal["week", "cohort", "team"] | None
) -> dict[Any, tuple[int, int]]:
    """(kudos, distinct members) on one side, in total (key None), per week or per group."""
    entries = _kudos_entries(scope)
    who = entries.c[side]
    columns: list[Any] = [sa.func.count(), sa.func.count(sa.distinct(who))]
    group: Any = None
    if key == "week":
        group = _week_number(db, entries.c.at).label("week")
    elif key is not None:
        group = _group_column(key)
    query = (
        sa.select(*([group] if group is not None else []), *columns)
        .select_from(entries)
        .join(MEMBER, M.id == who)
        .where(*_member_conditions(scope))
    )
    if group is not None:
        query = query.group_by(group)
    found: dict[Any, tuple[int, int]] = {}
    for row in await _rows(db, query):
        name: Any = None
        if key == "week":
            name = _week_date(row[0])
        elif key is not None:
            name = row[0] or NO_GROUP
        found[name] = (int(row[-2]), int(row[-1]))
    return found


async def kudos(db: Database, scope: Scope = Scope()) -> KudosStats:
    """Kudos given and received by the members in scope, with their weekly trend;
    definition: docs/reference/indicators.md, "Kudos"."""
    given = (await _kudos_counts(db, scope, "giver", None)).get(None, (0, 0))
    received = (await _kudos_counts(db, scope, "receiver", None)).get(None, (0, 0))
    weekly_given = await _kudos_counts(db, scope, "giver", "week")
    weekly_received = await _kudos_counts(db, scope, "receiver", "week")
    weeks = _fill_weeks({w: 0 for w in (*weekly_given, *weekly_received)}, scope.start, scope.end)
    return KudosStats(
        given=given[0],
        givers=given[1],
        received=received[0],
        receivers=received[1],
        weekly=[
            KudosWeek(
                w.week,
                *weekly_given.get(w.week, (0, 0)),
                *weekly_received.get(w.week, (0, 0)),
            )
            for w in weeks
        ],
    )


async def kudos_by(db: Database, scope: Scope, by: GroupBy = "cohort") -> dict[str, KudosStats]:
    """Kudos given and received per cohort (or team): a kudos between two groups counts as
    given in the giver's and received in the receiver's."""
    given = await _kudos_counts(db, scope, "giver", by)
    received = await _kudos_counts(db, scope, "receiver", by)
    return {
        name: KudosStats(*given.get(name, (0, 0)), *received.get(name, (0, 0)))
        for name in sorted({*given, *received})
    }
