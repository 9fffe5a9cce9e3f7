"""Campaign loading: every mistake is reported at its file, line, column and field."""

from __future__ import annotations

import textwrap
import time
from datetime import UTC, datetime
from datetime import time as clock
from pathlib import Path

import pytest

from rallybot.campaigns.loader import (
    CampaignLoadError,
    LoadError,
    load_campaign,
    load_campaign_text,
    validate_paths,
)
from rallybot.campaigns.quiet_hours import QuietHours

DATA = Path(__file__).parent / "data"

# Lines 1-9 of most test files; their steps start on line 10, indented by 4 ("  - id:").
HEADER = """\
id: demo
title: Demo
milestones:
  launch: 2026-09-15 09:30
channels:
  annonces: general
audiences:
  pilote: { cohort: pilot }
steps:
"""


def errors_of(text: str | bytes, source: str = "bad.yaml") -> list[str]:
    """The error lines for ``text``, which must not load."""
    with pytest.raises(CampaignLoadError) as info:
        load_campaign_text(text, source)
    assert all(isinstance(error, LoadError) for error in info.value.errors)
    return [str(error) for error in info.value.errors]


def step_errors(steps: str) -> list[str]:
    """Errors for HEADER then ``steps``, dedented and indented by two: ``  - id:`` on line 10."""
    return errors_of(HEADER + textwrap.indent(textwrap.dedent(steps), "  "))


# ---------------------------------------------------------------------------- valid files


def test_the_example_campaign_loads_and_compiles() -> None:
    campaign = load_campaign(DATA / "connect-launch.yaml")

    assert campaign.id == "connect-launch"
    assert campaign.source == str(DATA / "connect-launch.yaml")
    assert campaign.milestones == {
        "launch": datetime(2026, 9, 15, 9, 30),
        "review": datetime(2026, 12, 15, 0, 0),
    }
    assert [step.id for step in campaign.steps] == [
        "teaser-1",
        "annonce-pdg",
        "bienvenue",
        "relance-profil",
        "digest",
    ]
    assert campaign.quiet_hours == QuietHours(clock(21, 0), clock(8, 0))
    teaser = campaign.step("teaser-1")
    assert teaser is not None and teaser.at is not None
    # launch - 30d = 16 August, 08:45 in Paris summer time (UTC+2).
    sent = teaser.at.resolve(campaign.zone, campaign.milestones)
    assert sent == datetime(2026, 8, 16, 6, 45, tzinfo=UTC)
    welcome = campaign.step("bienvenue")
    assert welcome is not None and welcome.per_member and welcome.is_dm
    # The anchored button is reused through an alias.
    assert welcome.spec.buttons[0].url == "https://connect.example.com"
    reminder = campaign.step("relance-profil")
    assert reminder is not None and reminder.audiences == ("pilote", "ventes")
    announcement = campaign.step("annonce-pdg")
    assert announcement is not None and announcement.spec.pin is True  # "yes" -> True


def test_yaml_1_1_surprises_do_not_happen() -> None:
    campaign = load_campaign_text(
        textwrap.dedent(
            """\
            id: "2026"
            title: no
            milestones:
              launch: 2026-09-15
            channels:
              annonces: 10:00
            steps:
              - id: on
                at: launch at 10:00
                post: annonces
                text: 0x1F
                pin: true
            """
        ),
        "ok.yaml",
    )
    assert campaign.spec.title == "no"  # not False
    assert campaign.spec.channels == {"annonces": "10:00"}  # not 600
    assert campaign.milestones == {"launch": datetime(2026, 9, 15)}  # was a text, not a date
    assert campaign.steps[0].id == "on"
    assert campaign.steps[0].spec.text == "0x1F"
    assert campaign.steps[0].spec.pin is True


def test_default_quiet_hours_apply_when_the_file_sets_none() -> None:
    quiet = QuietHours(clock(22, 0), clock(7, 0))
    text = HEADER + "  - {id: a, at: launch, post: annonces, text: Hi}\n"
    assert load_campaign_text(text, "ok.yaml", default_quiet_hours=quiet).quiet_hours == quiet


# ---------------------------------------------------------------------------- one mistake each


