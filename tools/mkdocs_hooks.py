"""The reference pages, generated from the code, and the mkdocs hook that checks them.

- ``reference/settings.md`` from the settings model and the comments of config.example.env;
- ``reference/cli.md`` from the Typer application (every command, argument and option);
- ``reference/file-formats.md`` from the JSON Schemas of the campaign, quiz, FAQ and rules files.

They are committed under docs/, so their links work where the docs are read in the
repository, and never written by hand: ``make reference`` (``python tools/mkdocs_hooks.py``)
writes them again after a change of the code. ``tests/test_docs.py`` fails when a committed
page differs from what the code generates, and so does ``make docs`` (the hook warns, and
``--strict`` turns the warning into an error); a page missing is generated at build time.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path
from typing import Any

import typer
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

import rallybot.bot.assembly  # noqa: F401  (the installed features add their step blocks: poll:)
from rallybot.bot import cli_typer
from rallybot.bot.cli import app
from rallybot.bot.config import Settings
from rallybot.campaigns.editor_schema import KINDS, json_schema, schema_file_name

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
_GENERATED = (
    "<!-- Generated from the code by `make reference` (tools/mkdocs_hooks.py); a test fails "
    "when this page is out of date. Do not edit by hand. -->\n"
)
_WIDTH = 100
"""The usage lines' width: the page must not depend on the terminal it was generated in."""
log = logging.getLogger("mkdocs.plugins.rallybot_reference")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _env_comments() -> dict[str, str]:
    """Each variable of config.example.env with the comment block above it: a block says
    the run of variables that follows it (``SLACK_BOT_TOKEN`` and the next two share one), and
    a comment after a variable starts the next block."""
    comments: dict[str, str] = {}
    block: list[str] = []
    assigned = False
    text = (ROOT / "config.example.env").read_text(encoding="utf-8")
    for raw in text.splitlines():
        line = raw.strip()
        assignment = re.match(r"^#?\s*([A-Z][A-Z0-9_]+)=", line)
        if assignment:
            comments.setdefault(assignment.group(1), " ".join(block))
            assigned = True
        elif line.startswith("#"):
            if assigned:
                block, assigned = [], False
            block.append(line.lstrip("#").strip())
        else:
            block, assigned = [], False
    return comments


def _names(field: Any) -> list[str]:
    alias = field.validation_alias
    choices = getattr(alias, "choices", None) or ([alias] if alias else [])
    return [str(choice) for choice in choices]


def _default(field: Any) -> str:
    if field.default_factory is not None:
        return "(empty)"
    value = field.default
    if value is None or value == "":
        return "(empty)"
    return f"`{value}`"


