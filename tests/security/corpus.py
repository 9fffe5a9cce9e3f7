"""The hostile corpus (``hostile_corpus.json``): strings a member could put in a display name,
a question, an answer, a kudos reason, a file name or a roster cell, each with what it tries.

Every link in it points to ``evil.example``: whatever the renderer, that host must never end
up clickable or previewed, which :mod:`tests.security.checks` asserts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CORPUS", "EVIL_HOST", "HOSTILE", "Hostile"]

EVIL_HOST = "evil.example"
_FILE = Path(__file__).with_name("hostile_corpus.json")


@dataclass(frozen=True, slots=True)
class Hostile:
    """One string of the corpus."""

    category: str
    text: str
    why: str


def _load() -> list[Hostile]:
    data = json.loads(_FILE.read_text(encoding="utf-8"))
    return [Hostile(e["category"], e["text"], e["why"]) for e in data["strings"]]


CORPUS: list[Hostile] = _load()
HOSTILE: list[str] = [entry.text for entry in CORPUS]