def test_yaml_syntax_error() -> None:
    text = textwrap.dedent(
        """\
        id: demo
        title: Demo: the launch
        steps: []
        """
    )
    assert errors_of(text) == [
        "bad.yaml:2:12: YAML syntax error: mapping values are not allowed here "
        "(check the indentation or quote the text)"
    ]


def test_yaml_syntax_error_points_at_an_unclosed_quote() -> None:
    text = textwrap.dedent(
        """\
        id: demo
        title: "Demo
        steps: []
        """
    )
    assert errors_of(text) == [
        "bad.yaml:2:8: YAML syntax error: a quoted text is not closed (add the missing quote)"
    ]


def test_yaml_syntax_error_points_at_an_unclosed_list() -> None:
    text = textwrap.dedent(
        """\
        id: demo
        title: Demo
        channels: [annonces, aide
        steps: []
        """
    )
    assert errors_of(text) == [
        "bad.yaml:3:11: YAML syntax error: a list in [brackets] is not closed (add the missing ])"
    ]


def test_text_after_a_quoted_value() -> None:
    assert errors_of('id: demo\ntitle: "Le" lancement\n') == [
        "bad.yaml:2:13: YAML syntax error: "
        "unexpected text after the value (put all of it in quotes)"
    ]


def test_tabs_are_explained() -> None:
    assert errors_of("id: demo\n\ttitle: Demo\n") == [
        "bad.yaml:2:1: YAML syntax error: a tab character cannot be used here: "
        "indent and separate with spaces"
    ]


def test_unknown_key_at_campaign_level() -> None:
    text = HEADER.replace("title: Demo\n", "title: Demo\ntimezon: Europe/Paris\n") + (
        "  - {id: a, at: launch, post: annonces, text: Hi}\n"
    )
    assert errors_of(text) == [
        'bad.yaml:3:1: timezon: unknown key "timezon" (did you mean "timezone"?)'
    ]


def test_unknown_key_at_step_level() -> None:
    errors = step_errors(
        """\
          - id: teaser
            at: launch - 30d at 08:45
            post: annonces
            tetx: Bientôt !
        """
    )
    assert errors == ['bad.yaml:13:5: steps[0].tetx: unknown key "tetx" (did you mean "text"?)']


def test_unknown_key_without_a_close_match_lists_the_allowed_keys() -> None:
    errors = step_errors(
        """\
          - id: teaser
            at: launch
            post: annonces
            text: Hi
            buttons:
              - {label: Go, url: "https://x.example", colour: red}
        """
    )
    assert errors == [
        'bad.yaml:15:47: steps[0].buttons[0].colour: unknown key "colour"; '
        "allowed keys: label, url, action, style"
    ]


def test_bad_time_expression() -> None:
    errors = step_errors(
        """\
          - id: teaser
            at: launch - 30d at 25:00
            post: annonces
            text: Bientôt !
        """
    )
    assert errors == [
        'bad.yaml:11:9: steps[0].at: "25:00" is not a time of day (hours 00-23, minutes 00-59)'
    ]


def test_bad_offset_in_a_time_expression() -> None:
    errors = step_errors(
        """\
          - id: teaser
            at: launch - 30 days before
            post: annonces
            text: Bientôt !
        """
    )
    assert errors == [
        'bad.yaml:11:9: steps[0].at: "-30daysbefore" in "launch - 30 days before" is not an '
        "offset (use + or - and a duration: - 30d, + 2h)"
    ]


def test_bad_duration() -> None:
    errors = step_errors(
        """\
          - id: teaser
            at: launch
            post: annonces
            text: Bientôt !
            grace: 2 hours and a bit
        """
    )
    assert errors == [
        'bad.yaml:14:12: steps[0].grace: "2 hours and a bit" is not a duration '
        "(use a number and a unit: 30d, 2w, 3h, 15m)"
    ]


def test_unknown_milestone() -> None:
    errors = step_errors(
        """\
          - id: teaser
            at: lanch - 30d at 08:45
            post: annonces
            text: Bientôt !
        """
    )
    assert errors == [
        'bad.yaml:11:9: steps[0].at: unknown milestone "lanch" (did you mean "launch"?); '
        "milestones: launch"
    ]


def test_unknown_channel() -> None:
    errors = step_errors(
        """\
          - id: teaser
            at: launch
            post: anonces
            text: Bientôt !
        """
    )
    assert errors == [
        'bad.yaml:12:11: steps[0].post: unknown channel "anonces" (did you mean "annonces"?); '
        "declare it under channels:"
    ]


