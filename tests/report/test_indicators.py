"""Every indicator over the seeded database (tests/report/seed.py), right answers by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from rallybot.handlers.reporting import indicators as ind
from rallybot.handlers.reporting.indicators import Scope
from rallybot.storage.challenge_models import ChallengeDone, ChallengeProgress, ChallengeSubmission
from rallybot.storage.database import Database
from rallybot.storage.models import Delivery, table_of
from tests.report.seed import END, START, WEEKS, _insert, at, seed

RANGE = Scope(start=START, end=END)


@pytest.fixture
async def seeded(db: Database) -> Database:
    await seed(db)
    return db


def counts(weeks: list[ind.WeekCount]) -> list[tuple[date, int]]:
    return [(w.week, w.count) for w in weeks]


async def test_funnel(seeded: Database) -> None:
    # invited: alice, bob, carol, dan, eve (frank is known after the range, botty is a bot);
    # joined: all but dan; profile complete (and joined): alice, carol, eve; first post (and
    # the stages before, before the end): alice, eve (bob posted, profile incomplete); first
    # quiz answer (and the stages before): alice (eve's is not final). Monotone by construction.
    funnel = await ind.funnel(seeded, RANGE)
    assert [(s.name, s.count) for s in funnel.stages] == [
        ("invited", 5),
        ("joined", 4),
        ("profile complete", 3),
        ("first post", 2),
        ("first quiz answer", 1),
    ]
    assert funnel.stages[1].of_invited == pytest.approx(0.8)
    assert funnel.stages[2].of_previous == pytest.approx(0.75)
    assert funnel.stages[0].of_previous is None
    # no end: frank is invited too (he has done nothing)
    assert (await ind.funnel(seeded)).count("invited") == 6


async def test_funnel_per_cohort_and_team(seeded: Database) -> None:
    by_cohort = await ind.funnel_by(seeded, RANGE, "cohort")
    assert {k: [s.count for s in f.stages] for k, f in by_cohort.items()} == {
        "pilot": [3, 3, 2, 1, 1],
        "wave2": [2, 1, 1, 1, 0],
    }
    pilot = await ind.funnel(seeded, Scope(cohort="pilot", end=END))
    assert [s.count for s in pilot.stages] == [3, 3, 2, 1, 1]
    sales = await ind.funnel(seeded, Scope(team="sales", end=END))  # alice, bob, eve
    assert [s.count for s in sales.stages] == [3, 3, 2, 2, 1]
    by_team = await ind.funnel_by(seeded, Scope(end=END), "team")
    assert by_team["tech"].count("invited") == 2  # carol, dan
    assert "(none)" not in by_team  # frank (no team) is known after the end


async def test_weekly_active(seeded: Database) -> None:
    # 11-02: alice, bob; 11-09: alice, bob, eve; 11-16: carol (a command), eve
    assert counts(await ind.weekly_active(seeded, RANGE)) == list(
        zip(WEEKS, [2, 3, 2], strict=True)
    )
    assert await ind.active_members(seeded, RANGE) == 4
    pilot = await ind.weekly_active(seeded, Scope(cohort="pilot", start=START, end=END))
    assert counts(pilot) == list(zip(WEEKS, [2, 2, 1], strict=True))
    by = await ind.weekly_active_by(seeded, RANGE, "cohort")
    assert {k: [w.count for w in v] for k, v in by.items()} == {
        "pilot": [2, 2, 1],
        "wave2": [0, 1, 1],
    }
    # no range: from the first week with activity (10-19: alice's message) to the last (11-23)
    everything = await ind.weekly_active(seeded)
    assert everything[0] == ind.WeekCount(date(2026, 10, 19), 1)
    assert everything[-1] == ind.WeekCount(date(2026, 11, 23), 1)
    assert len(everything) == 6


async def test_reach(seeded: Database) -> None:
    # The help desk's reply in a question's thread is the bot's service, not a publication.
    async with seeded.session() as session:
        await session.execute(
            sa.insert(table_of(Delivery)),
            [
                {
                    "id": 99,
                    "campaign_id": ".helpdesk",
                    "step_id": "ticket-1-welcome",
                    "recipient": "channel:aide",
                    "occurrence": "thread",
                    "due_at": datetime(2026, 11, 4, 9, tzinfo=UTC),
                    "grace_until": datetime(2026, 11, 30, tzinfo=UTC),
                    "status": "sent",
                    "payload": {},
                    "content_hash": "",
                    "attempts": 1,
                    "sent_at": datetime(2026, 11, 4, 9, tzinfo=UTC),
                    "platform_channel_id": "C1",
                    "platform_message_id": "P99",
                    "created_at": datetime(2026, 11, 4, 9, tzinfo=UTC),
                    "updated_at": datetime(2026, 11, 4, 9, tzinfo=UTC),
                }
            ],
        )
    posts = await ind.reach(seeded, RANGE)
    # the DM and the pending delivery are not campaign posts
    assert [(p.campaign_id, p.step_id) for p in posts] == [
        ("launch", "teaser"),
        ("other", "hello"),
        ("launch", "announce"),
    ]
    teaser, other, announce = posts
    assert (teaser.reactors, teaser.repliers, teaser.reached, teaser.audience) == (2, 1, 2, 4)
    assert teaser.audience_from_channel and teaser.rate == pytest.approx(0.5)
    assert (announce.reactors, announce.repliers, announce.reached) == (1, 1, 2)
    # C2's members are unknown: the audience is every member in scope
    assert (other.reached, other.audience, other.audience_from_channel) == (0, 5, False)
    launch = await ind.reach(seeded, Scope(start=START, end=END, campaign_id="launch"))
    assert [p.step_id for p in launch] == ["teaser", "announce"]
    wave2 = await ind.reach(seeded, Scope(cohort="wave2", start=START, end=END))
    assert [(p.step_id, p.reached, p.audience) for p in wave2] == [
        ("teaser", 0, 1),
        ("hello", 0, 2),
        ("announce", 1, 1),
    ]


async def test_quiz(seeded: Database) -> None:
    stats = await ind.quiz_stats(seeded, RANGE)
    # alice 1/2 right, carol 2/2 right; eve's answer is not final; bob's is before the range
    assert (stats.members, stats.participants, stats.answers, stats.correct) == (5, 2, 4, 3)
    assert stats.points == 25
    assert stats.mean_score == pytest.approx(0.75)
    assert stats.participation == pytest.approx(0.4)
    assert stats.accuracy == pytest.approx(0.75)
    assert counts(stats.weekly) == list(zip(WEEKS, [1, 0, 1], strict=True))
    launch = await ind.quiz_stats(seeded, Scope(start=START, end=END, campaign_id="launch"))
    assert (launch.participants, launch.answers, launch.correct, launch.points) == (2, 3, 2, 20)
    assert launch.mean_score == pytest.approx(0.75)
    wave2 = await ind.quiz_stats(seeded, Scope(cohort="wave2", start=START, end=END))
    assert (wave2.members, wave2.participants, wave2.mean_score) == (2, 0, None)


async def test_satisfaction(seeded: Database) -> None:
    sat = await ind.satisfaction(seeded, RANGE)
    # ratings 4, 5, 2, 3 and 1 (r5 skipped, r6 before the range); NPS 10, 9, 3, 7, 6
    assert (sat.ratings, sat.responses) == (5, 6)
    assert sat.mean_rating == pytest.approx(3.0)
    assert (sat.nps_answers, sat.promoters, sat.passives, sat.detractors) == (5, 2, 1, 2)
    assert sat.nps == pytest.approx(0.0)
    assert [(w.week, w.value, w.n) for w in sat.weekly_rating] == [
        (WEEKS[0], pytest.approx(10 / 3), 3),
        (WEEKS[1], pytest.approx(2.5), 2),
        (WEEKS[2], None, 0),
    ]
    assert [(w.week, w.value, w.n) for w in sat.weekly_nps] == [
        (WEEKS[0], pytest.approx(100.0), 2),
        (WEEKS[1], pytest.approx(-50.0), 2),
        (WEEKS[2], pytest.approx(-100.0), 1),
    ]
    launch = await ind.satisfaction(seeded, Scope(start=START, end=END, campaign_id="launch"))
    assert (launch.ratings, launch.mean_rating, launch.responses) == (4, 3.5, 5)
    # the pilot cohort gave 4 responses in the range: fewer than MIN_GROUP, so not shown
    pilot = await ind.satisfaction(seeded, Scope(cohort="pilot", start=START, end=END))
    assert pilot.hidden and pilot.mean_rating is None and pilot.nps is None


async def test_points_distribution(seeded: Database) -> None:
    # all time: alice 120, bob 15, eve 55, frank 7, carol and dan 0 (botty is a bot)
    dist = await ind.points_distribution(seeded)
    assert (dist.members, dist.with_points, dist.total, dist.max) == (6, 4, 197, 120)
    assert dist.mean == pytest.approx(197 / 6)
    assert dist.median == pytest.approx(11.0)
    assert dist.p90 == pytest.approx(87.5)
    assert [(b.label, b.count) for b in dist.buckets] == [
        ("0", 2),
        ("1-9", 1),
        ("10-49", 1),
        ("50-99", 1),
        ("100-249", 1),
        ("250+", 0),
    ]
    # the range: ledger entries in it; alice 100, bob 15, eve 60 - 5; frank is after the end
    ranged = await ind.points_distribution(seeded, RANGE)
    assert (ranged.members, ranged.total, ranged.median, ranged.max) == (5, 170, 15.0, 100)
    launch = await ind.points_distribution(
        seeded, Scope(start=START, end=END, campaign_id="launch")
    )
    assert (launch.total, launch.with_points, launch.members) == (115, 2, 5)


async def test_help_times(seeded: Database) -> None:
    help_ = await ind.help_times(seeded, RANGE)
    # first responses 1 h, 0.5 h, 4 h; resolutions 3 h, 24 h
    assert (help_.tickets, help_.answered, help_.solved) == (4, 3, 2)
    assert help_.median_first_response == timedelta(hours=1)
    assert help_.median_resolution == timedelta(hours=13.5)
    assert [(w.week, w.value, w.n) for w in help_.weekly_first_response] == [
        (WEEKS[0], pytest.approx(0.75), 2),
        (WEEKS[1], pytest.approx(4.0), 1),
    ]
    wave2 = await ind.help_times(seeded, Scope(cohort="wave2", start=START, end=END))
    assert (wave2.tickets, wave2.median_first_response) == (1, timedelta(hours=4))


async def test_challenges(seeded: Database) -> None:
    found = await ind.challenges(seeded, RANGE)
    # launch/post3: alice and bob took part (eve before the range, botty a bot), alice done;
    # other/react: carol and eve took part, the sales team completed it
    assert found == [
        ind.ChallengeStats("launch/post3", 2, 1, 0),
        ind.ChallengeStats("other/react", 2, 0, 1),
    ]
    assert found[0].completion == pytest.approx(0.5)
    assert found[1].completion == 0.0
    pilot = await ind.challenges(seeded, Scope(cohort="pilot", start=START, end=END))
    assert pilot == [
        ind.ChallengeStats("launch/post3", 2, 1, 0),
        ind.ChallengeStats("other/react", 1, 0, 0),
    ]
    sales = await ind.challenges(seeded, Scope(team="sales", start=START, end=END))
    assert sales == [
        ind.ChallengeStats("launch/post3", 2, 1, 0),
        ind.ChallengeStats("other/react", 1, 0, 1),
    ]
    launch = await ind.challenges(seeded, Scope(start=START, end=END, campaign_id="launch"))
    assert [c.challenge for c in launch] == ["launch/post3"]
    # no range: bob's completion and eve's progress count too
    assert (await ind.challenges(seeded))[0] == ind.ChallengeStats("launch/post3", 3, 2, 0)


async def test_challenge_participants_are_everyone_who_sent_evidence(seeded: Database) -> None:
    # launch/proof asks for evidence a manager judges: alice's was approved (progress, done),
    # bob's waits, carol's was rejected, dan sent one rejected then one approved (furthest:
    # approved, done after the range), eve sent hers before the range, botty is a bot.
    # Participants: the four who sent evidence in the range, whatever its state.
    await _insert(
        seeded,
        ChallengeSubmission,
        [
            _evidence(1, "approved", at(11, 4)),
            _evidence(2, "pending", at(11, 5)),
            _evidence(3, "rejected", at(11, 6)),
            _evidence(4, "rejected", at(11, 6)),
            _evidence(4, "approved", at(11, 7)),
            _evidence(5, "pending", at(10, 25)),
            _evidence(7, "approved", at(11, 4)),
        ],
    )
    await _insert(
        seeded,
        ChallengeProgress,
        [
            {
                "challenge": "launch/proof",
                "subject": f"member:{m}",
                "member_id": m,
                "ref": ref,
                "at": when,
            }
            for m, ref, when in [(1, "evidence:1", at(11, 4)), (4, "evidence:5", at(11, 7))]
        ],
    )
    await _insert(
        seeded,
        ChallengeDone,
        [
            {"challenge": "launch/proof", "subject": "member:1", "completed_at": at(11, 4)},
            {"challenge": "launch/proof", "subject": "member:4", "completed_at": at(11, 25)},
        ],
    )
    found = {c.challenge: c for c in await ind.challenges(seeded, RANGE)}
    proof = found["launch/proof"]
    assert proof == ind.ChallengeStats("launch/proof", 4, 1, 0, approved=2, waiting=1, rejected=1)
    assert proof.completion == pytest.approx(0.25)
    # a challenge without evidence has none of the three
    assert found["launch/post3"] == ind.ChallengeStats("launch/post3", 2, 1, 0)
    # the scope narrows evidence as it narrows progress: wave2 is dan (and eve, before)
    wave2 = {
        c.challenge: c
        for c in await ind.challenges(seeded, Scope(cohort="wave2", start=START, end=END))
    }
    assert wave2["launch/proof"] == ind.ChallengeStats("launch/proof", 1, 0, 0, 1, 0, 0)
    # no range: eve's waiting evidence counts, and dan's completion
    everything = {c.challenge: c for c in await ind.challenges(seeded)}
    assert everything["launch/proof"] == ind.ChallengeStats("launch/proof", 5, 2, 0, 2, 2, 1)
    other = await ind.challenges(seeded, Scope(start=START, end=END, campaign_id="other"))
    assert [c.challenge for c in other] == ["other/react"]


def _evidence(member: int, state: str, when: datetime) -> dict[str, object]:
    """A submission for launch/proof (its evidence key names it: one per member and text)."""
    return {
        "challenge": "launch/proof",
        "member_id": member,
        "text": f"proof {member} {state}",
        "state": state,
        "submitted_at": when,
        "evidence_key": f"text:{member}:{state}",
    }


async def test_empty_database(db: Database) -> None:
    assert [s.count for s in (await ind.funnel(db)).stages] == [0, 0, 0, 0, 0]
    assert await ind.weekly_active(db) == []
    assert await ind.reach(db) == []
    quiz = await ind.quiz_stats(db)
    assert (quiz.participants, quiz.mean_score, quiz.participation) == (0, None, None)
    sat = await ind.satisfaction(db)
    assert (sat.mean_rating, sat.nps) == (None, None)
    points = await ind.points_distribution(db)
    assert (points.members, points.median, points.max) == (0, None, None)
    help_ = await ind.help_times(db)
    assert help_.median_first_response is None
    assert await ind.challenges(db) == []


def test_week_start() -> None:
    assert ind.week_start(date(2026, 11, 22)) == date(2026, 11, 16)  # a Sunday
    assert ind.week_start(date(2026, 11, 23)) == date(2026, 11, 23)  # a Monday


async def test_team_and_cohort_match_whatever_the_case_and_accents(seeded: Database) -> None:
    # as the members search: "SALES" is the team "sales", "pîlot" the cohort "pilot"
    from rallybot.storage.repositories import upsert_member

    typed = await ind.spelled(seeded, Scope(team=" SALES ", cohort="pîlot", end=END))
    assert (typed.team, typed.cohort) == ("sales", "pilot")  # titles say it as stored
    funnel = await ind.funnel(seeded, typed)
    assert funnel.count("invited") == 2  # alice, bob
    satisfaction = await ind.satisfaction(seeded, await ind.spelled(seeded, Scope(team="Sales")))
    assert satisfaction == await ind.satisfaction(seeded, Scope(team="sales"))
    # two spellings in the database ("Équipe" and "equipe"): one team for the figures
    await upsert_member(seeded, "memory", "u-acc1", START - timedelta(days=1), team="Équipe")
    await upsert_member(seeded, "memory", "u-acc2", START - timedelta(days=1), team="equipe")
    both = await ind.spelled(seeded, Scope(team="EQUIPE", end=END))
    assert both.teams() == ("equipe", "Équipe")
    assert (await ind.funnel(seeded, both)).count("invited") == 2
    nobody = await ind.spelled(seeded, Scope(team="nowhere", end=END))
    assert (await ind.funnel(seeded, nobody)).count("invited") == 0
