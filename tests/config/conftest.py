"""Settings tests run in an empty folder, with no setting inherited from the caller's
environment (a developer's own RALLYBOT_* or SLACK_* variables would change the results)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rallybot.bot.config import PREFIXES


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    # the default campaigns folder, relative to the working folder: rallybot config check
    # reports a missing one, like rallybot run
    (tmp_path / "campaigns" / "examples" / "fr").mkdir(parents=True)
    for name in list(os.environ):
        if name.upper().startswith((*PREFIXES, "DATABASE_URL")) and name != "RALLYBOT_TEST_PG_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'settings.db'}")
