"""One upload limit, said the same everywhere: the console takes files up to
:data:`UPLOAD_MAX_BYTES` (the figure the manual gives); a roster just over it is told so on
the Members page, and a body too big to be read at all gets a page in the reader's language
saying the same figure, not a bare 413. On SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from pathlib import Path

import sqlalchemy as sa

from rallybot.handlers.console.security import MAX_BODY, UPLOAD_MAX_BYTES
from rallybot.storage.models import Member
from tests.console.conftest import ConsoleClient, ConsoleEnv

MANUAL = Path(__file__).resolve().parents[2] / "docs" / "manual" / "console.md"


def _visible(page: str) -> str:
    main = page.split("<main", 1)[1]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", main)).split())


async def _in_french(console: ConsoleEnv) -> None:
    async with console.db.session() as session:
        await session.execute(sa.update(Member).values(locale="fr"))


def test_the_manual_gives_the_limit_the_console_applies() -> None:
    assert UPLOAD_MAX_BYTES == 5 * 1024 * 1024 < MAX_BODY
    text = " ".join(MANUAL.read_text(encoding="utf-8").split())
    assert "Uploads are limited to 5 MB" in text
    assert "20 MB" not in text


async def test_a_roster_just_over_the_limit_is_told_on_the_members_page(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    await _in_french(console)
    raw = b"id,email\n" + b"x" * UPLOAD_MAX_BYTES  # the file over, the request within
    page = await as_manager.post(
        "/members/roster",
        data={"csrf_token": as_manager.csrf, "platform": "console"},
        files={"file": ("grande.csv", raw, "text/csv")},
    )
    assert page.status_code == 200
    shown = _visible(page.text)
    assert "limitées à 5 Mo" in shown, shown
    assert "20" not in shown.split("limitées", 1)[1][:20]


async def test_an_upload_too_big_to_read_gets_a_page_in_the_readers_language(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    await _in_french(console)
    raw = b"x" * (MAX_BODY + 1)
    # a campaign draft says the campaign files' limit (1 MB), a roster the uploads' one
    for path, limit in (("/members/roster", "5"), ("/drafts", "1")):
        page = await as_manager.post(
            path,
            data={"csrf_token": as_manager.csrf, "platform": "console"},
            files={"file": ("grande.csv", raw, "text/csv")},
        )
        assert page.status_code == 413
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["x-content-type-options"] == "nosniff"
        shown = _visible(page.text)
        assert (
            f"Ce fichier est trop volumineux : cette page accepte les fichiers jusqu'à {limit} Mo."
            in shown
        ), shown
        assert ("rallybot roster import" in shown) == (path == "/members/roster"), shown
    api = await as_manager.post(
        "/api/members/roster",
        data={"platform": "console"},
        files={"file": ("grande.csv", raw, "text/csv")},
        headers=as_manager.csrf_header(),
    )
    assert api.status_code == 413
    assert "5 Mo" in api.json()["detail"]
