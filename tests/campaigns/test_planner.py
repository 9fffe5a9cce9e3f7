"""The planner: local times across DST, member zones, quiet hours, audiences, locales."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from rallybot.bot.messages import plain
from rallybot.campaigns.planner import MemberView, plan
from rallybot.campaigns.quiet_hours import QuietHours
from rallybot.campaigns.schema import Campaign, CampaignSpec, check_references, compile_campaign

WINDOW = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 6, 1, tzinfo=UTC))


def make(steps: list[dict[str, Any]], **extra: Any) -> Campaign:
    data: dict[str, Any] = {
        "id": "c",
        "title": "Test",
        "timezone": "Europe/Paris",
        "milestones": {"launch": "2026-11-03 09:30"},
        "channels": {"annonces": "general"},
        "audiences": {"pilote": {"cohort": "pilote"}, "ventes": {"team": "Ventes"}},
        "steps": steps,
        **extra,
    }
    spec = CampaignSpec.model_validate(data)
    assert check_references(spec) == []
    return compile_campaign(spec, "test.yaml", default_quiet_hours=QuietHours(time(21), time(8)))


def m(key: str, **kw: Any) -> MemberView:
    return MemberView(key=key, **kw)


def test_teasers_keep_local_time_across_the_daylight_saving_change() -> None:
    campaign = make(
        [
            {
                "id": f"t{d}",
                "at": f"launch - {d}d at 09:00",
                "post": "annonces",
                "text": "J-{days_to_launch}",
            }
            for d in (30, 14, 7)
        ]
    )
    due = {d.step.id: d.due_at for d in plan(campaign, [], *WINDOW)}
    # 2026-10-04 and 2026-10-20 are summer time (UTC+2), 2026-10-27 is winter time (UTC+1).
    assert due["t30"] == datetime(2026, 10, 4, 7, 0, tzinfo=UTC)
    assert due["t14"] == datetime(2026, 10, 20, 7, 0, tzinfo=UTC)
    assert due["t7"] == datetime(2026, 10, 27, 8, 0, tzinfo=UTC)
    texts = {d.step.id: d.message().text for d in plan(campaign, [], *WINDOW)}
    assert texts == {"t30": "J-30", "t14": "J-14", "t7": "J-7"}


def test_a_9am_dm_reaches_every_member_at_9am_their_time() -> None:
    campaign = make([{"id": "rappel", "at": "launch - 1d at 09:00", "dm": "Demain !"}])
    members = [
        m("paris", timezone="Europe/Paris"),
        m("montreal", timezone="America/Montreal"),
        m("tokyo", timezone="Asia/Tokyo"),
        m("unknown"),  # falls back to the default zone
    ]
    due = {d.member.key: d.due_at for d in plan(campaign, members, *WINDOW) if d.member}
    assert due["paris"] == datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    assert due["montreal"] == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
    assert due["tokyo"] == datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
    assert due["unknown"] == due["paris"]
    for d in plan(campaign, members, *WINDOW):
        assert d.local_due.time() == time(9, 0)


def test_quiet_hours_push_a_night_time_dm_to_the_morning() -> None:
    campaign = make([{"id": "annonce", "at": "launch", "dm": "C'est parti"}])
    members = [m("paris", timezone="Europe/Paris"), m("la", timezone="America/Los_Angeles")]
    due = {d.member.key: d for d in plan(campaign, members, *WINDOW) if d.member}
    # 09:30 Paris is 00:30 in Los Angeles: quiet until 08:00 there.
    assert due["paris"].due_at == datetime(2026, 11, 3, 8, 30, tzinfo=UTC)
    assert due["la"].local_due.replace(tzinfo=None) == datetime(2026, 11, 3, 8, 0)


def test_quiet_hours_can_be_turned_off_per_step() -> None:
    campaign = make([{"id": "a", "at": "launch", "dm": "x", "quiet_hours": False}])
    [d] = list(plan(campaign, [m("la", timezone="America/Los_Angeles")], *WINDOW))
    assert d.local_due.replace(tzinfo=None) == datetime(2026, 11, 3, 0, 30)


def test_join_relative_steps_follow_each_member() -> None:
    campaign = make(
        [
            {
                "id": "bienvenue",
                "for": "pilote",
                "at": "join + 0d at 10:00",
                "dm": "Bienvenue {first_name}",
            },
            {"id": "relance", "for": "pilote", "at": "join + 2d at 10:00", "dm": "Profil ?"},
        ]
    )
    joined_morning = datetime(2026, 11, 3, 7, 0, tzinfo=UTC)  # 08:00 Paris
    joined_afternoon = datetime(2026, 11, 3, 13, 30, tzinfo=UTC)  # 14:30 Paris
    members = [
        m("a", cohort="pilote", joined_at=joined_morning, first_name="Ana"),
        m("b", cohort="pilote", joined_at=joined_afternoon, first_name="Bo"),
        m("c", cohort="vague-2", joined_at=joined_morning),
        m("d", cohort="pilote"),  # no join date: no journey yet
    ]
    got = {(d.step.id, d.member.key): d for d in plan(campaign, members, *WINDOW) if d.member}
    assert set(got) == {("bienvenue", "a"), ("bienvenue", "b"), ("relance", "a"), ("relance", "b")}
    assert got["bienvenue", "a"].local_due.replace(tzinfo=None) == datetime(2026, 11, 3, 10, 0)
    # Joined after 10:00: the welcome goes at the next 10:00, never before the join.
    assert got["bienvenue", "b"].local_due.replace(tzinfo=None) == datetime(2026, 11, 4, 10, 0)
    assert got["relance", "b"].local_due.replace(tzinfo=None) == datetime(2026, 11, 5, 10, 0)
    assert plain(got["bienvenue", "a"].message().text) == "Bienvenue Ana"


def test_full_members_get_their_past_journey_in_the_window() -> None:
    campaign = make([{"id": "w", "at": "join + 0d at 10:00", "dm": "hi"}])
    joined = datetime(2026, 11, 3, 7, 0, tzinfo=UTC)
    later = (datetime(2026, 11, 4, tzinfo=UTC), datetime(2026, 11, 5, tzinfo=UTC))
    member = m("a", joined_at=joined)
    assert list(plan(campaign, [member], *later)) == []
    [d] = list(plan(campaign, [member], *later, full_members=frozenset({"a"})))
    assert d.due_at == datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def test_recurrence_between_from_and_until() -> None:
    campaign = make(
        [
            {
                "id": "digest",
                "every": "monday at 09:00",
                "from": "launch",
                "until": "launch + 28d",
                "post": "annonces",
                "text": "J+{days_since_launch}",
            }
        ]
    )
    deliveries = list(plan(campaign, [], *WINDOW))
    assert [d.occurrence for d in deliveries] == [
        "2026-11-09",
        "2026-11-16",
        "2026-11-23",
        "2026-11-30",
    ]
    assert deliveries[0].due_at == datetime(2026, 11, 9, 8, 0, tzinfo=UTC)
    assert deliveries[0].message().text == "J+6"


def test_audiences_skip_bots_and_people_who_opted_out() -> None:
    campaign = make([{"id": "x", "at": "launch", "for": ["pilote", "ventes"], "dm": "hi"}])
    members = [
        m("pilot", cohort="pilote"),
        m("sales", team="Ventes"),
        m("other", team="RH"),
        m("bot", cohort="pilote", is_bot=True),
        m("out", cohort="pilote", opted_out=True),
    ]
    keys = sorted(d.member.key for d in plan(campaign, members, *WINDOW) if d.member)
    assert keys == ["pilot", "sales"]


def test_locale_fallback_and_channel_posts_in_the_campaign_language() -> None:
    campaign = make(
        [
            {
                "id": "x",
                "at": "launch",
                "dm": {"fr": "Bonjour {first_name}", "en": "Hello {first_name}"},
            },
        ]
    )
    members = [
        m("en", locale="en-GB", first_name="Ann"),
        m("de", locale="de", first_name="Dirk"),
        m("none", first_name="Zoé"),
    ]
    texts = {
        d.member.key: plain(d.message().text) for d in plan(campaign, members, *WINDOW) if d.member
    }
    assert texts == {"en": "Hello Ann", "de": "Bonjour Dirk", "none": "Bonjour Zoé"}


def test_the_plan_is_deterministic_and_keys_are_unique() -> None:
    campaign = make(
        [
            {"id": "a", "at": "launch - 3d at 09:00", "post": "annonces", "text": "x"},
            {"id": "b", "at": "join + 1d at 10:00", "dm": "y"},
            {
                "id": "c",
                "every": "day at 12:00",
                "from": "launch",
                "until": "launch + 3d",
                "dm": "z",
            },
        ]
    )
    members = [
        m(str(i), joined_at=datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=i))
        for i in range(20)
    ]
    first = [(d.key, d.due_at) for d in plan(campaign, members, *WINDOW)]
    second = [(d.key, d.due_at) for d in plan(campaign, members, *WINDOW)]
    assert first == second
    assert len({k for k, _ in first}) == len(first) == 1 + 20 + 4 * 20


def test_window_bounds_are_half_open() -> None:
    campaign = make([{"id": "a", "at": "2026-11-03 09:30", "post": "annonces", "text": "x"}])
    due = datetime(2026, 11, 3, 8, 30, tzinfo=UTC)
    assert len(list(plan(campaign, [], due, due + timedelta(seconds=1)))) == 1
    assert list(plan(campaign, [], due - timedelta(hours=1), due)) == []
