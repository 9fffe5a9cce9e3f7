"""The JSON Schemas for editors: generated from the models, shipped beside the examples, and
every shipped example valid against its schema."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

import rallybot.bot.assembly  # noqa: F401  (the installed features register their step blocks)
from rallybot.bot.cli import app
from rallybot.campaigns.editor_schema import (
    EXAMPLES,
    KINDS,
    SCHEMAS,
    json_schema,
    schema_file_name,
    schema_text,
)

_HEAD = re.compile(r"\A# yaml-language-server: \$schema=(\S+)\n")
EXAMPLE_FILES = sorted(p for p in EXAMPLES.rglob("*.yaml"))


class _Yaml12Loader(yaml.SafeLoader):
    """Reads scalars as an editor's YAML 1.2 language server does: no timestamps, so
    ``2026-09-15`` stays a string, as the campaign loader reads it."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _load(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Yaml12Loader)


def _schema_of(path: Path) -> tuple[str, Path]:
    head = _HEAD.match(path.read_text(encoding="utf-8"))
    assert head, f"{path} does not start with a yaml-language-server $schema line"
    target = (path.parent / head.group(1)).resolve()
    kind = target.name.removesuffix(".schema.json")
    return kind, target


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_shipped_schema_files_are_the_generated_ones(kind: str) -> None:
    shipped = (SCHEMAS / schema_file_name(kind)).read_text(encoding="utf-8")
    assert shipped == schema_text(kind), f"{schema_file_name(kind)} is out of date: make schemas"


def test_every_example_names_its_schema() -> None:
    assert len(EXAMPLE_FILES) >= 8
    kinds = {_schema_of(path)[0] for path in EXAMPLE_FILES}
    assert kinds == set(KINDS)
    for path in EXAMPLE_FILES:
        assert _schema_of(path)[1].is_file(), path


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_every_example_is_valid_against_its_schema(path: Path) -> None:
    kind, schema_file = _schema_of(path)
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(_load(path))]
    assert errors == [], f"{path} ({kind})"


def test_the_schema_flags_a_mistake() -> None:
    """The check above can fail: a typo in a key or a wrong type is an error."""
    data = _load(EXAMPLES / "en" / "connect-launch.yaml")
    data["timezon"] = "Europe/London"
    data["steps"][0]["at"] = 12
    validator = jsonschema.Draft202012Validator(json_schema("campaign"))
    messages = [e.message for e in validator.iter_errors(data)]
    assert any("timezon" in m for m in messages), messages
    assert len(messages) >= 2


def test_a_feature_block_is_in_the_step_schema() -> None:
    """An editor knows a poll: block (a feature's, not the language's) and its rules."""
    data = _load(EXAMPLES / "en" / "connect-launch.yaml")
    step = data["steps"][0]
    step["poll"] = {"choices": ["Pizza", "Sushi"], "closes": "launch + 2d at 17:00"}
    validator = jsonschema.Draft202012Validator(json_schema("campaign"))
    assert [e.message for e in validator.iter_errors(data)] == []
    step["poll"] = {"choices": ["Pizza"], "closes": "launch + 2d at 17:00", "multi": True}
    messages = [e.message for e in validator.iter_errors(data)]
    assert any("multi" in m for m in messages), messages
    assert any("too short" in m or "non-empty" in m for m in messages), messages


def test_rallybot_schema_prints_the_schema() -> None:
    result = CliRunner().invoke(app, ["schema", "campaign"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == json_schema("campaign")
    assert json.loads(result.output)["title"] == "Rallybot campaign"
    assert CliRunner().invoke(app, ["schema", "nothing"]).exit_code == 2