def settings_page() -> str:
    """Every setting: its variable(s), default and meaning."""
    comments = _env_comments()
    lines = [
        "# Settings reference\n",
        _GENERATED,
        "Settings come from the environment, from `NAME_FILE` files (Docker and Kubernetes "
        "secrets), from `.env` in the working folder (or `--env-file`), and from "
        "`RALLYBOT_SECRETS_DIR`. `rallybot config example` prints a commented file to start "
        "from. Unknown `RALLYBOT_*`, `SLACK_*` and `DISCORD_*` variables are reported at "
        "start.\n",
        "| variable | default | meaning |",
        "|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        names = _names(field) or [name.upper()]
        meaning = next((comments[n] for n in names if comments.get(n)), "")
        variables = "<br>".join(f"`{n}`" for n in names)
        lines.append(f"| {variables} | {_cell(_default(field))} | {_cell(meaning)} |")
    lines.append("\n## The example file\n")
    lines.append("```sh")
    lines.append((ROOT / "config.example.env").read_text(encoding="utf-8").rstrip())
    lines.append("```")
    return "\n".join(lines) + "\n"


def _commands(group: Any, prefix: str) -> list[tuple[str, Any]]:
    # Typer carries its own copy of click: its classes are recognised by shape, not by type.
    found: list[tuple[str, Any]] = []
    context = group.context_class(group)
    for name in sorted(group.list_commands(context)):
        command = group.get_command(context, name)
        if command is None or command.hidden:
            continue
        path = f"{prefix} {name}"
        if hasattr(command, "list_commands"):
            found.extend(_commands(command, path))
        else:
            found.append((path, command))
    return found


def cli_page() -> str:
    """Every command with its arguments and options, from the Typer application."""
    root = typer.main.get_command(app)
    # The words `rallybot --locale en` shows: PATHS, not Typer's own {paths}.
    cli_typer.apply(root, "en")
    lines = ["# Command line reference\n", _GENERATED, "`rallybot --help` shows the same.\n"]
    for path, command in _commands(root, "rallybot"):
        context = command.context_class(
            command, info_name=path, terminal_width=_WIDTH, max_content_width=_WIDTH
        )
        lines.append(f"## `{path}`\n")
        lines.append((command.help or "").strip().split("\n\n")[0].replace("\n", " ") + "\n")
        lines.append(f"```text\n{command.get_usage(context)}\n```\n")
        rows = []
        for param in command.params:
            if param.param_type_name == "option":
                if param.name == "help":
                    continue
                names = ", ".join(f"`{o}`" for o in (*param.opts, *param.secondary_opts))
                help_text = getattr(param, "help", None) or ""
            else:
                names = f"`{(param.name or '').upper()}`"
                help_text = getattr(param, "help", None) or ""
            default = param.default if param.default not in (None, False, ()) else ""
            shown = f"`{default}`" if default != "" else ""
            rows.append(f"| {names} | {_cell(str(help_text))} | {_cell(shown)} |")
        if rows:
            lines += ["| argument or option | meaning | default |", "|---|---|---|", *rows, ""]
    return "\n".join(lines) + "\n"


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(_type(s) for s in schema["anyOf"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {_type(schema.get('items', {}))}"
    if "enum" in schema:
        return " / ".join(f"{v}" for v in schema["enum"])
    return str(kind)


def formats_page() -> str:
    """The keys of each file kind, from its JSON Schema."""
    lines = [
        "# File formats reference\n",
        _GENERATED,
        "Each kind of file has a JSON Schema, printed by `rallybot schema KIND` and shipped "
        "beside the examples (`rallybot examples copy DIR` copies them). A file whose first "
        "line is `# yaml-language-server: $schema=../schemas/campaign.schema.json` gets "
        "completion and checks in editors with the YAML language server (VS Code's YAML "
        "extension, for one). `rallybot validate` remains the judge: it also checks what a "
        "schema cannot (unknown milestones, audiences, channels).\n",
    ]
    for kind, (_model, title, description) in KINDS.items():
        schema = json_schema(kind)
        lines.append(f"## {title} (`{schema_file_name(kind)}`)\n")
        lines.append(f"{description}\n")
        lines += _keys(schema)
        for name, part in schema.get("$defs", {}).items():
            if part.get("properties"):
                lines.append(f"### {kind}: `{name}`\n")
                if part.get("description"):
                    lines.append(_cell(str(part["description"])) + "\n")
                lines += _keys(part)
    return "\n".join(lines) + "\n"


def _keys(schema: dict[str, Any]) -> list[str]:
    required = set(schema.get("required", []))
    rows = ["| key | type | required |", "|---|---|---|"]
    for key, spec in schema.get("properties", {}).items():
        rows.append(f"| `{key}` | {_cell(_type(spec))} | {'yes' if key in required else ''} |")
    return [*rows, ""]


PAGES = {
    "reference/settings.md": settings_page,
    "reference/cli.md": cli_page,
    "reference/file-formats.md": formats_page,
}


def stale_pages() -> list[str]:
    """The reference pages whose committed text differs from what the code generates now (a
    page missing counts)."""
    stale = []
    for uri, build in PAGES.items():
        page = DOCS / uri
        if not page.exists() or page.read_text(encoding="utf-8") != build():
            stale.append(uri)
    return stale


def write_pages() -> list[str]:
    """Write every reference page under docs/; returns those that changed."""
    changed = []
    for uri, build in PAGES.items():
        page = DOCS / uri
        text = build()
        if not page.exists() or page.read_text(encoding="utf-8") != text:
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text(text, encoding="utf-8")
            changed.append(uri)
    return changed


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Check the committed reference pages against the code (a warning, an error with
    ``--strict``); generate a page that is missing."""
    for uri, build in PAGES.items():
        if files.get_file_from_path(uri) is None:
            files.append(File.generated(config, uri, content=build()))
    for uri in stale_pages():
        if (DOCS / uri).exists():
            log.warning("docs/%s is out of date: run `make reference` and commit it", uri)
    return files


def main(argv: list[str]) -> int:
    """``python tools/mkdocs_hooks.py``: write the reference pages; ``--check``: exit 1 when
    one is out of date, writing nothing."""
    if "--check" in argv:
        stale = stale_pages()
        for uri in stale:
            print(f"docs/{uri} is out of date: run `make reference`", file=sys.stderr)
        return 1 if stale else 0
    for uri in write_pages():
        print(f"wrote docs/{uri}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
