"""The record of processing (docs/reference/record-of-processing.md) is generated from the
privacy registry and the schema, and the committed page is the generated one: a table or a
personal column added without updating the registry and the page fails here."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import SQLModel

import rallybot.storage.models  # noqa: F401  (every table)
from rallybot.handlers.privacy.personal_data import (
    NOT_PERSONAL,
    PURPOSES,
    REGISTRY,
    record_of_processing,
)

PAGE = Path(__file__).resolve().parents[2] / "docs" / "reference" / "record-of-processing.md"


def test_the_committed_page_is_the_generated_one() -> None:
    assert PAGE.read_text(encoding="utf-8") == record_of_processing(), (
        "the record of processing is out of date: run "
        "`rallybot privacy record --output docs/reference/record-of-processing.md`"
    )


def test_every_table_is_in_the_record_with_why_and_how_long() -> None:
    page = record_of_processing()
    for name in SQLModel.metadata.tables:
        assert f"| {name} |" in page, f"{name} is missing from the record of processing"
        assert name in REGISTRY or name in NOT_PERSONAL or name == "member"
    for name in [*REGISTRY, "member"]:
        entry = REGISTRY.get(name)
        declared = (entry.why, entry.keep) if entry is not None else ("", "")
        why, keep = PURPOSES.get(name, declared)
        assert why and keep, (
            f"say why and for how long {name} is kept (handlers.privacy.personal_data.PURPOSES, "
            "or why and keep in the table's info)"
        )


def test_every_personal_column_is_named() -> None:
    page = record_of_processing()
    rows = {line.split("|")[1].strip(): line for line in page.splitlines() if line.startswith("| ")}
    for name, entry in REGISTRY.items():
        if name not in SQLModel.metadata.tables:
            continue
        for column in (*entry.member_columns, *entry.platform_columns, *entry.handled):
            assert column in rows[name], (name, column)
    for column in SQLModel.metadata.tables["member"].columns:
        assert column.name == "id" or column.name in rows["member"]
