"""The README and the documentation site are real: their snippets load, their commands exist,
the tutorial's commands run, and the generated reference pages cover the code."""

from __future__ import annotations

import importlib.util
import re
import shlex
import sys
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from rallybot.bot.cli import app
from rallybot.bot.config import Settings
from rallybot.campaigns.editor_schema import KINDS
from rallybot.campaigns.loader import load_campaign_text
from rallybot.campaigns.roster import load_roster_text

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = (ROOT / "README.md").read_text(encoding="utf-8")
PAGES = sorted(DOCS.rglob("*.md"))
# A fenced block ``{ .sh .run }`` is run by test_the_run_blocks_of_the_docs_run; a ``yaml``
# block with a title="path" is written to that path first.
_FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _blocks(text: str) -> list[tuple[str, str]]:
    return [(info.strip(), body) for info, body in _FENCE.findall(text)]


def _hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "mkdocs_hooks", ROOT / "tools" / "mkdocs_hooks.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["mkdocs_hooks"] = module
    spec.loader.exec_module(module)
    return module


def test_the_readme_starts_with_the_two_commands_and_stays_short() -> None:
    assert len(README.encode("utf-8")) < 8 * 1024
    first = README.split("\n\n", 2)
    assert first[0] == "# Rallybot"
    info, body = _blocks(README)[0]
    assert info == "sh"
    assert README.index("```sh") < README.index("\n## ")
    assert body.splitlines()[0].startswith("make demo")
    assert body.splitlines()[1].startswith("make test")


def test_the_readme_campaign_is_a_valid_campaign() -> None:
    [snippet] = [body for info, body in _blocks(README) if info == "yaml"]
    campaign = load_campaign_text(snippet, "README.md")
    assert campaign.id == "coffee-club"
    assert set(campaign.spec.audiences) == {"pilot"}


@pytest.mark.parametrize("source", [ROOT / "README.md", *PAGES], ids=lambda p: p.name)
def test_links_to_files_of_the_repository_exist(source: Path) -> None:
    text = _FENCE.sub("", source.read_text(encoding="utf-8"))
    text = re.sub(r"`[^`\n]*`", "", text)  # code shows link syntax, it does not link
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if target.startswith(("http://", "https://", "#", "mailto:")):
            continue
        path = target.split("#", 1)[0]
        # The generated reference pages count too: they are committed (make reference).
        assert (source.parent / path).exists(), f"{source.name}: broken link {target}"


def _commands_in_docs() -> list[tuple[str, str]]:
    found = []
    for source in [ROOT / "README.md", *PAGES]:
        for info, body in _blocks(source.read_text(encoding="utf-8")):
            if info.split()[0:1] not in (["sh"], ["{"], ["console"]) and ".sh" not in info:
                continue
            for line in body.splitlines():
                if line.startswith("rallybot "):
                    found.append((source.name, line))
    return found


def test_every_rallybot_command_named_in_the_docs_exists() -> None:
    runner = CliRunner()
    commands = _commands_in_docs()
    assert len(commands) > 20
    for source, line in commands:
        words = shlex.split(line.split(" #")[0])[1:]
        while words and words[0].startswith("--"):  # global options and their values
            words = words[2:] if words[0] in {"--env-file"} else words[1:]
        named = [w for w in words[:2] if re.fullmatch(r"[a-z][a-z-]*", w)]
        result = runner.invoke(app, [*named[:1], "--help"])
        assert result.exit_code == 0, (source, line, result.output)
        if len(named) == 2 and "Commands" in result.output:
            sub = runner.invoke(app, [*named, "--help"])
            assert sub.exit_code == 0, (source, line, sub.output)


def _runnable_pages() -> list[Path]:
    return [p for p in PAGES if "```{ .sh .run }" in p.read_text(encoding="utf-8")]


def test_the_tutorials_have_run_blocks() -> None:
    assert {p.relative_to(DOCS).as_posix() for p in _runnable_pages()} >= {
        "tutorial/en.md",
        "tutorial/fr.md",
    }