def test_unknown_channel_in_an_audience() -> None:
    text = HEADER.replace("{ cohort: pilot }", "{ channel: annonce }") + (
        "  - {id: a, at: launch, post: annonces, text: Hi}\n"
    )
    assert errors_of(text) == [
        'bad.yaml:8:22: audiences.pilote.channel: unknown channel "annonce" '
        '(did you mean "annonces"?); declare it under channels:'
    ]


def test_unknown_audience() -> None:
    errors = step_errors(
        """\
          - id: welcome
            for: pilotes
            at: join + 1d at 10:00
            dm: Bienvenue !
        """
    )
    assert errors == [
        'bad.yaml:11:10: steps[0].for: unknown audience "pilotes" (did you mean "pilote"?); '
        "declare it under audiences:"
    ]


def test_unknown_template_variable() -> None:
    errors = step_errors(
        """\
          - id: welcome
            at: join + 1d at 10:00
            dm:
              fr: "Bienvenue {first_nam} !"
              en: "Welcome {first_name}!"
        """
    )
    assert errors == [
        'bad.yaml:13:11: steps[0].dm.fr: unknown variable "{first_nam}" '
        '(did you mean "first_name"?)'
    ]


def test_member_variable_in_a_channel_post() -> None:
    errors = step_errors(
        """\
          - id: teaser
            at: launch
            post: annonces
            text: "Bonjour {first_name}, rendez-vous le {launch} !"
        """
    )
    assert errors == [
        'bad.yaml:13:11: steps[0].text: "{first_name}" only works in direct messages, '
        "not in channel posts"
    ]


def test_strftime_date_format_is_refused() -> None:
    errors = step_errors(
        """\
          - id: teaser
            at: launch
            post: annonces
            text: "RDV le {launch:%d %B} !"
        """
    )
    assert errors == [
        'bad.yaml:13:11: steps[0].text: "{launch:%d %B}" is not a date format: write a pattern '
        "such as {launch:d MMMM} or {launch:EEEE d MMMM}"
    ]


def test_duplicate_step_ids() -> None:
    errors = step_errors(
        """\
          - id: teaser
            at: launch - 2d
            post: annonces
            text: Bientôt !
          - id: teaser
            at: launch - 1d
            post: annonces
            text: Demain !
        """
    )
    assert errors == [
        'bad.yaml:14:9: steps[1].id: step id "teaser" is used twice (first by step 1)'
    ]


def test_empty_message() -> None:
    errors = step_errors(
        """\
          - id: teaser
            at: launch
            post: annonces
            text: "  "
        """
    )
    assert errors == ["bad.yaml:13:11: steps[0].text: the message is empty"]


def test_missing_required_key_in_a_step() -> None:
    errors = step_errors(
        """\
          - at: launch
            post: annonces
            text: Bientôt !
        """
    )
    assert errors == ['bad.yaml:10:5: steps[0]: missing "id"']


def test_missing_required_key_at_campaign_level() -> None:
    text = (
        HEADER.replace("title: Demo\n", "") + "  - {id: a, at: launch, post: annonces, text: Hi}\n"
    )
    assert errors_of(text) == ['bad.yaml:1:1: missing "title"']


def test_bad_time_zone() -> None:
    text = HEADER.replace("title: Demo\n", "title: Demo\ntimezone: Europe/Pariss\n") + (
        "  - {id: a, at: launch, post: annonces, text: Hi}\n"
    )
    assert errors_of(text) == [
        'bad.yaml:3:11: timezone: unknown time zone "Europe/Pariss" (did you mean "Europe/Paris"?)'
    ]


def test_time_zone_that_is_a_folder_is_an_error_not_a_crash() -> None:
    text = HEADER.replace("title: Demo\n", "title: Demo\ntimezone: Europe\n") + (
        "  - {id: a, at: launch, post: annonces, text: Hi}\n"
    )
    assert errors_of(text) == [
        'bad.yaml:3:11: timezone: unknown time zone "Europe"'
        " (use a Region/City name such as Europe/Paris)"
    ]


