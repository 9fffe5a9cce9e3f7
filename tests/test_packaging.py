"""The built wheel: one ``rallybot`` import name, the files an installed copy needs, and fresh
virtual environments that install it alone or with one extra and run it from an empty folder.

The fresh environments come from ``uv`` (a dev dependency: seconds per environment, from its
cache), pinned by requirements.lock like every other install.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LOCK = ROOT / "requirements.lock"
FOLDERS = ("bot", "handlers", "campaigns", "storage")
OPTIONAL = {  # extra -> the modules it brings
    "slack": ("slack_bolt", "slack_sdk", "aiohttp"),
    "discord": ("discord",),
    "postgres": ("asyncpg",),
    "charts": ("matplotlib",),
}
MISSING = {  # extra -> a command that needs it, and the line it prints without it
    "slack": (["run", "--platform", "slack"], {"RALLYBOT_CAMPAIGNS_DIR": "mine/en"}),
    "discord": (["discord", "invite-url", "--application-id", "123"], {}),
    "postgres": (["db", "current"], {"DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none"}),
    "charts": (["report", "--format", "csv", "--out", "out"], {}),
}


def _uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    assert found, "uv is a dev dependency: pip install -e '.[dev]'"
    return found


def _run(
    args: list[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("RALLYBOT_", "SLACK_"))}
    clean.pop("DATABASE_URL", None)
    clean.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        args,
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built as a release is: the sdist first, then the wheel from the sdist."""
    out = tmp_path_factory.mktemp("dist")
    done = _run([_uv(), "build", "--quiet", "--out-dir", str(out), str(ROOT)], cwd=out)
    assert done.returncode == 0, done.stderr
    [built] = out.glob("rallybot-*.whl")
    return built


