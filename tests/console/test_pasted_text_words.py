"""A pasted draft is a text, not a file: Check a draft says so in every sentence of its result
(the count line, and the loader's messages about the whole draft); an uploaded file is still
"the file"."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from rallybot.storage.models import Member
from tests.console.conftest import ConsoleClient, ConsoleEnv
from tests.console.test_act_pages import BROKEN
from tests.console.test_drafts import CAMPAIGN

# Aliases that expand to 9**7 values: past the loader's limit.
BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{before}'] * 9)}]\n"
    for before, name in zip("abcde", "bcdef", strict=True)
)

# (kind, pasted text, what the result says of it in French)
PASTED = [
    ("auto", CAMPAIGN, "Aucune erreur : ce texte se charge."),
    ("auto", BROKEN, "1 erreur : le texte ne se chargerait pas."),
    ("auto", "# rien\n", "le texte est vide : une campagne demande au moins id, title et steps"),
    ("quiz", "# rien\n", "le texte est vide : une banque de quiz demande au moins bank"),
    ("faq", "# rien\n", "le texte est vide : une FAQ demande au moins faq et entries"),
    ("rules", "# rien\n", "le texte est vide : écrivez au moins une clé"),
    ("community", "# rien\n", "le texte est vide : un fichier de communauté demande"),
    ("auto", "- a\n- b\n", "le texte devrait être un dictionnaire de clés (id: ..., title: ..."),
    ("auto", "id: a\x00b\n", "ce n'est pas du texte brut (il contient des données binaires)"),
    ("auto", "a: " + "[" * 30 + "]" * 30 + "\n", "le texte imbrique plus de 20 niveaux"),
    ("auto", BOMB, "le texte se développe en trop de valeurs"),
]


@pytest.fixture
async def french(console: ConsoleEnv) -> None:
    """Everyone reads French."""
    async with console.db.session() as session:
        await session.execute(sa.update(Member).values(locale="fr"))


def _result(page: str) -> str:
    """The words of the page's result, as read (tags dropped, spaces joined)."""
    found = re.search(r'<section id="draft-result".*?</section>', page, re.S)
    assert found is not None, page
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(0))).split())


@pytest.mark.usefixtures("french")
@pytest.mark.parametrize(("kind", "text", "said"), PASTED)
async def test_a_pasted_draft_is_the_text_in_every_sentence(
    as_manager: ConsoleClient, kind: str, text: str, said: str
) -> None:
    form = {"csrf_token": as_manager.csrf, "kind": kind, "text": text}
    result = _result((await as_manager.post("/drafts", data=form)).text)
    assert said in result, result
    assert "fichier" not in result.replace("fichier de communauté", ""), result


@pytest.mark.usefixtures("french")
async def test_an_uploaded_draft_is_still_the_file(as_manager: ConsoleClient) -> None:
    form = {"csrf_token": as_manager.csrf, "kind": "auto"}
    for content, said in (
        (BROKEN, "1 erreur : le fichier ne se chargerait pas."),
        (CAMPAIGN, "Aucune erreur : ce fichier se charge."),
        ("- a\n", "le fichier devrait être un dictionnaire de clés"),
        ("# rien\n", "le fichier est vide : une campagne demande"),
    ):
        page = await as_manager.post(
            "/drafts", data=form, files={"file": ("mine.yaml", content.encode(), "text/yaml")}
        )
        assert said in _result(page.text)