def test_bad_recurrence() -> None:
    errors = step_errors(
        """\
          - id: digest
            every: each monday at 09:00
            post: annonces
            text: Cette semaine
        """
    )
    assert errors == [
        'bad.yaml:11:12: steps[0].every: "each monday" is not a day: '
        'use monday...sunday, "day" or "weekday"'
    ]


def test_step_with_both_post_and_dm() -> None:
    errors = step_errors(
        """\
          - id: teaser
            at: launch
            post: annonces
            dm: Bonjour !
        """
    )
    assert errors == [
        'bad.yaml:10:5: steps[0]: a step either posts in a channel ("post") '
        'or sends a direct message ("dm")'
    ]


def test_invalid_step_id() -> None:
    errors = step_errors(
        """\
          - id: Step 1
            at: launch
            post: annonces
            text: Bientôt !
        """
    )
    assert errors == [
        'bad.yaml:10:9: steps[0].id: "Step 1" is not a valid id: '
        "use lowercase letters, digits, - and _"
    ]


def test_bad_milestone_date_points_at_the_milestone() -> None:
    text = HEADER.replace("2026-09-15 09:30", "2026-09-31 09:30") + (
        "  - {id: a, at: launch, post: annonces, text: Hi}\n"
    )
    assert errors_of(text) == [
        'bad.yaml:4:11: milestones.launch: "2026-09-31" is not a real calendar date'
    ]


def test_wrong_type_for_a_localized_text_gives_one_message() -> None:
    errors = step_errors(
        """\
          - id: welcome
            at: join + 1d at 10:00
            dm: [Bienvenue, Welcome]
        """
    )
    assert errors == [
        "bad.yaml:12:9: steps[0].dm: expected a text, or a mapping of language to text "
        "(fr: ..., en: ...)"
    ]


def test_wrong_type_inside_a_localized_text() -> None:
    errors = step_errors(
        """\
          - id: welcome
            at: join + 1d at 10:00
            dm:
              fr: [Bienvenue]
        """
    )
    assert errors == ["bad.yaml:13:11: steps[0].dm.fr: expected a text, got a list"]


def test_steps_must_be_a_list() -> None:
    assert errors_of("id: demo\ntitle: Demo\nsteps: teaser\n") == [
        "bad.yaml:3:8: steps: expected a list of steps, got a text"
    ]


def test_a_bare_boolean_where_text_is_expected() -> None:
    errors = step_errors(
        """\
          - id: teaser
            at: launch
            post: annonces
            text: true
        """
    )
    assert errors == [
        "bad.yaml:13:11: steps[0].text: expected a text, or a mapping of language to text "
        "(fr: ..., en: ...), got true (put it in quotes if you mean the word)"
    ]


def test_duplicate_key_in_a_mapping() -> None:
    errors = step_errors(
        """\
          - id: teaser
            at: launch
            post: annonces
            text: Bientôt !
            text: Demain !
        """
    )
    assert errors == ['bad.yaml:14:5: steps[0].text: key "text" appears twice in this mapping']


def test_merge_keys_are_refused() -> None:
    errors = step_errors(
        """\
          - &base {id: teaser, at: launch, post: annonces, text: Hi}
          - <<: *base
            id: teaser-2
        """
    )
    assert errors == [
        'bad.yaml:11:5: steps[1]: merge keys "<<" are not supported: write the keys out in full'
    ]


def test_top_level_must_be_a_mapping() -> None:
    assert errors_of("- id: demo\n- title: Demo\n") == [
        "bad.yaml:1:1: the file should be a mapping of keys (id: ..., title: ..., steps: ...), "
        "not a list"
    ]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "\ufeff"])
def test_empty_file(text: str) -> None:
    assert errors_of(text) == [
        "bad.yaml:1:1: the file is empty: a campaign needs at least id, title and steps"
    ]


# ---------------------------------------------------------------------------- many at once


def test_all_field_mistakes_are_reported_at_once() -> None:
    text = textwrap.dedent(
        """\
        id: demo
        title: Demo
        timezone: Mars/Olympus
        channels:
          annonces: general
        steps:
          - id: teaser
            at: 2026-09-15 09:30
            post: annonces
            tetx: Bientôt !
          - id: teaser-2
            at: 2026-09-16 09:30
            post: annonces
            text: Demain !
            grace: soon
        """
    )
    assert errors_of(text) == [
        'bad.yaml:3:11: timezone: unknown time zone "Mars/Olympus"'
        " (use a Region/City name such as Europe/Paris)",
        'bad.yaml:10:5: steps[0].tetx: unknown key "tetx" (did you mean "text"?)',
        'bad.yaml:15:12: steps[1].grace: "soon" is not a duration '
        "(use a number and a unit: 30d, 2w, 3h, 15m)",
    ]