def _venv(where: Path, wheel: Path, extra: str | None) -> Path:
    """A fresh virtual environment holding the wheel (with ``extra``); returns its bin folder."""
    venv = where / "venv"
    done = _run([_uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], cwd=where)
    assert done.returncode == 0, done.stderr
    spec = f"rallybot[{extra}] @ {wheel.as_uri()}" if extra else str(wheel)
    install = [_uv(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python")]
    done = _run([*install, "--constraint", str(LOCK), spec], cwd=where)
    assert done.returncode == 0, done.stderr
    return venv / "bin"


def _importable(bin_dir: Path, module: str, cwd: Path) -> bool:
    code = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return _run([str(bin_dir / "python"), "-c", code], cwd=cwd).returncode == 0


def _files_commands(bin_dir: Path, empty: Path) -> None:
    """``config example``, ``examples copy``, ``validate`` and ``schema campaign`` work."""
    rallybot = str(bin_dir / "rallybot")
    example = _run([rallybot, "--locale", "en", "config", "example"], cwd=empty)
    assert example.returncode == 0, example.stderr
    assert example.stdout == (ROOT / "config.example.env").read_text(encoding="utf-8")

    copied = _run([rallybot, "examples", "copy", "mine"], cwd=empty)
    assert copied.returncode == 0, copied.stderr
    assert (empty / "mine" / "fr" / "lancement-connect.yaml").is_file()
    assert (empty / "mine" / "schemas" / "campaign.schema.json").is_file()
    again = _run([rallybot, "examples", "copy", "mine"], cwd=empty)
    assert again.returncode == 1, "copying over existing files needs --force"
    valid = _run([rallybot, "validate", "mine/en", "mine/en/rules/points.yaml"], cwd=empty)
    assert valid.returncode == 0, valid.stdout + valid.stderr

    schema = _run([rallybot, "schema", "campaign"], cwd=empty)
    assert schema.returncode == 0, schema.stderr
    assert json.loads(schema.stdout)["title"] == "Rallybot campaign"


def test_the_packages_list_names_every_package_folder() -> None:
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    mapping = PYPROJECT["tool"]["setuptools"]["package-dir"]
    assert mapping == {f"rallybot.{folder}": folder for folder in FOLDERS}
    found = {
        "rallybot." + ".".join(init.parent.relative_to(ROOT).parts)
        for folder in FOLDERS
        for init in (ROOT / folder).rglob("__init__.py")
    }
    # A folder whose files are shipped as package data is listed too (setuptools warns at
    # every install otherwise); a folder of tests' or tools' files is not.
    shipped = {
        "rallybot." + ".".join(path.parent.relative_to(ROOT).parts)
        for package, patterns in PYPROJECT["tool"]["setuptools"]["package-data"].items()
        for base in [ROOT.joinpath(*package.split(".")[1:])]
        for pattern in patterns
        for path in base.glob(pattern)
        if path.parent != base
    }
    expected = found | shipped
    assert expected == listed, f"[tool.setuptools] packages: add {sorted(expected - listed)}"


def test_the_wheel_has_one_import_name_and_the_files_it_needs(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
        env_file = archive.read("rallybot/bot/config.example.env").decode()
    top = {name.split("/")[0] for name in names}
    info = next(t for t in top if t.endswith(".dist-info"))
    assert top == {"rallybot", info}, top
    assert env_file == (ROOT / "config.example.env").read_text(encoding="utf-8")
    for folder in FOLDERS:
        assert f"rallybot/{folder}/py.typed" in names
    assert f"{info}/licenses/LICENSE" in names
    assert "rallybot/campaigns/examples/fr/lancement-connect.yaml" in names
    assert "rallybot/campaigns/examples/en/rules/points.yaml" in names
    assert "rallybot/campaigns/examples/schemas/campaign.schema.json" in names
    assert any(n.startswith("rallybot/storage/migrations/versions/") for n in names)
    for language in ("en", "fr", "es", "de"):  # the bot's words, compiled on first use
        assert f"rallybot/bot/locale/{language}/LC_MESSAGES/rallybot.po" in names, language
    for console_file in ("templates/base.html", "static/htmx.min.js", "static/console.css"):
        assert f"rallybot/handlers/console/{console_file}" in names, console_file
    assert not any(n.startswith(("tests/", "bench/", "rallybot/tests")) for n in names)
    text = metadata.decode()
    assert "Project-URL: Documentation, " in text
    assert "License-Expression: MIT" in text  # an SPDX expression, not a classifier
    for extra in (*OPTIONAL, "all"):
        assert f"Provides-Extra: {extra}" in text
    core = [line for line in text.splitlines() if line.startswith("Requires-Dist:")]
    core = [line for line in core if "extra ==" not in line]
    for heavy in ("matplotlib", "discord", "slack", "asyncpg", "httpx"):
        assert not any(heavy in line for line in core), f"{heavy} is not a core dependency"


@pytest.mark.slow
def test_the_core_install_runs_from_an_empty_folder(wheel: Path, tmp_path: Path) -> None:
    bin_dir = _venv(tmp_path, wheel, None)
    empty = tmp_path / "empty"
    empty.mkdir()
    for modules in OPTIONAL.values():
        assert not _importable(bin_dir, modules[0], empty), modules[0]

    demo = _run([str(bin_dir / "rallybot"), "demo", "--lang", "en"], cwd=empty, timeout=600)
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    _files_commands(bin_dir, empty)

    for extra, (command, env) in MISSING.items():
        done = _run([str(bin_dir / "rallybot"), *command], cwd=empty, env=env)
        assert done.returncode == 2, (extra, done.stdout, done.stderr)
        assert f"pip install 'rallybot[{extra}]'" in done.stderr, (extra, done.stderr)
        assert "Traceback" not in done.stderr, done.stderr

    nowhere = _run(
        [str(bin_dir / "rallybot"), "--locale", "en", "run", "--no-interactive"],
        cwd=empty,
        env={"RALLYBOT_CAMPAIGNS_DIR": "no-such-folder"},
    )
    assert nowhere.returncode == 2, nowhere.stdout + nowhere.stderr
    assert "No campaign folder" in nowhere.stderr
    assert "no-such-folder" in nowhere.stderr


@pytest.mark.slow
@pytest.mark.parametrize("extra", sorted(OPTIONAL))
def test_each_extra_installs_alone(wheel: Path, tmp_path: Path, extra: str) -> None:
    bin_dir = _venv(tmp_path, wheel, extra)
    empty = tmp_path / "empty"
    empty.mkdir()
    for other, modules in OPTIONAL.items():
        for module in modules:
            if module == "aiohttp" and extra == "discord":
                continue  # discord.py needs aiohttp too
            assert _importable(bin_dir, module, empty) == (other == extra), (extra, module)
    _files_commands(bin_dir, empty)
    adapter = {
        "slack": "import rallybot.bot.adapters.slack.adapter",
        "discord": "import rallybot.bot.adapters.discord.adapter",
        "postgres": "import asyncpg",
        "charts": "import rallybot.handlers.reporting.report as r; r.require('matplotlib')",
    }[extra]
    done = _run([str(bin_dir / "python"), "-c", adapter], cwd=empty)
    assert done.returncode == 0, done.stderr


def _locked() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        found = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", line)
        if found:
            pins[re.sub(r"[-_.]+", "-", found.group(1)).lower()] = found.group(2)
    return pins


def test_the_lock_pins_every_dependency_within_its_range() -> None:
    project = PYPROJECT["project"]
    requirements = [Requirement(r) for r in project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        requirements += [Requirement(r) for r in extra]
    pins = _locked()
    stale = []
    for requirement in requirements:
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        if name == "rallybot":
            continue
        version = pins.get(name)
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            stale.append(f"{requirement} (locked: {version})")
    assert not stale, f"requirements.lock is stale, run `make lock`: {stale}"
