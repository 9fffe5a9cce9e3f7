"""The members page as a French community manager reads it: a person by their name (their
account only to tell two people of one name apart), a month cohort as a month, a header for
the erase column, a roster's problems at their line and column in words (the command line
keeps ``file:line:column``). On SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re

import sqlalchemy as sa

from rallybot.handlers.console.sources import cohort_words
from rallybot.storage.models import Member
from tests.console.conftest import ConsoleClient, ConsoleEnv

ROSTER = (
    b"id,email,name,cohort\n"
    b"amelie,amelie@example.com,Am\xc3\xa9lie,2026-11\n"
    b"bruno,not-an-email,Bruno,2026-11\n"
)


def _visible(page: str) -> str:
    main = page.split("<main", 1)[1]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", main)).split())


async def _french(console: ConsoleEnv) -> None:
    async with console.db.session() as session:
        await session.execute(sa.update(Member).values(locale="fr"))
        for user_id, name, cohort in (
            ("amelie", "Amélie", "2026-11"),
            ("amelie2", "Amélie", "pilote"),
            ("bastien", "Bastien", "2027-01"),
        ):
            session.add(
                Member(
                    platform="console",
                    platform_user_id=user_id,
                    display_name=name,
                    cohort=cohort,
                    team="Ventes",
                    locale="fr",
                )
            )


async def test_members_by_name_and_cohort_in_words(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    await _french(console)
    page = (await as_manager.get("/members")).text
    shown = _visible(page)
    # Bastien is the only one of his name: his name alone
    assert "Bastien Ventes · janvier 2027" in shown
    assert "bastien" not in shown and "console" not in shown.split("Nom", 1)[1].split("Envoyer")[0]
    # two Amélie: their accounts tell them apart, as muted secondary text
    assert '<span class="muted">amelie · Console</span>' in page
    assert '<span class="muted">amelie2 · Console</span>' in page
    assert "Ventes · novembre 2026" in shown and "2026-11" not in shown
    assert "Ventes · pilote" in shown
    # the erase column has a header screen readers announce
    assert '<th scope="col"><span class="sr-only">Effacement</span></th>' in page
    # the roster's platforms by their names
    assert '<option value="console">Console</option>' in page
    # the JSON API keeps what is stored
    api = (await as_manager.get("/api/members", params={"q": "bastien"})).json()
    assert api["members"][0]["cohort"] == "2027-01"


async def test_indicators_name_a_month_cohort_as_a_month(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    await _french(console)
    page = (await as_manager.get("/indicators")).text
    assert '<option value="2026-11">novembre 2026</option>' in page
    assert '<option value="pilote">pilote</option>' in page


def test_cohort_words() -> None:
    assert cohort_words("2026-11", "fr") == "novembre 2026"
    assert cohort_words("2026-11", "es") == "noviembre de 2026"
    assert cohort_words("2026-11", "de") == "November 2026"
    assert cohort_words("2026-13", "fr") == "2026-13"  # no month: as written
    assert cohort_words("pilote", "fr") == "pilote"


async def test_roster_problems_at_their_line_and_column_in_words(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    await _french(console)
    async with console.db.read() as session:
        before = await session.scalar(sa.select(sa.func.count()).select_from(Member))
    page = await as_manager.post(
        "/members/roster",
        data={"csrf_token": as_manager.csrf, "platform": "console"},
        files={"file": ("equipe.csv", ROSTER, "text/csv")},
    )
    shown = _visible(page.text)
    assert "Ligne 3, colonne 2 : email : « not-an-email » n'est pas une adresse e-mail" in shown
    assert "equipe.csv:3" not in shown
    async with console.db.read() as session:  # all or nothing: Amélie's good row waits too
        assert await session.scalar(sa.select(sa.func.count()).select_from(Member)) == before


async def test_a_problem_of_the_whole_roster_has_no_line_or_column(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    """An empty file, one that is no text, an unreadable workbook: nothing to point at, so
    no "Ligne 1, colonne 1" (which would send the reader to a cell that is fine)."""
    await _french(console)
    for name, raw, problem in (
        ("vide.csv", b"\n\n", "Le fichier est vide"),
        ("image.csv", b"\x89PNG\x00\x00binary", "Ce n'est pas un fichier texte"),
        ("classeur.xlsx", b"PK\x03\x04 not a workbook", "Ce n'est pas un classeur Excel"),
    ):
        page = await as_manager.post(
            "/members/roster",
            data={"csrf_token": as_manager.csrf, "platform": "console"},
            files={"file": (name, raw, "text/csv")},
        )
        shown = _visible(page.text)
        assert problem in shown, shown
        assert not re.search(r"ligne \d+, colonne \d+", shown, re.IGNORECASE), shown


async def test_the_erase_question_names_the_platform(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    await _french(console)
    async with console.db.read() as session:
        bastien = await session.scalar(
            sa.select(Member.id).where(Member.platform_user_id == "bastien")
        )
    page = (await as_manager.get(f"/members/{bastien}/erase")).text
    assert "Effacer Bastien (bastien sur Console) ?" in page


async def test_an_erased_member_is_not_imported_again_and_the_page_says_so(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    await _french(console)
    async with console.db.session() as session:
        await session.execute(
            sa.update(Member)
            .where(Member.platform_user_id == "bastien")
            .values(email="bastien@example.com")
        )
        bastien = await session.scalar(
            sa.select(Member.id).where(Member.platform_user_id == "bastien")
        )
    erased = await as_manager.post(
        f"/members/{bastien}/erase", data={"csrf_token": as_manager.csrf, "confirm": "yes"}
    )
    assert "Le membre a été effacé." in _visible(erased.text)
    # A roster still naming Bastien (by his e-mail, under another id) and a wrong row: all or
    # nothing holds for the real error, and Bastien is not one.
    wrong = b"id,email,name\nb.martin,Bastien@example.com,Bastien\nzoe,not-an-email,Zoe\n"
    page = await as_manager.post(
        "/members/roster",
        data={"csrf_token": as_manager.csrf, "platform": "console"},
        files={"file": ("equipe.csv", wrong, "text/csv")},
    )
    shown = _visible(page.text)
    assert "1 problème : rien n'a été importé." in shown
    assert "Ligne 3, colonne 2" in shown and "Ligne 2" not in shown
    right = b"id,email,name,team\nb.martin,Bastien@example.com,Bastien,Ventes\nzoe,,Zoe,Ventes\n"
    page = await as_manager.post(
        "/members/roster",
        data={"csrf_token": as_manager.csrf, "platform": "console"},
        files={"file": ("equipe.csv", right, "text/csv")},
    )
    shown = _visible(page.text)
    assert "1 membre créé, 0 mis à jour, 0 inchangé." in shown
    assert "1 personne effacée à sa demande n'a pas été réimportée." in shown
    async with console.db.read() as session:
        people = set(
            await session.scalars(
                sa.select(Member.platform_user_id).where(Member.forgotten.is_(False))
            )
        )
    assert "zoe" in people and not {"bastien", "b.martin"} & people
