"""JSON Schemas of the file kinds, generated from their pydantic models, for editors.

A campaign file that starts with ``# yaml-language-server: $schema=../schemas/campaign.schema.json``
gets completion and red squiggles in any editor with the YAML language server (VS Code's YAML
extension, Neovim, JetBrains...). The shipped examples carry that line and the schema files
beside them (``examples/schemas/``); ``tests/campaigns/test_editor_schema.py`` keeps both in
sync with the models. Regenerate them with ``make schemas``.

The schemas describe the YAML as an editor reads it; the loader stays the judge (cross-field
checks such as unknown audiences or milestones are only in ``rallybot validate``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from rallybot.campaigns.community import CommunitySpec
from rallybot.campaigns.faq import FaqSpec
from rallybot.campaigns.quiz import BankSpec
from rallybot.campaigns.rules import Rules
from rallybot.campaigns.schema import CampaignSpec
from rallybot.campaigns.sections import registered

__all__ = [
    "EXAMPLES",
    "KINDS",
    "SCHEMAS",
    "json_schema",
    "main",
    "schema_file_name",
    "schema_text",
    "write_schemas",
]

#: The example files shipped in the package (``rallybot examples copy``).
EXAMPLES = Path(__file__).resolve().parent / "examples"
#: Where the generated schema files live, beside the examples.
SCHEMAS = EXAMPLES / "schemas"

# kind -> (model, title, what the file is).
KINDS: dict[str, tuple[type[BaseModel], str, str]] = {
    "campaign": (
        CampaignSpec,
        "Rallybot campaign",
        "A campaign file: milestones, audiences and the steps sent to them.",
    ),
    "quiz": (BankSpec, "Rallybot quiz bank", "A quiz bank: questions, choices and answers."),
    "faq": (FaqSpec, "Rallybot FAQ", "A help channel FAQ: questions and their answers."),
    "rules": (Rules, "Rallybot points rules", "Points, limits, kudos, badges and levels."),
    "community": (
        CommunitySpec,
        "Rallybot community",
        "The community file: managers, helpers and their rota, buddies, channels, defaults.",
    ),
}


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one file kind; raises KeyError for an unknown one.

    A campaign's steps also describe the blocks the installed features add (``poll:``, see
    :mod:`campaigns.sections`): those registered when this runs (the CLI loads the features)."""
    model, title, description = KINDS[kind]
    schema = model.model_json_schema(mode="validation")
    if kind == "campaign":
        _add_sections(schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": title,
        "description": description,
    }


def _add_sections(schema: dict[str, Any]) -> None:
    """Give the step definition of a campaign schema a property per registered step section;
    without it an editor would flag a feature's block as an unknown key."""
    definitions = schema["$defs"]
    step = definitions["StepSpec"]
    for section in registered():
        block = section.model.model_json_schema(mode="validation", ref_template="#/$defs/{model}")
        definitions.update(block.pop("$defs", {}))
        step["properties"][section.key] = block


def schema_text(kind: str) -> str:
    """:func:`json_schema` as the text of a schema file (stable, ends with a newline)."""
    return json.dumps(json_schema(kind), ensure_ascii=False, indent=2) + "\n"


def schema_file_name(kind: str) -> str:
    """The file name of a kind's schema (``campaign.schema.json``)."""
    return f"{kind}.schema.json"


def write_schemas(folder: Path = SCHEMAS) -> list[Path]:
    """Write every kind's schema file into ``folder``; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in KINDS:
        path = folder / schema_file_name(kind)
        path.write_text(schema_text(kind), encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    """Regenerate the schema files shipped beside the examples (with the step sections
    registered: ``make schemas`` loads the installed features first)."""
    for path in write_schemas():
        sys.stdout.write(f"wrote {path.name}\n")


if __name__ == "__main__":
    main()