def test_all_reference_mistakes_are_reported_at_once() -> None:
    errors = step_errors(
        """\
          - id: teaser
            at: lanch - 2d
            post: annonces
            text: Bientôt !
          - id: reveal
            at: launch
            post: anonces
            text: "{days_to_lanch} jours"
        """
    )
    assert errors == [
        'bad.yaml:11:9: steps[0].at: unknown milestone "lanch" (did you mean "launch"?); '
        "milestones: launch",
        'bad.yaml:16:11: steps[1].post: unknown channel "anonces" (did you mean "annonces"?); '
        "declare it under channels:",
        'bad.yaml:17:11: steps[1].text: unknown variable "{days_to_lanch}" '
        '(did you mean "days_to_launch"?)',
    ]


def test_load_error_strings() -> None:
    assert str(LoadError("a.yaml", 3, 5, "steps[0].at", "bad")) == "a.yaml:3:5: steps[0].at: bad"
    assert str(LoadError("a.yaml", 1, 1, "", "empty")) == "a.yaml:1:1: empty"
    error = CampaignLoadError(
        [LoadError("a.yaml", 1, 1, "", "x"), LoadError("a.yaml", 2, 1, "", "y")]
    )
    assert str(error) == "a.yaml:1:1: x\na.yaml:2:1: y"


# ---------------------------------------------------------------------------- hostile input


def test_file_over_one_megabyte(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"# " + b"x" * (2 * 1024 * 1024 - 3) + b"\n")
    with pytest.raises(CampaignLoadError) as info:
        load_campaign(path)
    assert [str(error) for error in info.value.errors] == [
        f"{path}:1:1: the file is 2.0 MB; campaign files are limited to 1 MB"
    ]


def test_text_over_one_megabyte() -> None:
    assert errors_of("a: " + "x" * (5 * 1024 * 1024)) == [
        "bad.yaml:1:1: the file is 5.1 MB; campaign files are limited to 1 MB"
    ]


@pytest.mark.parametrize(
    "raw",
    [
        b"id: demo\x00\ntitle: Demo\n",
        b"id: d\xe9mo\n",  # Latin-1, not UTF-8
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    ],
)
def test_binary_data(raw: bytes) -> None:
    assert errors_of(raw) == ["bad.yaml:1:1: this is not a text file (it contains binary data)"]


def test_a_utf8_bom_is_fine() -> None:
    text = ("\ufeff" + HEADER + "  - {id: a, at: launch, post: annonces, text: Été}\n").encode()
    assert load_campaign_text(text, "bom.yaml").steps[0].spec.text == "Été"


def test_control_character() -> None:
    assert errors_of("id: demo\ntitle: De\x07mo\n") == [
        "bad.yaml:2:10: the file contains a control character (#x0007) that is not allowed in text"
    ]


def test_fifty_levels_of_nesting() -> None:
    text = "".join("  " * level + "k:\n" for level in range(50)) + "  " * 50 + "x\n"
    # The 21st mapping starts on line 21, indented by 40 spaces.
    assert errors_of(text, "deep.yaml") == [
        "deep.yaml:21:41: the file nests more than 20 levels deep"
    ]


def test_a_million_brackets() -> None:
    assert errors_of("a: " + "[" * 1_000_000) == [
        "bad.yaml:1:23: the file nests more than 20 levels deep"
    ]


def test_nesting_through_aliases_is_counted() -> None:
    text = textwrap.dedent(
        """\
        a: &a [[[[[[[[[[x]]]]]]]]]]
        b: &b [[[[[[[[[[*a]]]]]]]]]]
        c: [[[[[[[[[[*b]]]]]]]]]]
        """
    )
    assert errors_of(text) == ["bad.yaml:1:16: the file nests more than 20 levels deep"]


