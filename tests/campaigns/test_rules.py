"""The points rules file: defaults, the shipped examples, and every mistake as
``file:line:column: field: message``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from rallybot.campaigns.rules import (
    ACTIONS,
    DEFAULT_RULES,
    RulesLoadError,
    load_rules,
    load_rules_text,
    localized,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = [
    ROOT / "campaigns" / "examples" / "fr" / "regles" / "points.yaml",
    ROOT / "campaigns" / "examples" / "en" / "rules" / "points.yaml",
]


def errors_of(text: str) -> list[str]:
    with pytest.raises(RulesLoadError) as caught:
        load_rules_text(text, "rules.yaml")
    return [str(error) for error in caught.value.errors]


@pytest.mark.parametrize("path", EXAMPLES, ids=["fr", "en"])
def test_the_examples_load(path: Path) -> None:
    rules = load_rules(path)
    assert rules.kudos_emojis == {"clap", "raised_hands"}
    assert rules.cooldown("reaction_on_announcement") == timedelta(minutes=1)
    assert rules.leaderboard.private and rules.leaderboard.top == 3
    assert [b.when.points for b in rules.badges if b.when.points] == [500]
    level = rules.level(250)
    assert level is not None and localized(level.name, "fr") == "Habitué"
    following = rules.next_level(250)
    assert following is not None and localized(following.name, "en-GB") == "Ambassador"


def test_defaults_cover_every_action() -> None:
    assert {action: DEFAULT_RULES.amount(action) for action in ACTIONS} == {
        "reaction_on_announcement": 1,
        "first_post": 5,
        "quiz_correct": 10,
        "quiz_speed_bonus": 5,
        "challenge_done": 20,
        "kudos_received": 5,
        "onboarding_task": 5,
        "help_answer_accepted": 10,
    }
    assert DEFAULT_RULES.cooldown("first_post") is None
    assert DEFAULT_RULES.kudos_emojis == {"clap"}
    assert DEFAULT_RULES.level(1000) is None
    with pytest.raises(KeyError):
        DEFAULT_RULES.amount("dancing")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pionts: 3\n", ['rules.yaml:1:1: pionts: unknown key "pionts" (did you mean "points"?)']),
        (
            "points: {first_post: -1}\n",
            ["rules.yaml:1:22: points.first_post: this number must be at least 0"],
        ),
        (
            "points:\n  first_post: lots\n",
            ['rules.yaml:2:15: points.first_post: expected a whole number, got "lots"'],
        ),
        (
            "daily_caps:\n  reactions: 3\n",
            [
                'rules.yaml:2:3: daily_caps.reactions: "reactions" is not allowed here: use '
                '"reaction", "first_post", "quiz", "challenge", "kudos", "onboarding" or "help"'
            ],
        ),
        (
            "cooldowns:\n  first_post: soon\n",
            [
                'rules.yaml:2:15: cooldowns.first_post: "soon" is not a duration '
                "(use a number and a unit: 30d, 2w, 3h, 15m)"
            ],
        ),
        (
            "cooldowns: {first_post: 0m}\n",
            ["rules.yaml:1:25: cooldowns.first_post: a cooldown must be longer than 0"],
        ),
        (
            "leaderboard: {top: 99}\n",
            ["rules.yaml:1:20: leaderboard.top: this number must be at most 50"],
        ),
        (
            "exclude: {bots: false}\n",
            [
                'rules.yaml:1:11: exclude.bots: unknown key "bots"; '
                "allowed keys: community_managers, members"
            ],
        ),
        (
            "badges:\n  - id: a\n    name: A\n    when: {}\n"
            "  - id: a\n    name: {fr: B}\n    when: {points: 3}\n",
            [
                "rules.yaml:4:11: badges[0].when: give at least one condition "
                "(points, quizzes, kudos_given, onboarding_tasks...)",
                'rules.yaml:5:9: badges[1].id: badge id "a" is already used by badges[0]',
            ],
        ),
        (
            "badges:\n  - id: Bad Id\n    name: X\n    when: {pointz: 3}\n",
            [
                'rules.yaml:2:9: badges[0].id: "Bad Id" is not a valid id: '
                "use lowercase letters, digits, - and _",
                'rules.yaml:4:12: badges[0].when.pointz: unknown key "pointz" '
                '(did you mean "points"?)',
            ],
        ),
        (
            "levels:\n  - {points: 10, name: X}\n  - {points: 10, name: Y}\n",
            ["rules.yaml:3:14: levels[1].points: levels[0] already starts at 10 points"],
        ),
        (
            "- points\n",
            [
                "rules.yaml:1:1: the file should be a mapping of keys (points: ..., "
                "daily_caps: ..., kudos: ..., badges: ...), not a list"
            ],
        ),
        (
            "",
            [
                "rules.yaml:1:1: the file is empty: write at least one key "
                "(points:, daily_caps:, badges:...)"
            ],
        ),
        (
            "!!python/object:os.system x\n",
            [
                'rules.yaml:1:1: YAML tag "!!python/object:os.system" is not allowed: '
                "rules files hold plain text, lists and mappings"
            ],
        ),
    ],
)
def test_mistakes_are_reported_with_their_place(text: str, expected: list[str]) -> None:
    assert errors_of(text) == expected


def test_a_missing_file() -> None:
    with pytest.raises(RulesLoadError) as caught:
        load_rules("nowhere/rules.yaml")
    assert [str(e) for e in caught.value.errors] == ["nowhere/rules.yaml:1:1: no such file"]


def test_validate_command_checks_rules_files(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from rallybot.bot.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["--locale", "en", "validate", *map(str, EXAMPLES)])
    assert result.exit_code == 0, result.output
    assert "2 rules files" in result.output
    bad = tmp_path / "points.yaml"
    bad.write_text("points:\n  first_post: x\nbadges: []\n")
    result = runner.invoke(app, ["--locale", "en", "validate", str(bad)])
    assert result.exit_code == 1
    assert f'{bad}:2:15: points.first_post: expected a whole number, got "x"' in result.output


def test_the_readme_rules_snippet_loads() -> None:
    import re

    readme = (ROOT / "docs" / "manual" / "points.md").read_text(encoding="utf-8")
    [snippet] = [
        block
        for block in re.findall(r"```yaml\n(.*?)```", readme, flags=re.DOTALL)
        if block.startswith("# campaigns/examples/en/rules/points.yaml")
    ]
    rules = load_rules_text(snippet, "README.md")
    assert [badge.id for badge in rules.badges] == ["first-quiz", "generous", "pillar", "onboarded"]
    assert rules.badges[-1].when.onboarding_done is True
    assert rules.leaderboard.top == 3
