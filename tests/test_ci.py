"""CI runs what a developer runs: `.ci/run` is `make test`, which lints, type-checks, builds the
docs strictly and then runs the tests."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _recipe(makefile: str, target: str) -> tuple[list[str], list[str]]:
    """The prerequisites and the command lines of ``target``."""
    found = re.search(rf"^{target}:([^\n]*)\n((?:\t[^\n]*\n)*)", makefile, re.MULTILINE)
    assert found, f"no {target} target"
    return found.group(1).split(), [line.strip() for line in found.group(2).splitlines()]


def test_ci_runs_make_test() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line for line in script.splitlines() if line and not line.startswith("#")]
    assert commands[-1] == "make test"


def test_make_test_lints_type_checks_and_builds_the_docs() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    needs, commands = _recipe(makefile, "test")
    assert {"lint", "docs"} <= set(needs)
    assert any(c.endswith("pytest -q") for c in commands)
    _, lint = _recipe(makefile, "lint")
    assert "$(BIN)/ruff check ." in lint
    assert "$(BIN)/ruff format --check ." in lint
    assert "$(BIN)/mypy" in lint
    _, docs = _recipe(makefile, "docs")
    assert any("mkdocs build --strict" in c for c in docs)
    stamp_needs, install = _recipe(makefile, r"\$\(STAMP\)")
    assert "$(LOCK)" in stamp_needs
    assert any("-c $(LOCK)" in c and "'.[dev]'" in c for c in install)