def test_billion_laughs() -> None:
    lines = ["a: &a [" + ", ".join(["lol"] * 10) + "]"]
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 10) + "]")
    started = time.perf_counter()
    assert errors_of("\n".join(lines) + "\n", "laughs.yaml") == [
        "laughs.yaml:1:1: the file expands to too many values "
        "(aliases used to build a huge document?)"
    ]
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system",
        "!!python/object/new:os.system",
        "!!python/object:os.system",
    ],
)
def test_python_tags_are_refused_and_nothing_runs(tmp_path: Path, tag: str) -> None:
    pwned = tmp_path / "pwned"
    text = textwrap.dedent(
        f"""\
        id: demo
        title: {tag} ["touch {pwned}"]
        steps: [{{id: a, at: 2026-09-15, post: c, text: Hi}}]
        channels: {{c: general}}
        """
    )
    assert errors_of(text) == [
        f'bad.yaml:2:8: title: YAML tag "{tag}" is not allowed: campaign files hold plain text, '
        "lists and mappings"
    ]
    assert not pwned.exists()


def test_python_tag_on_the_whole_document(tmp_path: Path) -> None:
    pwned = tmp_path / "pwned"
    path = tmp_path / "evil.yaml"
    path.write_text(f'!!python/object/apply:os.system ["touch {pwned}"]\n')
    with pytest.raises(CampaignLoadError) as info:
        load_campaign(path)
    assert [str(error) for error in info.value.errors] == [
        f'{path}:1:1: YAML tag "!!python/object/apply:os.system" is not allowed: '
        "campaign files hold plain text, lists and mappings"
    ]
    assert not pwned.exists()


def test_custom_and_name_tags_are_refused() -> None:
    errors = step_errors(
        """\
          - id: teaser
            at: !now
            post: annonces
            text: !!python/name:os.system
        """
    )
    assert errors == [
        'bad.yaml:11:9: steps[0].at: YAML tag "!now" is not allowed: '
        "campaign files hold plain text, lists and mappings",
        'bad.yaml:13:11: steps[0].text: YAML tag "!!python/name:os.system" is not allowed: '
        "campaign files hold plain text, lists and mappings",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "---",
        "[",
        "{",
        "*",
        "&a",
        "!!",
        "? ",
        ":",
        "- - -",
        "a: *b",
        "a: &x 1\nb: &x 2\n",
        "%YAML 9.9\n---\na: b",
        "%TAG ! tag:evil.com,2000:\n---\n!x a: b",
        "a: !!binary aGVsbG8=",
        "a: !!set {x}",
        "? [a, b]\n: c",
        "a: 1\n---\nb: 2",
        "'''",
        "a: b\n  - c",
        "\udcff",
    ],
)
def test_garbage_gives_errors_not_tracebacks(text: str) -> None:
    errors = errors_of(text)
    assert errors
    assert all(line.startswith("bad.yaml:") for line in errors)


# ---------------------------------------------------------------------------- several files


def _write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def test_validate_paths_collects_every_file_and_duplicate_ids(tmp_path: Path) -> None:
    folder = tmp_path / "campaigns"
    folder.mkdir()
    valid = HEADER + "  - {id: a, at: launch, post: annonces, text: Hi}\n"
    _write(folder / "a.yaml", valid)
    _write(folder / "b.yml", "# the same id again\n" + valid)
    _write(folder / "c.yaml", "id: other\ntitle: Other\nstep: []\n")
    _write(folder / "notes.txt", "not a campaign")
    (folder / "sub").mkdir()
    _write(folder / "sub" / "d.yaml", "broken: [")
    extra = _write(tmp_path / "extra.yaml", valid.replace("id: demo", "id: extra"))

    campaigns, errors = validate_paths(
        [folder, extra, folder / "a.yaml", tmp_path / "missing.yaml"]  # a.yaml only once
    )

    assert [campaign.id for campaign in campaigns] == ["demo", "extra"]
    assert [str(error) for error in errors] == [
        f'{folder / "b.yml"}:2:5: id: campaign id "demo" is already used by {folder / "a.yaml"}',
        f'{folder / "c.yaml"}:1:1: missing "steps"',
        f'{folder / "c.yaml"}:3:1: step: unknown key "step" (did you mean "steps"?)',
        f"{tmp_path / 'missing.yaml'}:1:1: no such file",
    ]
