"""The layer contracts of ``pyproject.toml`` catch the imports they forbid, and the campaign-file
language shares public names only.

``make lint`` runs import-linter on the real packages, where every contract is kept. Here the
packages are copied, one forbidden import is added to the copy (in a module of its own, or at
the end of an existing one), and import-linter must report that contract broken (and only that
one): a contract that cannot break would pass forever.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # starts import-linter once per case

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "campaigns", "storage")


def _contracts() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return [contract["name"] for contract in config["tool"]["importlinter"]["contracts"]]


STORAGE = "storage is the bottom layer: it imports neither the kernel nor the features"
CAMPAIGNS = "campaigns (the file language) imports neither the kernel nor the features"
KERNEL = "the kernel names no feature: only its composition root and the CLI import them"
FEATURES = "features import each other only through their service modules"

# (the module added to the copy, what it imports, the contract that import breaks)
VIOLATIONS = [
    ("storage/layer_probe.py", "rallybot.campaigns.schema", STORAGE),
    ("storage/layer_probe.py", "rallybot.bot.messages", STORAGE),
    ("campaigns/layer_probe.py", "rallybot.bot.config", CAMPAIGNS),
    ("campaigns/layer_probe.py", "rallybot.bot.messages", CAMPAIGNS),
    ("campaigns/layer_probe.py", "rallybot.handlers.points", CAMPAIGNS),
    ("bot/layer_probe.py", "rallybot.handlers.points", KERNEL),
    # the runner starts the console as a feature (Feature.serve), naming no module of it
    ("bot/layer_probe.py", "rallybot.handlers.console.serve", KERNEL),
    # retention is the privacy feature's ticks: the kernel calls no privacy code
    ("bot/layer_probe.py", "rallybot.handlers.privacy.service", KERNEL),
    # the CLI (the import added to it) reaches a feature only through its service module
    ("bot/cli.py", "rallybot.handlers.admin.feature", KERNEL),
    # a feature reaches another through its service module, never its feature module...
    ("handlers/quiz/layer_probe.py", "rallybot.handlers.points.feature", FEATURES),
    ("handlers/console/layer_probe.py", "rallybot.handlers.steering.feature", FEATURES),
    ("handlers/stats/layer_probe.py", "rallybot.handlers.reporting.report", FEATURES),
    # ...nor its package, whose __init__ re-exports the feature class for the feature list
    ("handlers/home/layer_probe.py", "rallybot.handlers.challenges", FEATURES),
]


def _copy(tmp_path: Path) -> Path:
    """The four packages under ``tmp_path/rallybot`` and the contracts beside them."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tmp_path / "rallybot" / package,
            ignore=shutil.ignore_patterns("__pycache__", "locale", "static", "templates"),
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _lint_imports(tree: Path) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache", "pyproject.toml"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def _status(output: str, contract: str) -> str:
    for line in output.splitlines():
        if line.startswith(f"{contract} "):
            return line.removeprefix(f"{contract} ").split()[0]
    raise AssertionError(f"contract not reported: {contract}\n{output}")


def test_every_contract_has_a_violation_that_breaks_it() -> None:
    assert set(_contracts()) == {contract for _, _, contract in VIOLATIONS}


def test_the_copied_packages_keep_every_contract(tmp_path: Path) -> None:
    code, output = _lint_imports(_copy(tmp_path))
    assert code == 0, output
    assert all(_status(output, contract) == "KEPT" for contract in _contracts())


@pytest.mark.parametrize(("module", "target", "broken"), VIOLATIONS)
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, module: str, target: str, broken: str
) -> None:
    tree = _copy(tmp_path)
    path = tree / "rallybot" / module
    before = path.read_text(encoding="utf-8") if path.exists() else ""  # a module of its own
    path.write_text(f"{before}\nimport {target}\n", encoding="utf-8")
    code, output = _lint_imports(tree)
    assert code != 0, output
    probe = "rallybot." + module.removesuffix(".py").replace("/", ".")
    assert f"{probe} -> {target}" in output
    for contract in _contracts():
        assert _status(output, contract) == ("BROKEN" if contract == broken else "KEPT"), output


def _private_imports(package: str) -> list[str]:
    """``file: module.name`` for every private name imported from ``rallybot.<package>``,
    or imported by a module of ``package`` from anywhere in ``rallybot``."""
    found: list[str] = []
    for folder in PACKAGES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.ImportFrom) or not node.module:
                    continue
                source = node.module.split(".")
                if source[0] != "rallybot" or package not in (folder, source[1]):
                    continue
                found += [
                    f"{path.relative_to(ROOT)}: {node.module}.{alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_")
                ]
    return found


def test_the_campaign_file_language_shares_only_public_names() -> None:
    assert _private_imports("campaigns") == []