@pytest.mark.parametrize("page", _runnable_pages(), ids=lambda p: p.relative_to(DOCS).as_posix())
def test_the_run_blocks_of_the_docs_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each ``{ .sh .run }`` block, in order, in an empty folder; titled YAML blocks are written
    to their path first, as the reader would save them."""
    monkeypatch.chdir(tmp_path)
    for variable in ("DATABASE_URL", "RALLYBOT_CAMPAIGNS_DIR"):
        monkeypatch.delenv(variable, raising=False)
    runner = CliRunner()
    ran = 0
    written: list[str] = []
    for info, body in _blocks(page.read_text(encoding="utf-8")):
        title = re.search(r'title="([^"]+)"', info)
        if info.startswith("yaml") and title:
            target = tmp_path / title.group(1)
            assert target.parent.is_dir(), f"{page.name}: {title.group(1)} before its folder exists"
            target.write_text(body, encoding="utf-8")
            written.append(title.group(1))
        if info != "{ .sh .run }":
            continue
        for line in body.splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            args = shlex.split(line.split(" #")[0])
            assert args[0] == "rallybot", line
            result = runner.invoke(app, args[1:])
            assert result.exit_code == 0, (line, result.output)
            warned = [w for w in written if f"{w}:" in result.output]
            assert not warned, (line, result.output)  # the page's own files are clean
            ran += 1
    assert ran >= 3


def test_the_generated_reference_pages_cover_the_code() -> None:
    hooks = _hooks()
    settings = hooks.settings_page()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        names = getattr(alias, "choices", None) or [alias]
        assert f"`{names[0]}`" in settings, names[0]
    # Each setting says what it is, in the words of its own block of the example file (a
    # block once ran on into every later one: the secret key read as the help channel).
    rows = {
        line.split("|")[1].strip(): line.split("|")[3].strip()
        for line in settings.splitlines()
        if line.startswith("| `")
    }
    assert all(rows.values()), [name for name, meaning in rows.items() if not meaning]
    assert rows["`RALLYBOT_SECRET_KEY`"].startswith("Privacy: the secret"), rows
    assert "erased" in rows["`RALLYBOT_SECRET_KEY`"]
    assert rows["`RALLYBOT_HELPERS`"].startswith("Helpers on duty"), rows
    assert rows["`SLACK_SIGNING_SECRET`"] == rows["`SLACK_BOT_TOKEN`"]  # one block, three
    cli = hooks.cli_page()
    for command in ("rallybot run", "rallybot db backup", "rallybot schema", "rallybot validate"):
        assert f"## `{command}`" in cli
    formats = hooks.formats_page()
    for kind in KINDS:
        assert f"`{kind}.schema.json`" in formats
    assert "| `steps` |" in formats


@pytest.mark.parametrize(
    "uri", ["reference/settings.md", "reference/cli.md", "reference/file-formats.md"]
)
def test_the_committed_reference_pages_are_what_the_code_generates(uri: str) -> None:
    hooks = _hooks()
    assert uri in hooks.PAGES
    committed = DOCS / uri
    assert committed.exists(), f"docs/{uri} is missing: run `make reference` and commit it"
    assert committed.read_text(encoding="utf-8") == hooks.PAGES[uri](), (
        f"docs/{uri} is out of date: run `make reference` and commit it"
    )


def test_the_reference_pages_do_not_depend_on_the_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hooks = _hooks()
    wide = hooks.cli_page()
    monkeypatch.setenv("COLUMNS", "30")
    assert hooks.cli_page() == wide
    # The usage lines name the arguments as the command line does, not Typer's {path}.
    assert "Usage: rallybot plan [OPTIONS] PATH" in wide
    assert not re.search(r"\{[a-z_]+\}", wide)


def _page_blocks(page: str, language: str) -> list[str]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return [body for info, body in _blocks(text) if info == language]


def test_the_manual_campaign_snippet_is_a_valid_campaign() -> None:
    [snippet] = [b for b in _page_blocks("manual/campaigns.md", "yaml") if b.startswith("id: ")]
    campaign = load_campaign_text(snippet, "campaigns.md")
    assert campaign.id == "lancement-connect"
    assert set(campaign.spec.audiences) == {
        "pilote",
        "ventes-pilote",
        "ambassadeurs",
        "lecteurs",
        "tous",
    }


def test_the_manual_roster_snippet_is_a_valid_roster() -> None:
    [snippet] = _page_blocks("manual/rosters.md", "csv")
    entries = load_roster_text(snippet, "rosters.md", default_timezone="Europe/Paris")
    assert [e.id for e in entries] == ["amelie", "david"]
    assert entries[1].timezone == "America/Montreal"
