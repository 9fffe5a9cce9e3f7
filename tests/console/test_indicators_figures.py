"""The indicators page counts the right people and says who it leaves out: the team and cohort
filters match as the members search does, future starters have not arrived yet."""

from __future__ import annotations

from datetime import timedelta

from rallybot.storage.repositories import (
    RosterSource,
    import_members,
    roster_digest,
    upsert_member,
)
from tests.console.conftest import ConsoleClient, ConsoleEnv


async def _roster(console: ConsoleEnv) -> None:
    now = console.clock.now()
    for user_id, team, cohort in (
        ("amelie", "Ventes", "pilote"),
        ("bastien", "Ventes", "pilote"),
        ("chloe", "Marketing", "pilote"),
    ):
        await upsert_member(
            console.db, "console", user_id, now - timedelta(days=30), team=team, cohort=cohort
        )


async def test_the_team_filter_ignores_case_and_accents(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    await _roster(console)
    for typed in ("ventes", "VENTES", "Véntes"):
        api = (await as_manager.get("/api/indicators", params={"team": typed})).json()
        assert api["funnel"][0]["count"] == 2, typed  # amelie and bastien
    api = (await as_manager.get("/api/indicators", params={"cohort": "PILOTE"})).json()
    assert api["funnel"][0]["count"] == 3
    page = await as_manager.get("/indicators", params={"team": "ventes"})
    assert page.status_code == 200
    assert ">Team<" in page.text and "exact name" not in page.text


async def test_the_page_says_who_is_not_counted_and_who_arrives_later(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    await _roster(console)
    now = console.clock.now()
    # amelie has arrived; farid's start date is next week: invited, not joined
    await upsert_member(console.db, "console", "amelie", now, joined_at=now - timedelta(days=3))
    await upsert_member(
        console.db, "console", "farid", now - timedelta(days=30), joined_at=now + timedelta(days=7)
    )
    api = (await as_manager.get("/api/indicators")).json()
    counts = {s["stage"]: s["count"] for s in api["funnel"]}
    # invited: the three people of conftest but the manager, and the four of the roster
    assert (counts["invited"], counts["joined"]) == (6, 1)
    assert api["arrive_later"] == 1
    assert api["not_counted"] == 1  # Morgan Manager, of RALLYBOT_ADMINS
    page = (await as_manager.get("/indicators")).text
    assert "1 community manager is not counted in these figures" in page
    assert "Arrive later: 1 invited member whose start date is still to come" in page
    # a cohort without the manager: nobody left out, nothing said
    pilote = (await as_manager.get("/indicators", params={"cohort": "pilote"})).text
    assert "not counted" not in pilote


async def test_the_csv_files_speak_the_readers_language(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    import codecs
    import csv
    import io
    import zipfile

    def _french_csv(data: bytes) -> list[list[str]]:
        # what French Excel opens: a byte-order mark, ";" between cells
        assert data.startswith(codecs.BOM_UTF8)
        return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))

    # the manager reads French
    await upsert_member(console.db, "slack", "UMANAGER", console.clock.now(), locale="fr")
    archive = zipfile.ZipFile(io.BytesIO((await as_manager.get("/indicators/report.zip")).content))
    funnel = _french_csv(archive.read("funnel.csv"))
    assert funnel[0] == [
        "Cohorte",
        "Étape",
        "Membres",
        "Des invités (%)",
        "De l'étape précédente (%)",
    ]
    assert funnel[1][:2] == ["Tous", "invités"]
    summary = _french_csv(archive.read("summary.csv"))
    assert ["Community managers non comptés", "1"] in summary
    # times in the community's zone, named in the column, as the pages show them
    zone = console.settings.timezone
    reach = _french_csv(archive.read("reach.csv"))
    assert reach[0][0] == f"Envoyé ({zone})"
    assert [row[0] for row in summary if row[0].startswith("Calculé le")] == [
        f"Calculé le ({zone})"
    ]


async def _invited(as_manager: ConsoleClient) -> int:
    api = (await as_manager.get("/api/indicators")).json()
    return int({s["stage"]: s["count"] for s in api["funnel"]}["invited"])


async def test_a_roster_uploaded_on_the_members_page_is_counted_at_once(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    before = await _invited(as_manager)  # computed, kept for minutes
    roster = b"id,email,name\n" + b"".join(
        f"u{i},u{i}@example.com,User {i}\n".encode() for i in range(15)
    )
    page = await as_manager.post(
        "/members/roster",
        data={"csrf_token": as_manager.csrf, "platform": "console"},
        files={"file": ("team.csv", roster, "text/csv")},
    )
    assert page.status_code == 200 and "15" in page.text
    assert await _invited(as_manager) == before + 15
    answer = await as_manager.post(
        "/api/members/roster",
        data={"platform": "console"},
        files={"file": ("more.csv", b"id,email\nv1,v1@example.com\n", "text/csv")},
        headers=as_manager.csrf_header(),
    )
    assert answer.json()["created"] == 1
    assert await _invited(as_manager) == before + 16


async def test_a_roster_imported_by_another_process_is_counted_at_once(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    before = await _invited(as_manager)
    # ``rallybot roster import`` in its own process: this one's cache learns it from the
    # database only.
    rows = [(f"w{i}", {"email": f"w{i}@example.com"}) for i in range(4)]
    source = RosterSource("/srv/rosters/team.csv", roster_digest(b"team"))
    await import_members(console.db, "console", rows, console.clock.now(), source=source)
    assert await _invited(as_manager) == before + 4
    # an import that names no file (the demo) does not tell: the figures stay as kept
    await import_members(console.db, "console", [("z1", {})], console.clock.now())
    assert await _invited(as_manager) == before + 4
